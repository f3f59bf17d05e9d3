import { MongoBulkWriteError, MongoServerError } from 'mongodb';

/** MongoDB's duplicate key error (E11000). */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** One document's error in a bulk write (insertMany, bulkWrite): which document, and why. */
export interface DocumentWriteError {
  index: number;
  code?: number;
  errmsg?: string;
  /** For a duplicate key: the index's key pattern, as the server reports it. */
  keyPattern?: unknown;
}

/**
 * The per-document errors of a bulk write that failed only document by document; null when the
 * command failed as a whole (network, write concern not met), so no document's fate is known.
 */
export function documentWriteErrors(error: unknown): DocumentWriteError[] | null {
  if (!(error instanceof MongoBulkWriteError)) return null;
  if (error.err || error.result?.getWriteConcernError?.()) return null;
  const list = [error.writeErrors].flat().filter(Boolean);
  if (list.length === 0 || list.some((writeError) => !Number.isInteger(writeError.index))) return null;
  return list.map((writeError) => ({
    index: writeError.index,
    code: writeError.code,
    errmsg: writeError.errmsg,
    keyPattern: (writeError.err as { keyPattern?: unknown } | undefined)?.keyPattern,
  }));
}
