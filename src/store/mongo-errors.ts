import { MongoServerError } from 'mongodb';

/** MongoDB's duplicate key error (E11000). */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}
