import { sleep, systemClock } from '../clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { defaultOwner } from '../delivery/delivery-worker.ts';
import { createLogger } from '../logging/logger.ts';
import { startProcessObservability } from '../nodes/process-observability.ts';
import { ensureSchema } from '../store/collections.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { CleanupPass, type CleanupOptions } from './cleanup-pass.ts';

export interface CleanupProcessOptions {
  once?: boolean;
  cleanup?: Partial<CleanupOptions>;
  print?: (line: string) => void;
}

/** `smsc cleanup [--once]`: one pass and exit, or passes every `cleanup.intervalMs` until SIGTERM. */
export async function runCleanupProcess(config: SmscConfig, options: CleanupProcessOptions = {}): Promise<void> {
  const log = createLogger('cleanup');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-cleanup', maxPoolSize: 2 });
  try {
    const db = client.db(config.mongo.dbName);
    await ensureSchema(db);
    const pass = new CleanupPass(db, systemClock, defaultOwner('cleanup'), { retentionMs: config.cleanup.retentionHours * 3600_000, ...options.cleanup });
    if (options.once) {
      print(`cleanup ${JSON.stringify(await pass.run())}`);
      return;
    }
    // Heartbeat, /metrics, and a candidacy for the queue sampler (a cleanup from cron is none: other processes sample).
    const observability = await startProcessObservability({ db, kind: 'cleanup', config, logger: log });
    const stop = new AbortController();
    const onSignal = () => stop.abort(new Error('stopping'));
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    print('cleanup ready');
    while (!stop.signal.aborted) {
      try {
        const counts = await pass.run();
        if (Object.values(counts).some((n) => n > 0)) print(`cleanup ${JSON.stringify(counts)}`);
      } catch (error) {
        log.warn({ err: error }, 'cleanup pass failed; trying again next interval');
      }
      await sleep(config.cleanup.intervalMs, stop.signal).catch(() => {});
    }
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await observability.close();
  } finally {
    await client.close();
  }
  process.exitCode = process.exitCode ?? 0;
}
