import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../domain/clock.ts';
import { collectStatus, formatStatus, type StatusReport } from '../../ops/status.ts';
import { printStoreReport, withJsonOption, withStoreOptions, type CommandDeps, type JsonArgs, type StoreArgs } from '../shared-options.ts';

export type StatusArgs = StoreArgs & JsonArgs;

export type { CommandDeps } from '../shared-options.ts';

/** `smsc status`: the handler without yargs, for tests and for `smsc up` to call. */
export async function runStatus(argv: StatusArgs, deps: CommandDeps = {}): Promise<StatusReport> {
  return printStoreReport(argv, deps, 'smsc-status', (db) => collectStatus(db, deps.clock ?? systemClock), formatStatus);
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Queue depth by state, locks held, the oldest due message, live processes and connector states',
  builder: (yargs: Argv<object>) =>
    withJsonOption(withStoreOptions(yargs))
      .example('$0 status', 'human-readable summary')
      .example('$0 status --json | jq .queue.byState', 'for scripts'),
  handler: async (argv) => {
    await runStatus(argv);
  },
};
