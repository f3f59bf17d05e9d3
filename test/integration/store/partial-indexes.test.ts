import type { Document } from 'mongodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/index.ts';
import { claimOne } from '../../../src/protocol/index.ts';
import { unroutedMoFilter } from '../../../src/mo/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';

/** Reads that look for a few ESME-bound messages among many queued MT ones, through partial indexes of their own. */
describe('partial indexes on sms', () => {
  const t = useTestDb('partial_indexes');
  const past = new Date(Date.now() - 60_000);
  const queued = (i: number, target: Record<string, unknown>, priority = 0) => ({
    state: 'queued',
    priority,
    nextAttemptAt: past,
    destKey: `+4917${i}`,
    target,
  });
  const sms = () => t.db.collection(Collections.sms);

  beforeEach(async () => {
    await ensureSchema(t.db);
    await sms().deleteMany({});
  });

  it('the MO assigner sweep reads only unrouted MO, however long the queue', async () => {
    await sms().insertMany(Array.from({ length: 2000 }, (_, i) => queued(i, { kind: 'connector' })));
    await sms().insertMany([
      queued(1, { kind: 'esme', systemId: '' }),
      queued(2, { kind: 'esme', systemId: 'app' }),
      queued(3, { kind: 'esme', systemId: '' }),
    ]);

    // The sweep's own filter, as the untyped collection of this test takes it.
    const filter = unroutedMoFilter(new Date()) as Document;
    const explain = await t.db.command({ explain: { find: Collections.sms, filter }, verbosity: 'executionStats' });
    expect(JSON.stringify(explain.queryPlanner.winningPlan)).toContain('unrouted_mo');
    expect(explain.executionStats.totalDocsExamined).toBe(2);
    expect(await sms().countDocuments(filter)).toBe(2);
  });

  it('the ESME delivery claim reads only messages for ESMEs, however many MT messages wait', async () => {
    // MT traffic with a higher priority sorts first in the general claim index.
    await sms().insertMany(Array.from({ length: 3000 }, (_, i) => queued(i, { kind: 'connector' }, 1)));
    await sms().insertMany([
      queued(1, { kind: 'esme', systemId: 'app' }),
      queued(2, { kind: 'esme', systemId: 'other' }),
      queued(3, { kind: 'esme', systemId: 'app' }),
    ]);

    const filter: Document = {
      'target.kind': 'esme',
      'target.systemId': { $in: ['app'] },
      state: 'queued',
      nextAttemptAt: { $lte: new Date() },
    };
    const explain = await t.db.command({
      explain: { find: Collections.sms, filter, sort: { priority: -1, nextAttemptAt: 1 }, limit: 1 },
      verbosity: 'executionStats',
    });
    expect(JSON.stringify(explain.queryPlanner.winningPlan)).toContain('esme_claim');
    expect(explain.executionStats.totalDocsExamined).toBeLessThanOrEqual(2);

    const claim = (excluded: string[], token: string) =>
      claimOne(t.db.collection(Collections.sms), {
        claimFilter: { 'target.kind': 'esme', 'target.systemId': { $in: ['app'] } },
        excluded,
        owner: 'test',
        token,
        leaseMs: 30_000,
        dueBy: systemClock.now(),
        dbNow: systemClock.dbNow(),
      });
    const first = await claim([], 'token-1');
    const second = await claim([first!.destKey], 'token-2');
    expect([first?.destKey, second?.destKey].sort()).toEqual(['+49171', '+49173']);
    expect(await claim(['+49171', '+49173'], 'token-3')).toBeNull();
    expect(await sms().countDocuments({ state: 'locked', 'target.kind': 'connector' })).toBe(0);
  });
});
