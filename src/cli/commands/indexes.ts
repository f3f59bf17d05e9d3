import type { Argv, CommandModule } from 'yargs';
import { ensureAndDescribeIndexes, formatIndexes, type CollectionIndexes } from '../../ops/indexes.ts';
import { printStoreReport, withJsonOption, withStoreOptions, type JsonArgs, type StoreArgs } from '../shared-options.ts';
import type { CommandDeps } from './status.ts';

export type IndexesArgs = StoreArgs & JsonArgs;

/** `smsc indexes`: creates the capped `events` collection and every index when missing, then lists them. */
export async function runIndexes(argv: IndexesArgs, deps: CommandDeps = {}): Promise<CollectionIndexes[]> {
  const report = await printStoreReport(argv, deps, 'smsc-indexes', (db) => ensureAndDescribeIndexes(db), formatIndexes);
  const missing = report.reduce((n, c) => n + c.missing.length, 0);
  if (missing > 0) process.exitCode = 1;
  return report;
}

export const indexesCommand: CommandModule<object, IndexesArgs> = {
  command: 'indexes',
  describe: 'Create missing collections and indexes (safe to repeat), then list what exists',
  builder: (yargs: Argv<object>) =>
    withJsonOption(withStoreOptions(yargs))
      .example('$0 indexes', 'create and verify')
      .example('MONGODB_URI=mongodb://db:27017/?replicaSet=rs0 $0 indexes --json', 'against a replica set, for scripts'),
  handler: async (argv) => {
    await runIndexes(argv);
  },
};
