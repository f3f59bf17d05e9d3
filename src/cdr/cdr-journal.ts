import { ObjectId, type AnyBulkWriteOperation, type Collection, type Db, type Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { later, literal, ranOut } from '../protocol/expressions.ts';
import { Collections } from '../store/collections.ts';
import { SmsDirection, type SmsDocument } from '../domain/sms-document.ts';
import type { CdrFileWriter } from './cdr-files.ts';
import { CDR_PROJECTION, cdrRecordsOf, formatRecord, type CdrRecordOptions } from './cdr-record.ts';
import type { CdrUploader } from './s3-uploader.ts';

/** `cdrState`: the journal's lease and high-water mark (one document, `_id: 'journal'`). */
export const CDR_STATE = 'cdrState';
const STATE_ID = 'journal';

interface CdrStateDocument {
  _id: string;
  owner?: string;
  leaseUntil?: Date;
  /** The latest `finalAt` journaled; each pass looks again from `hwm - lagMs`. */
  hwm?: Date;
}

export interface CdrJournalOptions {
  format: 'jsonl' | 'csv';
  record: CdrRecordOptions;
  /** Pause between passes (default 1 s). */
  pollMs: number;
  /** How far behind the high-water mark each pass looks again for final writes that became visible late. */
  lagMs: number;
  /** Messages per read (default 500). */
  batchSize?: number;
  /** Only one journal writes at a time; it holds this lease (default 30 s, on MongoDB's clock) and renews it before every batch. */
  leaseMs?: number;
  /** Names the lease holder. */
  owner: string;
}

/** The index the journal reads by (partial: only final messages carry `finalAt`). */
export async function ensureCdrSchema(db: Db): Promise<void> {
  await db
    .collection(Collections.sms)
    .createIndexes([{ key: { finalAt: 1 }, name: 'cdr_finalAt', partialFilterExpression: { finalAt: { $exists: true } } }]);
}

/**
 * The CDR journal: finds final outcomes in the store — whoever wrote them (deliverers, receipt
 * intake, cleanup, cancel_sm, the intake policy) — without hooking into any of them. It reads
 * messages by `finalAt` from its high-water mark (less `lagMs`), skips those already journaled
 * (`cdrAt` equals `finalAt`), appends their records to the open file and syncs it, and only then
 * sets `cdrAt` on them. A message requeued and finalised again has a new `finalAt` and is
 * journaled again. A crash between the file and the marks is repaired at start (the open file's
 * ids are marked), so a restart neither loses nor repeats a record.
 */
export class CdrJournal {
  readonly #sms: Collection<SmsDocument>;
  readonly #state: Collection<CdrStateDocument>;
  readonly #files: CdrFileWriter;
  readonly #uploader: CdrUploader | undefined;
  readonly #o: Required<CdrJournalOptions>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #recovered = false;
  #stateCreated = false;
  #uploadBackoffMs = 0;
  #nextUploadAt = 0;
  readonly stats = { written: 0, uploaded: 0, uploadFailures: 0, recoveredMarks: 0 };

  constructor(
    deps: { db: Db; files: CdrFileWriter; uploader?: CdrUploader; clock: Clock; logger: Logger; metrics: Metrics },
    options: CdrJournalOptions,
  ) {
    this.#sms = deps.db.collection<SmsDocument>(Collections.sms);
    this.#state = deps.db.collection<CdrStateDocument>(CDR_STATE);
    this.#files = deps.files;
    this.#uploader = deps.uploader;
    this.#clock = deps.clock;
    this.#log = deps.logger;
    this.#metrics = deps.metrics;
    this.#o = { batchSize: 500, leaseMs: 30_000, ...options };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.runOnce();
      } catch (error) {
        if (signal.aborted) break;
        this.#log.warn({ err: (error as Error).message }, 'CDR journal pass failed; trying again');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** One pass: (leader only) journal what became final, rotate when due, upload closed files. */
  async runOnce(): Promise<{ leader: boolean; written: number; uploaded: number }> {
    if (!(await this.#holdLease())) return { leader: false, written: 0, uploaded: 0 };
    if (!this.#recovered) {
      await this.#markRecovered(await this.#files.recover());
      this.#recovered = true;
    }
    let written = 0;
    for (let first = true; ; first = false) {
      // Renewed before every batch: a pass through a long backlog outlasts one lease, and another
      // journal must not lead (and write the same records) meanwhile.
      if (!first && !(await this.#holdLease())) {
        this.#log.warn('CDR journal lease lost during a pass; another journal leads now');
        break;
      }
      const n = await this.#journalBatch();
      written += n;
      if (n < this.#o.batchSize) break;
    }
    await this.#files.rotateIfDue();
    const uploaded = await this.uploadPending();
    return { leader: true, written, uploaded };
  }

  /** Uploads closed files (oldest first) until one fails; a failure backs off (1 s doubling to 60 s). */
  async uploadPending(force = false): Promise<number> {
    if (!this.#uploader) return 0;
    if (!force && this.#clock.now().getTime() < this.#nextUploadAt) return 0;
    let uploaded = 0;
    for (const file of await this.#files.closedFiles()) {
      if (!(await this.#uploader.upload(file))) {
        this.stats.uploadFailures++;
        this.#uploadBackoffMs = Math.min(60_000, Math.max(1_000, this.#uploadBackoffMs * 2));
        this.#nextUploadAt = this.#clock.now().getTime() + this.#uploadBackoffMs;
        break;
      }
      uploaded++;
      this.stats.uploaded++;
      this.#uploadBackoffMs = 0;
    }
    return uploaded;
  }

  /** Graceful stop: no more passes, the open file is closed and compressed (uploaded by the next start, or now by the caller). Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#files.rotate();
    await this.#files.close();
    if (this.#recovered) {
      // Let another journal take over at once.
      // filter:  {_id: 'journal', owner: us}
      // update:  {$unset: {owner, leaseUntil}} (the high-water mark stays); a failure is ignored
      // safe:    fenced on the owner: a lease another journal took over meanwhile is not freed.
      await this.#state
        .updateOne({ _id: STATE_ID, owner: this.#o.owner }, { $unset: { owner: '', leaseUntil: '' } })
        .catch(() => undefined);
    }
  }

  async #journalBatch(): Promise<number> {
    const state = await this.#state.findOne({ _id: STATE_ID });
    const since = new Date((state?.hwm?.getTime() ?? 0) - this.#o.lagMs);
    // Read-only. Final messages from the high-water mark less the lag, not yet journaled for
    // this `finalAt` (index cdr_finalAt). Receipts to ESMEs are the SMSC's own traffic: no CDR.
    const filter: Filter<SmsDocument> = {
      finalAt: { $gte: since },
      direction: { $ne: SmsDirection.receipt },
      $expr: { $ne: ['$cdrAt', '$finalAt'] },
    };
    const docs = await this.#sms
      .find(filter, { projection: CDR_PROJECTION, sort: { finalAt: 1, _id: 1 }, limit: this.#o.batchSize })
      .toArray();
    if (docs.length === 0) return 0;
    const lines: string[] = [];
    for (const doc of docs) {
      for (const record of cdrRecordsOf(doc as SmsDocument & { finalAt: Date }, this.#o.record)) {
        lines.push(formatRecord(record, this.#o.format));
        this.#metrics.cdrRecordsTotal.inc({ kind: record.kind });
      }
    }
    await this.#files.append(lines);
    await this.#mark(docs.map((d) => ({ _id: d._id, finalAt: d.finalAt! })));
    const hwm = docs[docs.length - 1].finalAt!;
    // filter:  {_id: 'journal'}, upsert (the lease write made it already)
    // update:  {$max: {hwm}}: it only ever moves forward
    // returns: nothing.
    // safe:    $max is commutative and a repeat is a no-op, so a late write from a journal that
    //          lost its lease cannot move the mark back. Not fenced on the owner (see #holdLease).
    await this.#state.updateOne({ _id: STATE_ID }, { $max: { hwm } }, { upsert: true });
    this.stats.written += docs.length;
    await this.#files.rotateIfDue();
    return docs.length;
  }

  /**
   * Marks journaled outcomes.
   *
   * filter:  each updateOne: {_id, finalAt: <as journaled>} (one unordered bulkWrite)
   * update:  {$set: {cdrAt: that finalAt}}
   * returns: nothing; a miss = the message moved on (requeued, purged): nothing to mark.
   * safe:    sets no field the delivery protocol reads, so it is safe beside every other writer;
   *          fenced on finalAt, so an outcome written since (a requeue, final again) is still
   *          journaled; a repeat sets the same value.
   */
  async #mark(outcomes: { _id: ObjectId; finalAt: Date }[]): Promise<void> {
    if (outcomes.length === 0) return;
    const ops: AnyBulkWriteOperation<SmsDocument>[] = outcomes.map((o) => ({
      updateOne: { filter: { _id: o._id, finalAt: o.finalAt }, update: { $set: { cdrAt: o.finalAt } } },
    }));
    await this.#sms.bulkWrite(ops, { ordered: false });
  }

  /** Marks the outcomes whose records a crash left in the open file, so they are not written twice. */
  async #markRecovered(ids: string[]): Promise<void> {
    const outcomes = ids
      .map((id) => /^([0-9a-f]{24}):(\d+)$/.exec(id))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ _id: new ObjectId(m[1]), finalAt: new Date(Number(m[2])) }));
    await this.#mark(outcomes);
    this.stats.recoveredMarks += outcomes.length;
    if (outcomes.length > 0) this.#log.info({ records: outcomes.length }, 'CDR records found in a file left open; marked as journaled');
  }

  /**
   * filter:  {_id: 'journal', owner: us, or no owner, or leaseUntil <= $$NOW}
   * update:  pipeline {$set: {owner: us, leaseUntil: $$NOW + lease}}
   * returns: true = we lead; false = another journal holds the lease.
   * safe:    one single-document update decides between racing journals, on the database's clock
   *          (host clocks may disagree). The leader renews before every batch, so only a batch
   *          that itself outlasts the lease (a process paused that long) can overlap a new
   *          leader's: at most that batch's records are written twice, never lost. The file,
   *          marks and hwm writes are not fenced on the owner (the marks and $max are idempotent).
   *          Not an upsert (MongoDB takes no $expr in an upsert's filter): the document is created
   *          first, once per process.
   */
  async #holdLease(): Promise<boolean> {
    if (!this.#stateCreated) {
      // filter:  none: an insert of {_id: 'journal'} (no owner, no mark)
      // returns: nothing; a duplicate `_id` means it exists: fine.
      // safe:    only ever creates the one document; who leads is decided by the update below.
      await this.#state.insertOne({ _id: STATE_ID }).catch((error: unknown) => {
        if ((error as { code?: number }).code !== 11000) throw error;
      });
      this.#stateCreated = true;
    }
    const dbNow = this.#clock.dbNow();
    const result = await this.#state.updateOne(
      { _id: STATE_ID, $or: [{ owner: this.#o.owner }, { owner: { $exists: false } }, ranOut('leaseUntil', 0, dbNow)] },
      [{ $set: { owner: literal(this.#o.owner), leaseUntil: later(dbNow, this.#o.leaseMs) } }],
    );
    return result.matchedCount === 1;
  }
}
