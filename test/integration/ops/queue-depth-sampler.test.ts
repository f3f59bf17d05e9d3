import type { Document } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/index.ts';
import { createMetrics } from '../../../src/metrics/index.ts';
import { QUEUE_SAMPLER_LEASE, QueueDepthSampler, queuedByTarget } from '../../../src/observability/index.ts';
import { SingletonLease } from '../../../src/nodes/index.ts';
import { Collections, ensureSchema, INDEXES } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSms } from './sms-fixtures.ts';

const t = useTestDb('ops_sampler');
const now = new Date(Date.UTC(2026, 2, 1, 10));
const ago = (ms: number) => new Date(now.getTime() - ms);

beforeAll(async () => {
  await ensureSchema(t.db);
  await t.db.collection(Collections.routes).insertMany([
    { prefix: '', connectors: ['op-default'], priority: 0, weight: 1, enabled: true },
    { prefix: '49', connectors: ['op-de', 'op-de-backup'], priority: 0, weight: 1, enabled: true },
    // Shares 49170 by weight: the heavier route's primary is the one counted.
    { prefix: '49170', connectors: ['op-light'], priority: 0, weight: 1, enabled: true },
    { prefix: '49170', connectors: ['op-heavy'], priority: 0, weight: 3, enabled: true },
    { prefix: '44', connectors: ['op-off'], priority: 0, weight: 1, enabled: false },
    { prefix: '555', connectors: [], esme: 'moapp', priority: 0, weight: 1, enabled: true },
  ]);
  const esme = (systemId: string, destKey: string) => ({
    target: { kind: 'esme' as const, systemId },
    direction: 'receipt' as const,
    destKey,
  });
  await t.db.collection(Collections.sms).insertMany([
    makeSms(now, { destKey: '+4915112345678', nextAttemptAt: ago(120_000) }),
    makeSms(now, { destKey: '+4915112345679', nextAttemptAt: new Date(now.getTime() + 120_000) }),
    makeSms(now, { destKey: '+4917011111111', nextAttemptAt: ago(10_000) }),
    makeSms(now, { destKey: '+447700900001', nextAttemptAt: ago(5_000) }), // route disabled: the default route
    makeSms(now, { destKey: '+4915100000000', target: { kind: 'connector', connectors: ['pinned-op'] }, nextAttemptAt: ago(1_000) }),
    makeSms(now, { ...esme('acme', 'esme:acme:+4915112345678'), nextAttemptAt: ago(600_000) }),
    makeSms(now, { ...esme('', '+4915112345678'), direction: 'mo', nextAttemptAt: ago(1_000) }),
    makeSms(now, { destKey: '+4915112345678', state: 'delivered' }),
    makeSms(now, { destKey: '+4915112345678', state: 'delivered' }),
    makeSms(now, { destKey: '+4915112345678', state: 'submitted' }),
    makeSms(now, { destKey: '+4915112345678', state: 'locked' }),
  ]);
});

