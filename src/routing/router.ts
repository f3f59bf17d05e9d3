import type { Collection, Db, Filter } from 'mongodb';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { pickRoute, type RouteDocument } from './route-document.ts';

/**
 * Routes from the `routes` collection, re-read every `refreshMs` so changes take effect in
 * running workers without a restart. `filter` narrows which routes count (MO uses ESME routes).
 */
export class Router {
  readonly #routes: Collection<RouteDocument>;
  readonly #refreshMs: number;
  readonly #logger: Logger;
  readonly #filter: Filter<RouteDocument>;
  #cache: RouteDocument[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(db: Db, logger: Logger, options: { refreshMs?: number; filter?: Filter<RouteDocument> } = {}) {
    this.#routes = db.collection<RouteDocument>(Collections.routes);
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#logger = logger;
    this.#filter = options.filter ?? {};
  }

  async #refresh(): Promise<void> {
    if (Date.now() - this.#loadedAt < this.#refreshMs) return;
    this.#loading ??= (async () => {
      try {
        this.#cache = await this.#routes.find(this.#filter, { projection: { _id: 0 } }).toArray();
        this.#loadedAt = Date.now();
      } catch (error) {
        // Keep routing with what we have; the next call tries again.
        this.#logger.warn({ err: error }, 'could not reload routes');
        if (this.#loadedAt === -Infinity) throw error;
      } finally {
        this.#loading = undefined;
      }
    })();
    await this.#loading;
  }

  async route(destKey: string): Promise<RouteDocument | null> {
    await this.#refresh();
    return pickRoute(this.#cache, destKey);
  }
}
