import type { Db, Filter } from 'mongodb';
import type { Clock, Sender, SmsDocument } from '../../../src/domain/index.ts';
import { CorrelationWriter } from '../../../src/receipts/index.ts';
import { type DeliveryOptions, DeliveryRound, type AcceptedMessage, LeaseManager, OutcomeWriter } from '../../../src/delivery/index.ts';
import { silentLogger, type Logger } from '../../../src/logging/index.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

export interface TestRound {
  round: DeliveryRound;
  leases: LeaseManager;
  outcomes: OutcomeWriter;
  accepted: AcceptedMessage[];
  close(): Promise<void>;
}

/** A delivery round as a worker process builds it (its own lease manager, outcome and correlation writers), for protocol tests. */
export function testRound(
  db: Db,
  clock: Clock,
  options: {
    owner: string;
    sender: Sender;
    delivery: Readonly<DeliveryOptions>;
    claimFilter?: Filter<SmsDocument>;
    logger?: Logger;
    startLeases?: boolean;
  },
): TestRound {
  const logger = options.logger ?? silentLogger;
  const metrics = createMetrics();
  const leases = new LeaseManager(db, clock, logger, { leaseMs: options.delivery.leaseMs, metrics });
  if (options.startLeases) leases.start();
  const outcomes = new OutcomeWriter(db, leases, logger, metrics);
  const correlations = new CorrelationWriter(db, logger);
  const accepted: AcceptedMessage[] = [];
  const filter = options.claimFilter ?? { 'target.kind': 'connector' };
  const round = new DeliveryRound({
    db,
    clock,
    owner: options.owner,
    logger,
    metrics,
    sender: options.sender,
    options: options.delivery,
    claimFilter: () => filter,
    leases,
    outcomes,
    correlations,
    onAccepted: (list) => accepted.push(...list),
  });
  return {
    round,
    leases,
    outcomes,
    accepted,
    close: async () => {
      outcomes.close();
      correlations.close();
      await leases.close();
    },
  };
}
