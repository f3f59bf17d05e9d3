import { systemClock, type Clock } from '../domain/clock.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { Router } from '../routing/router.ts';
import type { RoutingDecision } from '../routing/decide-route.ts';
import { routingRequestOf } from '../routing/message-request.ts';
import type { ChargingGate } from '../routing/charging-gate.ts';
import type { OutboundSession, SelectFailure, Sender, SubmitOutcome } from '../domain/submit-outcome.ts';
import type { ConnectorPool } from './connector-pool.ts';
import type { OutboundConnector } from './outbound-connector.ts';

interface Choice {
  connector: OutboundConnector;
  decision: RoutingDecision | undefined;
}

export interface ConnectorSenderOptions {
  /** Where the delivery-stage routing decisions are counted (`smsc_route_decisions_total`). */
  metrics: Metrics;
  /** Asks the charging endpoint for messages on charged routes; without it they wait (temporary). */
  charging?: ChargingGate;
  clock?: Clock;
}

/**
 * Picks the connector for each message: the message's own connectors when it names them, else
 * the routing decision's (decideRoute, made per message: routes may match on source, account and
 * time, so two messages to one destination can take different routes); the first one that is
 * bound (primary, then backups). A batch stays on the session `select` chose: a later message
 * whose route does not allow that connector goes back to the queue untried and leads the next
 * round. While none of a message's connectors is bound it waits without using an attempt.
 * Charged routes ask the charging endpoint before a message's first submit.
 */
export class ConnectorSender implements Sender {
  readonly acceptedState = 'submitted';
  readonly correlates = true;
  readonly #pool: ConnectorPool;
  readonly #router: Router;
  readonly #charging: ChargingGate | undefined;
  readonly #clock: Clock;
  readonly #metrics: Metrics;

  constructor(pool: ConnectorPool, router: Router, options: ConnectorSenderOptions) {
    this.#pool = pool;
    this.#router = router;
    this.#charging = options.charging;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics;
  }

  async select(first: SmsDocument): Promise<OutboundSession | SelectFailure> {
    const choice = await this.#choose(first);
    if ('kind' in choice) return choice;
    const session = choice.connector;
    return {
      connector: session.name,
      submit: async (sms, context): Promise<SubmitOutcome> => {
        const own = sms === first ? choice : await this.#choose(sms, session);
        if ('kind' in own) return own;
        // The round correlates what this session accepts with its connector: another connector's
        // message waits for a round of its own (not an attempt; the order per destination holds).
        if (own.connector !== session) return { kind: 'unavailable', error: `routed over ${own.connector.name}, not ${session.name}` };
        if (own.decision?.charged) {
          if (!this.#charging)
            return { kind: 'temporary', connector: session.name, error: 'charged route, but this process has no charging gate' };
          const refused = await this.#charging.check(sms, own.decision, session.name, context.signal);
          if (refused) return refused;
        }
        return session.submit(sms, context);
      },
    };
  }

  /** The connector for one message; `preferred` (the batch's session) when its route allows it. */
  async #choose(sms: SmsDocument, preferred?: OutboundConnector): Promise<Choice | SelectFailure> {
    let names = sms.target.kind === 'connector' ? (sms.target.connectors ?? []) : [];
    let decision: RoutingDecision | undefined;
    if (names.length === 0) {
      decision = await this.#router.decide(routingRequestOf(sms, this.#clock.now()));
      this.#metrics.routeDecisionsTotal.inc({ stage: 'delivery', action: decision.action });
      if (decision.action === 'none') return { kind: 'permanent', error: 'no route for destination' };
      if (decision.action !== 'deliver') {
        // Drop and auto-reply act at intake; a route changed to them afterwards ends the message here.
        return {
          kind: 'permanent',
          error: `route ${decision.route?.id ?? ''} ${decision.action === 'drop' ? 'drops' : 'auto-replies to'} this message (changed after it was accepted)`,
        };
      }
      names = decision.connectors;
    }
    if (preferred && names.includes(preferred.name) && preferred.bound) return { connector: preferred, decision };
    for (const name of names) {
      const connector = this.#pool.get(name);
      if (connector?.bound) return { connector, decision };
    }
    // Our link is down, not the message's fault: no attempt is used up, so an outage of any length
    // neither makes messages undeliverable nor stretches their backoff past its end.
    return { kind: 'waiting', error: `no bound connector among ${names.join(', ')}` };
  }
}
