import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { startMetricsServer } from '../../../src/observability/index.ts';
import { ProcessHealth } from '../../../src/nodes/index.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const EXPECTED_NAMES = [
  'smsc_submits_total',
  'smsc_deliveries_total',
  'smsc_receipts_total',
  'smsc_destination_lock_failures_total',
  'smsc_destination_lock_steals_total',
  'smsc_leases_lost_total',
  'smsc_batch_size',
  'smsc_store_latency_seconds',
  'smsc_submit_to_deliver_seconds',
  'smsc_binds_total',
  'smsc_bound_sessions',
  'smsc_connector_state',
];

describe('metrics server', () => {
  it('serves every metric of the set on /metrics, with the values components recorded', async () => {
    const metrics = createMetrics();
    const server = await startMetricsServer({ port: await freePort(), host: '127.0.0.1', registry: metrics.registry });
    try {
      metrics.submitsTotal.inc({ account: 'acme', status: 'ok' }, 3);
      metrics.deliveriesTotal.inc({ connector: 'op1', outcome: 'delivered' });
      metrics.batchSize.observe({ kind: 'delivery' }, 4);
      metrics.storeLatencySeconds.observe(0.004);
      metrics.bindsTotal.inc({ side: 'esme', mode: 'transceiver', result: 'ok' });
      metrics.setConnectorState('op1', 'BOUND');
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const body = await res.text();
      for (const name of EXPECTED_NAMES) expect(body, name).toContain(`# TYPE ${name} `);
      expect(body).toContain('smsc_submits_total{account="acme",status="ok"} 3');
      expect(body).toContain('smsc_connector_state{connector="op1",state="BOUND"} 1');
      expect(body).toContain('smsc_connector_state{connector="op1",state="CONNECTING"} 0');
      expect(body).toContain('smsc_batch_size_bucket{le="4",kind="delivery"} 1');
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
    } finally {
      await server.close();
      await server.close();
    }
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });

  it('port 0 means off: no server, close() still works', async () => {
    const server = await startMetricsServer({ port: 0, registry: createMetrics().registry });
    expect(server.port).toBeUndefined();
    await server.close();
  });

  it('a taken port is an error, not a crash', async () => {
    const first = await startMetricsServer({ port: await freePort(), host: '127.0.0.1', registry: createMetrics().registry });
    try {
      await expect(startMetricsServer({ port: first.port!, host: '127.0.0.1', registry: createMetrics().registry })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: `Metrics port ${first.port} on 127.0.0.1 is in use (--metrics-port / METRICS_PORT).`,
      });
    } finally {
      await first.close();
    }
  });

  it('/healthz answers 200 while healthy and 503 with the reasons (JSON) while a check fails', async () => {
    const health = new ProcessHealth();
    const server = await startMetricsServer({
      port: await freePort(),
      host: '127.0.0.1',
      registry: createMetrics().registry,
      health: () => health.report(),
    });
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toContain('application/json');
      expect(await ok.json()).toEqual({ status: 'ok', problems: [] });
      health.set('mongodb', 'MongoDB unreachable: connect ECONNREFUSED 127.0.0.1:1');
      health.set('events-tail', 'events tail down: connection 3 to 127.0.0.1:1 closed');
      const down = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as { status: string; problems: { check: string; reason: string; since: string }[] };
      expect(body.status).toBe('unavailable');
      expect(body.problems.map((p) => p.check).sort()).toEqual(['events-tail', 'mongodb']);
      expect(body.problems.find((p) => p.check === 'mongodb')?.reason).toContain('ECONNREFUSED');
      expect(Number.isNaN(Date.parse(body.problems[0].since))).toBe(false);
      health.clear('mongodb');
      health.clear('events-tail');
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('the registry is the one the metric objects of its set are on', async () => {
    const { registry } = createMetrics();
    expect(await registry.getSingleMetricAsString('smsc_submits_total')).toContain('smsc_submits_total');
  });
});
