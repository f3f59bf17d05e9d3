import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSeries } from '../../support/sms-factory.ts';
import { routeAllTo, startDeliverer } from './harness.ts';
import { until } from '../../support/until.ts';

describe('temporary failures keep the order per destination', () => {
  const handle = useTestDb('delivery_e2e_retry');
  let sink: Sink;
  const procs: ReadyProcess[] = [];

  beforeAll(async () => {
    await ensureSchema(handle.db);
    // One submit in six is refused as throttled or queue-full: each is retried after the backoff.
    sink = await startSink({ port: 0, latencyMs: { min: 0, max: 3 }, outcomes: { ok: 5, throttled: 0.5, queueFull: 0.5 } });
    await routeAllTo(handle.db, sink.port);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sink?.close();
  });

  it('every message accepted exactly in arrival order for its destination, across 2 processes', async () => {
    const start = new Date();
    const docs = Array.from({ length: 20 }, (_, i) =>
      makeSeries(`49150${String(i).padStart(4, '0')}`, 1 + (i % 4) * 3, new Date(start.getTime() + i)),
    ).flat();
    await handle.db.collection<SmsDocument>(Collections.sms).insertMany(docs);
    // Backoff 200 ms doubling (DELIVERER_RETRY_BASE_MS), 5 s cap; throttle pause short.
    const env = { DELIVERER_RETRY_BASE_MS: '200', DELIVERER_RETRY_MAX_MS: '1000' };
    procs.push(...(await Promise.all([1, 2].map(() => startDeliverer(handle.uri, handle.dbName, ['--lanes', '3'], env)))));
    await until(
      async () => (await handle.db.collection(Collections.sms).countDocuments({ state: 'submitted' })) === docs.length,
      60_000,
      'all submitted',
    );
    const accepted = sink.received.filter((m) => m.status === 0);
    const refused = sink.received.length - accepted.length;
    console.log(`[retry-order] ${docs.length} messages; ${refused} refused and retried; ${accepted.length} accepted`);
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toHaveLength(docs.length);
    expect(sink.overlappingDestinations.size).toBe(0);
    const byDest = new Map<string, number[]>();
    for (const m of accepted) {
      const [dest, seq] = (m.text ?? '').split('#');
      byDest.set(dest, [...(byDest.get(dest) ?? []), Number(seq)]);
    }
    for (const [dest, seqs] of byDest) expect(seqs, dest).toEqual(seqs.map((_, i) => i));
    // Every refusal is one recorded attempt (attempts counts them all, history keeps them).
    const stored = await handle.db.collection<SmsDocument>(Collections.sms).find().toArray();
    expect(stored.reduce((n, d) => n + d.attempts - 1, 0)).toBe(refused);
    expect(
      stored.filter((d) => d.attempts > 1).every((d) => d.history.filter((h) => h.outcome === 'retry').length === d.attempts - 1),
    ).toBe(true);
  }, 90_000);
});
