import type { Collection, Db, Filter, ObjectId } from 'mongodb';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { decideRoute, type RouteEntry, type RoutingDecision, type RoutingRequest } from './decide-route.ts';
import { pickRoute, type RouteDocument } from './route-document.ts';

/**
 * Routes from the `routes` collection, re-read every `refreshMs` so changes take effect in
 * running workers without a restart. `filter` narrows which routes count (MO uses ESME routes).
 */
export class Router {
  readonly #routes: Collection<RouteDocument & { _id: ObjectId }>;
  readonly #refreshMs: number;
  readonly #logger: Logger;
  readonly #filter: Filter<RouteDocument>;
  readonly #random: () => number;
  #cache: RouteEntry[] = [];
  #intakeActions = false;
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(db: Db, logger: Logger, options: { refreshMs?: number; filter?: Filter<RouteDocument>; random?: () => number } = {}) {
    this.#routes = db.collection<RouteDocument & { _id: ObjectId }>(Collections.routes);
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#logger = logger;
    this.#filter = options.filter ?? {};
    this.#random = options.random ?? Math.random;
  }

  #refresh(): Promise<void> {
    if (Date.now() - this.#loadedAt < this.#refreshMs) return Promise.resolve();
    this.#loading ??= (async () => {
      try {
        const docs = await this.#routes.find(this.#filter as Filter<RouteDocument & { _id: ObjectId }>).toArray();
        this.#cache = docs.map(({ _id, ...rest }) => ({ ...rest, id: _id.toHexString() }));
        this.#intakeActions = this.#cache.some((route) => route.action !== undefined && route.action !== 'deliver');
        this.#loadedAt = Date.now();
      } catch (error) {
        // Keep routing with what we have; the next call tries again.
        this.#logger.warn({ err: error }, 'could not reload routes');
        if (this.#loadedAt === -Infinity) throw error;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** Loads the routes once (start-up); rejects when they cannot be read at all. */
  async ready(): Promise<void> {
    await this.#refresh();
  }

  /** MO routing by destination prefix (see pickRoute). */
  async route(destKey: string): Promise<RouteDocument | null> {
    await this.#refresh();
    return pickRoute(this.#cache, destKey, this.#random);
  }

  /** The routing decision on the current routes (see decideRoute). */
  async decide(request: RoutingRequest): Promise<RoutingDecision> {
    await this.#refresh();
    return decideRoute(this.#cache, request, this.#random);
  }

  /**
   * The decision on the routes in memory, without waiting: for the submit path, which must not
   * wait on a reload. A stale cache is refreshed in the background for the next call.
   */
  decideNow(request: RoutingRequest): RoutingDecision {
    if (Date.now() - this.#loadedAt >= this.#refreshMs) this.#refresh().catch(() => undefined);
    return decideRoute(this.#cache, request, this.#random);
  }

  /** Whether any loaded route drops or auto-replies (the submit path skips routing otherwise). */
  get hasIntakeActions(): boolean {
    if (Date.now() - this.#loadedAt >= this.#refreshMs) this.#refresh().catch(() => undefined);
    return this.#intakeActions;
  }
}
