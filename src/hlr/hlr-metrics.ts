// The hlr_* metrics live with the others (src/metrics/metrics.ts); re-exported for the HLR code.
export { hlrCacheHitsTotal, hlrLatencySeconds, hlrRequestsTotal } from '../metrics/metrics.ts';
