import yargs, { type CommandModule } from 'yargs';
import { SmscError } from '../errors/smsc-error.ts';
import { readPackageVersion } from './version.ts';

// Each command lives in its own module; this list is the whole CLI surface.
async function loadCommands(): Promise<CommandModule<any, any>[]> {
  const modules: CommandModule<any, any>[] = [];
  return modules;
}

/** Runs the `smsc` CLI; errors become one sentence on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  const commands = await loadCommands();
  const cli = yargs(argv)
    .scriptName('smsc')
    .usage('$0 <command> [options]\n\nStore-and-forward SMS Centre (SMPP 3.4) on MongoDB.')
    .version(readPackageVersion())
    .alias('h', 'help')
    .strict()
    .strictCommands()
    .demandCommand(1, 'Name a command; `smsc --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`smsc: ${message}\n`);
      process.stderr.write('Run `smsc --help` for usage.\n');
      process.exitCode = 2;
    });
  for (const command of commands) cli.command(command);
  try {
    await cli.parseAsync();
  } catch (error) {
    process.stderr.write(`smsc: ${describeError(error)}\n`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  }
}

function describeError(error: unknown): string {
  if (error instanceof SmscError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
