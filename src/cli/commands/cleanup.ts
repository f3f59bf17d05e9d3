import type { Argv, CommandModule } from 'yargs';
import { runCleanupProcess } from '../../app/cleanup-process.ts';
import {
  configFromArgv,
  withMetricsOption,
  withShutdownOption,
  withStoreOptions,
  type MetricsArgs,
  type StoreArgs,
} from '../shared-options.ts';

export type CleanupArgs = StoreArgs &
  MetricsArgs & { once?: boolean; maxAttempts?: number; retentionHours?: number; shutdownGraceMs?: number };

/** `smsc cleanup [--once]`: releases expired leases, expires overdue messages, purges old final ones. */
export const cleanupCommand: CommandModule<object, CleanupArgs> = {
  command: 'cleanup',
  describe: 'Release expired locks, expire overdue messages, purge old final ones (daemon, or --once for cron)',
  builder: (yargs: Argv<object>) =>
    withShutdownOption(withMetricsOption(withStoreOptions(yargs)))
      .option('once', { type: 'boolean', describe: 'One pass, print the counts, exit', default: false })
      .option('max-attempts', {
        type: 'number',
        describe: 'Attempt limit, as the deliverers (also DELIVERER_MAX_ATTEMPTS; default 30)',
        requiresArg: true,
      })
      .option('retention-hours', {
        type: 'number',
        describe: 'Keep final messages this long (also CLEANUP_RETENTION_HOURS; default 168)',
        requiresArg: true,
      })
      .example('$0 cleanup --once', 'one pass from cron; prints what it did')
      .example('$0 cleanup', 'run as a daemon') as unknown as Argv<CleanupArgs>,
  handler: async (argv) => {
    const config = configFromArgv(argv as Record<string, unknown>);
    await runCleanupProcess(config, { once: argv.once });
  },
};
