// The inserter process: `node dist/workers/inserter.js [--smpp-port 2775]` once built (same as `smsc inserter`).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { inserterCommand } from '../src/cli/commands/inserter.ts';

try {
  await yargs(hideBin(process.argv))
    .scriptName('inserter')
    .command({ ...inserterCommand, command: '$0' })
    .strict()
    .help()
    .parseAsync();
} catch (error) {
  process.stderr.write(`inserter: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
