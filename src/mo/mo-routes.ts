import type { Collection, Db } from 'mongodb';
import { normaliseDestination } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import { pickRoute, type RouteDocument } from '../routing/route-document.ts';
import { Collections } from '../store/collections.ts';
import { esmeLockKey } from '../receipts/receipt-builder.ts';
import type { SmppAddress } from '../store/sms-document.ts';

/**
 * MO routing: among the routes that name an ESME (`smsc route add --prefix P --esme SYSTEM_ID`),
 * the longest prefix of the destination (e.g. the short code), then priority, then weight.
 * Connector routes are ignored here, so a default route to a connector never swallows MO.
 */
export class MoRoutes {
  readonly #routes: Collection<RouteDocument>;
  readonly #refreshMs: number;
  readonly #logger: Logger;
  #cache: RouteDocument[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(db: Db, logger: Logger, options: { refreshMs?: number } = {}) {
    this.#routes = db.collection<RouteDocument>(Collections.routes);
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#logger = logger;
  }

  async #refresh(): Promise<void> {
    if (Date.now() - this.#loadedAt < this.#refreshMs) return;
    this.#loading ??= (async () => {
      try {
        this.#cache = await this.#routes.find({ esme: { $exists: true, $ne: '' } }, { projection: { _id: 0 } }).toArray();
        this.#loadedAt = Date.now();
      } catch (error) {
        this.#logger.warn({ err: error }, 'could not reload MO routes');
        if (this.#loadedAt === -Infinity) throw error;
      } finally {
        this.#loading = undefined;
      }
    })();
    await this.#loading;
  }

  /** The system_id that receives MO for `destKey`, or null when no ESME route matches. */
  async esmeFor(destKey: string): Promise<string | null> {
    await this.#refresh();
    // destKeys of international numbers start with '+'; route prefixes are digits.
    return pickRoute(this.#cache, destKey.replace(/^\+/, ''))?.esme ?? null;
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
