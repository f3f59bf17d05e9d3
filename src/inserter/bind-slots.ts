import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';

/**
 * Counts an account's concurrent binds. With Redis the count covers every inserter replica
 * (a sorted set per account of live sessions, each with an expiry its inserter keeps pushing
 * forward, so a crashed inserter's binds disappear by themselves); without Redis, or while it is
 * unreachable, each inserter counts its own binds.
 */
export interface BindSlots {
  /** Takes a slot for `sessionId` if fewer than `max` are held; false otherwise. */
  acquire(systemId: string, sessionId: string, max: number): Promise<boolean>;
  release(systemId: string, sessionId: string): void;
  /** Stops the keep-alive and releases every slot still held. Idempotent. */
  close(): Promise<void>;
}

export interface BindSlotsOptions {
  /** A connected client owned by the caller; absent = per process. */
  redis?: Redis;
  keyPrefix?: string;
  logger: Logger;
  /** A slot not refreshed for this long is gone (default 60 s); refreshed every third of it. */
  ttlMs?: number;
}

const ACQUIRE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

type SlotClient = Redis & {
  smscBindAcquire(key: string, now: number, expiresAt: number, max: number, member: string, ttl: number): Promise<number>;
};

export function createBindSlots(options: BindSlotsOptions): BindSlots {
  const { redis, logger } = options;
  const prefix = options.keyPrefix ?? 'smsc:binds';
  const ttlMs = options.ttlMs ?? 60_000;
  // Unique per process: a restarted inserter on the same host never reuses a member name.
  const processTag = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const local = new Map<string, Set<string>>();
  const held = new Map<string, { systemId: string; inRedis: boolean }>();
  let lastWarnAt = -Infinity;
  if (redis) redis.defineCommand('smscBindAcquire', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });

  const member = (sessionId: string) => `${processTag}:${sessionId}`;
  const keyOf = (systemId: string) => `${prefix}:${systemId}`;
  const warn = (message: string, error?: unknown) => {
    if (Date.now() - lastWarnAt < 30_000) return;
    lastWarnAt = Date.now();
    logger.warn({ err: (error as Error | undefined)?.message }, message);
  };

  const refresh = setInterval(
    () => {
      if (!redis || redis.status !== 'ready') return;
      const expiresAt = Date.now() + ttlMs;
      const pipeline = redis.pipeline();
      for (const [sessionId, slot] of held) {
        if (!slot.inRedis) continue;
        pipeline.zadd(keyOf(slot.systemId), 'XX', expiresAt, member(sessionId));
        pipeline.pexpire(keyOf(slot.systemId), ttlMs);
      }
      pipeline.exec().catch((error: unknown) => warn('could not refresh bind slots in Redis', error));
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  refresh.unref();

  function acquireLocal(systemId: string, sessionId: string, max: number): boolean {
    const sessions = local.get(systemId) ?? new Set<string>();
    if (sessions.size >= max && !sessions.has(sessionId)) return false;
    sessions.add(sessionId);
    local.set(systemId, sessions);
    return true;
  }

  return {
    async acquire(systemId, sessionId, max) {
      if (redis && redis.status === 'ready') {
        try {
          const now = Date.now();
          const ok = await (redis as SlotClient).smscBindAcquire(keyOf(systemId), now, now + ttlMs, max, member(sessionId), ttlMs);
          if (Number(ok) !== 1) return false;
          held.set(sessionId, { systemId, inRedis: true });
          return true;
        } catch (error) {
          warn('Redis unavailable for bind counting; counting binds per process', error);
        }
      } else if (redis) {
        warn('Redis not connected; counting binds per process');
      }
      if (!acquireLocal(systemId, sessionId, max)) return false;
      held.set(sessionId, { systemId, inRedis: false });
      return true;
    },
    release(systemId, sessionId) {
      const slot = held.get(sessionId);
      held.delete(sessionId);
      const sessions = local.get(systemId);
      sessions?.delete(sessionId);
      if (sessions?.size === 0) local.delete(systemId);
      if (slot?.inRedis && redis) {
        redis
          .zrem(keyOf(systemId), member(sessionId))
          .catch((error: unknown) => warn('could not release a bind slot in Redis (it expires by itself)', error));
      }
    },
    async close() {
      clearInterval(refresh);
      const inRedis = [...held].filter(([, slot]) => slot.inRedis);
      held.clear();
      local.clear();
      if (redis && inRedis.length > 0 && redis.status === 'ready') {
        const pipeline = redis.pipeline();
        for (const [sessionId, slot] of inRedis) pipeline.zrem(keyOf(slot.systemId), member(sessionId));
        await pipeline.exec().catch((error: unknown) => warn('could not release bind slots in Redis (they expire by themselves)', error));
      }
    },
  };
}
