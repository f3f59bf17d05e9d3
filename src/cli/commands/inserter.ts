import type { Argv, CommandModule } from 'yargs';
import { runInserterProcess } from '../../inserter/inserter-process.ts';
import { withConfigFlags } from '../config-flags.ts';
import {
  configFromArgv,
  withMetricsOption,
  withRedisOption,
  withStoreOptions,
  type MetricsArgs,
  type StoreArgs,
} from '../shared-options.ts';

export type InserterArgs = StoreArgs &
  MetricsArgs & {
    redisUrl?: string;
    smppPort?: number;
    smppTlsPort?: number;
    tlsCert?: string;
    tlsKey?: string;
    shutdownGraceMs?: number;
    maxValidityHours?: number;
    monitorCommands?: boolean;
    window?: number;
    enquireLinkMs?: number;
    inactivityMs?: number;
    bindTimeoutMs?: number;
  };

export function inserterBuilder(yargs: Argv<object>): Argv<InserterArgs> {
  return withConfigFlags(withMetricsOption(withRedisOption(withStoreOptions(yargs))), ['hlr.'], 'HLR lookups:')
    .option('smpp-port', { type: 'number', describe: 'SMPP port for ESMEs; 0 picks a free one (also SMPP_PORT; default 2775)', requiresArg: true })
    .option('smpp-tls-port', { type: 'number', describe: 'Also accept SMPP over TLS on this port (also SMPP_TLS_PORT; default 3550 when --tls-cert and --tls-key are set)', requiresArg: true })
    .option('tls-cert', { type: 'string', describe: 'PEM certificate (chain) for the TLS port (also SMPP_TLS_CERT)', requiresArg: true })
    .option('tls-key', { type: 'string', describe: 'PEM private key for the TLS port (also SMPP_TLS_KEY)', requiresArg: true })
    .option('shutdown-grace-ms', { type: 'number', describe: 'Longest a SIGTERM shutdown may take', default: 10_000, requiresArg: true })
    .option('max-validity-hours', { type: 'number', describe: 'Furthest validity_period / schedule_delivery_time accepted', default: 168, requiresArg: true })
    .option('window', { type: 'number', describe: 'Unanswered PDUs per session before reading pauses', default: 100, requiresArg: true })
    .option('enquire-link-ms', { type: 'number', describe: 'Send enquire_link after this much silence (0 = never)', default: 30_000, requiresArg: true })
    .option('inactivity-ms', { type: 'number', describe: 'Close a session silent this long (0 = never)', default: 90_000, requiresArg: true })
    .option('bind-timeout-ms', { type: 'number', describe: 'Close a connection that has not bound within this', default: 30_000, requiresArg: true })
    .option('monitor-commands', { type: 'boolean', describe: 'Count MongoDB commands and print them at exit (benchmarks)', default: false })
    .example('$0 inserter --smpp-port 2775', 'accept ESMEs on 2775')
    .example('REDIS_URL=redis://cache:6379 $0 inserter', 'TPS limits shared by every inserter')
    .example('$0 inserter --hlr-url "http://hlr:8090/lookup?msisdn={msisdn}" --hlr-policy reject-unreachable --hlr-on-timeout defer', 'refuse numbers the HLR says are unreachable')
    .example('$0 inserter --smpp-tls-port 3550 --tls-cert smsc.pem --tls-key smsc.key', 'SMPP over TLS on 3550 beside plain SMPP on 2775') as unknown as Argv<InserterArgs>;
}

/** `smsc inserter`: the SMPP server ESMEs bind to; stores each message, then answers. */
export const inserterCommand: CommandModule<object, InserterArgs> = {
  command: 'inserter',
  describe: 'Run the SMPP server for ESMEs (stores every message before acknowledging it)',
  builder: inserterBuilder,
  handler: async (argv) => {
    const config = configFromArgv(argv as Record<string, unknown>);
    await runInserterProcess(config, {
      shutdownGraceMs: argv.shutdownGraceMs,
      maxValidityHours: argv.maxValidityHours,
      monitorCommands: argv.monitorCommands,
      sessions: {
        windowSize: argv.window,
        enquireLinkIntervalMs: argv.enquireLinkMs,
        inactivityTimeoutMs: argv.inactivityMs,
        bindTimeoutMs: argv.bindTimeoutMs,
      },
    });
  },
};
