import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../domain/errors.ts';
import {
  ContactListStore,
  normaliseListValue,
  type ContactListEntry,
  type EntryKey,
  type ListKindName,
} from '../../policy/contact-lists.ts';
import { ensurePolicySchema } from '../../policy/policy-schema.ts';
import {
  configFromArgv,
  stdoutPrinter,
  withJsonOption,
  withStore,
  withStoreOptions,
  type CommandDeps,
  type JsonArgs,
  type StoreArgs,
} from '../shared-options.ts';

export interface ContactListArgs extends StoreArgs, JsonArgs {
  action: 'add' | 'remove' | 'list';
  account?: string;
  number?: string;
  prefix?: string;
}

/** Tests capture the output and pass the environment. */
export type ContactListCommandDeps = Pick<CommandDeps, 'print' | 'env'>;

function formatEntry(e: ContactListEntry): string {
  return `${e.account === '' ? 'global' : `account=${e.account}`}\t${e.match}=${e.value}${e.source === 'optout' ? '\t(opted out)' : ''}`;
}

/** `smsc blocklist|allowlist add|remove|list` without yargs, for tests. */
export async function runContactList(
  list: ListKindName,
  argv: ContactListArgs,
  deps: ContactListCommandDeps = {},
): Promise<ContactListEntry[] | boolean> {
  const print = deps.print ?? stdoutPrinter;
  const name = list === 'block' ? 'blocklist' : 'allowlist';
  const config = configFromArgv(argv as unknown as Record<string, unknown>, deps.env);
  const account = argv.account ?? '';
  let key: EntryKey | undefined;
  if (argv.action !== 'list') {
    if ((argv.number === undefined) === (argv.prefix === undefined))
      throw new ConfigError(`${name} ${argv.action} needs exactly one of --number and --prefix.`);
    const match = argv.number !== undefined ? 'number' : 'prefix';
    key = { list, account, match, value: normaliseListValue(String(argv.number ?? argv.prefix), match) };
  }
  return withStore(config, `smsc-${name}`, async (db) => {
    await ensurePolicySchema(db);
    const store = new ContactListStore(db);
    const where = account === '' ? 'the global list' : `account ${account}`;
    switch (argv.action) {
      case 'add': {
        const added = await store.add(key!);
        print(
          argv.json
            ? JSON.stringify({ added, ...key })
            : added
              ? `added ${key!.match} ${key!.value} to ${name} of ${where}`
              : `${key!.match} ${key!.value} was already on ${name} of ${where}`,
        );
        return added;
      }
      case 'remove': {
        const removed = await store.remove(key!);
        if (!removed) throw new ConfigError(`${key!.match} ${key!.value} is not on ${name} of ${where}.`);
        print(argv.json ? JSON.stringify({ removed, ...key }) : `removed ${key!.match} ${key!.value} from ${name} of ${where}`);
        return removed;
      }
      case 'list': {
        const entries = await store.list({ list, ...(argv.account !== undefined ? { account } : {}) });
        print(argv.json ? JSON.stringify(entries) : entries.length ? entries.map(formatEntry).join('\n') : `${name} is empty`);
        return entries;
      }
    }
  });
}

function builder(name: string, what: string) {
  return (yargs: Argv<object>) =>
    (withJsonOption(withStoreOptions(yargs)) as Argv<object>)
      .positional('action', { choices: ['add', 'remove', 'list'] as const, describe: 'What to do', demandOption: true })
      .option('account', {
        type: 'string',
        describe: `system_id whose ${name} this is (default: the global ${name}, for every account)`,
        requiresArg: true,
      })
      .option('number', { type: 'string', describe: `A destination number ${what} (digits; + and separators ignored)`, requiresArg: true })
      .option('prefix', { type: 'string', describe: `A destination prefix ${what}`, requiresArg: true })
      .conflicts('number', 'prefix');
}

/** `smsc blocklist add|remove|list [--account ID] (--number N | --prefix P)`. */
export const blocklistCommand: CommandModule<object, ContactListArgs> = {
  command: 'blocklist <action>',
  describe: 'Numbers and prefixes nobody (or one account) may send to; refused with ESME_RINVDSTADR',
  builder: (yargs: Argv<object>) =>
    builder(
      'blocklist',
      'to refuse',
    )(yargs)
      .example('$0 blocklist add --number +447700900123', 'nobody may send to this number')
      .example('$0 blocklist add --account acme --prefix 4479', 'acme may not send to 4479…')
      .example('$0 blocklist list --account acme --json', "acme's list, opt-outs included") as unknown as Argv<ContactListArgs>,
  handler: async (argv) => {
    await runContactList('block', argv);
  },
};

/** `smsc allowlist add|remove|list [--account ID] (--number N | --prefix P)`: registered destinations. */
export const allowlistCommand: CommandModule<object, ContactListArgs> = {
  command: 'allowlist <action>',
  describe: 'Registered destinations of accounts in registration-filter mode (account set --registered-only)',
  builder: (yargs: Argv<object>) =>
    builder(
      'allowlist',
      'to accept',
    )(yargs)
      .example('$0 allowlist add --account acme --number 447700900123', 'register a destination for acme')
      .example(
        '$0 account set --system-id acme --registered-only',
        'then acme may send only to registered destinations',
      ) as unknown as Argv<ContactListArgs>,
  handler: async (argv) => {
    await runContactList('allow', argv);
  },
};
