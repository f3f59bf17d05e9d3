import type { Document } from 'bson';
import { CommandError, ErrorCode, failedToParse } from '../errors.ts';
import { isPlainObject, toNumber, typeRank, TypeRank } from '../bson-order.ts';

/** The collection a command names in its first field. */
export function collectionArg(cmd: Document, name: string): string {
  const v = cmd[name];
  if (typeof v !== 'string' || v.length === 0) {
    throw new CommandError(ErrorCode.InvalidNamespace, `collection name has invalid type ${typeof v}`);
  }
  return v;
}

export function optionalNumber(cmd: Document, field: string): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (typeRank(v) !== TypeRank.Number) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field '${field}' is the wrong type '${typeof v}', expected types '[long, int, decimal, double]'`,
    );
  }
  return toNumber(v);
}

export function optionalDoc(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field '${field}' is the wrong type '${Array.isArray(v) ? 'array' : typeof v}', expected type 'object'`,
    );
  }
  return v;
}

export function nonNegative(field: string, v: number | undefined): number | undefined {
  if (v !== undefined && v < 0) throw failedToParse(`${field} value must be non-negative, but received: ${v}`);
  return v;
}

/** Whether the write concern asks for a journal flush before the reply. */
export function wantsJournal(cmd: Document): boolean {
  const wc = cmd.writeConcern;
  return isPlainObject(wc) && (wc.j === true || wc.j === 1 || wc.fsync === true);
}
