import type { SmsDocument } from '../store/sms-document.ts';
import type { Router } from '../routing/router.ts';
import type { OutboundSession, SelectFailure, Sender } from '../delivery/submit-outcome.ts';
import type { ConnectorPool } from './connector-pool.ts';

/**
 * Picks the connector for a destination's batch: the message's own connectors when it names
 * them, else the route's; the first one that is bound (primary, then backups).
 */
export class ConnectorSender implements Sender {
  readonly acceptedState = 'submitted';
  readonly correlates = true;
  readonly #pool: ConnectorPool;
  readonly #router: Router;

  constructor(pool: ConnectorPool, router: Router) {
    this.#pool = pool;
    this.#router = router;
  }

  async select(first: SmsDocument): Promise<OutboundSession | SelectFailure> {
    let names = first.target.kind === 'connector' ? (first.target.connectors ?? []) : [];
    if (names.length === 0) {
      const route = await this.#router.route(first.destKey);
      if (!route || route.connectors.length === 0) return { kind: 'permanent', error: `no route for destination` };
      names = route.connectors;
    }
    for (const name of names) {
      const connector = this.#pool.get(name);
      if (connector?.bound) return { connector: name, submit: (sms, context) => connector.submit(sms, context) };
    }
    return { kind: 'temporary', error: `no bound connector among ${names.join(', ')}` };
  }
}
