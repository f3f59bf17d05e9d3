import { Binary, ObjectId } from 'mongodb';

/**
 * Turns BSON values into what a script expects from `--json`: ObjectIds as hex, Dates as ISO
 * strings, binary payloads as hex. Plain JSON, not Extended JSON: jq users should not need $oid.
 */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof ObjectId) return value.toHexString();
  if (value instanceof Binary) return Buffer.from(value.buffer).toString('hex');
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') {
    const bsontype = (value as { _bsontype?: string })._bsontype;
    if (bsontype === 'Long' || bsontype === 'Decimal128' || bsontype === 'Double' || bsontype === 'Int32') {
      return Number(value.toString());
    }
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (inner !== undefined) out[key] = toPlain(inner);
    }
    return out;
  }
  return value;
}

export function toJsonText(value: unknown): string {
  return JSON.stringify(toPlain(value), null, 2);
}
