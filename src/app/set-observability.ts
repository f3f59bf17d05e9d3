import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { HealthStatus, type HealthProblem, type HealthReport } from '../nodes/health.ts';
import type { Supervisor } from './supervisor.ts';

/** Children that are smsc commands answer probes; the stand-in does not. */
const PROBED_KINDS: ReadonlySet<string> = new Set(['inserter', 'deliverer', 'cleanup', 'sink']);
const PROBE_TIMEOUT_MS = 1_500;

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * `/metrics` of `smsc up --metrics-port N`: `up`'s own metrics (`registry`: child restarts, which children
 * are up) and every running child's, each series labelled `process="deliverer-1"` and so on.
 */
export async function setRegistry(supervisor: Supervisor, registry: Registry): Promise<Registry> {
  const parts: MetricsJson[] = [labelled(await registry.getMetricsAsJSON(), 'up')];
  const replies = await Promise.all(
    supervisor
      .list()
      .filter((child) => PROBED_KINDS.has(child.kind) && child.state === 'running')
      .map(async (child) => ({ name: child.name, reply: await supervisor.get(child.name)?.probe(PROBE_TIMEOUT_MS) })),
  );
  for (const { name, reply } of replies) if (reply) parts.push(labelled(reply.metrics, name));
  return AggregatorRegistry.aggregate(parts);
}

/**
 * `/healthz` of the set: unavailable while a child is not running (starting, restarting, given
 * up) or a running one reports a problem (MongoDB unreachable, its events tail down), or does
 * not answer at all; each problem names the child.
 */
export async function setHealth(supervisor: Supervisor): Promise<HealthReport> {
  const problems: HealthProblem[] = [...supervisor.health.report().problems];
  const now = new Date();
  await Promise.all(
    supervisor
      .list()
      .filter((child) => PROBED_KINDS.has(child.kind) && child.state === 'running')
      .map(async (child) => {
        const reply = await supervisor.get(child.name)?.probe(PROBE_TIMEOUT_MS);
        if (!reply) {
          problems.push({ check: child.name, reason: 'does not answer', since: now });
          return;
        }
        for (const p of reply.health.problems)
          problems.push({ check: `${child.name}: ${p.check}`, reason: p.reason, since: new Date(p.since) });
      }),
  );
  return { status: problems.length === 0 ? HealthStatus.ok : HealthStatus.unavailable, problems };
}

/**
 * Every value gets the child's name as `process`. The series of different children then differ
 * in their labels, so the aggregation keeps them apart instead of adding them up ('sum' with
 * distinct labels); other aggregators (a default metric's 'omit') would drop them.
 */
function labelled(metrics: MetricsJson, process: string): MetricsJson {
  return metrics.map((metric) => ({
    ...metric,
    aggregator: 'sum',
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, process } })),
  }));
}
