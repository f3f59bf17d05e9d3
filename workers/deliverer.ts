// The delivery worker process: `node dist/workers/deliverer.js` once built (same as `smsc deliverer`).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { delivererCommand } from '../src/cli/commands/deliverer.ts';

try {
  await yargs(hideBin(process.argv))
    .scriptName('deliverer')
    .command({ ...delivererCommand, command: '$0' })
    .strict()
    .help()
    .parseAsync();
} catch (error) {
  process.stderr.write(`deliverer: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
