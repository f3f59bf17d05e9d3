import type { Db } from 'mongodb';
import { normaliseDestination } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import { Router } from './router.ts';
import { esmeLockKey } from '../receipts/receipt-builder.ts';
import type { SmppAddress } from '../domain/sms-document.ts';

/**
 * MO routing: among the routes that name an ESME (`smsc route add --prefix P --esme SYSTEM_ID`),
 * the longest prefix of the destination (e.g. the short code), then priority, then weight.
 * Connector routes are ignored here, so a default route to a connector never swallows MO.
 */
export class MoRoutes {
  readonly #router: Router;

  constructor(db: Db, logger: Logger, options: { refreshMs?: number } = {}) {
    this.#router = new Router(db, logger, { refreshMs: options.refreshMs, filter: { esme: { $exists: true, $ne: '' } } });
  }

  /** The system_id that receives MO for `destKey`, or null when no ESME route matches. */
  async esmeFor(destKey: string): Promise<string | null> {
    return (await this.#router.route(destKey))?.esme ?? null;
  }
}

/** The subscriber an MO comes from, as a lock key part (numbers normalised, sender ids as written). */
export function subscriberKey(source: SmppAddress): string {
  try {
    return normaliseDestination(source).destKey;
  } catch {
    return source.addr;
  }
}

/** `destKey` of an MO message once routed: per ESME and subscriber (see esmeLockKey). */
export function moDestKey(systemId: string, source: SmppAddress): string {
  return esmeLockKey(systemId, subscriberKey(source));
}
