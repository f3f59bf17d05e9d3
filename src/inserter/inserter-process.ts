import { AccountStore } from '../accounts/account-store.ts';
import { addressOptionsOf, writeConcernOf } from '../config/slices.ts';
import type { SmscConfig } from '../config/types.ts';
import { createLogger } from '../logging/logger.ts';
import { startProcessObservability } from '../nodes/process-observability.ts';
import { ensureSchema } from '../store/collections.ts';
import { countCommands } from '../store/command-counter.ts';
import { GroupCommitWriter } from '../store/group-commit.ts';
import { connectConfiguredMongo } from '../store/mongo-client.ts';
import { Redis } from 'ioredis';
import { createRateLimiter } from '../throttle/rate-limiter.ts';
import { createBindSlots } from './bind-slots.ts';
import { Inserter, type InserterOptions } from './inserter.ts';
import { EsmeDeliveryService } from '../esme-delivery/esme-delivery-service.ts';
import { systemClock } from '../clock.ts';
import { createIntakePolicy } from '../policy/create-intake-policy.ts';
import { IntakeRouting } from '../routing/intake-routing.ts';
import { Router } from '../routing/router.ts';
import { readTlsFiles } from './tls-files.ts';

export interface InserterProcessOptions {
  /** How long SIGTERM may take before the process gives up waiting (default 10 s). */
  shutdownGraceMs?: number;
  /** Longest validity_period accepted, in hours (default 7 days). */
  maxValidityHours?: number;
  /** Where the ready line goes (default stdout). */
  print?: (line: string) => void;
  /** Count MongoDB commands (the bench reads them from the `stats` line printed at exit). */
  monitorCommands?: boolean;
  /** Session settings (window, enquire_link, inactivity, bind timeout); defaults as in InserterOptions. */
  sessions?: Pick<InserterOptions, 'windowSize' | 'enquireLinkIntervalMs' | 'inactivityTimeoutMs' | 'bindTimeoutMs'>;
}

/**
 * The inserter as a process: owns the MongoClient and the Redis connection, prints
 * `inserter listening on HOST:PORT` once ready, and shuts down in order on SIGTERM/SIGINT.
 * Resolves when the process has stopped.
 */
export async function runInserterProcess(config: SmscConfig, options: InserterProcessOptions = {}): Promise<void> {
  const log = createLogger('inserter-process');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Before anything connects: an unreadable certificate is a start-up error of its own.
  const tls = readTlsFiles(config.inserter);
  const client = await connectConfiguredMongo(config.mongo, { appName: 'smsc-inserter', monitorCommands: options.monitorCommands });
  const commands = options.monitorCommands ? countCommands(client) : undefined;
  const db = client.db(config.mongo.dbName);
  await ensureSchema(db);
  // One Redis connection for TPS and bind counting; commands fail fast rather than queue (fallbacks apply).
  const redis = config.redis.url
    ? new Redis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 })
    : undefined;
  redis?.on('error', (error: Error) => log.debug({ err: error.message }, 'Redis error'));
  const rateLimiter = createRateLimiter({ redis, keyPrefix: 'smsc:tps:account', logger: createLogger('throttle') });
  await rateLimiter.ready().catch((error: Error) => log.warn({ err: error.message }, 'Redis not ready yet; TPS per process until it is'));
  const bindSlots = createBindSlots({ redis, keyPrefix: 'smsc:binds', logger: createLogger('bind-slots') });
  const writer = new GroupCommitWriter(db, {
    maxBatchDocs: config.inserter.batchMaxSize,
    maxDelayMs: config.inserter.batchMaxWaitMs,
    writeConcern: writeConcernOf(config.mongo),
    logger: createLogger('group-commit'),
  });
  // Contact lists (blocklists, opt-outs, registration filters) and HLR lookups (issue 16).
  const intake = await createIntakePolicy(config, { db, redis, logger: createLogger('intake-policy') });
  const graceMs = options.shutdownGraceMs ?? 10_000;
  // Receipts and MO to ESMEs bound here (issue 6).
  const esmeDelivery = new EsmeDeliveryService({ db, clock: systemClock, logger: createLogger('esme-delivery') });
  await esmeDelivery.start();
  // Drop and auto-reply routes act before a message is stored.
  const routing = new IntakeRouting(new Router(db, createLogger('router')), systemClock, createLogger('routing'));
  await routing.start();
  const inserter = new Inserter(
    { db, accounts: new AccountStore(db), writer, rateLimiter, bindSlots, logger: createLogger('inserter'), esmeSessions: esmeDelivery, routing, intakePolicy: intake.policy, optOut: intake.optOut },
    {
      host: config.inserter.host,
      port: config.inserter.smppPort,
      ...(tls ? { tls } : {}),
      shutdownGraceMs: graceMs,
      ...options.sessions,
      policy: {
        defaultValidityMs: config.inserter.defaultValidityHours * 3600_000,
        addressOptions: addressOptionsOf(config.address),
        ...(options.maxValidityHours ? { maxValidityMs: options.maxValidityHours * 3600_000, maxScheduleMs: options.maxValidityHours * 3600_000 } : {}),
      },
    },
  );
  const { host, port, tlsPort } = await inserter.start();
  const observability = await startProcessObservability({
    db,
    kind: 'inserter',
    config,
    logger: createLogger('observability'),
    info: () => ({ smppPort: port, ...(tlsPort !== undefined ? { smppTlsPort: tlsPort } : {}), sessions: inserter.sessionCount }),
  });
  print(`inserter listening on ${host}:${port}${tlsPort !== undefined ? `, SMPP over TLS on ${host}:${tlsPort}` : ''}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      // Last resort if something hangs past the grace: the process must not linger.
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
  // The fixed order: stop intake and answer what was read, flush the store, then the connections.
  const deadline = Date.now() + graceMs;
  inserter.stopIntake();
  await esmeDelivery.close(Math.min(3000, graceMs / 3));
  // What is left of the grace, less a margin for flushing and closing connections.
  await inserter.shutdown(Math.max(500, deadline - Date.now() - 500));
  await writer.close();
  intake.close();
  await observability.close();
  await rateLimiter.close();
  await redis?.quit().catch(() => redis.disconnect());
  if (commands) {
    const s = writer.stats;
    print(`inserter stats ${JSON.stringify({ ...s, submitted: inserter.stats.submitted, throttled: inserter.stats.throttled, mongoCommands: commands.total, byCommand: commands.byCommand })}`);
  }
  await client.close();
  process.exitCode = process.exitCode ?? 0;
}
