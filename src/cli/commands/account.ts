import type { Argv, CommandModule } from 'yargs';
import { AccountStore, type AccountChange, type AccountPatch, type AccountView } from '../../accounts/account-store.ts';
import { ConfigError } from '../../domain/errors.ts';
import { ensureSchema } from '../../store/collections.ts';
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

export interface AccountArgs extends StoreArgs, JsonArgs {
  action: 'add' | 'list' | 'set' | 'remove';
  systemId?: string;
  password?: string;
  tps?: number;
  maxBinds?: number;
  maxQueued?: number;
  sourceAllow?: string[];
  peer?: boolean;
  enabled?: boolean;
  registeredOnly?: boolean;
  optoutShortcode?: string;
  optoutReply?: string;
  optoutKeywords?: string[];
  trustedAddress?: string[];
  callbackUrl?: string;
  callbackSecret?: string;
}

/** Tests capture the output and pass the environment. */
export type AccountCommandDeps = Pick<CommandDeps, 'print' | 'env'>;

function formatAccount(a: AccountView): string {
  const limits = [
    `tps=${a.tps === 0 ? 'unlimited' : a.tps}`,
    `max-binds=${a.maxBinds}`,
    `max-queued=${a.maxQueued === 0 ? 'unlimited' : a.maxQueued}`,
    `source-allow=${a.sourceAllow.length ? a.sourceAllow.join(',') : 'any'}`,
    ...(a.peer ? ['peer'] : []),
    ...(a.registeredOnly ? ['registered-only'] : []),
    ...(a.optout
      ? [
          `optout-shortcode=${a.optout.shortcode}`,
          `optout-reply=${JSON.stringify(a.optout.reply)}`,
          ...(a.optout.keywords ? [`optout-keywords=${a.optout.keywords.join(',')}`] : []),
        ]
      : []),
    ...(a.trustedAddresses?.length ? [`trusted-address=${a.trustedAddresses.join(',')}`] : []),
    ...(a.callbackUrl ? [`callback=${a.callbackUrl}`] : []),
  ];
  return `${a.systemId}${a.enabled ? '' : ' (disabled)'}  ${limits.join('  ')}`;
}

/** A generated callback secret is shown once, when it is made; it is never printed again. */
function generatedNote(view: AccountChange): string {
  return view.generatedCallbackSecret
    ? `\ncallback secret (shown once; verify the X-Smsc-Signature header with it): ${view.generatedCallbackSecret}`
    : '';
}

/** `smsc account add|list|set|remove` without yargs, for tests. Passwords are never printed. */
export async function runAccount(argv: AccountArgs, deps: AccountCommandDeps = {}): Promise<AccountView[] | AccountView | boolean> {
  const print = deps.print ?? stdoutPrinter;
  const config = configFromArgv(argv as unknown as Record<string, unknown>, deps.env);
  const need = (name: 'systemId' | 'password'): string => {
    const value = argv[name];
    if (typeof value !== 'string' || value === '')
      throw new ConfigError(`account ${argv.action} needs --${name === 'systemId' ? 'system-id' : 'password'}.`);
    return value;
  };
  return withStore(config, 'smsc-account', async (db) => {
    await ensureSchema(db);
    const store = new AccountStore(db);
    switch (argv.action) {
      case 'add': {
        const view = await store.add({
          systemId: need('systemId'),
          password: need('password'),
          tps: argv.tps,
          maxBinds: argv.maxBinds,
          maxQueued: argv.maxQueued,
          sourceAllow: argv.sourceAllow,
          peer: argv.peer,
          registeredOnly: argv.registeredOnly,
          trustedAddresses: argv.trustedAddress,
          ...(argv.optoutShortcode !== undefined
            ? { optout: { shortcode: argv.optoutShortcode, reply: argv.optoutReply ?? '', keywords: argv.optoutKeywords } }
            : {}),
          callbackUrl: argv.callbackUrl,
          callbackSecret: argv.callbackSecret,
        });
        print(argv.json ? JSON.stringify(view) : `added ${formatAccount(view)}${generatedNote(view)}`);
        return view;
      }
      case 'list': {
        const all = await store.list();
        print(argv.json ? JSON.stringify(all) : all.length ? all.map(formatAccount).join('\n') : 'no accounts');
        return all;
      }
      case 'set': {
        const patch: AccountPatch = {};
        if (argv.password !== undefined) patch.password = argv.password;
        if (argv.tps !== undefined) patch.tps = argv.tps;
        if (argv.maxBinds !== undefined) patch.maxBinds = argv.maxBinds;
        if (argv.maxQueued !== undefined) patch.maxQueued = argv.maxQueued;
        if (argv.sourceAllow !== undefined) patch.sourceAllow = argv.sourceAllow;
        if (argv.peer !== undefined) patch.peer = argv.peer;
        if (argv.enabled !== undefined) patch.enabled = argv.enabled;
        if (argv.registeredOnly !== undefined) patch.registeredOnly = argv.registeredOnly;
        if (argv.trustedAddress !== undefined) patch.trustedAddresses = argv.trustedAddress;
        if (argv.optoutShortcode !== undefined || argv.optoutReply !== undefined || argv.optoutKeywords !== undefined) {
          patch.optout = { shortcode: argv.optoutShortcode, reply: argv.optoutReply, keywords: argv.optoutKeywords };
        }
        if (argv.callbackUrl !== undefined) patch.callbackUrl = argv.callbackUrl;
        if (argv.callbackSecret !== undefined) patch.callbackSecret = argv.callbackSecret;
        if (Object.keys(patch).length === 0) {
          throw new ConfigError(
            'account set needs at least one of --password, --tps, --max-binds, --max-queued, --source-allow, --peer, --enabled, --registered-only, --optout-shortcode, --optout-reply, --optout-keywords, --trusted-address, --callback-url, --callback-secret.',
          );
        }
        const view = await store.set(need('systemId'), patch);
        if (!view) throw new ConfigError(`No account ${argv.systemId}.`);
        print(argv.json ? JSON.stringify(view) : `updated ${formatAccount(view)}${generatedNote(view)}`);
        return view;
      }
      case 'remove': {
        const removed = await store.remove(need('systemId'));
        if (!removed) throw new ConfigError(`No account ${argv.systemId}.`);
        print(argv.json ? JSON.stringify({ removed: argv.systemId }) : `removed ${argv.systemId}`);
        return removed;
      }
    }
  });
}

