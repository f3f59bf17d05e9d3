import type { Db, WriteConcern } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { MoIntake } from '../mo/mo-intake.ts';
import { MoRoutes } from '../routing/mo-routes.ts';
import { OptOutHandler } from '../policy/opt-out.ts';
import { ReceiptEmitter } from '../receipts/receipt-emitter.ts';
import { ReceiptIntake, type ReceiptIntakeOptions } from '../receipts/receipt-intake.ts';
import { ensureReceiptSchema } from '../receipts/receipt-schema.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface ConnectorIntakeDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Names this process in message history. */
  by: string;
  routesRefreshMs?: number;
  writeConcern?: WriteConcern;
  options?: Partial<ReceiptIntakeOptions>;
}

/**
 * What a deliverer process wires into its connectors: receipts update messages (and create the
 * ESME receipt at once), MO is stored and routed. Pass `intake.handlersFor` to the ConnectorPool.
 */
export async function createConnectorIntake(deps: ConnectorIntakeDeps): Promise<ReceiptIntake> {
  await ensureReceiptSchema(deps.db);
  const emitter = new ReceiptEmitter(deps.db, deps.clock, deps.logger, deps.metrics);
  const optOut = new OptOutHandler({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    writeConcern: deps.writeConcern,
  });
  const mo = new MoIntake({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    routes: new MoRoutes(deps.db, deps.logger, { refreshMs: deps.routesRefreshMs }),
    writeConcern: deps.writeConcern,
    optOut,
  });
  return new ReceiptIntake({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    by: deps.by,
    emitter,
    mo,
    options: deps.options,
  });
}
