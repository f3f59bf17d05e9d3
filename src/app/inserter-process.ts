import { AccountStore } from '../accounts/account-store.ts';
import { addressOptionsOf } from '../config/slices.ts';
import type { SmscConfig } from '../config/types.ts';
import { SmscError } from '../domain/errors.ts';
import { createLogger } from '../logging/logger.ts';
import { startProcessObservability } from '../observability/process-observability.ts';
import { createBindSlots } from '../inserter/bind-slots.ts';
import { Inserter } from '../inserter/inserter.ts';
import { EsmeDeliveryService } from '../esme-delivery/esme-delivery-service.ts';
import { ClockGuard } from '../store/server-clock.ts';
import { systemClock } from '../domain/clock.ts';
import { createIntakePolicy } from '../policy/create-intake-policy.ts';
import { IntakeRouting } from '../routing/intake-routing.ts';
import { Router } from '../routing/router.ts';
import { readTlsFiles } from '../inserter/tls-files.ts';
import { beginProcess, endProcess, openProcessStore, startOrUnwind, type ProcessRun } from './process-run.ts';
import { connectIntakeRedis, createIntakeWriter, startAccountRateLimiter } from './intake-parts.ts';

export interface InserterProcessOptions {
  /** Where the ready line goes (default stdout). */
  print?: (line: string) => void;
  /** Count MongoDB commands (the bench reads them from the `stats` line printed at exit). */
  monitorCommands?: boolean;
}

/**
 * The inserter as a process: owns the MongoClient and the Redis connection, prints
 * `inserter listening on HOST:PORT` once ready, and shuts down in order on SIGTERM/SIGINT within
 * `node.shutdownGraceMs`. A start-up that fails (the SMPP port in use, MongoDB unreachable)
 * closes what it opened and throws. Resolves when the process has stopped.
 */
export async function runInserterProcess(config: SmscConfig, options: InserterProcessOptions = {}): Promise<void> {
  const run = beginProcess('inserter-process', config, options.print);
  const started = await startOrUnwind(run, () => startInserter(config, options, run));
  const { store, inserter, writer, intake, redis } = started;
  const { host, port, tlsPort } = started.listening;
  run.print(`inserter listening on ${host}:${port}${tlsPort !== undefined ? `, SMPP over TLS on ${host}:${tlsPort}` : ''}`);

  await run.stopping;
  const { shutdown, graceMs } = run;
  // The fixed order: stop intake and answer what was read, flush the store, then the connections.
  inserter.stopIntake();
  await shutdown.run([
    { name: 'ESME delivery', run: () => started.esmeDelivery.close(Math.min(3000, graceMs / 3)), capMs: Math.min(3500, graceMs / 3) },
    { name: 'clock guard', run: () => started.clockGuard.close(), capMs: 1_000 },
    // What is left of the grace, less a margin for flushing and closing connections.
    { name: 'SMPP sessions', run: () => inserter.shutdown(Math.max(500, shutdown.remainingMs - 1_000)) },
    { name: 'group commit', run: () => writer.close() },
    { name: 'intake policy', run: () => intake.close(), capMs: 1_000 },
    // Removing the heartbeat is a courtesy (it expires anyway): not worth waiting for a database that is gone.
    { name: 'heartbeat and metrics', run: () => started.observability.close(), capMs: 2_000 },
    { name: 'rate limiter', run: () => started.rateLimiter.close(), capMs: 1_000 },
    { name: 'Redis', run: () => redis?.quit().catch(() => redis.disconnect()), capMs: 1_000 },
  ]);
  const { commands } = store;
  if (commands) {
    const s = writer.stats;
    run.print(
      `inserter stats ${JSON.stringify({ ...s, submitted: inserter.stats.submitted, throttled: inserter.stats.throttled, mongoCommands: commands.total, byCommand: commands.byCommand })}`,
    );
  }
  await endProcess(run, store);
}

