import type { Metrics } from '../metrics/metrics.ts';

/** The hlr_* metrics (names as the HLR gateway this feature comes from published them): the HLR service records only these. */
export type HlrMetrics = Pick<Metrics, 'hlrRequestsTotal' | 'hlrCacheHitsTotal' | 'hlrLatencySeconds'>;
