import { describe, expect, it } from 'vitest';
import { useStandin } from './harness.ts';

/**
 * MongoDB rewrites a `$expr` comparison ($eq, $lt, $lte, $gt, $gte) of a field with a constant
 * into an indexable predicate ($$NOW and `let` variables are constants of the command), on indexes
 * that are not multikey, partial or sparse ($expr manual page). The stand-in plans the same way.
 */
function planOf(explain: any): string {
  const plan = explain.queryPlanner.winningPlan;
  return plan.stage === 'COLLSCAN' ? 'COLLSCAN' : `IXSCAN ${plan.inputStage.indexName}`;
}

const DUE = 10;
const LATER = 990;

describe('stand-in index use for $expr comparisons with $$NOW', () => {
  const h = useStandin();

  async function seed(name: string): Promise<void> {
    const c = h.db.collection<any>(name);
    const now = Date.now();
    const docs = [];
    for (let i = 0; i < DUE; i++) docs.push({ _id: `due${i}`, state: 'queued', nextAttemptAt: new Date(now - 1000 * (i + 1)) });
    for (let i = 0; i < LATER; i++) docs.push({ _id: `later${i}`, state: 'queued', nextAttemptAt: new Date(now + 3_600_000 + i) });
    docs.push({ _id: 'no-due', state: 'queued' });
    await c.insertMany(docs);
    await c.createIndex({ state: 1, nextAttemptAt: 1 });
  }

  it('scans only the due range of {state, nextAttemptAt} and finds what a collection scan finds', async () => {
    await seed('claims');
    const filters = [
      { state: 'queued', $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } },
      { state: 'queued', $expr: { $gte: ['$$NOW', '$nextAttemptAt'] } },
      { state: 'queued', $expr: { $and: [{ $lt: ['$nextAttemptAt', { $add: ['$$NOW', 1] }] }, { $ne: ['$state', 'x'] }] } },
    ];
    for (const filter of filters) {
      const explain = await h.db.command({ explain: { find: 'claims', filter }, verbosity: 'executionStats' });
      expect(planOf(explain), JSON.stringify(filter)).toBe('IXSCAN state_1_nextAttemptAt_1');
      // The due documents and the one without the field (missing sorts below every date).
      expect(explain.executionStats.totalDocsExamined).toBe(DUE + 1);
      const viaIndex = await h.db.collection('claims').find(filter).toArray();
      const viaScan = await h.db
        .collection('claims')
        .find(filter, { hint: { $natural: 1 } })
        .toArray();
      expect(viaIndex.map((d) => d._id).sort()).toEqual(viaScan.map((d) => d._id).sort());
      expect(viaIndex).toHaveLength(DUE + 1);
    }
  });

  it('uses let variables as constants, and the upper range the same way', async () => {
    await seed('claims_let');
    const cutoff = (await h.db.collection<any>('claims_let').findOne({ _id: 'later99' }))!.nextAttemptAt as Date;
    const explain = await h.db.command({
      explain: { find: 'claims_let', filter: { state: 'queued', $expr: { $gt: ['$nextAttemptAt', '$$cutoff'] } }, let: { cutoff } },
      verbosity: 'executionStats',
    });
    expect(planOf(explain)).toBe('IXSCAN state_1_nextAttemptAt_1');
    expect(explain.executionStats.totalDocsExamined).toBe(LATER - 100);
    const n = await h.db
      .collection('claims_let')
      .countDocuments({ state: 'queued', $expr: { $gt: ['$nextAttemptAt', '$$cutoff'] } }, { let: { cutoff } } as never);
    expect(n).toBe(LATER - 100);
  });

  it('does not use bounds from a comparison of two fields, or on a multikey index', async () => {
    await seed('claims_multi');
    const c = h.db.collection<any>('claims_multi');
    const twoFields = await h.db.command({
      explain: { find: 'claims_multi', filter: { $expr: { $lte: ['$nextAttemptAt', '$validUntil'] } } },
      verbosity: 'executionStats',
    });
    expect(planOf(twoFields)).toBe('COLLSCAN');
    await c.createIndex({ nextAttemptAt: 1 });
    await c.insertOne({ _id: 'arr', state: 'queued', nextAttemptAt: [new Date(0), new Date(Date.now() + 9e9)] });
    const explain = await h.db.command({
      explain: { find: 'claims_multi', filter: { $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } } },
      verbosity: 'executionStats',
    });
    expect(explain.executionStats.totalDocsExamined).toBe(DUE + LATER + 2);
    // Aggregation compares the whole array: an array sorts below any date, so it matches.
    expect(await c.countDocuments({ $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } })).toBe(DUE + 2);
  });

  it('claims through the index with findOneAndUpdate and deletes through it with deleteMany', async () => {
    await seed('claims_write');
    const c = h.db.collection<any>('claims_write');
    const got = await c.findOneAndUpdate(
      { state: 'queued', $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } },
      [{ $set: { state: 'locked', lockedAt: '$$NOW' } }],
      { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
    );
    expect(got!._id).toBe('no-due');
    const r = await c.deleteMany({ state: 'queued', $expr: { $lt: ['$nextAttemptAt', '$$NOW'] } });
    expect(r.deletedCount).toBe(DUE);
    expect(await c.countDocuments({})).toBe(LATER + 1);
  });
});