function line(text: string, series: string): number | undefined {
  const m = new RegExp(`^${series.replace(/[{}()[\]+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('QueueDepthSampler', () => {
  it('publishes depth by state, the due backlog and its age, overall and per target', async () => {
    const metrics = createMetrics();
    const sampler = new QueueDepthSampler({ db: t.db, clock: new ManualClock(now), intervalMs: 60_000, owner: 'test', metrics });
    await sampler.start();
    try {
      expect(sampler.active).toBe(true);
      const text = await metrics.registry.metrics();
      expect(line(text, 'smsc_queue_depth{state="queued"}')).toBe(7);
      expect(line(text, 'smsc_queue_depth{state="delivered"}')).toBe(2);
      expect(line(text, 'smsc_queue_depth{state="submitted"}')).toBe(1);
      expect(line(text, 'smsc_queue_depth{state="locked"}')).toBe(1);
      expect(line(text, 'smsc_queue_depth{state="expired"}')).toBe(0);
      expect(line(text, 'smsc_queue_due_messages')).toBe(6);
      expect(line(text, 'smsc_queue_oldest_due_seconds')).toBe(600);
      const target = (metric: string, kind: string, name: string) => line(text, `${metric}{kind="${kind}",target="${name}"}`);
      expect(target('smsc_queue_target_messages', 'connector', 'op-de')).toBe(2);
      expect(target('smsc_queue_target_due_messages', 'connector', 'op-de')).toBe(1);
      expect(target('smsc_queue_target_oldest_due_seconds', 'connector', 'op-de')).toBe(120);
      expect(target('smsc_queue_target_messages', 'connector', 'op-heavy')).toBe(1);
      expect(target('smsc_queue_target_messages', 'connector', 'op-light')).toBeUndefined();
      expect(target('smsc_queue_target_messages', 'connector', 'op-default')).toBe(1);
      expect(target('smsc_queue_target_messages', 'connector', 'op-off')).toBeUndefined();
      expect(target('smsc_queue_target_messages', 'connector', 'pinned-op')).toBe(1);
      expect(target('smsc_queue_target_messages', 'esme', 'acme')).toBe(1);
      expect(target('smsc_queue_target_oldest_due_seconds', 'esme', 'acme')).toBe(600);
      expect(target('smsc_queue_target_messages', 'esme', 'none')).toBe(1);
      // The per-target series add up to the queued messages.
      const perTarget = [...text.matchAll(/^smsc_queue_target_messages\{.*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(perTarget).toBe(7);
      expect(line(text, 'smsc_queue_last_sample_timestamp_seconds')).toBe(now.getTime() / 1000);
    } finally {
      await sampler.close();
      await sampler.close();
    }
    // Closed: the gauges are gone from this process, and the lease is free for another.
    expect(await metrics.registry.metrics()).not.toContain('smsc_queue_');
    expect(await t.db.collection(Collections.leases).countDocuments({ _id: QUEUE_SAMPLER_LEASE } as Document)).toBe(0);
  });

  it('counts the final states only every finalStatesEvery samples', async () => {
    const clock = new ManualClock(now);
    const metrics = createMetrics();
    const sampler = new QueueDepthSampler({ db: t.db, clock, intervalMs: 60_000, finalStatesEvery: 3, owner: 'test', metrics });
    await sampler.start();
    try {
      const extra = makeSms(now, { state: 'delivered' });
      await t.db.collection(Collections.sms).insertOne(extra);
      const delivered = async () => line(await metrics.registry.metrics(), 'smsc_queue_depth{state="delivered"}');
      expect(await delivered()).toBe(2);
      await sampler.tick();
      await sampler.tick();
      expect(await delivered()).toBe(2);
      await sampler.tick();
      expect(await delivered()).toBe(3);
      await t.db.collection(Collections.sms).deleteOne({ _id: extra._id });
    } finally {
      await sampler.close();
    }
  });

  it('one candidate samples; another takes over when its lease runs out or it closes', async () => {
    const clock = new ManualClock(now);
    const a = new QueueDepthSampler({ db: t.db, clock, intervalMs: 10_000, owner: 'a', metrics: createMetrics() });
    const b = new QueueDepthSampler({ db: t.db, clock, intervalMs: 10_000, owner: 'b', metrics: createMetrics() });
    try {
      expect(await a.tick()).toBe(true);
      expect(await b.tick()).toBe(false);
      expect(await a.tick()).toBe(true);
      const holder = () => SingletonLease.holder(t.db, QUEUE_SAMPLER_LEASE, clock.now());
      expect((await holder())?.owner).toBe('a');
      // a stops renewing (paused, or lost MongoDB): b takes over after 3 periods, not before.
      clock.advance(29_000);
      expect(await b.tick()).toBe(false);
      clock.advance(1_000);
      expect(await b.tick()).toBe(true);
      expect(await a.tick()).toBe(false);
      expect((await holder())?.owner).toBe('b');
      // b closes: a can take over at once.
      await b.close();
      expect(await a.tick()).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** Every stage and index an explain output names, and its execution counts, whatever its layout (find, aggregate, SBE or classic). */
function planOf(explain: Document): { stages: string[]; indexes: string[]; keysExamined: number; docsExamined: number } {
  const stages: string[] = [];
  const indexes: string[] = [];
  let keysExamined = 0;
  let docsExamined = 0;
  const walk = (node: unknown, inPlan: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, inPlan));
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Document)) {
      if (key === 'rejectedPlans' || key === 'allPlansExecution') continue;
      if (key === 'stage' && typeof value === 'string' && inPlan) stages.push(value);
      else if (key === 'indexName' && typeof value === 'string' && inPlan) indexes.push(value);
      else if (key === 'executionStats' && value && typeof value === 'object') {
        keysExamined += Number((value as Document).totalKeysExamined ?? 0);
        docsExamined += Number((value as Document).totalDocsExamined ?? 0);
        walk(value, false);
      } else walk(value, inPlan || key === 'winningPlan' || key === 'queryPlan');
    }
  };
  walk(explain, false);
  return { stages, indexes, keysExamined, docsExamined };
}

describe('what a sample costs (explain)', () => {
  const stateIndexes = INDEXES.filter(
    (ix) => ix.collection === Collections.sms && Object.keys(ix.key)[0] === 'state' && !ix.partialFilterExpression,
  ).map((ix) => ix.name);

  it('counts per state walk only that state in a {state, …} index', async () => {
    const sms = t.db.collection(Collections.sms);
    // The pipeline countDocuments sends.
    const explain = await sms
      .aggregate([{ $match: { state: 'delivered' } }, { $group: { _id: 1, n: { $sum: 1 } } }])
      .explain('executionStats');
    const plan = planOf(explain);
    expect(plan.stages).not.toContain('COLLSCAN');
    expect(
      plan.indexes.some((name) => stateIndexes.includes(name)),
      `plan ${JSON.stringify(plan)}`,
    ).toBe(true);
    // 2 delivered among 11 messages: the scan reads their index entries, not the collection.
    expect(plan.keysExamined).toBeLessThanOrEqual(3);
    expect(plan.docsExamined).toBeLessThanOrEqual(2);
  });

  it('the due count, the oldest due message and the by-target aggregation read the queued messages only', async () => {
    const sms = t.db.collection(Collections.sms);
    const due = planOf(
      await sms
        .aggregate([{ $match: { state: 'queued', nextAttemptAt: { $lte: now } } }, { $group: { _id: 1, n: { $sum: 1 } } }])
        .explain('executionStats'),
    );
    expect(due.stages).not.toContain('COLLSCAN');
    expect(due.docsExamined).toBeLessThanOrEqual(6);
    const oldest = planOf(
      await sms
        .find({ state: 'queued', nextAttemptAt: { $lte: now } })
        .sort({ nextAttemptAt: 1 })
        .limit(1)
        .explain('executionStats'),
    );
    expect(oldest.stages).not.toContain('COLLSCAN');
    expect(oldest.indexes.some((name) => stateIndexes.includes(name))).toBe(true);
    const byTarget = planOf(
      await sms.aggregate([{ $match: { state: 'queued' } }, { $group: { _id: '$destKey', n: { $sum: 1 } } }]).explain('executionStats'),
    );
    expect(byTarget.stages).not.toContain('COLLSCAN');
    expect(byTarget.docsExamined).toBeLessThanOrEqual(7);
    // And the real aggregation runs (its operators are all documented MongoDB ones).
    expect((await queuedByTarget(t.db, now)).reduce((n, r) => n + r.messages, 0)).toBe(7);
  });
});
