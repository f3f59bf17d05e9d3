import { Redis } from 'ioredis';
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';

/**
 * Per-key rate limiting in fixed one-second windows. With Redis the count for a window is shared
 * by every process using the same key prefix; without it (or while Redis is unreachable) each
 * process enforces the limit on its own and says so in a warning.
 */
export interface RateLimiter {
  /** Takes one unit of `key`'s budget for the current second; false when `tps` is used up. tps <= 0 means unlimited. */
  tryAcquire(key: string, tps: number): Promise<boolean>;
  /** 'redis' when a Redis is configured (even if a call had to fall back), else 'local'. */
  readonly mode: 'redis' | 'local';
  /** Resolves once Redis is connected (at once without Redis); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Closes the Redis connection if this limiter opened it. Idempotent. */
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  /** A Redis URL, or a connected client (then the caller closes it). Absent or '' = per-process. */
  redis?: string | Redis;
  /** Namespace of the Redis keys, e.g. 'smsc:tps:account' or 'smsc:tps:connector'. */
  keyPrefix: string;
  logger: Logger;
  clock?: Clock;
  /**
   * How many units one Redis round trip leases into this process (default tps/20, 1..200):
   * large enough that 10,000/s costs ~50 Redis calls/s, small enough that little is left unused.
   */
  leaseSize?: (tps: number) => number;
}

// Atomically grants up to ARGV[2] units of a window whose limit is ARGV[1].
const LEASE_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) - used)
if grant <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], 3000)
return grant`;

interface WindowState {
  second: number;
  granted: number;
  used: number;
  /** Redis said the window is spent: refuse until the next second. */
  spent: boolean;
  pending?: Promise<void>;
}

const MAX_KEYS = 100_000;
const WARN_INTERVAL_MS = 30_000;

export function defaultLeaseSize(tps: number): number {
  return Math.max(1, Math.min(200, Math.floor(tps / 20)));
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const leaseSize = options.leaseSize ?? defaultLeaseSize;
  const local = new Map<string, { second: number; used: number }>();
  const leased = new Map<string, WindowState>();
  let redis: Redis | undefined;
  let ownsRedis = false;
  let lastWarnAt = -Infinity;

  if (typeof options.redis === 'string' && options.redis !== '') {
    redis = new Redis(options.redis, {
      // A throttling decision must never wait for a reconnect: fail fast and fall back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      lazyConnect: false,
    });
    redis.on('error', (error: Error) => warn('Redis error; enforcing TPS per process until it is back', error));
    ownsRedis = true;
  } else if (options.redis && typeof options.redis !== 'string') {
    redis = options.redis;
  }
  if (redis) redis.defineCommand('smscTpsLease', { numberOfKeys: 1, lua: LEASE_SCRIPT });
  else logger.warn({ keyPrefix: options.keyPrefix }, 'no Redis configured: TPS limits are enforced per process, not shared by replicas');

  function warn(message: string, error?: Error): void {
    const now = clock.monotonic();
    if (now - lastWarnAt < WARN_INTERVAL_MS) return;
    lastWarnAt = now;
    logger.warn({ keyPrefix: options.keyPrefix, err: error?.message }, message);
  }

  function acquireLocal(key: string, tps: number, second: number): boolean {
    let state = local.get(key);
    if (!state || state.second !== second) {
      if (!state && local.size >= MAX_KEYS) local.clear();
      state = { second, used: 0 };
      local.set(key, state);
    }
    if (state.used >= tps) return false;
    state.used++;
    return true;
  }

  async function lease(key: string, tps: number, state: WindowState): Promise<void> {
    const client = redis as Redis & { smscTpsLease(key: string, limit: number, want: number): Promise<number> };
    const redisKey = `${options.keyPrefix}:${key}:${state.second}`;
    const granted = Number(await client.smscTpsLease(redisKey, tps, Math.min(leaseSize(tps), tps)));
    if (granted > 0) state.granted += granted;
    else state.spent = true;
  }

  async function tryAcquire(key: string, tps: number): Promise<boolean> {
    if (!(tps > 0)) return true;
    const second = Math.floor(clock.now().getTime() / 1000);
    if (!redis || redis.status !== 'ready') {
      if (redis) warn('Redis not connected; enforcing TPS per process until it is back');
      return acquireLocal(key, tps, second);
    }
    for (;;) {
      let state = leased.get(key);
      if (!state || state.second < second) {
        if (!state && leased.size >= MAX_KEYS) leased.clear();
        state = { second, granted: 0, used: 0, spent: false };
        leased.set(key, state);
      }
      if (state.used < state.granted) {
        state.used++;
        return true;
      }
      if (state.spent) return false;
      if (!state.pending) {
        const current = state;
        current.pending = lease(key, tps, current).finally(() => {
          current.pending = undefined;
        });
      }
      try {
        await state.pending;
      } catch (error) {
        warn('Redis call failed; enforcing TPS per process until it is back', error as Error);
        return acquireLocal(key, tps, second);
      }
      // Loop: the lease may have been taken by others waiting on the same round trip.
      if (leased.get(key) !== state) continue;
    }
  }

  let closed = false;
  return {
    mode: redis ? 'redis' : 'local',
    tryAcquire,
    async ready(timeoutMs = 5000) {
      const client = redis;
      if (!client || client.status === 'ready') return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          reject(new Error(`Redis not ready within ${timeoutMs} ms`));
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        client.once('ready', onReady);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (redis && ownsRedis) {
        await redis.quit().catch(() => redis?.disconnect());
      }
    },
  };
}
