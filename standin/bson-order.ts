import { Long } from 'bson';

/**
 * MongoDB's comparison order across BSON types:
 * MinKey < null/missing < numbers < string < object < array < binData < ObjectId < bool
 * < Date < Timestamp < regex < MaxKey.
 */
export const TypeRank = Object.freeze({
  MinKey: 1,
  Null: 5,
  Number: 10,
  String: 15,
  Object: 20,
  Array: 25,
  BinData: 30,
  ObjectId: 35,
  Boolean: 40,
  Date: 45,
  Timestamp: 47,
  RegExp: 50,
  Code: 60,
  MaxKey: 127,
} as const);

/** A bound that sorts before (side -1) or after (side 1) every value of one type rank. */
export class RankBound {
  constructor(
    readonly rank: number,
    readonly side: -1 | 1,
  ) {}
}

export const MIN_BOUND = new RankBound(0, -1);
export const MAX_BOUND = new RankBound(255, 1);

function bsontype(v: object): string | undefined {
  return (v as { _bsontype?: string })._bsontype;
}

export function typeRank(v: unknown): number {
  if (v === null || v === undefined) return TypeRank.Null;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return TypeRank.Number;
    case 'string':
      return TypeRank.String;
    case 'boolean':
      return TypeRank.Boolean;
    case 'object':
      break;
    default:
      return TypeRank.Code;
  }
  if (Array.isArray(v)) return TypeRank.Array;
  if (v instanceof Date) return TypeRank.Date;
  if (v instanceof RegExp) return TypeRank.RegExp;
  if (v instanceof RankBound) return v.rank;
  if (v instanceof Uint8Array) return TypeRank.BinData;
  switch (bsontype(v)) {
    case undefined:
      return TypeRank.Object;
    case 'ObjectId':
      return TypeRank.ObjectId;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return TypeRank.Number;
    case 'Binary':
      return TypeRank.BinData;
    case 'Timestamp':
      return TypeRank.Timestamp;
    case 'BSONRegExp':
      return TypeRank.RegExp;
    case 'MinKey':
      return TypeRank.MinKey;
    case 'MaxKey':
      return TypeRank.MaxKey;
    case 'BSONSymbol':
      return TypeRank.String;
    case 'Code':
      return TypeRank.Code;
    default:
      return TypeRank.Object;
  }
}

/** Numeric value as a JS number (Long beyond 2^53 loses precision only where it cannot matter much). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const t = bsontype(v as object);
  if (t === 'Long') return (v as Long).toNumber();
  if (t === 'Decimal128') return Number((v as object).toString());
  if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
  return NaN;
}

function compareNumbers(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    // NaN sorts below every other number, as in MongoDB.
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : 1;
  }
  if (bsontype(a as object) === 'Long' && bsontype(b as object) === 'Long') return (a as Long).compare(b as Long);
  return compareNumbers(toNumber(a), toNumber(b));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface PackedObjectId {
  i0?: number;
  i1: number;
  i2: number;
  i3: number;
}

function compareObjectIds(a: unknown, b: unknown): number {
  const p = a as PackedObjectId;
  const q = b as PackedObjectId;
  // bson 7.3 keeps the 12 bytes as four 24-bit integers; comparing those avoids allocating.
  if (typeof p.i0 === 'number' && typeof q.i0 === 'number') {
    if (p.i0 !== q.i0) return p.i0 < q.i0 ? -1 : 1;
    if (p.i1 !== q.i1) return p.i1 < q.i1 ? -1 : 1;
    if (p.i2 !== q.i2) return p.i2 < q.i2 ? -1 : 1;
    return p.i3 === q.i3 ? 0 : p.i3 < q.i3 ? -1 : 1;
  }
  const x = (a as { id: Uint8Array }).id;
  const y = (b as { id: Uint8Array }).id;
  for (let i = 0; i < 12; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    if (va === vb) {
      // The very same value (shared by a copy-on-write update): only the field names can differ.
      const k = compareStrings(ka[i], kb[i]);
      if (k !== 0) return k;
      continue;
    }
    const r = typeRank(va) - typeRank(vb);
    if (r !== 0) return r < 0 ? -1 : 1;
    const k = compareStrings(ka[i], kb[i]);
    if (k !== 0) return k;
    const c = compareValues(va, vb);
    if (c !== 0) return c;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function binaryBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position?: number };
  return b.position === undefined ? b.buffer : b.buffer.subarray(0, b.position);
}

/** Total order over BSON values, as MongoDB sorts and compares them. */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    if (ta === 'number' && a === a && b === b) return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
    if (ta === 'object' && a !== null && b !== null) {
      if (a instanceof Date && b instanceof Date) return compareNumbers(a.getTime(), b.getTime());
      const oa = (a as { _bsontype?: string })._bsontype;
      if (oa === 'ObjectId' && (b as { _bsontype?: string })._bsontype === 'ObjectId') return compareObjectIds(a, b);
    }
  }
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a instanceof RankBound || b instanceof RankBound) {
    const sa = a instanceof RankBound ? a.side : 0;
    const sb = b instanceof RankBound ? b.side : 0;
    return sa === sb ? 0 : sa < sb ? -1 : 1;
  }
  switch (ra) {
    case TypeRank.Null:
    case TypeRank.MinKey:
    case TypeRank.MaxKey:
      return 0;
    case TypeRank.Number:
      return compareNumbers(a, b);
    case TypeRank.String:
      return compareStrings(String(a), String(b));
    case TypeRank.Boolean:
      return a === b ? 0 : a ? 1 : -1;
    case TypeRank.Date:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case TypeRank.ObjectId:
      return compareObjectIds(a, b);
    case TypeRank.Array:
      return compareArrays(a as unknown[], b as unknown[]);
    case TypeRank.Object:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
    case TypeRank.BinData: {
      const ba = binaryBytes(a);
      const bb = binaryBytes(b);
      if (ba.length !== bb.length) return ba.length < bb.length ? -1 : 1;
      const sa = (a as { sub_type?: number }).sub_type ?? 0;
      const sb = (b as { sub_type?: number }).sub_type ?? 0;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return Math.sign(compareBytes(ba, bb));
    }
    case TypeRank.Timestamp: {
      const ta = a as { t: number; i: number };
      const tb = b as { t: number; i: number };
      return ta.t !== tb.t ? (ta.t < tb.t ? -1 : 1) : ta.i === tb.i ? 0 : ta.i < tb.i ? -1 : 1;
    }
    case TypeRank.RegExp:
      return compareStrings(String(a), String(b));
    default:
      return compareStrings(String(a), String(b));
  }
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0;
}

/** True for values that index scans can use as exact points (not arrays, documents or regexes). */
export function isScalar(v: unknown): boolean {
  const r = typeRank(v);
  return r !== TypeRank.Object && r !== TypeRank.Array && r !== TypeRank.RegExp && r !== TypeRank.Code && !(v instanceof RankBound);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeRank(v) === TypeRank.Object && !(v instanceof Date);
}
