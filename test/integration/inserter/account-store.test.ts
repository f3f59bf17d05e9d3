import { describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';

const t = useTestDb('account_store');
const CHEAP = { N: 1024, r: 8, p: 1 };

describe('AccountStore', () => {
  it('adds, authenticates, updates, lists and removes accounts', async () => {
    await ensureSchema(t.db);
    const store = new AccountStore(t.db, { scryptCost: CHEAP });
    const view = await store.add({ systemId: 'acme', password: 'pw1', tps: 50, sourceAllow: ['ACME'] });
    expect(view).toMatchObject({ systemId: 'acme', tps: 50, maxBinds: 10, sourceAllow: ['ACME'], enabled: true });
    expect(view).not.toHaveProperty('passwordHash');
    const raw = await t.db.collection('accounts').findOne({ systemId: 'acme' });
    expect(String(raw?.passwordHash)).toMatch(/^scrypt\$/);
    expect(JSON.stringify(raw)).not.toContain('pw1');

    expect(await store.authenticate('acme', 'pw1')).toMatchObject({ ok: true });
    expect(await store.authenticate('acme', 'nope')).toEqual({ ok: false, reason: 'wrong-password' });
    expect(await store.authenticate('ghost', 'pw1')).toEqual({ ok: false, reason: 'unknown-system-id' });

    await expect(store.add({ systemId: 'acme', password: 'x' })).rejects.toThrow(/already exists/);
    await expect(store.add({ systemId: 'has space', password: 'x' })).rejects.toThrow(/system_id/);
    await expect(store.add({ systemId: 'b', password: 'ninechars' })).rejects.toThrow(/password/);

    expect(await store.set('acme', { password: 'pw2', maxBinds: 3 })).toMatchObject({ maxBinds: 3 });
    expect(await store.authenticate('acme', 'pw1')).toMatchObject({ ok: false });
    expect(await store.authenticate('acme', 'pw2')).toMatchObject({ ok: true });
    await store.set('acme', { enabled: false });
    expect(await store.authenticate('acme', 'pw2')).toEqual({ ok: false, reason: 'disabled' });
    expect(await store.set('ghost', { tps: 1 })).toBeNull();

    expect((await store.list()).map((a) => a.systemId)).toEqual(['acme']);
    expect(await store.remove('acme')).toBe(true);
    expect(await store.remove('acme')).toBe(false);
  });
});
