import { CommandError, ErrorCode } from '../errors.ts';
import { isPlainObject } from '../bson-order.ts';

/** Renders a value the way the server prints it in a duplicate-key message (shell style). */
export function shellString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(shellString).join(', ')} ]`;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
  if (t === 'Long') return String(v);
  if (t === 'Decimal128') return `Decimal128("${String(v)}")`;
  if (isPlainObject(v)) {
    const parts = Object.entries(v).map(([k, x]) => `${k}: ${shellString(x)}`);
    return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
  }
  return String(v);
}

/** MongoDB's E11000 error, with keyPattern and keyValue as the driver hoists them. */
export function duplicateKeyError(ns: string, indexName: string, keyPattern: Record<string, unknown>, key: unknown[]): CommandError {
  const fields = Object.keys(keyPattern);
  const keyValue: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    keyValue[f] = key[i];
  });
  const dup = fields.map((f, i) => `${f}: ${shellString(key[i])}`).join(', ');
  const message = `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: { ${dup} }`;
  return new CommandError(ErrorCode.DuplicateKey, message, { keyPattern: { ...keyPattern }, keyValue });
}
