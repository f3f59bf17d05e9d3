import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../errors/smsc-error.ts';
import { createLogger } from '../../logging/logger.ts';
import { DEMO_ACCOUNT, runAllInOne } from '../../up/all-in-one.ts';

interface UpArgs {
  mongodbUri?: string;
  db?: string;
  redisUrl?: string;
  dataDir: string;
  mongoPort: number;
  smppPort?: number;
  smppTlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  sinkPort: number;
  deliverers: number;
  httpPort?: number;
  account: string;
}

function parseAccount(value: string): { systemId: string; password: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) throw new ConfigError(`--account must look like ID:PASSWORD, got "${value.slice(0, at > 0 ? at : value.length)}:…".`);
  return { systemId: value.slice(0, at), password: value.slice(at + 1) };
}

/** `smsc up` (`npm start`): the all-in-one default on one machine. */
export const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe: 'Run everything on this machine: MongoDB (embedded unless MONGODB_URI), inserter, deliverers, cleanup, simulator',
  builder: (yargs: Argv<object>) =>
    yargs
      .option('mongodb-uri', { type: 'string', describe: 'Use this MongoDB instead of an embedded one (also MONGODB_URI)', requiresArg: true })
      .option('db', { type: 'string', describe: 'Database name (also MONGODB_DB; default smsc)', requiresArg: true })
      .option('redis-url', { type: 'string', describe: 'Redis for shared TPS limits (also REDIS_URL); optional', requiresArg: true })
      .option('data-dir', { type: 'string', default: './data', describe: 'Where the embedded MongoDB keeps its files', requiresArg: true })
      .option('mongo-port', { type: 'number', default: 27017, describe: 'Port for the embedded MongoDB (another is picked when taken)', requiresArg: true })
      .option('smpp-port', { type: 'number', describe: 'SMPP port for ESMEs (also SMPP_PORT; default 2775)', requiresArg: true })
      .option('smpp-tls-port', { type: 'number', describe: 'Also accept SMPP over TLS on this port (also SMPP_TLS_PORT; default 3550 with --tls-cert/--tls-key)', requiresArg: true })
      .option('tls-cert', { type: 'string', describe: 'PEM certificate for the TLS port (also SMPP_TLS_CERT)', requiresArg: true })
      .option('tls-key', { type: 'string', describe: 'PEM private key for the TLS port (also SMPP_TLS_KEY)', requiresArg: true })
      .option('sink-port', { type: 'number', default: 2776, describe: 'Port of the downstream simulator', requiresArg: true })
      .option('deliverers', { type: 'number', default: 2, describe: 'Delivery worker processes', requiresArg: true })
      .option('http-port', { type: 'number', describe: 'HTTP API and control panel; 0 = off (also HTTP_PORT; default 8080)', requiresArg: true })
      .option('account', { type: 'string', default: `${DEMO_ACCOUNT.systemId}:${DEMO_ACCOUNT.password}`, describe: 'ESME account ID:PASSWORD, created when absent', requiresArg: true })
      .example('$0 up', 'embedded MongoDB in ./data, SMPP on 2775, simulator on 2776, account demo:demo')
      .example('MONGODB_URI=mongodb://db:27017 $0 up --account acme:s3cret', 'against your MongoDB')
      .example('$0 up --smpp-tls-port 3550 --tls-cert smsc.pem --tls-key smsc.key', 'SMPP over TLS on 3550 as well') as unknown as Argv<UpArgs>,
  handler: async (argv) => {
    const smppPort = argv.smppPort ?? (process.env.SMPP_PORT ? Number(process.env.SMPP_PORT) : 2775);
    if (!Number.isInteger(smppPort) || smppPort < 0 || smppPort > 65535) throw new ConfigError('--smpp-port (or SMPP_PORT) must be a port number.');
    if (!Number.isInteger(argv.deliverers) || argv.deliverers < 0) throw new ConfigError('--deliverers must be 0 or more.');
    const httpPort = argv.httpPort ?? (process.env.HTTP_PORT ? Number(process.env.HTTP_PORT) : 8080);
    if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) throw new ConfigError('--http-port (or HTTP_PORT) must be a port number.');
    const stop = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await runAllInOne(
      {
        mongodbUri: argv.mongodbUri ?? process.env.MONGODB_URI,
        dbName: argv.db ?? process.env.MONGODB_DB ?? 'smsc',
        redisUrl: argv.redisUrl ?? process.env.REDIS_URL,
        dataDir: argv.dataDir,
        mongoPort: argv.mongoPort,
        smppPort,
        // The children run in the repository: relative certificate paths are resolved here.
        inserterTls: {
          ...(argv.smppTlsPort !== undefined ? { port: argv.smppTlsPort } : {}),
          ...(argv.tlsCert !== undefined ? { cert: path.resolve(argv.tlsCert) } : {}),
          ...(argv.tlsKey !== undefined ? { key: path.resolve(argv.tlsKey) } : {}),
        },
        sinkPort: argv.sinkPort,
        deliverers: argv.deliverers,
        httpPort,
        account: parseAccount(argv.account),
        logger: createLogger('up'),
        print: (line) => process.stdout.write(`${line}\n`),
      },
      stop,
    );
  },
};
