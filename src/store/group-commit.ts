import {
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoServerSelectionError,
  type Collection,
  type Db,
  type WriteConcernSettings,
} from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import { SmscError, StoreErrorCode, type StoreErrorCodeName } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { Collections } from './collections.ts';
import { DEFAULT_WRITE_CONCERN } from './mongo-client.ts';
import { documentWriteErrors, DUPLICATE_KEY, type DocumentWriteError } from './mongo-errors.ts';
import type { EventDocument, SmsDocument } from '../domain/sms-document.ts';

/**
 * The write was not acknowledged: the message may or may not be stored, so the ESME is told to
 * resubmit. Which status says so is decided where SMPP is spoken (`commandStatusOf` in
 * src/smpp/errors.ts: ESME_RMSGQFUL for QUEUE_FULL, when we refused it for lack of room, else
 * ESME_RSYSERR); the store knows nothing of SMPP.
 */
export class StoreWriteError extends SmscError {
  constructor(code: StoreErrorCodeName, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}

export interface GroupCommitOptions {
  /** Most documents in one insertMany (default 256); a full batch goes out at once. */
  maxBatchDocs?: number;
  /**
   * When no insert is in flight, how long the first queued document waits for others before its
   * batch goes out (default 0: at the end of the current I/O turn, so PDUs read together share it).
   * While an insert is in flight nothing waits on a timer: what arrives meanwhile is the next batch.
   */
  maxDelayMs?: number;
  /** insertMany calls allowed at once (default 4): only full batches overlap an insert in flight. */
  maxInFlight?: number;
  /** Documents waiting for a batch beyond which writes are refused with ESME_RMSGQFUL (default 20,000). */
  maxQueuedDocs?: number;
  /** Default {w:'majority', j:true}: an acknowledged message survives the loss of the primary. */
  writeConcern?: WriteConcernSettings;
  /** A batch not acknowledged within this is answered as failed (default 10 s). */
  timeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /**
   * Called with the number of documents in each batch once its insertMany is done: the process
   * edge records it as `smsc_batch_size{kind="insert"}` (the store imports no metrics).
   */
  onBatch?: (docs: number) => void;
}

export interface GroupCommitStats {
  batches: number;
  documents: number;
  failedDocuments: number;
  events: number;
  largestBatch: number;
  /** Sum of insertMany round trips, in ms (divide by `batches` for the mean). */
  batchMs: number;
  /** Most insertMany calls that were in flight at once. */
  maxInFlight: number;
}

interface Waiter {
  doc: SmsDocument;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Group commit for `sms`: documents written at about the same time (by any session) share one
 * unordered insertMany and one wake-up in `events`. Each caller's promise settles when its batch
 * is acknowledged with the configured write concern — that is the moment a submit may be answered.
 *
 * Batches form the way a database's group commit forms them, without idle waiting: when no insert
 * is in flight, what is queued goes out at once (at the end of the current I/O turn); while one is
 * in flight, arriving documents queue and go out together the moment it is acknowledged. A batch
 * that reaches maxBatchDocs goes out at once, beside the one in flight, up to maxInFlight.
 */
export class GroupCommitWriter {
  readonly #sms: Collection<SmsDocument>;
  readonly #events: Collection<EventDocument>;
  readonly #maxBatchDocs: number;
  readonly #maxDelayMs: number;
  readonly #maxInFlight: number;
  readonly #maxQueuedDocs: number;
  readonly #writeConcern: WriteConcernSettings;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onBatch: ((docs: number) => void) | undefined;
  #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #inFlight = 0;
  #closed = false;
  #idle: (() => void)[] = [];
  #pendingEvents: EventDocument[] = [];
  #eventsInFlight = false;
  #eventsDone: Promise<void> = Promise.resolve();
  readonly stats: GroupCommitStats = {
    batches: 0,
    documents: 0,
    failedDocuments: 0,
    events: 0,
    largestBatch: 0,
    batchMs: 0,
    maxInFlight: 0,
  };

  constructor(db: Db, options: GroupCommitOptions = {}) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#events = db.collection<EventDocument>(Collections.events);
    this.#maxBatchDocs = options.maxBatchDocs ?? 256;
    this.#maxDelayMs = options.maxDelayMs ?? 0;
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.#maxQueuedDocs = options.maxQueuedDocs ?? 20_000;
    this.#writeConcern = options.writeConcern ?? DEFAULT_WRITE_CONCERN;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#onBatch = options.onBatch;
  }

  /** The write concern every batch waits for (other writes that answer an ESME use it too). */
  get writeConcern(): WriteConcernSettings {
    return this.#writeConcern;
  }

