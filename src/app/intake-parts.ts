import type { Db } from 'mongodb';
import { Redis } from 'ioredis';
import { writeConcernOf } from '../config/slices.ts';
import type { SmscConfig } from '../config/types.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { GroupCommitWriter } from '../store/group-commit.ts';
import { createRateLimiter, type RateLimiter } from '../throttle/rate-limiter.ts';

/*
 * What both intake processes (the SMPP inserter and the HTTP API) build the same way, so an
 * account's traffic is admitted and stored alike whichever way it comes in.
 */

/** One Redis connection for TPS (and bind) counting; commands fail fast rather than queue (fallbacks apply). None without `redis.url`. */
export function connectIntakeRedis(config: Pick<SmscConfig, 'redis'>, log: Logger): Redis | undefined {
  if (!config.redis.url) return undefined;
  const redis = new Redis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 });
  redis.on('error', (error: Error) => log.debug({ err: error.message }, 'Redis error'));
  return redis;
}

/** Account TPS, one budget over SMPP and HTTP together (the same key prefix); per process until Redis answers. */
export async function startAccountRateLimiter(redis: Redis | undefined, log: Logger): Promise<RateLimiter> {
  const rateLimiter = createRateLimiter({ redis, keyPrefix: 'smsc:tps:account', logger: createLogger('throttle') });
  await rateLimiter.ready().catch((error: Error) => log.warn({ err: error.message }, 'Redis not ready yet; TPS per process until it is'));
  return rateLimiter;
}

/** The group commit every intake path stores through, with the configured batching and write concern. */
export function createIntakeWriter(db: Db, config: Pick<SmscConfig, 'inserter' | 'mongo'>, metrics: Metrics): GroupCommitWriter {
  return new GroupCommitWriter(db, {
    maxBatchDocs: config.inserter.batchMaxSize,
    maxDelayMs: config.inserter.batchMaxWaitMs,
    writeConcern: writeConcernOf(config.mongo),
    logger: createLogger('group-commit'),
    onBatch: (docs) => metrics.batchSize.observe({ kind: 'insert' }, docs),
  });
}