async function startInserter(config: SmscConfig, options: InserterProcessOptions, run: ProcessRun) {
  const { opened, log, metrics } = run;
  // Before anything connects: an unreadable certificate is a start-up error of its own.
  const tls = readTlsFiles(config.inserter);
  const store = await openProcessStore(run, config, { appName: 'smsc-inserter', monitorCommands: options.monitorCommands });
  const { db } = store;
  const redis = connectIntakeRedis(config, log);
  if (redis) opened.add('Redis', () => redis.disconnect());
  const rateLimiter = await startAccountRateLimiter(redis, log);
  opened.add('rate limiter', () => rateLimiter.close());
  const bindSlots = createBindSlots({ redis, keyPrefix: 'smsc:binds', logger: createLogger('bind-slots') });
  const writer = createIntakeWriter(db, config, metrics);
  opened.add('group commit', () => writer.close());
  // Contact lists (blocklists, opt-outs, registration filters) and HLR lookups (issue 16).
  const intake = await createIntakePolicy(config, { db, redis, logger: createLogger('intake-policy'), metrics });
  opened.add('intake policy', () => intake.close());
  // Receipts and MO to ESMEs bound here (issue 6), under the same clock rule as the deliverers:
  // leases are judged on MongoDB's clock, due times on ours, so a host too far off sends nothing.
  const clockGuard = new ClockGuard(db, systemClock, createLogger('clock'), { maxOffsetMs: config.deliverer.maxClockOffsetMs });
  opened.add('clock guard', () => clockGuard.close());
  await clockGuard.start();
  const esmeDelivery = new EsmeDeliveryService({
    db,
    clock: systemClock,
    logger: createLogger('esme-delivery'),
    metrics,
    clockGuard,
  });
  opened.add('ESME delivery', () => esmeDelivery.close(1000));
  await esmeDelivery.start();
  // Drop and auto-reply routes act before a message is stored.
  const routing = new IntakeRouting(new Router(db, createLogger('router')), systemClock, createLogger('routing'), metrics);
  await routing.start();
  const inserter = new Inserter(
    {
      db,
      accounts: new AccountStore(db),
      writer,
      rateLimiter,
      bindSlots,
      logger: createLogger('inserter'),
      metrics,
      esmeSessions: esmeDelivery,
      routing,
      intakePolicy: intake.policy,
      optOut: intake.optOut,
    },
    {
      host: config.inserter.host,
      port: config.inserter.smppPort,
      ...(tls ? { tls } : {}),
      shutdownGraceMs: config.node.shutdownGraceMs,
      windowSize: config.inserter.windowSize,
      enquireLinkIntervalMs: config.inserter.enquireLinkMs,
      inactivityTimeoutMs: config.inserter.inactivityMs,
      bindTimeoutMs: config.inserter.bindTimeoutMs,
      policy: {
        defaultValidityMs: config.inserter.defaultValidityHours * 3600_000,
        addressOptions: addressOptionsOf(config.address),
        maxValidityMs: config.inserter.maxValidityHours * 3600_000,
        maxScheduleMs: config.inserter.maxValidityHours * 3600_000,
      },
    },
  );
  const listening = await inserter.start().catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      const port = (error as NodeJS.ErrnoException & { port?: number }).port;
      const what = port === config.inserter.smppPort ? `SMPP port ${port}` : `SMPP TLS port ${port ?? ''}`.trim();
      const flag = port === config.inserter.smppPort ? '--smpp-port / SMPP_PORT' : '--smpp-tls-port / SMPP_TLS_PORT';
      throw new SmscError('PORT_IN_USE', `${what} on ${config.inserter.host} is in use (${flag}).`, { cause: error });
    }
    throw error;
  });
  opened.add('SMPP server', () => inserter.shutdown(500));
  const observability = await startProcessObservability({
    db,
    kind: 'inserter',
    config,
    logger: createLogger('observability'),
    metrics,
    info: () => ({
      smppPort: listening.port,
      ...(listening.tlsPort !== undefined ? { smppTlsPort: listening.tlsPort } : {}),
      sessions: inserter.sessionCount,
      clock: { offsetMs: clockGuard.last?.offsetMs ?? null, ok: clockGuard.ok },
    }),
  });
  return { store, inserter, writer, esmeDelivery, clockGuard, observability, rateLimiter, redis, listening, intake };
}
