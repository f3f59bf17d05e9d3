import type { Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import { startMetricsServer } from './metrics-server.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { QueueDepthSampler } from './queue-depth-sampler.ts';
import { processHealth, type ProcessHealth } from '../nodes/health.ts';
import { HeartbeatWriter } from '../nodes/heartbeat.ts';

export interface ProcessObservabilityOptions {
  db: Db;
  /** inserter | deliverer | cleanup | sink | up */
  kind: string;
  config: Pick<SmscConfig, 'metrics' | 'node'>;
  /** The process's metrics: served on `/metrics`, with the process's own (CPU, memory, event loop) added. */
  metrics: Metrics;
  logger?: Logger;
  clock?: Clock;
  /** Published with every heartbeat, e.g. `() => ({ connectors: { op1: 'BOUND' }, smppPort: 2775 })`. */
  info?: () => Record<string, unknown>;
  /**
   * Be a candidate for the deployment's queue sampler (default true; `metrics.queueSampleMs` 0
   * also keeps the process out). One candidate at a time samples: see QueueDepthSampler.
   */
  sampleQueueDepth?: boolean;
  /** What `/healthz` and the heartbeat report. Default: the process's health. */
  health?: ProcessHealth;
}

export interface ProcessObservability {
  readonly nodeName: string;
  /** The metrics port actually bound, undefined when metrics are off. */
  readonly metricsPort: number | undefined;
  /** Stops in reverse order of start; idempotent. Removes this process from `nodes`. */
  close(): Promise<void>;
}

/**
 * What every long-running process does besides its job: a heartbeat in `nodes`, Prometheus
 * metrics on `metrics.port` (0 = off), and a candidacy for the queue sampler. One call from the
 * process entry point; close() in its shutdown sequence, after the work has stopped.
 */
export async function startProcessObservability(options: ProcessObservabilityOptions): Promise<ProcessObservability> {
  const { db, kind, config, logger, clock } = options;
  options.metrics.collectProcessMetrics();
  const health = options.health ?? processHealth;
  const metrics = await startMetricsServer({
    port: config.metrics.port,
    host: config.metrics.host,
    registry: options.metrics.registry,
    health: () => health.report(),
    ...(logger ? { logger } : {}),
  });
  const heartbeat = new HeartbeatWriter({
    db,
    kind,
    intervalMs: config.node.heartbeatMs,
    ...(config.node.name ? { name: config.node.name } : {}),
    ...(logger ? { logger } : {}),
    ...(clock ? { clock } : {}),
    info: () => ({
      ...(metrics.port ? { metricsPort: metrics.port } : {}),
      ...(sampler?.active ? { queueSampler: true } : {}),
      ...(options.info?.() ?? {}),
    }),
    health,
  });
  let sampler: QueueDepthSampler | undefined;
  try {
    if ((options.sampleQueueDepth ?? true) && config.metrics.queueSampleMs > 0) {
      sampler = new QueueDepthSampler({
        db,
        intervalMs: config.metrics.queueSampleMs,
        owner: heartbeat.name,
        metrics: options.metrics,
        ...(logger ? { logger } : {}),
        ...(clock ? { clock } : {}),
      });
      await sampler.start();
    }
    await heartbeat.start();
  } catch (error) {
    await sampler?.close();
    await heartbeat.close();
    await metrics.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    nodeName: heartbeat.name,
    metricsPort: metrics.port,
    close() {
      closing ??= (async () => {
        await sampler?.close();
        await heartbeat.close();
        await metrics.close();
      })();
      return closing;
    },
  };
}
