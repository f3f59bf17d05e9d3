import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { accountCommand, runAccount, type AccountArgs } from '../../../src/cli/index.ts';
import { useTestDb } from '../../support/mongo.ts';

const t = useTestDb('account_cmd');

describe('smsc account', () => {
  it('add / list / set / remove through the command module; never prints the password', async () => {
    const env = { MONGODB_URI: t.uri, MONGODB_DB: t.dbName };
    const out: string[] = [];
    const run = (args: Partial<AccountArgs>) => runAccount({ action: 'list', ...args } as AccountArgs, { env, print: (l) => out.push(l) });

    await run({ action: 'add', systemId: 'acme', password: 'topsecr', tps: 20, sourceAllow: ['ACME', '4470*'] });
    await run({ action: 'list' });
    expect(out.join('\n')).toContain('acme  tps=20  max-binds=10  max-queued=unlimited  source-allow=ACME,4470*');
    await run({ action: 'set', systemId: 'acme', maxBinds: 3, enabled: false, peer: true });
    await run({ action: 'list', json: true });
    expect(JSON.parse(out.at(-1)!)).toMatchObject([{ systemId: 'acme', maxBinds: 3, enabled: false, tps: 20, peer: true }]);
    expect(out.join('\n')).not.toContain('topsecr');
    expect(out.join('\n')).not.toContain('scrypt$');

    await expect(run({ action: 'add', systemId: 'acme', password: 'x' })).rejects.toThrow(/already exists/);
    await expect(run({ action: 'add', systemId: 'b' })).rejects.toThrow(/--password/);
    await expect(run({ action: 'set', systemId: 'ghost', tps: 1 })).rejects.toThrow(/No account ghost/);
    await expect(run({ action: 'set', systemId: 'acme' })).rejects.toThrow(/at least one/);
    await run({ action: 'remove', systemId: 'acme' });
    expect(await t.db.collection('accounts').countDocuments()).toBe(0);
  });

  it('parses the documented flags with yargs', async () => {
    const previous = { uri: process.env.MONGODB_URI, db: process.env.MONGODB_DB };
    process.env.MONGODB_URI = t.uri;
    process.env.MONGODB_DB = t.dbName;
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await yargs([
        'account',
        'add',
        '--system-id',
        'cli1',
        '--password',
        'pw',
        '--tps',
        '7',
        '--max-binds',
        '2',
        '--source-allow',
        'A*',
        'B',
      ])
        .command(accountCommand)
        .strict()
        .parseAsync();
    } finally {
      process.stdout.write = write;
      if (previous.uri === undefined) delete process.env.MONGODB_URI;
      else process.env.MONGODB_URI = previous.uri;
      if (previous.db === undefined) delete process.env.MONGODB_DB;
      else process.env.MONGODB_DB = previous.db;
    }
    expect(await t.db.collection('accounts').findOne({ systemId: 'cli1' })).toMatchObject({
      tps: 7,
      maxBinds: 2,
      sourceAllow: ['A*', 'B'],
    });
  });
});
