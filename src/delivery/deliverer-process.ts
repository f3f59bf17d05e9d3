import { systemClock } from '../clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { ConnectorPool } from '../connectors/connector-pool.ts';
import { ConnectorSender } from '../connectors/connector-sender.ts';
import { createLogger } from '../logging/logger.ts';
import { collectProcessMetrics } from '../metrics/metrics.ts';
import { startMetricsServer } from '../metrics/metrics-server.ts';
import { HeartbeatWriter } from '../nodes/heartbeat.ts';
import { Router } from '../routing/router.ts';
import { createChargingGate } from '../routing/charging-gate.ts';
import { ensureSchema } from '../store/collections.ts';
import { countCommands } from '../store/command-counter.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { createRateLimiter } from '../throttle/rate-limiter.ts';
import { createConnectorIntake } from '../receipts/connector-intake.ts';
import { writeConcernOf } from '../config/slices.ts';
import { ClockGuard } from '../store/server-clock.ts';
import { defaultOwner } from './delivery-worker.ts';
import { resolveDeliveryOptions, type DeliveryOptions } from './delivery-options.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from './delivery-worker.ts';

export interface DelivererProcessOptions {
  /** Overrides of the protocol tunables (tests shorten the lease). */
  delivery?: Partial<DeliveryOptions>;
  worker?: Partial<DeliveryWorkerOptions>;
  /** Reconnect schedule scale for connectors (tests: e.g. 0.01). */
  backoffScale?: number;
  /** How often routes and connectors are re-read. Default 2 s. */
  refreshMs?: number;
  monitorCommands?: boolean;
  print?: (line: string) => void;
  /** How often waiting receipts are looked at again. Default 5 s. */
  orphanSweepMs?: number;
}

/**
 * `smsc deliverer` as a process: owns the MongoClient and Redis connection, runs connectors and
 * the delivery worker, prints `deliverer ready` and, on SIGTERM/SIGINT, shuts down in order.
 */
export async function runDelivererProcess(config: SmscConfig, options: DelivererProcessOptions = {}): Promise<void> {
  const log = createLogger('deliverer');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-deliverer', monitorCommands: options.monitorCommands });
  const commands = options.monitorCommands ? countCommands(client) : undefined;
  const db = client.db(config.mongo.dbName);
  await ensureSchema(db);
  const limiter = createRateLimiter({ redis: config.redis.url, keyPrefix: 'smsc:tps:connector', logger: createLogger('throttle') });
  if (!config.redis.url) log.warn('no REDIS_URL: connector TPS caps are enforced per deliverer process, not shared');
  await limiter.ready().catch((error: Error) => log.warn({ err: error.message }, 'Redis not ready yet; connector TPS per process until it is'));
  // Receipts and MO arriving on the connectors (issue 6): stored before deliver_sm_resp.
  const intake = await createConnectorIntake({ db, clock: systemClock, logger: createLogger('receipts'), by: defaultOwner('receipts'), routesRefreshMs: options.refreshMs, writeConcern: writeConcernOf(config.mongo) });
  const pool = new ConnectorPool(db, { clock: systemClock, logger: createLogger('connector'), limiter, backoffScale: options.backoffScale, refreshMs: options.refreshMs, handlersFor: (c) => intake.handlersFor(c) });
  await pool.start();
  const router = new Router(db, createLogger('router'), { refreshMs: options.refreshMs });
  const delivery = resolveDeliveryOptions({
    leaseMs: config.deliverer.leaseMs,
    batchSize: config.deliverer.batchSize,
    backoffBaseMs: config.deliverer.retryBaseMs,
    backoffMaxMs: config.deliverer.retryMaxMs,
    leaseGraceMs: config.deliverer.leaseGraceMs,
    ...options.delivery,
  });
  // Leases and steals are judged on MongoDB's clock; due times still use ours, so a host whose
  // clock is too far off delivers nothing until it is fixed (and says so).
  const clockGuard = new ClockGuard(db, systemClock, createLogger('clock'), { maxOffsetMs: config.deliverer.maxClockOffsetMs });
  await clockGuard.start();
  const worker = new DeliveryWorker({
    db,
    clock: systemClock,
    logger: log,
    sender: new ConnectorSender(pool, router, { charging: createChargingGate(db, config.charging, systemClock, createLogger('charging')) }),
    delivery,
    worker: { lanes: config.deliverer.concurrency, sweepMs: config.deliverer.sweepIntervalMs, ...options.worker },
    clockGuard,
    // Receipts that overtook this batch's outcome write wait with the orphans: apply them now.
    onAccepted: (accepted) => void intake.orphans.matchAccepted(accepted).catch((error: unknown) => log.warn({ err: error }, 'matching waiting receipts failed; the sweep will')),
  });
  // The safety net for waiting receipts (a process that died between storing and matching).
  const orphanSweep = setInterval(() => void intake.orphans.sweep().catch((error: unknown) => log.debug({ err: error }, 'waiting-receipt sweep failed')), options.orphanSweepMs ?? 5000);
  collectProcessMetrics();
  const metrics = await startMetricsServer({ port: config.metrics.port, host: config.metrics.host, logger: log });
  const heartbeat = new HeartbeatWriter({
    db,
    kind: 'deliverer',
    ...(config.node.name ? { name: config.node.name } : {}),
    intervalMs: config.node.heartbeatMs,
    logger: log,
    info: () => ({
      owner: worker.owner,
      connectors: Object.fromEntries(pool.list().map((c) => [c.name, c.state])),
      submitted: worker.stats.submitted,
      clock: { offsetMs: clockGuard.last?.offsetMs ?? null, ok: clockGuard.ok },
    }),
  });
  await heartbeat.start();
  // Give connectors a moment to bind so the first round does not reschedule everything.
  await waitForBinds(pool, 3000);
  worker.start();
  // CPU spent from here on, printed at exit: what one delivered message costs this process.
  const cpuAtStart = process.cpuUsage();
  print(`deliverer ready ${JSON.stringify({ owner: worker.owner, connectors: pool.list().map((c) => `${c.name}:${c.state}`) })}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      setTimeout(() => {
        log.error('shutdown exceeded its grace period; exiting');
        process.exit(1);
      }, 20_000).unref();
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  // Stop claiming and finish in-flight batches (they release their leases), then unbind, then the store.
  await worker.close();
  clearInterval(orphanSweep);
  await clockGuard.close();
  await pool.close();
  await heartbeat.close();
  await metrics.close();
  await limiter.close();
  const { batchSizes, ...stats } = worker.stats;
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  print(`deliverer stats ${JSON.stringify({ ...stats, batches: batchSizes.length, mongoCommands: commands?.total ?? 0, byCommand: commands?.byCommand ?? {}, cpuMs })}`);
  await client.close();
  process.exitCode = process.exitCode ?? 0;
}

async function waitForBinds(pool: ConnectorPool, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const all = pool.list();
    if (all.every((c) => c.bound)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
