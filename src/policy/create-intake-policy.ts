import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { MemoryHlrCache, RedisHlrCache } from '../hlr/hlr-cache.ts';
import { HlrHttpClient, valueList } from '../hlr/hlr-client.ts';
import { HlrService } from '../hlr/hlr-service.ts';
import type { Logger } from '../logging/logger.ts';
import { ContactListCache } from './contact-list-cache.ts';
import { IntakePolicy } from './intake-policy.ts';
import { OptOutHandler } from './opt-out.ts';
import { ensurePolicySchema } from './policy-schema.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface IntakePolicyHandle {
  policy: IntakePolicy;
  /** For MO arriving on this process's intake (peers' deliver_sm). */
  optOut: OptOutHandler;
  contactLists: ContactListCache;
  close(): void;
}

/**
 * Builds the intake policy a process's intake paths share (SMPP inserter, HTTP API) from the
 * configuration: the contact lists (loaded now, then followed), and the HLR service when
 * `hlr.url` is set (cache in Redis when the process has one, else in memory).
 */
export async function createIntakePolicy(
  config: Pick<SmscConfig, 'policy' | 'hlr' | 'mongo'>,
  deps: { db: Db; redis?: Redis; logger: Logger; metrics: Metrics; clock?: Clock; /** Default `smsc:hlr:`. */ hlrKeyPrefix?: string },
): Promise<IntakePolicyHandle> {
  const clock = deps.clock ?? systemClock;
  await ensurePolicySchema(deps.db);
  const contactLists = new ContactListCache(deps.db, { refreshMs: config.policy.refreshMs, logger: deps.logger });
  await contactLists.start();
  const { hlr } = config;
  let hlrService: HlrService | undefined;
  if (hlr.url) {
    const client = new HlrHttpClient({
      url: hlr.url,
      timeoutMs: hlr.timeoutMs,
      ...(hlr.username !== undefined ? { username: hlr.username, password: hlr.password } : {}),
      ...(hlr.token !== undefined ? { token: hlr.token } : {}),
      mapping: {
        statusField: hlr.statusField,
        reachableValues: valueList(hlr.reachableValues),
        invalidValues: valueList(hlr.invalidValues),
        networkField: hlr.networkField,
        portedField: hlr.portedField,
      },
    });
    if (!deps.redis && hlr.cacheTtlS > 0) deps.logger.warn('no REDIS_URL: HLR answers are cached per process');
    const cache = deps.redis
      ? new RedisHlrCache(deps.redis, { logger: deps.logger, ...(deps.hlrKeyPrefix ? { keyPrefix: deps.hlrKeyPrefix } : {}) })
      : new MemoryHlrCache();
    hlrService = new HlrService(
      client,
      cache,
      { cacheTtlS: hlr.cacheTtlS, maxInFlight: hlr.maxInFlight, metrics: deps.metrics },
      deps.logger,
    );
  } else if (hlr.policy !== 'off' || hlr.routing) {
    deps.logger.warn({ policy: hlr.policy }, 'an HLR policy is set but hlr.url is not: no lookups are made');
  }
  const policy = new IntakePolicy({
    contactLists,
    ...(hlrService ? { hlr: hlrService } : {}),
    hlrPolicy: { mode: hlr.policy, onTimeout: hlr.onTimeout, routing: hlr.routing },
    clock,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  const writeConcern = { w: config.mongo.writeConcern, j: config.mongo.journal };
  const optOut = new OptOutHandler({ db: deps.db, clock, logger: deps.logger, metrics: deps.metrics, writeConcern });
  return { policy, optOut, contactLists, close: () => contactLists.close() };
}
