import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type LockDocument } from '../../../src/domain/index.ts';
import { runStatus } from '../../../src/cli/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSms } from './sms-fixtures.ts';

const t = useTestDb('ops_status');
const NOW = new Date(Date.UTC(2026, 2, 1, 10, 0, 0));
const clock = new ManualClock(NOW);
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

function argv(extra: Record<string, unknown> = {}) {
  return { mongodbUri: t.uri, db: t.dbName, ...extra };
}

async function statusJson(): Promise<any> {
  const out: string[] = [];
  await runStatus(argv({ json: true }), { print: (s) => out.push(s), clock, env: {} });
  expect(out).toHaveLength(1);
  return JSON.parse(out[0]);
}

describe('smsc status against a store in known states', () => {
  it('on an empty database reports zeros and nothing running', async () => {
    const report = await statusJson();
    expect(report.queue.total).toBe(0);
    expect(report.queue.byState).toEqual({
      queued: 0,
      locked: 0,
      submitted: 0,
      delivered: 0,
      undeliverable: 0,
      expired: 0,
      rejected: 0,
      cancelled: 0,
    });
    expect(report.oldestDue).toBeNull();
    expect(report.nodes).toEqual([]);
    expect(report.connectors).toEqual([]);
    expect(report.locks.destinations).toEqual({ held: 0, expired: 0, oldest: [] });
    expect(report.queueSampler).toBeNull();
  });

  describe('with messages, locks, nodes and connectors', () => {
    let oldestId = '';
    beforeAll(async () => {
      const sms = t.db.collection(Collections.sms);
      const oldest = makeSms(NOW, { nextAttemptAt: minutes(-90), destKey: '447700900009', account: 'globex', attempts: 2 });
      oldestId = oldest.messageId;
      await sms.insertMany([
        oldest,
        makeSms(NOW, { nextAttemptAt: minutes(-5) }),
        makeSms(NOW, { nextAttemptAt: minutes(30) }), // backing off: queued, not due
        makeSms(NOW, { state: 'locked', lock: { owner: 'w1', token: 'a', at: minutes(-1), leaseUntil: minutes(1) } }),
        makeSms(NOW, { state: 'locked', lock: { owner: 'w2', token: 'b', at: minutes(-10), leaseUntil: minutes(-9) } }),
        makeSms(NOW, { state: 'submitted' }),
        makeSms(NOW, { state: 'delivered', finalAt: minutes(-2) }),
        makeSms(NOW, { state: 'delivered', finalAt: minutes(-3) }),
        makeSms(NOW, { state: 'expired', finalAt: minutes(-4) }),
      ]);
      await t.db.collection<LockDocument>(Collections.locks).insertMany([
        { _id: '447700900001', owner: 'w1', token: 'a', at: minutes(-1), leaseUntil: minutes(1) },
        { _id: '447700900002', owner: 'w2', token: 'b', at: minutes(-10), leaseUntil: minutes(-9) },
      ]);
      await t.db.collection<{ _id: string; [key: string]: unknown }>(Collections.nodes).insertMany([
        {
          _id: 'deliverer-a-1',
          kind: 'deliverer',
          host: 'a',
          pid: 1,
          startedAt: minutes(-60),
          lastSeenAt: minutes(0),
          expiresAt: minutes(1),
          info: { connectors: { op1: 'BOUND', op2: { state: 'CONNECTING' } } },
        },
        {
          _id: 'inserter-b-2',
          kind: 'inserter',
          host: 'b',
          pid: 2,
          startedAt: minutes(-60),
          lastSeenAt: minutes(0),
          expiresAt: minutes(1),
        },
        // Beats stopped; the TTL monitor has not removed it yet.
        {
          _id: 'deliverer-c-3',
          kind: 'deliverer',
          host: 'c',
          pid: 3,
          startedAt: minutes(-60),
          lastSeenAt: minutes(-5),
          expiresAt: minutes(-4),
          info: { connectors: { op1: 'BOUND' } },
        },
      ]);
      await t.db.collection(Collections.connectors).insertMany([
        { name: 'op1', host: '10.0.0.1', port: 2775, systemId: 'smsc', password: 'secret-pw', enabled: true },
        { name: 'op2', host: '10.0.0.2', port: 2775, systemId: 'smsc', password: 'secret-pw', enabled: false },
      ]);
      await t.db
        .collection<{ _id: string; [key: string]: unknown }>(Collections.leases)
        .insertOne({ _id: 'queue-sampler', owner: 'inserter-b-2', token: 't', since: minutes(-30), leaseUntil: minutes(1) });
    });

    it('counts the queue by state, with due and waiting split', async () => {
      const report = await statusJson();
      expect(report.at).toBe(NOW.toISOString());
      expect(report.queue.byState).toEqual({
        queued: 3,
        locked: 2,
        submitted: 1,
        delivered: 2,
        undeliverable: 0,
        expired: 1,
        rejected: 0,
        cancelled: 0,
      });
      expect(report.queue.total).toBe(9);
      expect(report.queue.due).toBe(2);
      expect(report.queue.waiting).toBe(1);
    });

    it('reports locks held and how many have an expired lease', async () => {
      const report = await statusJson();
      expect(report.locks.destinations.held).toBe(2);
      expect(report.locks.destinations.expired).toBe(1);
      expect(report.locks.destinations.oldest[0]).toEqual({
        destKey: '447700900002',
        owner: 'w2',
        at: minutes(-10).toISOString(),
        leaseUntil: minutes(-9).toISOString(),
        expired: true,
      });
      expect(report.locks.messages).toEqual({ held: 2, expired: 1 });
    });

    it('names the oldest due message', async () => {
      const report = await statusJson();
      expect(report.oldestDue).toMatchObject({
        messageId: oldestId,
        destKey: '447700900009',
        account: 'globex',
        attempts: 2,
        overdueSeconds: 5400,
      });
    });

    it('lists processes from nodes (stale ones marked) and connector states from live nodes, without passwords', async () => {
      const report = await statusJson();
      expect(report.nodes.map((n: any) => [n.name, n.live])).toEqual([
        ['deliverer-a-1', true],
        ['deliverer-c-3', false],
        ['inserter-b-2', true],
      ]);
      expect(report.connectors).toEqual([
        { name: 'op1', host: '10.0.0.1', port: 2775, systemId: 'smsc', enabled: true, states: [{ node: 'deliverer-a-1', state: 'BOUND' }] },
        {
          name: 'op2',
          host: '10.0.0.2',
          port: 2775,
          systemId: 'smsc',
          enabled: false,
          states: [{ node: 'deliverer-a-1', state: 'CONNECTING' }],
        },
      ]);
      expect(JSON.stringify(report)).not.toContain('secret-pw');
      expect(report.queueSampler).toMatchObject({ owner: 'inserter-b-2' });
    });

    it('prints a readable summary without --json', async () => {
      const out: string[] = [];
      await runStatus(argv(), { print: (s) => out.push(s), clock, env: {} });
      const text = out.join('\n');
      expect(text).toMatch(/queued\s+3\s+\(2 due now, 1 waiting\)/);
      expect(text).toContain('destinations  2 held, 1 expired');
      expect(text).toContain(`Oldest due: ${oldestId} to 447700900009 from globex`);
      expect(text).toContain('(1h30m ago)');
      expect(text).toContain('Processes (2 live, 1 stale)');
      expect(text).toContain('op1 10.0.0.1:2775: BOUND on deliverer-a-1');
      expect(text).toContain('op2 10.0.0.2:2775 (disabled): CONNECTING on deliverer-a-1');
      expect(text).toContain(`Queue metrics sampled by inserter-b-2 (since ${minutes(-30).toISOString()})`);
    });
  });

  it('an unreachable MongoDB is one clear sentence', async () => {
    await expect(
      runStatus({ mongodbUri: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300', db: 'x' }, { print: () => {}, clock, env: {} }),
    ).rejects.toThrow(/^Cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:1/);
  });
});

describe('smsc status with a document in an unexpected state', () => {
  it('counts it under otherStates instead of hiding it', async () => {
    await t.db.collection(Collections.sms).insertOne(makeSms(NOW, { state: 'limbo' as never }));
    const report = await statusJson();
    expect(report.queue.otherStates).toEqual({ limbo: 1 });
    expect(report.queue.total).toBe(10);
  });
});
