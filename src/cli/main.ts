import yargs, { type CommandModule } from 'yargs';
import { SmscError } from '../errors/smsc-error.ts';
import { readPackageVersion } from './version.ts';
import { accountCommand } from './commands/account.ts';
import { apiCommand } from './commands/api.ts';
import { cdrCommand } from './commands/cdr.ts';
import { cleanupCommand } from './commands/cleanup.ts';
import { connectorCommand } from './commands/connector.ts';
import { allowlistCommand, blocklistCommand } from './commands/contact-list.ts';
import { hlrSimCommand } from './commands/hlr-sim.ts';
import { delivererCommand } from './commands/deliverer.ts';
import { dlrParseCommand } from './commands/dlr-parse.ts';
import { indexesCommand } from './commands/indexes.ts';
import { inserterCommand } from './commands/inserter.ts';
import { messageCommand } from './commands/message.ts';
import { requeueCommand } from './commands/requeue.ts';
import { routeCommand } from './commands/route.ts';
import { sinkCommand } from './commands/sink.ts';
import { smsInfoCommand } from './commands/sms-info.ts';
import { statusCommand } from './commands/status.ts';
import { submitCommand } from './commands/submit.ts';
import { upCommand } from './commands/up.ts';

// Each command lives in its own module; this list is the whole CLI surface, in help order.
const COMMANDS: readonly CommandModule<any, any>[] = [
  upCommand,
  inserterCommand,
  apiCommand,
  delivererCommand,
  cleanupCommand,
  sinkCommand,
  submitCommand,
  accountCommand,
  connectorCommand,
  routeCommand,
  blocklistCommand,
  allowlistCommand,
  statusCommand,
  messageCommand,
  requeueCommand,
  indexesCommand,
  smsInfoCommand,
  dlrParseCommand,
  hlrSimCommand,
  cdrCommand,
];

/** Runs the `smsc` CLI; errors become one sentence on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  const cli = yargs(argv)
    .scriptName('smsc')
    .usage('$0 <command> [options]\n\nStore-and-forward SMS Centre (SMPP 3.4) on MongoDB.')
    .version(readPackageVersion())
    .alias('h', 'help')
    .strict()
    .strictCommands()
    .demandCommand(1, 'Name a command; `smsc --help` lists them.')
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    // Throwing (rather than printing) keeps yargs from running a handler after a usage error.
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  for (const command of COMMANDS) cli.command(command);
  try {
    await cli.parseAsync();
  } catch (error) {
    process.stderr.write(`smsc: ${describeError(error)}\n`);
    if (error instanceof UsageError) process.stderr.write('Run `smsc --help` for usage.\n');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}

/** A command line yargs could not make sense of. */
class UsageError extends SmscError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

function describeError(error: unknown): string {
  if (error instanceof SmscError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
