import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../../src/observability/index.ts';
import { createMetrics } from '../../../src/metrics/index.ts';
import { freePort } from '../../support/free-port.ts';

// The README's metric table is the contract with dashboards and alerts: like fastify's error
// table test, this fails when a metric is added, renamed, retyped or relabelled on one side only.

const repoRoot = path.resolve(import.meta.dirname, '../../..');
// A process's metrics, as src/app makes them.
const processMetrics = createMetrics();
const { registry } = processMetrics;

interface Documented {
  name: string;
  type: string;
  labels: string[];
}

function readmeMetrics(): { metrics: Documented[]; families: string[] } {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Metrics\n'), readme.indexOf('\n## ', readme.indexOf('\n## Metrics\n') + 1));
  const metrics: Documented[] = [];
  const families: string[] = [];
  for (const line of section.split('\n')) {
    const row = /^\| `([a-z_:*]+)` \|\s*([a-z]*)\s*\|\s*([a-z_, ]*?)\s*\| .+ \|$/.exec(line);
    if (!row) continue;
    const [, name, type, labels] = row;
    if (name.endsWith('*')) families.push(name.slice(0, -1));
    else
      metrics.push({
        name,
        type,
        labels: labels
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      });
  }
  return { metrics, families };
}

/** What /metrics serves: name -> type, from the `# TYPE` lines. */
async function served(): Promise<Map<string, string>> {
  const server = await startMetricsServer({ port: await freePort(), host: '127.0.0.1', registry });
  try {
    const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    return new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
  } finally {
    await server.close();
  }
}

function labelNamesOf(name: string): string[] {
  // prom-client keeps the declared label names on the metric object (not in its typings).
  const metric = registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
  return [...(metric?.labelNames ?? [])];
}

describe('README metric list', () => {
  it('names, types and labels exactly what /metrics serves (as the queue-sampling process)', async () => {
    processMetrics.collectProcessMetrics();
    processMetrics.publishQueueMetrics(true);
    const { metrics, families } = readmeMetrics();
    expect(metrics.length).toBeGreaterThan(20);
    expect(families.sort()).toEqual(['smsc_nodejs_', 'smsc_process_']);
    const names = metrics.map((m) => m.name);
    expect(new Set(names).size, 'a metric listed twice').toBe(names.length);
    const live = await served();

    for (const doc of metrics) {
      expect(live.get(doc.name), `README lists ${doc.name}, /metrics has no such metric`).toBe(doc.type);
      expect(labelNamesOf(doc.name), `labels of ${doc.name}`).toEqual(doc.labels);
    }
    const undocumented = [...live.keys()].filter((name) => !names.includes(name) && !families.some((f) => name.startsWith(f)));
    expect(undocumented, 'metrics served but missing from the README table').toEqual([]);
    for (const family of families)
      expect(
        [...live.keys()].some((name) => name.startsWith(family)),
        family,
      ).toBe(true);
    // Every name carries the project prefix once (no smsc_process_process_…); the hlr_* names are
    // the HLR gateway's, kept as issue 16 names them (dashboards built for it reuse them).
    for (const name of live.keys()) expect(name).toMatch(/^(smsc_(?!process_process_)|hlr_)/);
  });

  it('a process that does not sample serves no queue gauge at all', async () => {
    processMetrics.publishQueueMetrics(false);
    const live = await served();
    expect([...live.keys()].filter((n) => n.startsWith('smsc_queue_'))).toEqual([]);
    expect(live.has('smsc_submits_total')).toBe(true);
  });
});
