import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../domain/errors.ts';
import { createLogger } from '../../logging/logger.ts';
import { stopSignal } from '../../nodes/shutdown.ts';
import { DEMO_ACCOUNT, runAllInOne } from '../../app/all-in-one.ts';
import {
  configFromArgv,
  withMetricsOption,
  withRedisOption,
  withShutdownOption,
  withStoreOptions,
  type MetricsArgs,
  type StoreArgs,
} from '../shared-options.ts';

type UpArgs = StoreArgs &
  MetricsArgs & {
    dataDir?: string;
    mongoPort?: number;
    smppPort?: number;
    smppTlsPort?: number;
    tlsCert?: string;
    tlsKey?: string;
    sinkPort?: number;
    deliverers?: number;
    httpPort?: number;
    account: string;
    shutdownGraceMs?: number;
    restartBaseMs?: number;
    restartMaxMs?: number;
    maxFailures?: number;
  };

function parseAccount(value: string): { systemId: string; password: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1)
    throw new ConfigError(`--account must look like ID:PASSWORD, got "${value.slice(0, at > 0 ? at : value.length)}:…".`);
  return { systemId: value.slice(0, at), password: value.slice(at + 1) };
}

/**
 * `smsc up` (`npm start`): the all-in-one default on one machine. Its numeric options are config
 * fields (src/config/fields.ts), checked the same way as flags, environment or config file.
 */
export const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe:
    'Run everything on this machine: MongoDB (embedded unless MONGODB_URI), inserter, deliverers, cleanup, simulator; restarts what dies',
  builder: (yargs: Argv<object>) =>
    withShutdownOption(withMetricsOption(withRedisOption(withStoreOptions(yargs))))
      .option('data-dir', {
        type: 'string',
        describe: 'Where the embedded MongoDB and the lock file live (also SMSC_DATA_DIR; default ./data)',
        requiresArg: true,
      })
      .option('mongo-port', {
        type: 'number',
        describe: 'Port for the embedded MongoDB; another is picked when taken (also SMSC_MONGO_PORT; default 27017)',
        requiresArg: true,
      })
      .option('smpp-port', { type: 'number', describe: 'SMPP port for ESMEs (also SMPP_PORT; default 2775)', requiresArg: true })
      .option('smpp-tls-port', {
        type: 'number',
        describe: 'Also accept SMPP over TLS on this port (also SMPP_TLS_PORT; default 3550 with --tls-cert/--tls-key)',
        requiresArg: true,
      })
      .option('tls-cert', { type: 'string', describe: 'PEM certificate for the TLS port (also SMPP_TLS_CERT)', requiresArg: true })
      .option('tls-key', { type: 'string', describe: 'PEM private key for the TLS port (also SMPP_TLS_KEY)', requiresArg: true })
      .option('sink-port', {
        type: 'number',
        describe: 'Port of the downstream simulator (also SINK_PORT; default 2776)',
        requiresArg: true,
      })
      .option('deliverers', { type: 'number', describe: 'Delivery worker processes (also SMSC_DELIVERERS; default 2)', requiresArg: true })
      .option('http-port', {
        type: 'number',
        describe: 'HTTP API and control panel; 0 = off (also HTTP_PORT; default 8080)',
        requiresArg: true,
      })
      .option('account', {
        type: 'string',
        default: `${DEMO_ACCOUNT.systemId}:${DEMO_ACCOUNT.password}`,
        describe: 'ESME account ID:PASSWORD, created when absent',
        requiresArg: true,
      })
      .option('restart-base-ms', {
        type: 'number',
        describe: 'First pause before restarting a child that died (default 1000)',
        requiresArg: true,
        hidden: true,
      })
      .option('restart-max-ms', {
        type: 'number',
        describe: 'Longest pause before a restart (default 30000)',
        requiresArg: true,
        hidden: true,
      })
      .option('max-failures', {
        type: 'number',
        describe: 'Failures of one child within a minute that stop everything (default 5)',
        requiresArg: true,
        hidden: true,
      })
      .example('$0 up', 'embedded MongoDB in ./data, SMPP on 2775, simulator on 2776, account demo:demo')
      .example('$0 up --metrics-port 9464', 'one /metrics and /healthz for the whole set')
      .example('MONGODB_URI=mongodb://db:27017 $0 up --account acme:s3cret', 'against your MongoDB')
      .example(
        '$0 up --smpp-tls-port 3550 --tls-cert smsc.pem --tls-key smsc.key',
        'SMPP over TLS on 3550 as well',
      ) as unknown as Argv<UpArgs>,
  handler: async (argv) => {
    const config = configFromArgv(argv as unknown as Record<string, unknown>);
    const account = parseAccount(argv.account);
    // The seeded connector points at it, so it must be a port of its own, not "any".
    if (config.sink.port === 0) throw new ConfigError('--sink-port (SINK_PORT) must be a port number from 1 to 65535 for smsc up, got 0.');
    await runAllInOne(
      {
        config,
        account,
        ...(argv.config ? { configFile: argv.config } : {}),
        logger: createLogger('up'),
        print: (line) => process.stdout.write(`${line}\n`),
      },
      stopSignal(),
    );
  },
};
