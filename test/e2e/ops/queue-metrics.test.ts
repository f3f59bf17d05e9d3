import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { compiledEntry } from '../../../src/util/index.ts';
import { freePort } from '../../support/free-port.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { until } from '../../support/until.ts';
import { spawnInserter, type InserterChild } from '../inserter/spawn-inserter.ts';
import { makeSms } from '../../integration/ops/sms-fixtures.ts';

// Real processes: an inserter and a cleanup daemon, both candidates for the queue sampler.
// Exactly one of them serves the smsc_queue_* gauges; when it stops, the other takes over.

const t = useTestDb('queue_metrics_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const SAMPLE_MS = 1000;
let inserter: InserterChild;
let cleanup: ReadyProcess;
const ports: Record<'inserter' | 'cleanup', number> = { inserter: 0, cleanup: 0 };

beforeAll(async () => {
  await ensureSchema(t.db);
  const now = new Date();
  await t.db
    .collection(Collections.sms)
    .insertMany([
      makeSms(now, { destKey: '+4915112345678', nextAttemptAt: new Date(now.getTime() - 60_000) }),
      makeSms(now, { destKey: '+4915112345679', nextAttemptAt: new Date(now.getTime() + 3600_000) }),
      makeSms(now, { state: 'delivered' }),
    ]);
  ports.inserter = await freePort();
  ports.cleanup = await freePort();
  const env = { METRICS_HOST: '127.0.0.1', METRICS_QUEUE_SAMPLE_MS: String(SAMPLE_MS) };
  inserter = await spawnInserter(t.uri, t.dbName, ['--metrics-port', String(ports.inserter)], env);
  cleanup = await spawnUntilReady(
    process.execPath,
    [compiledEntry('workers/cleanup'), '--metrics-port', String(ports.cleanup)],
    /cleanup ready/,
    { cwd: repoRoot, timeoutMs: 30_000, env: { ...process.env, MONGODB_URI: t.uri, MONGODB_DB: t.dbName, LOG_LEVEL: 'warn', ...env } },
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([inserter?.stop(), cleanup?.stop()]);
});

async function metricsOf(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

describe('queue metrics across processes', () => {
  it('one process serves the queue gauges, the other none; the other takes over when it stops', async () => {
    const [a, b] = await Promise.all([metricsOf(ports.inserter), metricsOf(ports.cleanup)]);
    const serving = [a, b].filter((text) => text.includes('smsc_queue_depth{'));
    expect(serving).toHaveLength(1);
    expect(serving[0]).toMatch(/^smsc_queue_depth\{state="queued"\} 2$/m);
    expect(serving[0]).toMatch(/^smsc_queue_due_messages 1$/m);
    expect(serving[0]).toMatch(/^smsc_queue_target_messages\{kind="connector",target="none"\} 2$/m);
    const holder = a === serving[0] ? 'inserter' : 'cleanup';
    const other = holder === 'inserter' ? 'cleanup' : 'inserter';
    expect(await metricsOf(ports[other])).not.toContain('smsc_queue_');
    // Names come out clean in every process.
    expect(a + b).not.toContain('smsc_process_process_');
    expect(a).toMatch(/^smsc_process_cpu_seconds_total /m);

    // The sampler stops (its lease is released on the way out): the other process samples within a period or so.
    await (holder === 'inserter' ? inserter : cleanup).stop();
    await until(
      async () => (await metricsOf(ports[other])).includes('smsc_queue_depth{state="queued"} 2'),
      10 * SAMPLE_MS,
      'the other process sampling',
    );
    const lease = await t.db.collection<{ _id: string; owner: string }>(Collections.leases).findOne({ _id: 'queue-sampler' });
    expect(lease?.owner).toMatch(new RegExp(`^${other}-`));
  }, 40_000);
});
