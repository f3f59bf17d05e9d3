import type { Argv, CommandModule } from 'yargs';
import { runCleanupProcess } from '../../cleanup/cleanup-process.ts';
import { configFromArgv, withMetricsOption, withStoreOptions, type MetricsArgs, type StoreArgs } from '../shared-options.ts';

export type CleanupArgs = StoreArgs & MetricsArgs & { once?: boolean; maxAttempts?: number; retentionHours?: number };

/** `smsc cleanup [--once]`: releases expired leases, expires overdue messages, purges old final ones. */
export const cleanupCommand: CommandModule<object, CleanupArgs> = {
  command: 'cleanup',
  describe: 'Release expired locks, expire overdue messages, purge old final ones (daemon, or --once for cron)',
  builder: (yargs: Argv<object>) =>
    withMetricsOption(withStoreOptions(yargs))
      .option('once', { type: 'boolean', describe: 'One pass, print the counts, exit', default: false })
      .option('max-attempts', { type: 'number', describe: 'Attempt limit (default 30, as the deliverers)', requiresArg: true })
      .option('retention-hours', { type: 'number', describe: 'Keep final messages this long (default: cleanup.retentionHours, 168)', requiresArg: true })
      .example('$0 cleanup --once', 'one pass from cron; prints what it did')
      .example('$0 cleanup', 'run as a daemon') as unknown as Argv<CleanupArgs>,
  handler: async (argv) => {
    const config = configFromArgv(argv as Record<string, unknown>);
    await runCleanupProcess(config, {
      once: argv.once,
      cleanup: {
        ...(argv.maxAttempts ? { maxAttempts: argv.maxAttempts } : {}),
        ...(argv.retentionHours ? { retentionMs: argv.retentionHours * 3600_000 } : {}),
      },
    });
  },
};
