import type { Argv, CommandModule } from 'yargs';
import { runDelivererProcess } from '../../app/deliverer-process.ts';
import {
  configFromArgv,
  withMetricsOption,
  withRedisOption,
  withShutdownOption,
  withStoreOptions,
  type MetricsArgs,
  type StoreArgs,
} from '../shared-options.ts';

export type DelivererArgs = StoreArgs &
  MetricsArgs & {
    lanes?: number;
    leaseMs?: number;
    maxAttempts?: number;
    backoffScale?: number;
    refreshMs?: number;
    monitorCommands?: boolean;
    chargingUrl?: string;
  };

/**
 * The numeric options have no yargs defaults and are read through the config (src/config/fields.ts):
 * a flag, its environment variable and the config file are checked the same way.
 */
export function delivererBuilder(yargs: Argv<object>): Argv<DelivererArgs> {
  return withShutdownOption(withMetricsOption(withRedisOption(withStoreOptions(yargs))))
    .option('lanes', {
      type: 'number',
      describe: 'Destinations worked on at once (also DELIVERER_CONCURRENCY; default 32)',
      requiresArg: true,
    })
    .option('lease-ms', { type: 'number', describe: 'Lock lease (also DELIVERER_LEASE_MS; default 30000)', requiresArg: true })
    .option('max-attempts', {
      type: 'number',
      describe: 'Attempts before a message is undeliverable (also DELIVERER_MAX_ATTEMPTS; default 30)',
      requiresArg: true,
    })
    .option('backoff-scale', { type: 'number', describe: 'Scale of the connector reconnect schedule (tests)', default: 1, hidden: true })
    .option('refresh-ms', {
      type: 'number',
      describe: 'How often routes and connectors are re-read (also DELIVERER_REFRESH_MS; default 2000)',
      requiresArg: true,
    })
    .option('charging-url', {
      type: 'string',
      describe: 'HTTP JSON endpoint asked before delivering messages on charged routes (also CHARGING_URL)',
      requiresArg: true,
    })
    .option('monitor-commands', { type: 'boolean', describe: 'Count MongoDB commands and print them at exit (benchmarks)', default: false })
    .example('$0 deliverer', 'deliver queued messages over the configured connectors')
    .example('REDIS_URL=redis://cache:6379 $0 deliverer', 'connector TPS caps shared by every replica') as unknown as Argv<DelivererArgs>;
}

/** `smsc deliverer`: a competing delivery worker; run as many as you like against one database. */
export const delivererCommand: CommandModule<object, DelivererArgs> = {
  command: 'deliverer',
  describe: 'Run a delivery worker (forwards queued messages over outbound SMPP connectors)',
  builder: delivererBuilder,
  handler: async (argv) => {
    const config = configFromArgv(argv as Record<string, unknown>);
    await runDelivererProcess(config, {
      backoffScale: argv.backoffScale,
      monitorCommands: argv.monitorCommands,
    });
  },
};