  /** Resolves once `doc` is acknowledged; rejects with a StoreWriteError otherwise. */
  write(doc: SmsDocument): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreWriteError(StoreErrorCode.CLOSED, 'the store writer is closed'));
    if (this.#queue.length >= this.#maxQueuedDocs) {
      return Promise.reject(new StoreWriteError(StoreErrorCode.QUEUE_FULL, 'too many messages waiting to be stored'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ doc, resolve, reject });
      if (this.#queue.length >= this.#maxBatchDocs) this.#flush();
      // Idle: out at the end of this I/O turn. Busy: the batch in flight takes this one along when it is acknowledged.
      else if (this.#inFlight === 0) this.#schedule();
    });
  }

  /** Several documents in the same batch (the parts of one PDU); one result per document. */
  writeAll(docs: SmsDocument[]): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(docs.map((doc) => this.write(doc)));
  }

  /** Writes what is queued, waits for every batch in flight, and refuses further writes. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
    // The last wake-ups go out before the caller closes the connection.
    while (this.#eventsInFlight) await this.#eventsDone;
  }

  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    this.#flush();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const fire = () => {
      this.#timer = undefined;
      // A full batch may have gone out meanwhile; the rest then waits for its acknowledgement.
      if (this.#inFlight === 0) this.#flush();
    };
    this.#timer = this.#maxDelayMs > 0 ? setTimeout(fire, this.#maxDelayMs) : setImmediate(fire);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    if (this.#maxDelayMs > 0) clearTimeout(this.#timer as NodeJS.Timeout);
    else clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
      const batch = this.#queue.splice(0, this.#maxBatchDocs);
      this.#inFlight++;
      if (this.#inFlight > this.stats.maxInFlight) this.stats.maxInFlight = this.#inFlight;
      void this.#writeBatch(batch).finally(() => {
        this.#inFlight--;
        // What queued while this batch was in flight is the next batch: it goes out now.
        if (this.#queue.length > 0) this.#flush();
        else if (this.#inFlight === 0) this.#idle.splice(0).forEach((resolve) => resolve());
      });
    }
    if (this.#queue.length === 0) this.#clearTimer();
  }

  async #writeBatch(batch: Waiter[]): Promise<void> {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const error = new StoreWriteError(StoreErrorCode.WRITE_TIMEOUT, `insert not acknowledged within ${this.#timeoutMs} ms`);
      for (const waiter of batch) waiter.reject(error);
      this.stats.failedDocuments += batch.length;
      this.#logger.error({ docs: batch.length }, 'store write timed out; the ESMEs were told to resubmit');
    }, this.#timeoutMs);
    const docs = batch.map((waiter) => waiter.doc);
    const startedAt = performance.now();
    const { failed, allFailed } = await this.#insertWithRetry(docs, () => settled);
    clearTimeout(timer);
    this.stats.batches++;
    this.stats.batchMs += performance.now() - startedAt;
    this.#onBatch?.(docs.length);
    this.stats.largestBatch = Math.max(this.stats.largestBatch, docs.length);
    if (settled) return;
    let stored = 0;
    let due = Infinity;
    for (let i = 0; i < batch.length; i++) {
      const error = allFailed ?? failed.get(i);
      if (error) {
        batch[i].reject(error);
        this.stats.failedDocuments++;
      } else {
        stored++;
        due = Math.min(due, docs[i].nextAttemptAt.getTime());
        batch[i].resolve();
      }
    }
    this.stats.documents += stored;
    if (stored > 0) this.#notify(stored, due, docs);
  }

  /**
   * One unordered insertMany of the batch; when the connection or the server fails under it (the
   * write may or may not have been applied), the same documents are sent again until the batch's
   * deadline. That is safe because every document carries its own new `_id`: on a retry, a
   * duplicate key on `_id` means the earlier attempt stored it. So a MongoDB restart or failover
   * shorter than the timeout delays submits instead of failing them, and none is stored twice.
   *
   * filter:  none: an unordered insertMany, with the store's write concern
   * insert:  the batch's documents, each under its own new `_id`
   * returns: per document, its error (a document error, or all failed); on a retry a duplicate
   *          `_id` counts as stored.
   * safe:    no other writer knows these `_id`s, so a duplicate key can only be an earlier attempt
   *          of this batch. But once the batch's timer has answered the waiters (WRITE_TIMEOUT: the
   *          ESMEs resubmit), an attempt already sent may still be applied: that message is then
   *          stored twice (the resubmission has new ids) and nothing takes the first copy back.
   */
  async #insertWithRetry(docs: SmsDocument[], timedOut: () => boolean): Promise<{ failed: Map<number, Error>; allFailed?: Error }> {
    const failed = new Map<number, Error>();
    for (let attempt = 0; ; attempt++) {
      try {
        // insertMany: unordered, so one bad document does not hold back the others.
        await this.#sms.insertMany(docs, { ordered: false, writeConcern: this.#writeConcern });
        return { failed };
      } catch (error) {
        const writeErrors = documentWriteErrors(error);
        if (writeErrors !== null) {
          for (const writeError of writeErrors) {
            if (writeError.index >= docs.length) continue;
            // Stored by an earlier attempt whose answer was lost.
            if (attempt > 0 && isDuplicateId(writeError)) continue;
            failed.set(writeError.index, new StoreWriteError(StoreErrorCode.WRITE_FAILED, writeError.errmsg ?? 'insert failed', error));
          }
          if (failed.size > 0)
            this.#logger.error(
              { err: (error as Error).message, docs: docs.length, failed: failed.size },
              'store write failed for some documents',
            );
          return { failed };
        }
        if (!isTransient(error) || timedOut()) {
          this.#logger.error({ err: (error as Error).message, docs: docs.length, attempts: attempt + 1 }, 'store write failed');
          return { failed, allFailed: new StoreWriteError(StoreErrorCode.WRITE_FAILED, 'insert failed', error) };
        }
        if (attempt === 0)
          this.#logger.warn({ err: (error as Error).message, docs: docs.length }, 'store write interrupted; retrying the same documents');
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        // The batch's timer has answered every waiter by now; #writeBatch discards this result.
        if (timedOut()) return { failed };
      }
    }
  }

  /**
   * Wake-ups for stored batches; w:1 and not awaited: a lost notification only delays work until a
   * sweep. At most one events write is in flight: batches stored meanwhile are merged (per destKey)
   * into the next one, so under load there are far fewer events than batches — every tailing
   * worker reads each of them, and the store does one command less per batch.
   */
  #notify(count: number, due: number, docs: SmsDocument[]): void {
    let destKey: string | undefined = docs[0].destKey;
    for (let i = 1; i < docs.length; i++) {
      if (docs[i].destKey !== destKey) {
        destKey = undefined;
        break;
      }
    }
    let merged = this.#pendingEvents.find((event) => event.destKey === destKey);
    // Beyond a handful of distinct keys, one keyless event (a general wake-up) takes the rest.
    if (!merged && this.#pendingEvents.length >= MAX_PENDING_EVENTS) {
      destKey = undefined;
      merged = this.#pendingEvents.find((event) => event.destKey === undefined);
    }
    if (merged) {
      merged.count = (merged.count ?? 0) + count;
      if (due < merged.due.getTime()) merged.due = new Date(due);
      delete merged.smsId;
    } else {
      const event: EventDocument = { ts: this.#clock.now(), count, due: new Date(due) };
      if (destKey !== undefined) event.destKey = destKey;
      if (docs.length === 1) event.smsId = docs[0]._id;
      this.#pendingEvents.push(event);
    }
    if (!this.#eventsInFlight) this.#sendEvents();
  }

  /**
   * filter:  none: one insertOne / unordered insertMany into the capped `events` (w: 1)
   * insert:  the merged wake-ups {ts, count, due, destKey?, smsId?}
   * returns: nothing; a failure is logged.
   * safe:    hints only: a lost one delays work until a sweep, a repeated one costs a wasted look;
   *          at most one such write is in flight per writer.
   */
  #sendEvents(): void {
    const events = this.#pendingEvents;
    if (events.length === 0) return;
    this.#pendingEvents = [];
    const ts = this.#clock.now();
    for (const event of events) event.ts = ts;
    this.stats.events += events.length;
    this.#eventsInFlight = true;
    const write =
      events.length === 1
        ? this.#events.insertOne(events[0], EVENT_WRITE)
        : this.#events.insertMany(events, { ...EVENT_WRITE, ordered: false });
    this.#eventsDone = write
      .then(
        () => {},
        (error: Error) => {
          this.#logger.warn({ err: error.message }, 'could not write the events notification (workers will find the work on a sweep)');
        },
      )
      .finally(() => {
        this.#eventsInFlight = false;
        this.#sendEvents();
      });
  }
}

const MAX_PENDING_EVENTS = 16;
const EVENT_WRITE = Object.freeze({ writeConcern: Object.freeze({ w: 1 }) });

function isDuplicateId(writeError: DocumentWriteError): boolean {
  if (writeError.code !== DUPLICATE_KEY) return false;
  const pattern = writeError.keyPattern;
  if (pattern !== null && typeof pattern === 'object') {
    const keys = Object.keys(pattern);
    return keys.length === 1 && keys[0] === '_id';
  }
  return / index: _id_ /.test(writeError.errmsg ?? '');
}

/** Server codes after which a write may be sent again (MongoDB's retryable-writes specification). */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** The write may not have reached the server, or the server went away under it: worth sending again. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof MongoError)) return false;
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('ResetPool')) return true;
  const code = typeof error.code === 'number' ? error.code : undefined;
  // The driver hands a bulk insert that failed as a whole on its own error (a connection closed
  // under it) back as a MongoBulkWriteError without a server code.
  if (error instanceof MongoBulkWriteError && code === undefined) return true;
  return code !== undefined && RETRYABLE_CODES.has(code);
}
