import type { Argv, CommandModule } from 'yargs';
import { runInserterProcess } from '../../app/inserter-process.ts';
import { withConfigFlags } from '../config-flags.ts';
import {
  configFromArgv,
  withMetricsOption,
  withRedisOption,
  withShutdownOption,
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

/**
 * The numeric options have no yargs defaults and are read through the config (src/config/fields.ts):
 * a flag, its environment variable and the config file are checked the same way.
 */
export function inserterBuilder(yargs: Argv<object>): Argv<InserterArgs> {
  return (
    withShutdownOption(withConfigFlags(withMetricsOption(withRedisOption(withStoreOptions(yargs))), ['hlr.'], 'HLR lookups:'))
      .option('smpp-port', {
        type: 'number',
        describe: 'SMPP port for ESMEs; 0 picks a free one (also SMPP_PORT; default 2775)',
        requiresArg: true,
      })
      .option('smpp-tls-port', {
        type: 'number',
        describe: 'Also accept SMPP over TLS on this port (also SMPP_TLS_PORT; default 3550 when --tls-cert and --tls-key are set)',
        requiresArg: true,
      })
      .option('tls-cert', { type: 'string', describe: 'PEM certificate (chain) for the TLS port (also SMPP_TLS_CERT)', requiresArg: true })
      .option('tls-key', { type: 'string', describe: 'PEM private key for the TLS port (also SMPP_TLS_KEY)', requiresArg: true })
      .option('max-validity-hours', {
        type: 'number',
        describe: 'Furthest validity_period / schedule_delivery_time accepted (also MAX_VALIDITY_HOURS; default 168)',
        requiresArg: true,
      })
      // Named apart from `connector add --window / --enquire-link-ms` (any command's flags reach the
      // config); the short names stay as aliases.
      .option('smpp-window', {
        alias: 'window',
        type: 'number',
        describe: 'Unanswered PDUs per session before reading pauses (also SMPP_WINDOW; default 100)',
        requiresArg: true,
      })
      .option('smpp-enquire-link-ms', {
        alias: 'enquire-link-ms',
        type: 'number',
        describe: 'Send enquire_link after this much silence, 0 = never (also SMPP_ENQUIRE_LINK_MS; default 30000)',
        requiresArg: true,
      })
      .option('inactivity-ms', {
        type: 'number',
        describe: 'Close a session silent this long, 0 = never (also SMPP_INACTIVITY_MS; default 90000)',
        requiresArg: true,
      })
      .option('bind-timeout-ms', {
        type: 'number',
        describe: 'Close a connection that has not bound within this (also SMPP_BIND_TIMEOUT_MS; default 30000)',
        requiresArg: true,
      })
      .option('monitor-commands', {
        type: 'boolean',
        describe: 'Count MongoDB commands and print them at exit (benchmarks)',
        default: false,
      })
      .example('$0 inserter --smpp-port 2775', 'accept ESMEs on 2775')
      .example('REDIS_URL=redis://cache:6379 $0 inserter', 'TPS limits shared by every inserter')
      .example(
        '$0 inserter --hlr-url "http://hlr:8090/lookup?msisdn={msisdn}" --hlr-policy reject-unreachable --hlr-on-timeout defer',
        'refuse numbers the HLR says are unreachable',
      )
      .example(
        '$0 inserter --smpp-tls-port 3550 --tls-cert smsc.pem --tls-key smsc.key',
        'SMPP over TLS on 3550 beside plain SMPP on 2775',
      ) as unknown as Argv<InserterArgs>
  );
}

/** `smsc inserter`: the SMPP server ESMEs bind to; stores each message, then answers. */
export const inserterCommand: CommandModule<object, InserterArgs> = {
  command: 'inserter',
  describe: 'Run the SMPP server for ESMEs (stores every message before acknowledging it)',
  builder: inserterBuilder,
  handler: async (argv) => {
    const config = configFromArgv(argv as Record<string, unknown>);
    await runInserterProcess(config, { monitorCommands: argv.monitorCommands });
  },
};
