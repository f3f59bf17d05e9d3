import type { Collection, Db } from 'mongodb';
import type { Logger } from '../logging/logger.ts';
import { leasesLostTotal } from '../metrics/metrics.ts';
import { Collections } from '../store/collections.ts';
import type { LockDocument } from '../store/sms-document.ts';
import { Correlations, type CorrelationDocument } from './correlations.ts';
import type { FencedUpdate, MessageLocks } from './message-locks.ts';

export interface FinishRequest {
  token: string;
  correlations: CorrelationDocument[];
  updates: FencedUpdate[];
  /** The destination lock to let go once the outcomes are stored. */
  release: { destKey: string; owner: string };
}

interface Pending extends FinishRequest {
  resolve: (fencedOff: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the end of batches (steps e and f): the batches that finish while one write
 * is in flight are stored together — one insert of correlations, then one bulk of fenced
 * outcome updates, then one delete of their destination locks — in that order, so correlations
 * exist before the states that make them visible and a destination is free only once its
 * outcomes are stored. Resolves each request with the fenced writes that matched nothing in its
 * flush (shared by the flush, for metrics and logs only).
 */
export class FinishWriter {
  readonly #messages: MessageLocks;
  readonly #correlations: Correlations;
  readonly #locks: Collection<LockDocument>;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #flushing = false;

  constructor(db: Db, messages: MessageLocks, logger: Logger) {
    this.#messages = messages;
    this.#correlations = new Correlations(db);
    this.#locks = db.collection<LockDocument>(Collections.locks);
    this.#logger = logger;
  }

  finish(request: FinishRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...request, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        await this.#correlations.record(group.flatMap((r) => r.correlations));
        let fencedOff = 0;
        const total = group.reduce((n, r) => n + r.updates.length, 0);
        if (total > 0) {
          // Each update is filtered on its own batch's token (see MessageLocks.applyFenced).
          const matched = await this.#messages.applyFencedMany(group.flatMap((r) => r.updates.map((u) => ({ ...u, token: r.token }))));
          fencedOff = total - matched;
          if (fencedOff > 0) {
            leasesLostTotal.inc({ kind: 'message' }, fencedOff);
            this.#logger.warn({ lost: fencedOff }, 'lease lost on part of a batch; its writes were fenced off');
          }
        }
        // filter: {_id ∈ destKeys, owner ∈ owners, token ∈ tokens} — tokens are unique per batch, so each lock matches only its own holder's token
        // delete: those destination locks
        // returns: deletedCount; fewer = a lease was taken over meanwhile; the new holder's lock stays.
        await this.#locks.deleteMany({
          _id: { $in: group.map((r) => r.release.destKey) },
          owner: { $in: [...new Set(group.map((r) => r.release.owner))] },
          token: { $in: group.map((r) => r.token) },
        });
        for (const request of group) request.resolve(fencedOff);
      } catch (error) {
        for (const request of group) request.reject(error);
      }
    }
    this.#flushing = false;
  }
}
