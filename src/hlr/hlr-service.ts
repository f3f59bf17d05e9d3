import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { HlrCache } from './hlr-cache.ts';
import { HlrError, HlrErrorCode, type HlrHttpClient } from './hlr-client.ts';
import type { HlrMetrics } from './hlr-metrics.ts';
import type { HlrLookup } from './hlr-result.ts';

export interface HlrServiceOptions {
  cacheTtlS: number;
  /** Provider requests in flight at once; a lookup beyond it is an error at once (default 256). */
  maxInFlight?: number;
  /** Where requests, cache hits and latency are recorded (`hlr_*`). */
  metrics: HlrMetrics;
}

/**
 * Number → HLR answer: the cache first, else one provider request (concurrent lookups of one
 * number share it). Never throws: a failure is an `{outcome: 'timeout' | 'error'}` for the
 * policy to judge. Every lookup is asynchronous I/O, so a slow provider delays only the PDUs
 * waiting for it, never another session.
 */
export class HlrService {
  readonly #client: Pick<HlrHttpClient, 'lookup'>;
  readonly #cache: HlrCache;
  readonly #options: Required<HlrServiceOptions>;
  readonly #metrics: HlrMetrics;
  readonly #log: Logger;
  readonly #pending = new Map<string, Promise<HlrLookup>>();
  #inFlight = 0;

  constructor(client: Pick<HlrHttpClient, 'lookup'>, cache: HlrCache, options: HlrServiceOptions, logger: Logger = silentLogger) {
    this.#client = client;
    this.#cache = cache;
    this.#options = { maxInFlight: 256, ...options };
    this.#metrics = options.metrics;
    this.#log = logger.child({ component: 'hlr' });
  }

  lookup(msisdn: string): Promise<HlrLookup> {
    let pending = this.#pending.get(msisdn);
    if (!pending) {
      pending = this.#lookup(msisdn).finally(() => this.#pending.delete(msisdn));
      this.#pending.set(msisdn, pending);
    }
    return pending;
  }

  async #lookup(msisdn: string): Promise<HlrLookup> {
    if (this.#options.cacheTtlS > 0) {
      const cached = await this.#cache.get(msisdn);
      if (cached) {
        this.#metrics.hlrCacheHitsTotal.inc();
        return { outcome: 'ok', result: cached, cached: true };
      }
    }
    if (this.#inFlight >= this.#options.maxInFlight) {
      this.#metrics.hlrRequestsTotal.inc({ result: 'error' });
      return { outcome: 'error', error: `more than ${this.#options.maxInFlight} HLR requests in flight` };
    }
    this.#inFlight++;
    const started = performance.now();
    try {
      const result = await this.#client.lookup(msisdn);
      this.#metrics.hlrLatencySeconds.observe((performance.now() - started) / 1000);
      this.#metrics.hlrRequestsTotal.inc({ result: result.status });
      await this.#cache.set(msisdn, result, this.#options.cacheTtlS);
      return { outcome: 'ok', result, cached: false };
    } catch (error) {
      this.#metrics.hlrLatencySeconds.observe((performance.now() - started) / 1000);
      const timeout = error instanceof HlrError && error.code === HlrErrorCode.TIMEOUT;
      this.#metrics.hlrRequestsTotal.inc({ result: timeout ? 'timeout' : 'error' });
      this.#log.warn({ err: (error as Error).message }, timeout ? 'HLR lookup timed out' : 'HLR lookup failed');
      return { outcome: timeout ? 'timeout' : 'error', error: (error as Error).message };
    } finally {
      this.#inFlight--;
    }
  }
}
