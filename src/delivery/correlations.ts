import type { Collection, Db, ObjectId } from 'mongodb';
import { Collections } from '../store/collections.ts';
import { DUPLICATE_KEY, isDuplicateKeyError } from '../store/mongo-errors.ts';

/** downstream message_id -> our sms `_id`; receipts are matched through it. */
export interface CorrelationDocument {
  connector: string;
  remoteId: string;
  smsId: ObjectId;
  createdAt: Date;
}

export class Correlations {
  readonly #collection: Collection<CorrelationDocument>;

  constructor(db: Db) {
    this.#collection = db.collection<CorrelationDocument>(Collections.correlations);
  }

  /**
   * Records correlations before the state write that makes the messages `submitted`, so a fast
   * receipt always finds its message. A duplicate (same connector and remote id, e.g. written by
   * a worker that resumed after a retry) is already there, which is what we want.
   */
  async record(docs: CorrelationDocument[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.#collection.insertMany(docs, { ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown[] }).writeErrors;
      const onlyDuplicates =
        isDuplicateKeyError(error) ||
        (Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every((e) => (e as { code?: number }).code === DUPLICATE_KEY));
      if (!onlyDuplicates) throw error;
    }
  }
}
