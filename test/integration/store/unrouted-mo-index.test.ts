import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { unroutedMoFilter } from '../../../src/mo/mo-assigner.ts';
import { Collections, ensureSchema } from '../../../src/store/collections.ts';
import { useTestDb } from '../../support/mongo.ts';

describe('the MO assigner sweep', () => {
  const t = useTestDb('unrouted_mo');

  it('reads only unrouted MO through the partial index, however long the queue', async () => {
    await ensureSchema(t.db);
    const sms = t.db.collection(Collections.sms);
    const past = new Date(Date.now() - 60_000);
    const queued = (i: number, target: Record<string, unknown>) => ({ state: 'queued', priority: 0, nextAttemptAt: past, destKey: `+4917${i}`, target });
    await sms.insertMany(Array.from({ length: 2000 }, (_, i) => queued(i, { kind: 'connector' })));
    await sms.insertMany([queued(1, { kind: 'esme', systemId: '' }), queued(2, { kind: 'esme', systemId: 'app' }), queued(3, { kind: 'esme', systemId: '' })]);

    // The sweep's own filter, as the untyped collection of this test takes it.
    const filter = unroutedMoFilter(new Date()) as Document;
    const explain = await t.db.command({ explain: { find: Collections.sms, filter }, verbosity: 'executionStats' });
    expect(JSON.stringify(explain.queryPlanner.winningPlan)).toContain('unrouted_mo');
    expect(explain.executionStats.totalDocsExamined).toBe(2);
    expect(await sms.countDocuments(filter)).toBe(2);
  });
});
