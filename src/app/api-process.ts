import { readFileSync } from 'node:fs';
import { AccountStore } from '../accounts/account-store.ts';
import { CallbackService } from '../callbacks/callback-service.ts';
import { systemClock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { ConfigError } from '../domain/errors.ts';
import { createLogger } from '../logging/logger.ts';
import { startProcessObservability } from '../observability/process-observability.ts';
import { ensureSchema } from '../store/collections.ts';
import { ClockGuard } from '../store/server-clock.ts';
import { createIntakePolicy } from '../policy/create-intake-policy.ts';
import { IntakeRouting } from '../routing/intake-routing.ts';
import { Router } from '../routing/router.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { ApiServer } from '../api/api-server.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { answerSupervisorProbes } from './supervised-child.ts';
import { connectIntakeRedis, createIntakeWriter, startAccountRateLimiter } from './intake-parts.ts';

export interface ApiProcessOptions {
  /** How long SIGTERM may take (default 10 s). */
  shutdownGraceMs?: number;
  /** Longest validity / schedule accepted, in hours (default 7 days, as the inserter). */
  maxValidityHours?: number;
  print?: (line: string) => void;
}

/**
 * `smsc api` as a process: owns the MongoClient, the Redis connection and the group commit writer,
 * prints `api listening on URL` once ready, and on SIGTERM/SIGINT stops taking requests, lets those
 * in flight be stored and answered, then flushes and closes. With `api.httpPort` 0 it says so and exits.
 */
export async function runApiProcess(config: SmscConfig, options: ApiProcessOptions = {}): Promise<void> {
  const log = createLogger('api-process');
  // This process's one set of metrics: every component that records gets it.
  const metrics = createMetrics();
  answerSupervisorProbes(metrics.registry);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (config.api.httpPort === 0) {
    print('api disabled (--http-port 0)');
    return;
  }
  // Read the certificate before connecting anything: a wrong path is a start-up error.
  const tls =
    config.api.tlsCert && config.api.tlsKey
      ? { cert: readPem(config.api.tlsCert, 'API_TLS_CERT'), key: readPem(config.api.tlsKey, 'API_TLS_KEY') }
      : undefined;
  if (!config.api.adminToken) log.warn('API_ADMIN_TOKEN is not set: management endpoints and the control panel refuse every request');

  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-api' });
  const db = client.db(config.mongo.dbName);
  await ensureSchema(db);
  const redis = connectIntakeRedis(config, log);
  const rateLimiter = await startAccountRateLimiter(redis, log);
  const writer = createIntakeWriter(db, config, metrics);
  const graceMs = options.shutdownGraceMs ?? 10_000;
  // Drop and auto-reply routes act on HTTP submits as on SMPP ones (routes may name intake http).
  const routing = new IntakeRouting(new Router(db, createLogger('router')), systemClock, createLogger('routing'), metrics);
  await routing.start();
  // Contact lists and HLR lookups judge HTTP submits as they judge SMPP ones.
  const intake = await createIntakePolicy(config, { db, redis, logger: createLogger('intake-policy'), metrics });
  const server = new ApiServer(
    {
      db,
      accounts: new AccountStore(db),
      writer,
      rateLimiter,
      logger: createLogger('api'),
      metrics,
      routing,
      intakePolicy: intake.policy,
    },
    {
      host: config.api.host,
      port: config.api.httpPort,
      adminToken: config.api.adminToken,
      tls,
      bodyLimitBytes: config.api.bodyLimitBytes,
      maxBatch: config.api.maxBatch,
      idempotencyTtlMs: config.api.idempotencyHours * 3600_000,
      policy: {
        defaultValidityMs: config.inserter.defaultValidityHours * 3600_000,
        ...(options.maxValidityHours
          ? { maxValidityMs: options.maxValidityHours * 3600_000, maxScheduleMs: options.maxValidityHours * 3600_000 }
          : {}),
      },
    },
  );
  // HTTP callbacks (receipts and MO POSTed to accounts' URLs) go out from API processes, through the
  // one delivery round; leases are judged on MongoDB's clock, as in the deliverers.
  const clockGuard = new ClockGuard(db, systemClock, createLogger('clock'), { maxOffsetMs: config.deliverer.maxClockOffsetMs });
  await clockGuard.start();
  const callbacks = new CallbackService(
    { db, clock: systemClock, logger: createLogger('callbacks'), metrics, clockGuard },
    { delivery: { leaseMs: config.deliverer.leaseMs, leaseGraceMs: config.deliverer.leaseGraceMs } },
  );
  const { url, port } = await server.start();
  await callbacks.start();
  const observability = await startProcessObservability({
    db,
    kind: 'api',
    config,
    metrics,
    logger: createLogger('observability'),
    info: () => ({
      httpPort: port,
      tls: tls !== undefined,
      callbacksDelivered: callbacks.stats.submitted,
      clock: { offsetMs: clockGuard.last?.offsetMs ?? null, ok: clockGuard.ok },
    }),
  });
  print(`api listening on ${url}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      setTimeout(() => {
        log.error('shutdown exceeded its grace period; exiting');
        process.exit(1);
      }, graceMs + 2_000).unref();
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  // Stop taking requests and answer those in flight (their stores included), then flush and close.
  await Promise.race([server.close(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  await callbacks.close(Math.min(5_000, graceMs / 2));
  await clockGuard.close();
  intake.close();
  await writer.close();
  await observability.close();
  await rateLimiter.close();
  await redis?.quit().catch(() => redis.disconnect());
  await client.close();
  process.exitCode = process.exitCode ?? 0;
}

function readPem(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `${variable} names ${file}, which cannot be read (${(error as { code?: string }).code ?? (error as Error).message}).`,
    );
  }
}
