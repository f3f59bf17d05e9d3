import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { startProcessObservability } from '../../../src/observability/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { freePort } from '../../support/free-port.ts';
import { useTestDb } from '../../support/mongo.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t = useTestDb('ops_observability');

describe('startProcessObservability', () => {
  it('registers the process in nodes, serves metrics, and removes itself on close', async () => {
    const port = await freePort();
    const config = loadConfig({ env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', SMSC_NODE_NAME: 'deliverer-test' } });
    const obs = await startProcessObservability({
      db: t.db,
      kind: 'deliverer',
      config,
      metrics: createMetrics(),
      info: () => ({ connectors: { op1: 'BOUND' } }),
      sampleQueueDepth: true,
    });
    try {
      expect(obs.nodeName).toBe('deliverer-test');
      expect(obs.metricsPort).toBe(port);
      const node = await t.db
        .collection<{ _id: string; kind: string; info: Record<string, unknown> }>(Collections.nodes)
        .findOne({ _id: 'deliverer-test' });
      expect(node?.kind).toBe('deliverer');
      // The only candidate: it holds the queue-sampler lease, and says so in its heartbeat.
      expect(node?.info).toEqual({ metricsPort: port, queueSampler: true, connectors: { op1: 'BOUND' } });
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(body).toContain('smsc_queue_depth{state="queued"} 0');
      expect(body).toContain('smsc_process_');
    } finally {
      await obs.close();
      await obs.close();
    }
    expect(await t.db.collection(Collections.nodes).countDocuments({})).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('METRICS_QUEUE_SAMPLE_MS=0 keeps a process out of queue sampling', async () => {
    const port = await freePort();
    const config = loadConfig({ env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', METRICS_QUEUE_SAMPLE_MS: '0' } });
    const obs = await startProcessObservability({ db: t.db, kind: 'inserter', config, metrics: createMetrics() });
    try {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(body).not.toContain('smsc_queue_');
      expect(await t.db.collection(Collections.leases).countDocuments({})).toBe(0);
    } finally {
      await obs.close();
    }
  });
});
