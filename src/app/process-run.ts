import type { Db, MongoClient } from 'mongodb';
import type { SmscConfig } from '../config/types.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { watchMongoHealth } from '../nodes/mongo-health.ts';
import { OpenedResources } from '../nodes/opened-resources.ts';
import { Shutdown, stopSignal } from '../nodes/shutdown.ts';
import { ensureSchema } from '../store/collections.ts';
import { countCommands, type CommandCounts } from '../store/command-counter.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { answerSupervisorProbes } from './supervised-child.ts';

/**
 * What a long-running process (inserter, deliverer, cleanup) holds from its first line to its
 * last: its logger, its one set of metrics, the shutdown that ends within `node.shutdownGraceMs`,
 * and what it has opened so far (closed again when the start-up fails half-way).
 */
export interface ProcessRun {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly graceMs: number;
  readonly shutdown: Shutdown;
  readonly opened: OpenedResources;
  /** Where the ready and stats lines go (default stdout). */
  readonly print: (line: string) => void;
  /** Resolves with the first stop signal, once the shutdown's clock has started. */
  readonly stopping: Promise<NodeJS.Signals>;
}

/**
 * The first thing a process does: its logger and metrics (answering `smsc up`'s probes with them
 * when supervised), and a stop signal listened for from the start, so a stop during start-up is
 * honoured within the grace as well.
 */
export function beginProcess(component: string, config: Pick<SmscConfig, 'node'>, print?: (line: string) => void): ProcessRun {
  const log = createLogger(component);
  const metrics = createMetrics();
  answerSupervisorProbes(metrics.registry);
  const graceMs = config.node.shutdownGraceMs;
  const shutdown = new Shutdown({ graceMs, logger: log });
  const stopping = stopSignal().then((signal) => {
    log.info({ signal }, 'shutting down');
    shutdown.begin();
    return signal;
  });
  return {
    log,
    metrics,
    graceMs,
    shutdown,
    opened: new OpenedResources(),
    print: print ?? ((line: string) => process.stdout.write(`${line}\n`)),
    stopping,
  };
}

/** Runs the start-up; when it fails, closes what it had opened (within 5 s at most) and throws. */
export async function startOrUnwind<T>(run: ProcessRun, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    await run.opened.unwind(run.log, Math.min(run.graceMs, 5_000));
    throw error;
  }
}

/** The process's own MongoClient: it opened it, so it alone closes it (last, in `endProcess`). */
export interface ProcessStore {
  readonly client: MongoClient;
  readonly db: Db;
  /** Stops reporting the client's health (before it is closed). */
  readonly unwatch: () => void;
  /** MongoDB commands sent, when asked for (the benches read them from the stats line). */
  readonly commands: CommandCounts | undefined;
}

/** Connects, reports MongoDB's reachability in the process's health, and makes sure of the schema. */
export async function openProcessStore(
  run: ProcessRun,
  config: Pick<SmscConfig, 'mongo'>,
  options: { appName: string; maxPoolSize?: number; monitorCommands?: boolean },
): Promise<ProcessStore> {
  const client = await connectConfiguredMongo(config.mongo, options);
  run.opened.add('MongoDB client', () => client.close());
  const unwatch = watchMongoHealth(client);
  run.opened.add('MongoDB health', unwatch);
  const commands = options.monitorCommands ? countCommands(client) : undefined;
  const db = client.db(config.mongo.dbName);
  await ensureSchema(db);
  return { client, db, unwatch, commands };
}

/**
 * The end of every shutdown, after the process's own steps: the MongoDB client (forced:
 * operations still waiting for an unreachable server end now instead of at their timeout), then
 * the exit code, and an exit now if a step was abandoned (see Shutdown.finish).
 */
export async function endProcess(run: ProcessRun, store: ProcessStore): Promise<void> {
  store.unwatch();
  await run.shutdown.run([{ name: 'MongoDB client', run: () => store.client.close() }]);
  process.exitCode = process.exitCode ?? 0;
  await run.shutdown.finish();
}
