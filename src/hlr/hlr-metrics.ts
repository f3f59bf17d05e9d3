import { Counter, Histogram } from 'prom-client';
import { registry } from '../metrics/metrics.ts';

// Names as the HLR gateway this feature comes from published them (dashboards reuse them).

/** Requests to the HLR provider by result: reachable | unreachable | invalid | timeout | error. Cache hits are not requests. */
export const hlrRequestsTotal = new Counter({
  name: 'hlr_requests_total',
  help: 'HLR provider requests by result',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const hlrCacheHitsTotal = new Counter({
  name: 'hlr_cache_hits_total',
  help: 'HLR lookups answered from the cache',
  registers: [registry],
});

export const hlrLatencySeconds = new Histogram({
  name: 'hlr_latency_seconds',
  help: 'HLR provider response time (timeouts observed at the timeout)',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  registers: [registry],
});
