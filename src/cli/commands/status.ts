import type { Argv, CommandModule } from 'yargs';
import { systemClock, type Clock } from '../../domain/clock.ts';
import { toJsonText } from '../../ops/plain-json.ts';
import { collectStatus, formatStatus, type StatusReport } from '../../ops/status.ts';
import {
  configFromArgv,
  stdoutPrinter,
  withJsonOption,
  withStore,
  withStoreOptions,
  type JsonArgs,
  type Printer,
  type StoreArgs,
} from '../shared-options.ts';

export type StatusArgs = StoreArgs & JsonArgs;

export interface CommandDeps {
  print?: Printer;
  clock?: Clock;
  env?: Readonly<Record<string, string | undefined>>;
}

/** `smsc status`: the handler without yargs, for tests and for `smsc up` to call. */
export async function runStatus(argv: StatusArgs, deps: CommandDeps = {}): Promise<StatusReport> {
  const config = configFromArgv(argv as unknown as Record<string, unknown>, deps.env);
  const report = await withStore(config, 'smsc-status', (db) => collectStatus(db, deps.clock ?? systemClock));
  (deps.print ?? stdoutPrinter)(argv.json ? toJsonText(report) : formatStatus(report));
  return report;
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
