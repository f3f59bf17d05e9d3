import { Binary, deserialize, ObjectId, UUID, type Document } from 'bson';

/**
 * A BSON decoder for the documents clients send, producing exactly what bson's `deserialize`
 * (default options) produces. It handles the common types itself and hands any document with
 * anything else (decimals, timestamps, regexes, DBRefs, old binaries, odd or corrupt bytes) to
 * `deserialize`, which then decides, errors included. Decoding incoming documents was the largest
 * single cost of an insert; this avoids per-call option handling and reuses repeated field names
 * and short strings instead of building a new string for each.
 */

/** Thrown inside the fast path: let bson's deserializer handle the whole document. */
const HANDOFF = Symbol('handoff');

/** Node's Buffer has these (Buffer#toString calls them after argument checks). */
type Bytes = Buffer & { latin1Slice(start: number, end: number): string };

/** bson 7.3 reads an ObjectId straight from bytes at an offset (the typings lag behind). */
const ObjectIdAt = ObjectId as unknown as new (bytes: Uint8Array, offset: number) => ObjectId;

const CACHE_SLOTS = 4096;
const CACHE_MAX_BYTES = 24;
const cache: Array<string | undefined> = new Array<string | undefined>(CACHE_SLOTS);

/** An ASCII string from bytes [p, q), shared with earlier equal strings when short. */
function ascii(buf: Buffer, p: number, q: number): string | null {
  const n = q - p;
  if (n > CACHE_MAX_BYTES) {
    for (let i = p; i < q; i++) if (buf[i] >= 0x80) return null;
    return (buf as Bytes).latin1Slice(p, q);
  }
  let h = n;
  for (let i = p; i < q; i++) {
    const b = buf[i];
    if (b >= 0x80) return null;
    h = (Math.imul(h, 31) + b) | 0;
  }
  const slot = h & (CACHE_SLOTS - 1);
  const hit = cache[slot];
  if (hit !== undefined && hit.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (hit.charCodeAt(i) !== buf[p + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  const s = n === 0 ? '' : (buf as Bytes).latin1Slice(p, q);
  cache[slot] = s;
  return s;
}

function int32(buf: Buffer, p: number): number {
  return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
}

const DBREF_KEY = /^\$ref$|^\$id$|^\$db$/;

/** Decodes the object or array whose int32 length is at `at`, within `limit`; returns it. */
function readObject(buf: Buffer, at: number, limit: number, isArray: boolean, idFirst: boolean): Document | unknown[] {
  const size = int32(buf, at);
  const stop = at + size - 1;
  if (size < 5 || stop >= limit || buf[stop] !== 0) throw HANDOFF;
  const arr: unknown[] | null = isArray ? [] : null;
  const obj: Document | null = isArray ? null : idFirst ? { _id: undefined } : {};
  let sawId = false;
  // As bson does: an object whose $-prefixed keys are all $ref/$id/$db may become a DBRef.
  let possibleDbRef: boolean | null = isArray ? false : null;
  let p = at + 4;
  while (p < stop) {
    const type = buf[p++];
    let q = p;
    while (q < stop && buf[q] !== 0) q++;
    if (q >= stop) throw HANDOFF;
    let key = '';
    if (obj !== null) {
      key = ascii(buf, p, q) ?? buf.toString('utf8', p, q);
      if (key === '__proto__') throw HANDOFF;
      if (possibleDbRef !== false && key.charCodeAt(0) === 0x24) possibleDbRef = DBREF_KEY.test(key);
      if (key === '_id') sawId = true;
    }
    p = q + 1;
    let value: unknown;
    switch (type) {
      case 0x01:
        if (p + 8 > stop) throw HANDOFF;
        value = buf.readDoubleLE(p);
        p += 8;
        break;
      case 0x02: {
        const n = int32(buf, p);
        const end = p + 4 + n - 1;
        if (n <= 0 || end >= stop || buf[end] !== 0) throw HANDOFF;
        let s = ascii(buf, p + 4, end);
        if (s === null) {
          s = buf.toString('utf8', p + 4, end);
          // Possibly invalid UTF-8: bson validates (and rejects) it.
          if (s.includes('\ufffd')) throw HANDOFF;
        }
        value = s;
        p = end + 1;
        break;
      }
      case 0x03:
      case 0x04: {
        const n = int32(buf, p);
        if (n < 5 || p + n > stop) throw HANDOFF;
        value = readObject(buf, p, stop, type === 0x04, false);
        p += n;
        break;
      }
      case 0x05: {
        const n = int32(buf, p);
        const sub = buf[p + 4];
        // Subtype 2 (the old binary, with a length inside) is rare: leave it to bson.
        if (n < 0 || p + 5 + n > stop || sub === 2) throw HANDOFF;
        const bin = new Binary(buf.subarray(p + 5, p + 5 + n), sub);
        // As bson does: a valid UUID binary (every session id) becomes a UUID.
        value = sub === 4 && UUID.isValid(bin) ? bin.toUUID() : bin;
        p += 5 + n;
        break;
      }
      case 0x07:
        if (p + 12 > stop) throw HANDOFF;
        value = new ObjectIdAt(buf, p);
        p += 12;
        break;
      case 0x08: {
        const b = buf[p];
        if (b > 1 || p >= stop) throw HANDOFF;
        value = b === 1;
        p += 1;
        break;
      }
      case 0x09:
        if (p + 8 > stop) throw HANDOFF;
        // As Long#toNumber computes it.
        value = new Date(int32(buf, p + 4) * 4294967296 + (int32(buf, p) >>> 0));
        p += 8;
        break;
      case 0x0a:
        value = null;
        break;
      case 0x10:
        if (p + 4 > stop) throw HANDOFF;
        value = int32(buf, p);
        p += 4;
        break;
      case 0x12: {
        if (p + 8 > stop) throw HANDOFF;
        const v = int32(buf, p + 4) * 4294967296 + (int32(buf, p) >>> 0);
        // Longs beyond 2^53 stay Long objects in bson: leave those to it.
        if (!Number.isSafeInteger(v)) throw HANDOFF;
        value = v;
        p += 8;
        break;
      }
      default:
        throw HANDOFF;
    }
    if (arr !== null) arr.push(value);
    else obj![key] = value;
  }
  if (p !== stop) throw HANDOFF;
  if (arr !== null) return arr;
  if (possibleDbRef === true && '$ref' in obj!) throw HANDOFF;
  if (idFirst && !sawId) {
    const { _id: _unused, ...rest } = obj!;
    return rest;
  }
  return obj!;
}

/**
 * The document whose int32 length is at `at` (and must end within `end`), as bson's
 * `deserialize` returns it. With `idFirst`, an `_id` field comes first in the result whatever its
 * position in the bytes (the driver appends `_id` to documents it inserts).
 */
export function decodeDocument(buf: Buffer, at: number, end: number, idFirst = false): Document {
  try {
    if (at + 4 > end) throw HANDOFF;
    return readObject(buf, at, end, false, idFirst) as Document;
  } catch (err) {
    if (err !== HANDOFF) throw err;
    const doc = deserialize(buf.subarray(at, at + buf.readInt32LE(at)));
    return idFirst ? withIdFirst(doc) : doc;
  }
}

function withIdFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const out: Document = { _id: doc._id };
  for (const k of Object.keys(doc)) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: doc[k], enumerable: true, writable: true, configurable: true });
    else if (k !== '_id') out[k] = doc[k];
  }
  return out;
}
