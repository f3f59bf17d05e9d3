import os from 'node:os';
import type { Db } from 'mongodb';
import { systemClock, type Clock } from '../domain/clock.ts';
import type { SmscConfig } from '../config/types.ts';
import { ConfigError } from '../domain/errors.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { startProcessObservability } from '../observability/process-observability.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { CdrFileWriter } from '../cdr/cdr-files.ts';
import { CdrJournal, ensureCdrSchema } from '../cdr/cdr-journal.ts';
import type { CdrRecordOptions } from '../cdr/cdr-record.ts';
import { CdrUploader } from '../cdr/s3-uploader.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { answerSupervisorProbes } from './supervised-child.ts';

/** The record options the configuration asks for. */
export function cdrRecordOptions(config: Pick<SmscConfig, 'cdr'>): CdrRecordOptions {
  return { numbers: config.cdr.numbers, perAttempt: config.cdr.perAttempt, ...(config.cdr.hashKey ? { hashKey: config.cdr.hashKey } : {}) };
}

/** The uploader `cdr.s3.*` describes, or undefined when no bucket is set (files then stay in cdr.dir). */
export function cdrUploader(config: Pick<SmscConfig, 'cdr'>, logger: Logger, metrics: Metrics): CdrUploader | undefined {
  const s3 = config.cdr.s3;
  if (!s3.bucket) return undefined;
  return new CdrUploader(
    { bucket: s3.bucket, prefix: s3.prefix, region: s3.region, ...(s3.endpoint ? { endpoint: s3.endpoint } : {}) },
    logger,
    metrics,
  );
}

/** Everything a journal needs, built from the configuration (tests pass their clock). */
export function buildCdrJournal(
  config: SmscConfig,
  db: Db,
  options: { metrics: Metrics; clock?: Clock; logger?: Logger; owner?: string },
): { journal: CdrJournal; uploader: CdrUploader | undefined } {
  const dir = config.cdr.dir;
  if (!dir) throw new ConfigError('The CDR journal needs a directory: set cdr.dir (CDR_DIR or --cdr-dir).');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger('cdr');
  const node = (config.node.name ?? `${os.hostname()}-${process.pid}`).replace(/[^A-Za-z0-9_.-]/g, '_');
  const files = new CdrFileWriter({
    dir,
    format: config.cdr.format,
    rotateBytes: config.cdr.rotateBytes,
    rotateSeconds: config.cdr.rotateSeconds,
    node,
    clock,
    logger,
  });
  const uploader = cdrUploader(config, logger, options.metrics);
  const journal = new CdrJournal(
    { db, files, ...(uploader ? { uploader } : {}), clock, logger, metrics: options.metrics },
    // A journal restarted under the same SMSC_NODE_NAME takes its own lease back at once; unnamed ones wait for it to run out.
    {
      format: config.cdr.format,
      record: cdrRecordOptions(config),
      pollMs: config.cdr.pollMs,
      lagMs: config.cdr.lagMs,
      owner: options.owner ?? config.node.name ?? `${node}-${process.pid}`,
    },
  );
  return { journal, uploader };
}

/** `smsc cdr journal`: writes, rotates and uploads CDRs until SIGTERM; prints `cdr journal ready`. */
export async function runCdrJournalProcess(
  config: SmscConfig,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<void> {
  const log = createLogger('cdr');
  const metrics = createMetrics();
  answerSupervisorProbes(metrics.registry);
  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-cdr', maxPoolSize: 2 });
  try {
    const db = client.db(config.mongo.dbName);
    await ensureCdrSchema(db);
    const { journal, uploader } = buildCdrJournal(config, db, { logger: log, metrics });
    const observability = await startProcessObservability({ db, kind: 'cdr', config, metrics, logger: log });
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    journal.start();
    print(
      `cdr journal ready (dir ${config.cdr.dir}, ${uploader ? `uploading to s3://${config.cdr.s3.bucket}/${config.cdr.s3.prefix}` : 'no upload: cdr.s3.bucket is not set'})`,
    );
    await stopped;
    await journal.close();
    // One last try, so a clean stop leaves nothing behind when the store is reachable.
    await journal.uploadPending(true);
    uploader?.close();
    await observability.close();
  } finally {
    await client.close();
  }
  process.exitCode = process.exitCode ?? 0;
}
