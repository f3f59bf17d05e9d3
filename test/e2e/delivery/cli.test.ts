import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { AccountStore } from '../../../src/accounts/index.ts';
import { validateConnector } from '../../../src/connectors/index.ts';
import { CHEAP_SCRYPT } from '../../integration/inserter/harness.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');

describe('smsc connector | route | cleanup', () => {
  const handle = useTestDb('delivery_cli');
  const smsc = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [path.join(repoRoot, 'bin/smsc.mjs'), ...args, '--mongodb-uri', handle.uri, '--db', handle.dbName],
        {
          cwd: repoRoot,
          env: { ...process.env, LOG_LEVEL: 'warn' },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    await ensureSchema(handle.db);
  });

  it('manages connectors without ever printing the password', async () => {
    const added = await smsc(
      'connector',
      'add',
      '--name',
      'op1',
      '--host',
      '10.0.0.1',
      '--port',
      '2775',
      '--system-id',
      'me',
      '--password',
      's3cret',
      '--tps',
      '50',
      '--window',
      '20',
      '--long',
      'sar',
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'op1', tps: 50, window: 20, long: 'sar', bind: 'transceiver' });
    expect(added.stdout).not.toContain('s3cret');
    const dup = await smsc('connector', 'add', '--name', 'op1', '--host', 'h', '--port', '1', '--system-id', 'x', '--password', 'y');
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/^smsc: A connector named op1 already exists/);
    const bad = await smsc('connector', 'add', '--name', 'op2', '--host', 'h', '--port', '99999', '--system-id', 'x', '--password', 'y');
    expect(bad.stderr).toMatch(/port must be 1\.\.65535/);
    expect((await smsc('connector', 'set', '--name', 'op1', '--window', '5')).code).toBe(0);
    const list = JSON.parse((await smsc('connector', 'list', '--json')).stdout);
    expect(list).toEqual([expect.objectContaining({ name: 'op1', window: 5 })]);
    expect(JSON.stringify(list)).not.toContain('s3cret');
    expect((await handle.db.collection(Collections.connectors).findOne({ name: 'op1' }))?.password).toBe('s3cret');
    expect((await smsc('connector', 'remove', '--name', 'op1')).code).toBe(0);
    expect((await smsc('connector', 'list')).stdout).toContain('No connectors.');
  }, 120_000);

  it('manages routes, including the default route and ESME routes', async () => {
    // Routes must point at connectors and ESMEs that exist (fixtures written directly: each CLI start costs seconds).
    for (const name of ['op1', 'op2']) {
      await handle.db
        .collection(Collections.connectors)
        .updateOne(
          { name },
          { $setOnInsert: validateConnector({ name, host: 'h', port: 2775, systemId: 'me', password: 'pw' }) },
          { upsert: true },
        );
    }
    await new AccountStore(handle.db, { scryptCost: CHEAP_SCRYPT }).add({ systemId: 'app', password: 'pw' });
    expect((await smsc('route', 'add', '--prefix', '44', '--connector', 'op1', '--backup', 'op2', '--priority', '2')).code).toBe(0);
    expect((await smsc('route', 'add', '--prefix', '', '--connector', 'op1')).code).toBe(0);
    expect((await smsc('route', 'add', '--prefix', '4477', '--esme', 'app')).code).toBe(0);
    const conflict = await smsc('route', 'add', '--prefix', '1', '--esme', 'app', '--connector', 'op1');
    expect(conflict.code).not.toBe(0);
    const routes = JSON.parse((await smsc('route', 'list', '--json')).stdout) as { prefix: string; connectors: string[]; esme?: string }[];
    expect(routes.map((r) => [r.prefix, r.connectors, r.esme ?? null])).toEqual([
      ['4477', [], 'app'],
      ['44', ['op1', 'op2'], null],
      ['', ['op1'], null],
    ]);
    expect((await smsc('route', 'remove', '--prefix', '44')).stdout).toContain('Removed 1 route(s).');
    expect(await handle.db.collection(Collections.routes).countDocuments()).toBe(2);
  }, 120_000);

  it('cleanup --once prints what it did', async () => {
    await insertSms(handle.db, [
      makeSms({ validUntil: new Date(Date.now() - 1000) }),
      makeSms({ state: 'locked', lock: { owner: 'x', token: 't', at: new Date(), leaseUntil: new Date(Date.now() - 60_000) } }),
    ]);
    const result = await smsc('cleanup', '--once');
    expect(result.code, result.stderr).toBe(0);
    const counts = JSON.parse(result.stdout.match(/cleanup (\{.*\})/)![1]);
    expect(counts).toMatchObject({ expired: 1, messageLocksReleased: 1, destinationLocksReleased: 0, attemptLimit: 0, purged: 0 });
  }, 60_000);
});
