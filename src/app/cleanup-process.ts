import { sleep, systemClock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { defaultOwner } from '../delivery/delivery-worker.ts';
import { createLogger } from '../logging/logger.ts';
import { watchMongoHealth } from '../nodes/mongo-health.ts';
import { OpenedResources } from '../nodes/opened-resources.ts';
import { startProcessObservability, type ProcessObservability } from '../observability/process-observability.ts';
import { Shutdown, stopSignal } from '../nodes/shutdown.ts';
import { ensureSchema } from '../store/collections.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { CleanupPass, type CleanupOptions } from '../cleanup/cleanup-pass.ts';

export interface CleanupProcessOptions {
  once?: boolean;
  cleanup?: Partial<CleanupOptions>;
  print?: (line: string) => void;
}

/**
 * `smsc cleanup [--once]`: one pass and exit, or passes every `cleanup.intervalMs` until SIGTERM,
 * which ends it within `node.shutdownGraceMs` (a pass cut short is simply run again by the next
 * cleanup: every step of it is idempotent).
 */
export async function runCleanupProcess(config: SmscConfig, options: CleanupProcessOptions = {}): Promise<void> {
  const log = createLogger('cleanup');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const graceMs = config.node.shutdownGraceMs;
  const shutdown = new Shutdown({ graceMs, logger: log });
  const stop = new AbortController();
  void stopSignal().then((signal) => {
    log.info({ signal }, 'shutting down');
    shutdown.begin();
    stop.abort(new Error('stopping'));
  });
  const opened = new OpenedResources();
  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-cleanup', maxPoolSize: 2 });
  opened.add('MongoDB client', () => client.close());
  const unwatch = watchMongoHealth(client);
  opened.add('MongoDB health', unwatch);
  let observability: ProcessObservability | undefined;
  let pass: CleanupPass;
  try {
    const db = client.db(config.mongo.dbName);
    await ensureSchema(db);
    pass = new CleanupPass(db, systemClock, defaultOwner('cleanup'), {
      retentionMs: config.cleanup.retentionHours * 3600_000,
      maxAttempts: config.deliverer.maxAttempts,
      ...options.cleanup,
    });
    if (!options.once) {
      // Heartbeat, /metrics, and a candidacy for the queue sampler (a cleanup from cron is none: other processes sample).
      observability = await startProcessObservability({ db, kind: 'cleanup', config, logger: log });
      opened.add('heartbeat and metrics', () => observability?.close());
    }
  } catch (error) {
    await opened.unwind(log, Math.min(graceMs, 5_000));
    throw error;
  }
  if (options.once) {
    try {
      print(`cleanup ${JSON.stringify(await pass.run())}`);
    } finally {
      unwatch();
      await client.close();
    }
    return;
  }
  print('cleanup ready');
  let running: Promise<unknown> = Promise.resolve();
  while (!stop.signal.aborted) {
    running = pass.run().then(
      (counts) => {
        if (Object.values(counts).some((n) => n > 0)) print(`cleanup ${JSON.stringify(counts)}`);
      },
      (error: unknown) => {
        if (!stop.signal.aborted) log.warn({ err: error }, 'cleanup pass failed; trying again next interval');
      },
    );
    // A pass waiting on an unreachable database must not hold up a stop.
    await Promise.race([running, new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }))]);
    await sleep(config.cleanup.intervalMs, stop.signal).catch(() => {});
  }
  await shutdown.run([
    { name: 'cleanup pass', run: () => running },
    // Removing the heartbeat is a courtesy (it expires anyway): not worth waiting for a database that is gone.
    { name: 'heartbeat and metrics', run: () => observability?.close(), capMs: 2_000 },
  ]);
  unwatch();
  await shutdown.run([{ name: 'MongoDB client', run: () => client.close() }]);
  process.exitCode = process.exitCode ?? 0;
  await shutdown.finish();
}
