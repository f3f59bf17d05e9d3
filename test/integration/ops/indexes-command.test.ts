import { describe, expect, it } from 'vitest';
import { runIndexes } from '../../../src/cli/index.ts';
import { INDEXES } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';

const t = useTestDb('ops_indexes');

describe('smsc indexes', () => {
  it('creates every expected index and the capped events collection, then reports them; repeating is harmless', async () => {
    for (let round = 0; round < 2; round++) {
      const out: string[] = [];
      const report = await runIndexes({ mongodbUri: t.uri, db: t.dbName, json: true }, { print: (s) => out.push(s), env: {} });
      const parsed = JSON.parse(out[0]);
      expect(parsed).toEqual(JSON.parse(JSON.stringify(report)));
      for (const spec of INDEXES) {
        const coll = report.find((c) => c.collection === spec.collection)!;
        expect(
          coll.indexes.map((i) => i.name),
          `${spec.collection}.${spec.name}`,
        ).toContain(spec.name);
      }
      expect(report.every((c) => c.missing.length === 0)).toBe(true);
      expect(report.find((c) => c.collection === 'events')?.capped).toBe(true);
      const ttl = report.find((c) => c.collection === 'nodes')!.indexes.find((i) => i.name === 'ttl_expiresAt');
      expect(ttl?.expireAfterSeconds).toBe(0);
    }
    const names = (await t.db.collection('accounts').listIndexes().toArray()).map((i) => i.name);
    expect(names).toContain('systemId');
  });

  it('prints a readable list that marks an operator-added index', async () => {
    await t.db.collection('sms').createIndex({ account: 1 }, { name: 'by_account' });
    const out: string[] = [];
    await runIndexes({ mongodbUri: t.uri, db: t.dbName }, { print: (s) => out.push(s), env: {} });
    const text = out.join('\n');
    expect(text).toMatch(/^sms$/m);
    expect(text).toMatch(/events \(capped\)/);
    expect(text).toMatch(/by_account\s+\{"account":1\}\s+\(not smsc’s\)/);
    expect(text).toMatch(/connector_remoteId\s+\{"connector":1,"remoteId":1\}\s+\(unique\)/);
    expect(text).toContain('All expected indexes exist.');
  });
});
