import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db, WriteConcernSettings } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { Collections } from '../store/collections.ts';
import { isDuplicateKeyError } from '../store/mongo-errors.ts';

/**
 * One Idempotency-Key: `pending` while its messages are being stored (with the ids they were
 * given, so a retry after a crash stores the same messages under the same ids), then `done` with
 * the answer a retry gets back. `_id` is `<scope>:<key>`; a TTL index removes it at `expiresAt`.
 */
export interface IdempotencyDocument {
  _id: string;
  requestHash: string;
  state: 'pending' | 'done';
  /** Whoever stores the messages now; a takeover of a stale pending record changes it. */
  token: string;
  /** Per message of the request, the ids of its parts ([] for one refused before storing). */
  plannedIds: string[][];
  statusCode?: number;
  body?: unknown;
  createdAt: Date;
  /** When the current holder took it (a pending record older than the stale age may be taken over). */
  heldSince: Date;
  expiresAt: Date;
}

export type ExistingKey =
  | { kind: 'replay'; statusCode: number; body: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in-progress'; retryAfterSeconds: number }
  | { kind: 'taken-over'; token: string; plannedIds: string[][] }
  | { kind: 'gone' };

export interface IdempotencyOptions {
  /** How long an answer is kept (default 24 h). */
  ttlMs?: number;
  /**
   * A pending record older than this belongs to a request that died (its store timeout is 10 s);
   * a retry takes it over and finishes the work (default 30 s).
   */
  staleMs?: number;
  writeConcern?: WriteConcernSettings;
}

/** The key as the client sent it: printable ASCII, 1-255 characters (Stripe's and the IETF draft's limits). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function requestHashOf(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('base64');
}

export class IdempotencyStore {
  readonly #keys: Collection<IdempotencyDocument>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #staleMs: number;
  readonly #wc: { writeConcern?: WriteConcernSettings };

  constructor(db: Db, clock: Clock, options: IdempotencyOptions = {}) {
    this.#keys = db.collection<IdempotencyDocument>(Collections.idempotencyKeys);
    this.#clock = clock;
    this.#ttlMs = options.ttlMs ?? 24 * 3600_000;
    this.#staleMs = options.staleMs ?? 30_000;
    this.#wc = options.writeConcern ? { writeConcern: options.writeConcern } : {};
  }

  /**
   * Claims the key for a request about to store messages with `plannedIds`.
   *
   * filter:  none: an insert; the unique `_id` (scope:key) is the fence
   * insert:  {_id, requestHash, state: 'pending', token, plannedIds, createdAt, heldSince, expiresAt}
   * returns: the token, or null when the key exists (then call `existing`).
   * safe:    the unique `_id` makes exactly one of racing requests the holder. Written with the
   *          store's write concern: the record must be as durable as the messages.
   */
  async claim(id: string, requestHash: string, plannedIds: string[][]): Promise<string | null> {
    const now = this.#clock.now();
    const token = randomBytes(12).toString('hex');
    try {
      await this.#keys.insertOne(
        {
          _id: id,
          requestHash,
          state: 'pending',
          token,
          plannedIds,
          createdAt: now,
          heldSince: now,
          expiresAt: new Date(now.getTime() + this.#ttlMs),
        },
        this.#wc,
      );
      return token;
    } catch (error) {
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
  }

  /** What a request whose key is already taken gets: the first answer, a refusal, or the work of a request that died. */
  async existing(id: string, requestHash: string): Promise<ExistingKey> {
    const doc = await this.#keys.findOne({ _id: id });
    if (!doc) return { kind: 'gone' };
    if (doc.requestHash !== requestHash) return { kind: 'mismatch' };
    if (doc.state === 'done') return { kind: 'replay', statusCode: doc.statusCode ?? 200, body: doc.body };
    const now = this.#clock.now();
    const age = now.getTime() - doc.heldSince.getTime();
    if (age < this.#staleMs) return { kind: 'in-progress', retryAfterSeconds: Math.max(1, Math.ceil((this.#staleMs - age) / 1000)) };
    const token = randomBytes(12).toString('hex');
    // filter:  {_id, state: 'pending', token: <the dead holder's>}
    // update:  {$set: {token: new, heldSince: now}}, with the store's write concern
    // returns: matchedCount; 0 = another retry took it over (or it finished) first.
    // safe:    a CAS on the token read: of racing retries one takes over. "Dead" is judged by age
    //          on this host's clock against the holder's heldSince: a slow holder may still be at
    //          work, but both store under the planned ids (duplicate keys), and its complete or
    //          release is fenced on its old token and writes nothing.
    const result = await this.#keys.updateOne(
      { _id: id, state: 'pending', token: doc.token },
      { $set: { token, heldSince: now } },
      this.#wc,
    );
    if (result.matchedCount === 0) return { kind: 'in-progress', retryAfterSeconds: 1 };
    return { kind: 'taken-over', token, plannedIds: doc.plannedIds };
  }

  /**
   * Records the answer.
   *
   * filter:  {_id, token} (only the holder finishes it)
   * update:  {$set: {state: 'done', statusCode, body}}, with the store's write concern
   * returns: nothing; matching nothing = the key was taken over (or expired): its holder answers.
   * safe:    fenced on the token, so a holder that lost the key writes nothing; a repeat writes
   *          the same answer again.
   */
  async complete(id: string, token: string, statusCode: number, body: unknown): Promise<void> {
    await this.#keys.updateOne({ _id: id, token }, { $set: { state: 'done', statusCode, body } }, this.#wc);
  }

  /**
   * Forgets a key whose request stored nothing (or failed in a way a retry may cure), so the retry
   * starts afresh.
   *
   * filter:  {_id, token, state: 'pending'}
   * delete:  at most that record, with the store's write concern
   * returns: nothing; matching nothing = taken over or already completed: it stays.
   * safe:    fenced on the token and 'pending', so neither a new holder's key nor a recorded
   *          answer is deleted; a repeat deletes nothing.
   */
  async release(id: string, token: string): Promise<void> {
    await this.#keys.deleteOne({ _id: id, token, state: 'pending' }, this.#wc);
  }
}
