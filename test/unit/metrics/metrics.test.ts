import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/index.ts';

// Each process makes its one set (src/app); tests make one per component under test. Two sets
// in one process must be independent: a count recorded on one never shows on the other.

describe('metric sets', () => {
  it('two sets in one process do not share counts, series or registries', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.submitsTotal.inc({ account: 'acme', status: 'ok' }, 3);
    a.setConnectorState('op1', 'BOUND');
    a.publishQueueMetrics(true);
    a.queueDueMessages.set(7);
    b.submitsTotal.inc({ account: 'acme', status: 'ok' });

    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(textA).toContain('smsc_submits_total{account="acme",status="ok"} 3');
    expect(textB).toContain('smsc_submits_total{account="acme",status="ok"} 1');
    expect(textA).toContain('smsc_connector_state{connector="op1",state="BOUND"} 1');
    expect(textB).not.toContain('connector="op1"');
    expect(textA).toMatch(/^smsc_queue_due_messages 7$/m);
    expect(textB).not.toContain('smsc_queue_');
  });

  it('both serve the same metric names, help and labels', async () => {
    const names = async (metrics: ReturnType<typeof createMetrics>) =>
      (await metrics.registry.getMetricsAsJSON()).map((m) => `${m.name} ${m.type} ${m.help}`).sort();
    expect(await names(createMetrics())).toEqual(await names(createMetrics()));
  });
});
