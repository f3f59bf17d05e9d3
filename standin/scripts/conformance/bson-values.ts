// BSON classes come from the driver's own copy: in ESM, `bson` would load a second build whose
// classes fail the driver's instanceof checks.
import { BSON, type Binary, type Decimal128, type Double, type Int32, type Long, type ObjectId } from 'mongodb';

export const EJSON = BSON.EJSON;

/** A BSON value class instance from the `bson` package (ObjectId, Long, Binary, …). */
export function bsonTypeName(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && '_bsontype' in value) {
    const tag = (value as { _bsontype?: unknown })._bsontype;
    return typeof tag === 'string' ? tag : undefined;
  }
  return undefined;
}

/** True for a plain document: an object that is neither an array, a Date, bytes nor a BSON value. */
export function isDocument(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value) || value instanceof Date || value instanceof Uint8Array || value instanceof RegExp) return false;
  return bsonTypeName(value) === undefined;
}

/** The numeric value of int/long/double in any representation, or undefined (Decimal128 is not flexible). */
export function numericValue(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return value;
  const tag = bsonTypeName(value);
  if (tag === 'Int32') return (value as Int32).value;
  if (tag === 'Double') return (value as Double).value;
  if (tag === 'Long') return (value as Long).toBigInt();
  return undefined;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  // Mixed: a bigint equals a number only when the number is an integer of the same value.
  const big = typeof a === 'bigint' ? a : (b as bigint);
  const num = typeof a === 'number' ? a : (b as number);
  return Number.isInteger(num) && BigInt(num) === big;
}

/** Equality of two scalar (non-document, non-array) values with flexible numerics. */
export function scalarEquals(expected: unknown, actual: unknown): boolean {
  const en = numericValue(expected);
  const an = numericValue(actual);
  if (en !== undefined || an !== undefined) {
    return en !== undefined && an !== undefined && numbersEqual(en, an);
  }
  if (expected === null || expected === undefined || actual === null || actual === undefined) {
    return expected === actual;
  }
  if (typeof expected !== 'object' || typeof actual !== 'object') return expected === actual;
  if (expected instanceof Date || actual instanceof Date) {
    return expected instanceof Date && actual instanceof Date && expected.getTime() === actual.getTime();
  }
  const et = bsonTypeName(expected);
  const at = bsonTypeName(actual);
  if (et === 'ObjectId' && at === 'ObjectId') return (expected as ObjectId).equals(actual as ObjectId);
  if (et === 'Decimal128' && at === 'Decimal128') return (expected as Decimal128).toString() === (actual as Decimal128).toString();
  if (et === 'Binary' && at === 'Binary') {
    const e = expected as Binary;
    const a = actual as Binary;
    return e.sub_type === a.sub_type && Buffer.from(e.buffer).equals(Buffer.from(a.buffer));
  }
  // Anything else (Timestamp, regex, code, min/max key): compare canonical Extended JSON.
  try {
    return EJSON.stringify(expected, { relaxed: false }) === EJSON.stringify(actual, { relaxed: false });
  } catch {
    return false;
  }
}

/** The `$type` alias names a value satisfies (a JS number can stand for int, long or double). */
export function typeAliasesOf(value: unknown): string[] {
  if (value === undefined) return [];
  if (value === null) return ['null'];
  if (typeof value === 'string') return ['string'];
  if (typeof value === 'boolean') return ['bool'];
  if (typeof value === 'bigint') return ['long', 'number'];
  if (typeof value === 'number') {
    // The driver promotes int32/int64/double to JS numbers, so an integer may be any of them.
    if (!Number.isInteger(value)) return ['double', 'number'];
    const aliases = ['double', 'long', 'number'];
    if (value >= -2147483648 && value <= 2147483647) aliases.unshift('int');
    return aliases;
  }
  if (Array.isArray(value)) return ['array'];
  if (value instanceof Map) return ['object'];
  if (value instanceof Date) return ['date'];
  if (value instanceof RegExp) return ['regex'];
  if (value instanceof Uint8Array) return ['binData'];
  const tag = bsonTypeName(value);
  switch (tag) {
    case undefined:
      return typeof value === 'object' ? ['object'] : [];
    case 'Int32':
      return ['int', 'number'];
    case 'Long':
      return ['long', 'number'];
    case 'Double':
      return ['double', 'number'];
    case 'Decimal128':
      return ['decimal', 'number'];
    case 'ObjectId':
      return ['objectId'];
    case 'Binary':
      return ['binData'];
    case 'Timestamp':
      return ['timestamp'];
    case 'BSONRegExp':
      return ['regex'];
    case 'Code':
      return (value as { scope?: unknown }).scope ? ['javascriptWithScope'] : ['javascript'];
    case 'MinKey':
      return ['minKey'];
    case 'MaxKey':
      return ['maxKey'];
    case 'BSONSymbol':
      return ['symbol'];
    case 'DBRef':
      return ['object'];
    default:
      return [];
  }
}

/**
 * Test files are parsed as canonical Extended JSON so that explicit `$numberDouble`/`$numberLong`
 * survive; plain int32 values then become JS numbers again, because driver options check
 * `typeof x === 'number'` and a JS integer is serialised as int32 anyway.
 */
export function normaliseParsed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseParsed);
  const tag = bsonTypeName(value);
  if (tag === 'Int32') return (value as Int32).value;
  if (tag === 'Double') {
    const n = (value as Double).value;
    return Number.isInteger(n) ? value : n;
  }
  if (isDocument(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normaliseParsed(v);
    return out;
  }
  return value;
}

/** Deep copy of documents and arrays; BSON value instances are shared (the driver never mutates them). */
export function deepClone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepClone) as T;
  if (isDocument(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = deepClone(v);
    return out as T;
  }
  return value;
}

/** Short printable form of a value for failure messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    const text = EJSON.stringify(value as never, (_key, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v), undefined, {
      relaxed: true,
    });
    return text.length > 400 ? `${text.slice(0, 400)}…` : text;
  } catch {
    return String(value);
  }
}
