import { systemClock } from '../clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { ConnectorPool } from '../connectors/connector-pool.ts';
import { ConnectorSender } from '../connectors/connector-sender.ts';
import { ConfigError } from '../errors/smsc-error.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { watchMongoHealth } from '../nodes/mongo-health.ts';
import { OpenedResources } from '../nodes/opened-resources.ts';
import { startProcessObservability } from '../nodes/process-observability.ts';
import { Shutdown, stopSignal } from '../nodes/shutdown.ts';
import { Router } from '../routing/router.ts';
import { createChargingGate } from '../routing/charging-gate.ts';
import { ensureSchema } from '../store/collections.ts';
import { countCommands } from '../store/command-counter.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { createRateLimiter } from '../throttle/rate-limiter.ts';
import { createConnectorIntake } from '../receipts/connector-intake.ts';
import { writeConcernOf } from '../config/slices.ts';
import { ClockGuard } from '../store/server-clock.ts';
import { defaultOwner } from '../delivery/delivery-worker.ts';
import { resolveDeliveryOptions, type DeliveryOptions } from '../delivery/delivery-options.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../delivery/delivery-worker.ts';

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
  const log = createLogger('deliverer');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const graceMs = config.node.shutdownGraceMs;
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
  const shutdown = new Shutdown({ graceMs, logger: log });
  // Listening from the start: a stop during start-up is honoured within the grace as well.
  const stopping = stopSignal().then((signal) => {
    log.info({ signal }, 'shutting down');
    shutdown.begin();
    return signal;
  });
  const opened = new OpenedResources();
  let started: Awaited<ReturnType<typeof startDeliverer>>;
  try {
    started = await startDeliverer(config, options, delivery, opened, log);
  } catch (error) {
    await opened.unwind(log, Math.min(graceMs, 5_000));
    throw error;
  }
  const { client, worker, pool, observability, limiter, commands, unwatch, clockGuard, orphanSweep } = started;
  // CPU spent from here on, printed at exit: what one delivered message costs this process.
  const cpuAtStart = process.cpuUsage();
  print(`deliverer ready ${JSON.stringify({ owner: worker.owner, connectors: pool.list().map((c) => `${c.name}:${c.state}`) })}`);

  await stopping;
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
  print(
    `deliverer stats ${JSON.stringify({ ...stats, batches: batchSizes.length, mongoCommands: commands?.total ?? 0, byCommand: commands?.byCommand ?? {}, cpuMs })}`,
  );
  unwatch();
  // Forced: operations still waiting for an unreachable server end now instead of at their timeout.
  await shutdown.run([{ name: 'MongoDB client', run: () => client.close() }]);
  process.exitCode = process.exitCode ?? 0;
  await shutdown.finish();
}

async function startDeliverer(
  config: SmscConfig,
  options: DelivererProcessOptions,
  delivery: Readonly<DeliveryOptions>,
  opened: OpenedResources,
  log: Logger,
) {
  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-deliverer', monitorCommands: options.monitorCommands });
  opened.add('MongoDB client', () => client.close());
  const unwatch = watchMongoHealth(client);
  opened.add('MongoDB health', unwatch);
  const commands = options.monitorCommands ? countCommands(client) : undefined;
  const db = client.db(config.mongo.dbName);
  await ensureSchema(db);
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
    by: defaultOwner('receipts'),
    routesRefreshMs: refreshMs,
    writeConcern: writeConcernOf(config.mongo),
  });
  const pool = new ConnectorPool(db, {
    clock: systemClock,
    logger: createLogger('connector'),
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
    sender: new ConnectorSender(pool, router, { charging: createChargingGate(db, config.charging, systemClock, createLogger('charging')) }),
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
  return { client, worker, pool, observability, limiter, commands, unwatch, clockGuard, orphanSweep };
}

async function waitForBinds(pool: ConnectorPool, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const all = pool.list();
    if (all.every((c) => c.bound)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
