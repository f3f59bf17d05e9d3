// The cleanup process: `node dist/workers/cleanup.js [--once]` once built (same as `smsc cleanup`).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { cleanupCommand } from '../src/cli/commands/cleanup.ts';

try {
  await yargs(hideBin(process.argv))
    .scriptName('cleanup')
    .command({ ...cleanupCommand, command: '$0' })
    .strict()
    .help()
    .parseAsync();
} catch (error) {
  process.stderr.write(`cleanup: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
