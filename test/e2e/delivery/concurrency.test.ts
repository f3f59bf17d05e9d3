import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSeries } from '../../support/sms-factory.ts';
import { routeAllTo, startDeliverer, statsOf } from './harness.ts';
import { until } from '../../support/until.ts';

// The size: about 10,000 messages to 500 destinations (12.5 s on the 2-core VM against
// the stand-in). SMSC_E2E_MESSAGES and SMSC_E2E_DESTINATIONS change it.
const DESTINATIONS = Number(process.env.SMSC_E2E_DESTINATIONS ?? 500);
const TARGET = Number(process.env.SMSC_E2E_MESSAGES ?? 10_000);
const WAIT_MS = Math.max(90_000, TARGET * 60);

/** Some destinations get many messages, most a few, some exactly one. */
function countFor(i: number): number {
  if (i % 20 === 0) return 30;
  if (i % 3 === 0) return 1;
  return 0; // filled below
}

describe('4 deliverer processes share the work', () => {
  const handle = useTestDb('delivery_e2e_concurrency');
  let sink: Sink;
  const procs: ReadyProcess[] = [];

  beforeAll(async () => {
    await ensureSchema(handle.db);
    sink = await startSink({ port: 0, latencyMs: { min: 0, max: 4 } });
    await routeAllTo(handle.db, sink.port);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sink?.close();
  });

  it(
    'delivers every message, never two at once to a destination, in arrival order',
    async () => {
      const counts = Array.from({ length: DESTINATIONS }, (_, i) => countFor(i));
      const fixed = counts.reduce((a, b) => a + b, 0);
      const rest = counts.filter((c) => c === 0).length;
      const each = Math.max(1, Math.floor((TARGET - fixed) / Math.max(1, rest)));
      const start = new Date();
      const docs = counts.flatMap((c, i) =>
        makeSeries(`49170${String(i).padStart(5, '0')}`, c === 0 ? each : c, new Date(start.getTime() + (i % 7))),
      );
      // Interleave destinations the way real traffic arrives.
      docs.sort((a, b) => a.arrivedAt.getTime() - b.arrivedAt.getTime() || a.destKey.localeCompare(b.destKey));
      for (let i = 0; i < docs.length; i += 1000)
        await handle.db.collection<SmsDocument>(Collections.sms).insertMany(docs.slice(i, i + 1000));
      const total = docs.length;

      const began = Date.now();
      procs.push(
        ...(await Promise.all([1, 2, 3, 4].map(() => startDeliverer(handle.uri, handle.dbName, ['--lanes', '4', '--monitor-commands'])))),
      );
      await until(
        async () => (await handle.db.collection(Collections.sms).countDocuments({ state: 'submitted' })) === total,
        WAIT_MS,
        `${total} submitted`,
      );
      const seconds = (Date.now() - began) / 1000;
      await Promise.all(procs.map((p) => p.stop('SIGTERM')));

      const unique = new Set(sink.received.map((m) => m.text));
      const duplicates = sink.received.length - unique.size;
      const stats = procs.map(statsOf);
      console.log(
        `[concurrency] ${total} messages to ${DESTINATIONS} destinations by 4 processes in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s); duplicates ${duplicates}; max in flight per destination ${sink.maxConcurrentPerDestination}; per-process submitted ${stats.map((s) => s?.submitted).join('/')}; claims ${stats.reduce((n, s) => n + Number(s?.claims ?? 0), 0)}, busy ${stats.reduce((n, s) => n + Number(s?.busyDestinations ?? 0), 0)}, MongoDB commands ${stats.reduce((n, s) => n + Number(s?.mongoCommands ?? 0), 0)}`,
      );
      expect(unique.size).toBe(total);
      expect(sink.overlappingDestinations.size).toBe(0);
      expect(sink.maxConcurrentPerDestination).toBe(1);
      // Every process took part.
      expect(stats.every((s) => Number(s?.submitted ?? 0) > 0)).toBe(true);
      // The sink only says ok, so a retry can come only from the start (a lane that claimed before
      // its process's connector was bound backs off): order holds across it all the same.
      const retried = await handle.db.collection<SmsDocument>(Collections.sms).countDocuments({ attempts: { $gt: 1 } });
      if (retried > 0) console.log(`[concurrency] ${retried} message(s) retried`);
      expect(retried).toBeLessThan(total / 100);
      const byDest = new Map<string, number[]>();
      for (const m of sink.received) {
        const [dest, seq] = (m.text ?? '').split('#');
        byDest.set(dest, [...(byDest.get(dest) ?? []), Number(seq)]);
      }
      for (const [dest, seqs] of byDest) expect(seqs, dest).toEqual([...seqs].sort((a, b) => a - b));
    },
    WAIT_MS + 30_000,
  );
});
