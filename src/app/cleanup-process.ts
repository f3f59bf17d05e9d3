import { sleep, systemClock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { defaultOwner } from '../delivery/delivery-worker.ts';
import { startProcessObservability, type ProcessObservability } from '../observability/process-observability.ts';
import { CleanupPass, type CleanupOptions } from '../cleanup/cleanup-pass.ts';
import { beginProcess, endProcess, openProcessStore, startOrUnwind } from './process-run.ts';

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
  const run = beginProcess('cleanup', config, options.print);
  const { log, print } = run;
  const stop = new AbortController();
  void run.stopping.then(() => stop.abort(new Error('stopping')));
  let observability: ProcessObservability | undefined;
  const { store, pass } = await startOrUnwind(run, async () => {
    const store = await openProcessStore(run, config, { appName: 'smsc-cleanup', maxPoolSize: 2 });
    const pass = new CleanupPass(store.db, systemClock, defaultOwner('cleanup'), run.metrics, {
      retentionMs: config.cleanup.retentionHours * 3600_000,
      maxAttempts: config.deliverer.maxAttempts,
      ...options.cleanup,
    });
    if (!options.once) {
      // Heartbeat, /metrics, and a candidacy for the queue sampler (a cleanup from cron is none: other processes sample).
      observability = await startProcessObservability({ db: store.db, kind: 'cleanup', config, metrics: run.metrics, logger: log });
      run.opened.add('heartbeat and metrics', () => observability?.close());
    }
    return { store, pass };
  });
  if (options.once) {
    try {
      print(`cleanup ${JSON.stringify(await pass.run())}`);
    } finally {
      store.unwatch();
      await store.client.close();
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
  await run.shutdown.run([
    { name: 'cleanup pass', run: () => running },
    // Removing the heartbeat is a courtesy (it expires anyway): not worth waiting for a database that is gone.
    { name: 'heartbeat and metrics', run: () => observability?.close(), capMs: 2_000 },
  ]);
  await endProcess(run, store);
}