export const accountCommand: CommandModule<object, AccountArgs> = {
  command: 'account <action>',
  describe: 'Manage ESME accounts (credentials stored as scrypt hashes)',
  builder: (yargs: Argv<object>) =>
    (withJsonOption(withStoreOptions(yargs)) as Argv<object>)
      .positional('action', { choices: ['add', 'list', 'set', 'remove'] as const, describe: 'What to do', demandOption: true })
      .option('system-id', { type: 'string', describe: 'The ESME system_id (1-15 characters)', requiresArg: true })
      .option('password', { type: 'string', describe: 'The bind password (1-8 characters; stored hashed)', requiresArg: true })
      .option('tps', { type: 'number', describe: 'Submits per second across all inserters; 0 = unlimited', requiresArg: true })
      .option('max-binds', {
        type: 'number',
        describe: 'Concurrent binds (across all inserters with Redis, else per inserter; default 10)',
        requiresArg: true,
      })
      .option('max-queued', {
        type: 'number',
        describe: 'Cap on stored waiting messages (ESME_RMSGQFUL beyond); 0 = none',
        requiresArg: true,
      })
      .option('source-allow', {
        type: 'string',
        array: true,
        describe: 'Allowed source addresses / sender ids (* and ? wildcards); none = any',
      })
      .option('peer', { type: 'boolean', describe: 'A peer SMSC: may send deliver_sm (stored as MO traffic)' })
      .option('enabled', { type: 'boolean', describe: 'Allow binds (set --no-enabled to lock the account)' })
      .option('registered-only', {
        type: 'boolean',
        describe: 'Registration filter: accept only destinations on the allowlist (`smsc allowlist add`)',
      })
      .option('optout-shortcode', {
        type: 'string',
        describe: 'Short code subscribers send STOP to; they are then blocked for this account ("" turns opt-out off)',
        requiresArg: false,
      })
      .option('optout-reply', { type: 'string', describe: 'Text sent back from the short code to a subscriber who opted out ("" = none)' })
      .option('optout-keywords', {
        type: 'string',
        array: true,
        describe: 'MO texts that opt out (default STOP STOPALL UNSUBSCRIBE CANCEL END QUIT)',
      })
      .option('trusted-address', {
        type: 'string',
        array: true,
        describe: 'IP addresses / CIDR ranges of the ESME: binds from them are never locked out after failures',
      })
      .example('$0 account add --system-id acme --password s3cret --tps 100 --source-allow ACME 4470*', 'add an ESME')
      .example('$0 account set --system-id acme --tps 200', 'raise its TPS')
      .example(
        '$0 account set --system-id acme --optout-shortcode 5550 --optout-reply "You will get no more messages."',
        'opt-out by STOP to 5550',
      )
      .example(
        '$0 account set --system-id acme --trusted-address 192.0.2.10 10.1.0.0/16',
        'binds from these addresses are never locked out',
      )
      .option('callback-url', {
        type: 'string',
        describe: "POST the account's receipts and MO here (HTTP callbacks, run by smsc api); '' removes it",
        requiresArg: false,
      })
      .option('callback-secret', {
        type: 'string',
        describe: "Key of the callbacks' HMAC-SHA256 signature (16-128 characters; generated and shown once when omitted)",
        requiresArg: true,
      })
      .example('$0 account add --system-id acme --password s3cret --tps 100 --source-allow ACME 4470*', 'add an ESME')
      .example('$0 account set --system-id acme --tps 200', 'raise its TPS')
      .example('$0 account set --system-id acme --callback-url https://acme.example/smsc-events', 'receipts and MO as signed HTTP POSTs')
      .example('$0 account list --json', 'for scripts') as unknown as Argv<AccountArgs>,
  handler: async (argv) => {
    await runAccount(argv);
  },
};
