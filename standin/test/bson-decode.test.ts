import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Binary, BSONRegExp, Decimal128, deserialize, Long, MaxKey, MinKey, ObjectId, serialize, Timestamp, UUID } from 'bson';
import { decodeDocument } from '../bson-decode.ts';

/** Type, key order and value of everything in a decoded value, for an exact comparison. */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return [typeof v, Object.is(v, -0) ? '-0' : String(v)];
  if (Array.isArray(v)) return ['array', v.map(shape)];
  const ctor = (v as object).constructor?.name ?? 'null-proto';
  if (v instanceof Date) return [ctor, String(v.getTime())];
  if ((v as { _bsontype?: string })._bsontype !== undefined) return [ctor, Buffer.from(serialize({ v })).toString('hex')];
  if (v instanceof Uint8Array) return [ctor, Buffer.from(v).toString('hex')];
  return [ctor, Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])])];
}

function outcome(f: () => unknown): unknown {
  try {
    return ['ok', shape(f())];
  } catch {
    return ['error'];
  }
}

const key = fc.oneof(
  fc.constantFrom('_id', 'a', 'state', '$ref', '$id', '$db', '$gt', '', 'ключ', 'x.y', '__proto__'),
  fc.string({ maxLength: 30 }).filter((s) => !s.includes('\0')),
);
const scalar = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, NaN, Infinity, 2 ** 53, -(2 ** 53), 2 ** 31),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constant('a\ufffdb'),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
  fc.constant(new ObjectId()),
  fc
    .uint8Array({ maxLength: 20 })
    .chain((b) => fc.constantFrom(new Binary(b, 0), new Binary(b, 2), new Binary(b, 4), new Binary(b, 5), new Binary(b, 0x80))),
  fc.constant(new UUID().toBinary()),
  fc.constant({ id: new UUID() }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.constantFrom(Decimal128.fromString('1.5'), new Timestamp({ t: 5, i: 1 }), new BSONRegExp('a+', 'i'), /x/m, new MinKey(), new MaxKey()),
);
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 5 }).map((kv) => Object.fromEntries(kv)),
  ),
})).v;
const doc = fc.array(fc.tuple(key, value), { maxLength: 8 }).map((kv) => {
  const d: Record<string, unknown> = {};
  for (const [k, v] of kv) {
    if (k === '__proto__') Object.defineProperty(d, k, { value: v, enumerable: true, writable: true, configurable: true });
    else d[k] = v;
  }
  return d;
});

describe('decodeDocument (incoming BSON)', () => {
  it('decodes exactly as bson deserialize does, types and key order included', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const bytes = Buffer.from(serialize(d));
        expect(shape(decodeDocument(bytes, 0, bytes.length))).toEqual(shape(deserialize(bytes)));
      }),
      { numRuns: 500 },
    );
  });

  it('puts _id first when asked and otherwise keeps everything as bson does', () => {
    fc.assert(
      fc.property(doc, fc.oneof(fc.constant(undefined), scalar), (d, id) => {
        const withId = id === undefined ? d : { ...d, _id: id };
        const bytes = Buffer.from(serialize(withId));
        const got = decodeDocument(bytes, 0, bytes.length, true);
        const want = deserialize(bytes);
        const expected: Record<string, unknown> = {};
        const keys = Object.keys(want);
        for (const k of keys.includes('_id') ? ['_id', ...keys.filter((x) => x !== '_id')] : keys) {
          Object.defineProperty(expected, k, { value: want[k], enumerable: true, writable: true, configurable: true });
        }
        // A top-level DBRef stays what bson makes of it.
        expect(shape(got)).toEqual(shape(want.constructor === Object ? expected : want));
      }),
      { numRuns: 300 },
    );
  });

  it('fails or succeeds on damaged bytes just as bson deserialize does', () => {
    fc.assert(
      fc.property(doc, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (d, damage) => {
        const bytes = Buffer.from(serialize(d));
        for (const [at, b] of damage) bytes[at % bytes.length] = b;
        expect(outcome(() => decodeDocument(bytes, 0, bytes.length))).toEqual(
          outcome(() => deserialize(bytes.subarray(0, bytes.readInt32LE(0)))),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes a document in the middle of a larger buffer', () => {
    const one = Buffer.from(serialize({ a: 1, s: 'queued', at: new Date(5) }));
    const two = Buffer.from(serialize({ b: [1, 'x', { c: null }], _id: new ObjectId('0123456789abcdef01234567') }));
    const buf = Buffer.concat([Buffer.from([9, 9]), one, two, Buffer.from([7])]);
    expect(decodeDocument(buf, 2, buf.length)).toEqual({ a: 1, s: 'queued', at: new Date(5) });
    const got = decodeDocument(buf, 2 + one.length, buf.length - 1, true);
    expect(Object.keys(got)).toEqual(['_id', 'b']);
    expect(got._id.toHexString()).toBe('0123456789abcdef01234567');
  });
});
