import type { CommandModule } from 'yargs';
import { SmscError } from '../domain/errors.ts';
import { readPackageVersion } from './version.ts';
import { isSupervised } from '../app/parent-tether.ts';

type AnyCommand = CommandModule<any, any>;

/**
 * The whole CLI surface, in help order: one line per command, its name as typed and the module
 * that implements it. A command's module (and all it imports: the MongoDB driver, the SMPP stack)
 * is loaded only when that command runs, so `smsc sms-info` or `smsc --version` start in a
 * fraction of the time the whole program takes to load.
 */
export const COMMANDS: readonly { name: string; load: () => Promise<AnyCommand> }[] = [
  { name: 'up', load: async () => (await import('./commands/up.ts')).upCommand },
  { name: 'inserter', load: async () => (await import('./commands/inserter.ts')).inserterCommand },
  { name: 'api', load: async () => (await import('./commands/api.ts')).apiCommand },
  { name: 'deliverer', load: async () => (await import('./commands/deliverer.ts')).delivererCommand },
  { name: 'cleanup', load: async () => (await import('./commands/cleanup.ts')).cleanupCommand },
  { name: 'sink', load: async () => (await import('./commands/sink.ts')).sinkCommand },
  { name: 'submit', load: async () => (await import('./commands/submit.ts')).submitCommand },
  { name: 'account', load: async () => (await import('./commands/account.ts')).accountCommand },
  { name: 'connector', load: async () => (await import('./commands/connector.ts')).connectorCommand },
  { name: 'route', load: async () => (await import('./commands/route.ts')).routeCommand },
  { name: 'blocklist', load: async () => (await import('./commands/contact-list.ts')).blocklistCommand },
  { name: 'allowlist', load: async () => (await import('./commands/contact-list.ts')).allowlistCommand },
  { name: 'status', load: async () => (await import('./commands/status.ts')).statusCommand },
  { name: 'message', load: async () => (await import('./commands/message.ts')).messageCommand },
  { name: 'requeue', load: async () => (await import('./commands/requeue.ts')).requeueCommand },
  { name: 'indexes', load: async () => (await import('./commands/indexes.ts')).indexesCommand },
  { name: 'sms-info', load: async () => (await import('./commands/sms-info.ts')).smsInfoCommand },
  { name: 'dlr-parse', load: async () => (await import('./commands/dlr-parse.ts')).dlrParseCommand },
  { name: 'hlr-sim', load: async () => (await import('./commands/hlr-sim.ts')).hlrSimCommand },
  { name: 'cdr', load: async () => (await import('./commands/cdr.ts')).cdrCommand },
];

/**
 * The command modules this command line needs: only the named command's when it names one, none
 * for a bare `--version`, every one otherwise (the help lists them all; an unknown command gets
 * yargs' suggestions).
 */
export async function commandsFor(argv: readonly string[]): Promise<AnyCommand[]> {
  const first = argv.find((arg) => !arg.startsWith('-'));
  const named = first === undefined ? undefined : COMMANDS.find((c) => c.name === first);
  if (named) return [await named.load()];
  if (first === undefined && argv.includes('--version') && !argv.some((arg) => arg === '--help' || arg === '-h')) return [];
  return Promise.all(COMMANDS.map((c) => c.load()));
}

/** Runs the `smsc` CLI; errors become one sentence on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  // The one command line that needs no parser: yargs alone is most of the CLI's start-up time.
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${readPackageVersion()}\n`);
    return;
  }
  const { default: yargs } = await import('yargs');
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
  // Under `smsc up`: end with it (a process answers its probes once it has made its metrics:
  // src/app/process-run.ts). Loaded only then: a short command needs none of it.
  const supervision = isSupervised() ? await import('../app/supervised-child.ts') : undefined;
  supervision?.joinSupervisor();
  try {
    for (const command of await commandsFor(argv)) cli.command(command);
    await cli.parseAsync();
  } catch (error) {
    process.stderr.write(`smsc: ${describeError(error)}\n`);
    supervision?.reportFatal(describeError(error));
    if (error instanceof UsageError) process.stderr.write('Run `smsc --help` for usage.\n');
    process.exitCode = error instanceof UsageError ? 2 : 1;
    // A command that failed has nothing left to do. Whatever it opened and did not close (a
    // driver's monitor, a socket, a timer) must not keep the process alive: a supervisor
    // restarts only a process that has ended.
    setTimeout(() => process.exit(), FATAL_EXIT_MS).unref();
  }
}

/** How long a failed command's leftovers may take to close on their own before the process ends anyway. */
const FATAL_EXIT_MS = 2_000;

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
