import { systemClock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { ConnectorPool } from '../connectors/connector-pool.ts';
import { ConnectorSender } from '../connectors/connector-sender.ts';
import { ConfigError } from '../domain/errors.ts';
import { createLogger } from '../logging/logger.ts';
import { startProcessObservability } from '../observability/process-observability.ts';
import { Router } from '../routing/router.ts';
import { createChargingGate } from '../routing/charging-gate.ts';
import { createRateLimiter } from '../throttle/rate-limiter.ts';
import { createConnectorIntake } from '../connectors/connector-intake.ts';
import { writeConcernOf } from '../config/slices.ts';
import { ClockGuard } from '../store/server-clock.ts';
import { defaultOwner } from '../delivery/delivery-worker.ts';
import { resolveDeliveryOptions, type DeliveryOptions } from '../delivery/delivery-options.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../delivery/delivery-worker.ts';
import { beginProcess, endProcess, openProcessStore, startOrUnwind, type ProcessRun } from './process-run.ts';

export interface DelivererProcessOptions {
  /** Overrides of the protocol tunables (tests shorten the lease). */
  delivery?: Partial<DeliveryOptions>;
  worker?: Partial<DeliveryWorkerOptions>;
  /** Reconnect schedule scale for connectors (tests: e.g. 0.01). */
  backoffScale?: number;
  monitorCommands?: boolean;
  print?: (line: string) => void;
  /** How often waiting receipts are looked at again. Default 5 s. */
  orphanSweepMs?: number;
}

/**
 * `smsc deliverer` as a process: owns the MongoClient and Redis connection, runs connectors and
 * the delivery worker, prints `deliverer ready` and, on SIGTERM/SIGINT, shuts down in order within
 * `node.shutdownGraceMs`. A start-up that fails closes what it opened and throws (one line, exit 1).
 */
export async function runDelivererProcess(config: SmscConfig, options: DelivererProcessOptions = {}): Promise<void> {
  // Checked before anything is opened: a bad value ends the process before it binds a connector.
  const delivery = resolveDeliveryOptions({
    leaseMs: config.deliverer.leaseMs,
    batchSize: config.deliverer.batchSize,
    backoffBaseMs: config.deliverer.retryBaseMs,
    backoffMaxMs: config.deliverer.retryMaxMs,
    maxAttempts: config.deliverer.maxAttempts,
    leaseGraceMs: config.deliverer.leaseGraceMs,
    unboundRetryMs: config.deliverer.unboundRetryMs,
    ...options.delivery,
  });
  if (options.backoffScale !== undefined && !(options.backoffScale > 0))
    throw new ConfigError(`--backoff-scale must be a positive number, got ${options.backoffScale}.`);
  const run = beginProcess('deliverer', config, options.print);
  const { shutdown, graceMs } = run;
  const started = await startOrUnwind(run, () => startDeliverer(config, options, delivery, run));
  const { store, worker, pool, observability, limiter, clockGuard, orphanSweep } = started;
  // CPU spent from here on, printed at exit: what one delivered message costs this process.
  const cpuAtStart = process.cpuUsage();
  run.print(`deliverer ready ${JSON.stringify({ owner: worker.owner, connectors: pool.list().map((c) => `${c.name}:${c.state}`) })}`);

  await run.stopping;
  // Stop claiming and finish in-flight batches (they release their leases), then unbind, then the
  // store. With the database or the downstream gone a step gives up when its share of the grace
  // is spent: unfinished batches are left to their leases, which another deliverer takes over.
  await shutdown.run([
    // In-flight batches get half the grace (the worker's own bound), the sweep and the tail a little more.
    { name: 'delivery worker', run: () => worker.close(), capMs: Math.floor(graceMs * 0.6) },
    {
      name: 'clock guard',
      run: () => {
        clearInterval(orphanSweep);
        return clockGuard.close();
      },
      capMs: 500,
    },
    { name: 'connectors', run: () => pool.close(), capMs: Math.max(1_000, Math.floor(graceMs * 0.15)) },
    // Removing the heartbeat is a courtesy (it expires anyway): not worth waiting for a database that is gone.
    { name: 'heartbeat and metrics', run: () => observability.close(), capMs: 2_000 },
    { name: 'rate limiter', run: () => limiter.close(), capMs: 1_000 },
  ]);
  const { batchSizes, ...stats } = worker.stats;
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const { commands } = store;
  run.print(
    `deliverer stats ${JSON.stringify({ ...stats, batches: batchSizes.length, mongoCommands: commands?.total ?? 0, byCommand: commands?.byCommand ?? {}, cpuMs })}`,
  );
  await endProcess(run, store);
}

async function startDeliverer(config: SmscConfig, options: DelivererProcessOptions, delivery: Readonly<DeliveryOptions>, run: ProcessRun) {
  const { opened, log, metrics } = run;
  const store = await openProcessStore(run, config, { appName: 'smsc-deliverer', monitorCommands: options.monitorCommands });
  const { db } = store;
  const limiter = createRateLimiter({ redis: config.redis.url, keyPrefix: 'smsc:tps:connector', logger: createLogger('throttle') });
  opened.add('rate limiter', () => limiter.close());
  if (!config.redis.url) log.warn('no REDIS_URL: connector TPS caps are enforced per deliverer process, not shared');
  await limiter
    .ready()
    .catch((error: Error) => log.warn({ err: error.message }, 'Redis not ready yet; connector TPS per process until it is'));
  const refreshMs = config.deliverer.refreshMs;
  // Receipts and MO arriving on the connectors (issue 6): stored before deliver_sm_resp.
  const intake = await createConnectorIntake({
    db,
    clock: systemClock,
    logger: createLogger('receipts'),
    metrics,
    by: defaultOwner('receipts'),
    routesRefreshMs: refreshMs,
    writeConcern: writeConcernOf(config.mongo),
  });
  const pool = new ConnectorPool(db, {
    clock: systemClock,
    logger: createLogger('connector'),
    metrics,
    limiter,
    backoffScale: options.backoffScale,
    refreshMs,
    handlersFor: (c) => intake.handlersFor(c),
  });
  opened.add('connectors', () => pool.close());
  await pool.start();
  const router = new Router(db, createLogger('router'), { refreshMs });
  // Leases and steals are judged on MongoDB's clock; due times still use ours, so a host whose
  // clock is too far off delivers nothing until it is fixed (and says so).
  const clockGuard = new ClockGuard(db, systemClock, createLogger('clock'), { maxOffsetMs: config.deliverer.maxClockOffsetMs });
  opened.add('clock guard', () => clockGuard.close());
  await clockGuard.start();
  const worker = new DeliveryWorker({
    db,
    clock: systemClock,
    logger: log,
    metrics,
    sender: new ConnectorSender(pool, router, {
      metrics,
      charging: createChargingGate(db, config.charging, systemClock, createLogger('charging')),
    }),
    delivery,
    worker: {
      lanes: config.deliverer.concurrency,
      sweepMs: config.deliverer.sweepIntervalMs,
      // In-flight batches get half the grace; the rest is for unbinding and closing the store.
      shutdownGraceMs: Math.max(500, Math.floor(config.node.shutdownGraceMs / 2)),
      ...options.worker,
    },
    clockGuard,
    // Receipts that overtook this batch's outcome write wait with the orphans: apply them now.
    onAccepted: (accepted) =>
      void intake.orphans
        .matchAccepted(accepted)
        .catch((error: unknown) => log.warn({ err: error }, 'matching waiting receipts failed; the sweep will')),
  });
  opened.add('delivery worker', () => worker.close());
  // The safety net for waiting receipts (a process that died between storing and matching).
  const orphanSweep = setInterval(
    () => void intake.orphans.sweep().catch((error: unknown) => log.debug({ err: error }, 'waiting-receipt sweep failed')),
    options.orphanSweepMs ?? 5000,
  );
  opened.add('waiting-receipt sweep', () => clearInterval(orphanSweep));
  const observability = await startProcessObservability({
    db,
    kind: 'deliverer',
    config,
    metrics,
    logger: log,
    info: () => ({
      owner: worker.owner,
      connectors: Object.fromEntries(pool.list().map((c) => [c.name, c.state])),
      submitted: worker.stats.submitted,
      clock: { offsetMs: clockGuard.last?.offsetMs ?? null, ok: clockGuard.ok },
    }),
  });
  opened.add('heartbeat and metrics', () => observability.close());
  // Give connectors a moment to bind so the first round does not reschedule everything.
  await waitForBinds(pool, 3000);
  worker.start();
  return { store, worker, pool, observability, limiter, clockGuard, orphanSweep };
}

async function waitForBinds(pool: ConnectorPool, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const all = pool.list();
    if (all.every((c) => c.bound)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
