import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { HlrStatus, type HlrResult } from './hlr-result.ts';

/** Lookup results by number, each kept for the configured TTL. A cache that fails is a miss. */
export interface HlrCache {
  get(msisdn: string): Promise<HlrResult | undefined>;
  set(msisdn: string, result: HlrResult, ttlS: number): Promise<void>;
}

const STATUSES = new Set<string>(Object.values(HlrStatus));

function parse(text: string | null): HlrResult | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as HlrResult;
    return STATUSES.has(value.status) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Shared by every process on one Redis: `<prefix><msisdn>` → JSON, with `EX ttl`. */
export class RedisHlrCache implements HlrCache {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;

  constructor(redis: Redis, options: { keyPrefix?: string; logger?: Logger } = {}) {
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? 'smsc:hlr:';
    this.#log = options.logger ?? silentLogger;
  }

  async get(msisdn: string): Promise<HlrResult | undefined> {
    try {
      return parse(await this.#redis.get(this.#prefix + msisdn));
    } catch (error) {
      this.#log.debug({ err: (error as Error).message }, 'HLR cache read failed; looking the number up');
      return undefined;
    }
  }

  async set(msisdn: string, result: HlrResult, ttlS: number): Promise<void> {
    if (ttlS <= 0) return;
    try {
      await this.#redis.set(this.#prefix + msisdn, JSON.stringify(result), 'EX', ttlS);
    } catch (error) {
      this.#log.debug({ err: (error as Error).message }, 'HLR cache write failed');
    }
  }
}

/** Per process, for setups without Redis: bounded, oldest entries evicted first. */
export class MemoryHlrCache implements HlrCache {
  readonly #entries = new Map<string, { result: HlrResult; until: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  async get(msisdn: string): Promise<HlrResult | undefined> {
    const entry = this.#entries.get(msisdn);
    if (!entry) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(msisdn);
      return undefined;
    }
    return entry.result;
  }

  async set(msisdn: string, result: HlrResult, ttlS: number): Promise<void> {
    if (ttlS <= 0) return;
    this.#entries.delete(msisdn);
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(msisdn, { result, until: this.#now() + ttlS * 1000 });
  }
}
