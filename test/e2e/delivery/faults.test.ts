import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSeries } from '../../support/sms-factory.ts';
import { routeAllTo, shiftedClock, startDeliverer } from './harness.ts';
import { until } from '../../support/until.ts';

// Real deliverer processes against an independent downstream (the sink, in this process), which
// records what it received and whether two submits to one destination were ever outstanding at
// once. The faults: a process frozen past its lease (SIGSTOP/SIGCONT), a clock 20 s ahead (faketime).

/** Per destination, the sequence numbers the downstream received, in the order it received them. */
function sequencesByDestination(sink: Sink): Map<string, number[]> {
  const byDest = new Map<string, number[]>();
  for (const m of sink.received) {
    const [dest, seq] = (m.text ?? '').split('#');
    byDest.set(dest, [...(byDest.get(dest) ?? []), Number(seq)]);
  }
  return byDest;
}

/** Order kept: each destination's sequence never goes back (a resend of the message just before is the only repeat). */
function expectOrderKept(sink: Sink): void {
  for (const [dest, seqs] of sequencesByDestination(sink)) {
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `${dest}: ${seqs.join(',')}`).toBeGreaterThanOrEqual(seqs[i - 1]);
  }
}

describe('delivery under faults, with real processes', () => {
  const handle = useTestDb('delivery_e2e_faults');
  let sink: Sink | undefined;
  const procs: ReadyProcess[] = [];
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);

  beforeAll(async () => {
    await ensureSchema(handle.db);
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGCONT');
      await p.stop('SIGKILL');
    }
    await sink?.close();
    await sms().deleteMany({});
    await handle.db.collection(Collections.locks).deleteMany({});
    await handle.db.collection(Collections.routes).deleteMany({});
    await handle.db.collection(Collections.connectors).deleteMany({});
  });

  async function load(destinations: number, perDestination: number): Promise<number> {
    const start = new Date(Date.now() - 1000);
    const docs = Array.from({ length: destinations }, (_, i) =>
      makeSeries(`4917${String(i).padStart(6, '0')}`, perDestination, start),
    ).flat();
    docs.sort((a, b) => a.arrivedAt.getTime() - b.arrivedAt.getTime() || a.destKey.localeCompare(b.destKey));
    await sms().insertMany(docs);
    return docs.length;
  }

  it('a deliverer frozen past its lease in the middle of slow batches: no overlaps, order kept, nothing lost, duplicates only of what was on the wire', async () => {
    sink = await startSink({ port: 0, latencyMs: { min: 60, max: 120 } });
    await routeAllTo(handle.db, sink.port);
    const total = await load(12, 10);
    const env = { DELIVERER_LEASE_GRACE_MS: '500' };
    const args = ['--lanes', '3', '--lease-ms', '2000'];
    const [a, b] = await Promise.all([
      startDeliverer(handle.uri, handle.dbName, args, env),
      startDeliverer(handle.uri, handle.dbName, args, env),
    ]);
    procs.push(a, b);
    await sink.waitForMessages(Math.floor(total / 4), 30_000);
    // Freeze A wherever it is: inside a batch, with submits on the wire.
    a.child.kill('SIGSTOP');
    const frozenAt = sink.received.length;
    // B alone finishes everything, A's destinations included, once their leases and grace ran out.
    await until(async () => (await sms().countDocuments({ state: 'submitted' })) === total, 60_000, `${total} submitted by B`);
    const receivedBeforeThaw = sink.received.length;
    a.child.kill('SIGCONT');
    // A wakes up: whatever answers were waiting for it, it sends nothing more under its stale leases.
    await until(async () => (await handle.db.collection(Collections.locks).countDocuments()) === 0, 10_000, 'no destination held');
    await b.stop('SIGTERM');
    await a.stop('SIGTERM');

    const texts = sink.received.map((m) => m.text);
    const unique = new Set(texts);
    const duplicates = texts.length - unique.size;
    console.log(
      `[faults/pause] ${total} messages; A frozen after ${frozenAt} received; duplicates ${duplicates}; received after thaw ${sink.received.length - receivedBeforeThaw}`,
    );
    expect(unique.size).toBe(total);
    expect(sink.overlappingDestinations.size).toBe(0);
    // At most one submit per lane of A can have been on the wire when it froze.
    expect(duplicates).toBeLessThanOrEqual(3);
    expect(sink.received.length - receivedBeforeThaw).toBe(0);
    expectOrderKept(sink);
  }, 120_000);

  it('two deliverers whose clocks differ by 20 s (a 5 s lease): no overlaps, order kept across retries, nothing lost', async () => {
    // Every destination's first submit is refused once (temporary), so retries, holds and takeovers all happen.
    const refused = new Set<string>();
    sink = await startSink({
      port: 0,
      latencyMs: { min: 5, max: 30 },
      decide: (m) => {
        if (refused.has(m.dest.addr) || !(m.text ?? '').endsWith('#0')) return undefined;
        refused.add(m.dest.addr);
        return 0x58;
      },
    });
    await routeAllTo(handle.db, sink.port);
    const total = await load(20, 6);
    // The offset bound is raised so the skewed host delivers too: exclusion must not depend on it.
    const env = {
      DELIVERER_LEASE_GRACE_MS: '1000',
      DELIVERER_MAX_CLOCK_OFFSET_MS: '60000',
      DELIVERER_RETRY_BASE_MS: '300',
      DELIVERER_RETRY_MAX_MS: '1000',
    };
    const args = ['--lanes', '3', '--lease-ms', '5000'];
    const [normal, ahead] = await Promise.all([
      startDeliverer(handle.uri, handle.dbName, args, env),
      startDeliverer(handle.uri, handle.dbName, args, { ...env, ...shiftedClock('+20s') }),
    ]);
    procs.push(normal, ahead);
    await until(async () => (await sms().countDocuments({ state: 'submitted' })) === total, 90_000, `${total} submitted`);
    await Promise.all([normal.stop('SIGTERM'), ahead.stop('SIGTERM')]);
    const bySender = new Map<string, number>();
    for (const m of sink.received) bySender.set(m.sessionId, (bySender.get(m.sessionId) ?? 0) + 1);
    console.log(
      `[faults/skew] ${total} messages, ${sink.received.length} submits, by session ${JSON.stringify(Object.fromEntries(bySender))}`,
    );
    expect(new Set(sink.received.filter((m) => m.status === 0).map((m) => m.text)).size).toBe(total);
    expect(sink.overlappingDestinations.size).toBe(0);
    // Both hosts delivered (the skewed one is not simply idle).
    expect(bySender.size).toBe(2);
    expectOrderKept(sink);
  }, 150_000);

  it('a deliverer whose clock is off by more than the bound delivers nothing and says so', async () => {
    sink = await startSink({ port: 0 });
    await routeAllTo(handle.db, sink.port);
    const total = await load(5, 2);
    const ahead = await startDeliverer(handle.uri, handle.dbName, ['--lanes', '2'], { LOG_LEVEL: 'error', ...shiftedClock('+20s') });
    procs.push(ahead);
    await until(() => /clock offset from the database exceeds the bound/.test(ahead.output()), 15_000, 'the offset error');
    const node = await handle.db.collection(Collections.nodes).findOne({ kind: 'deliverer' });
    expect(Math.abs(Number(node?.info?.clock?.offsetMs ?? node?.clock?.offsetMs ?? 0))).toBeGreaterThan(15_000);
    const states = (await sms().find().toArray()).map((d) => `${d.state}:${d.attempts}:${d.history.at(-1)?.by ?? ''}`);
    expect(states, states.join(' ')).toEqual(Array(total).fill('queued:0:'));
    expect(sink.received).toHaveLength(0);
  }, 60_000);
});
