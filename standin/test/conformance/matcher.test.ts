import { describe, it, expect } from 'vitest';
import { BSON, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';

const { EJSON } = BSON;
import { match, matchExactly, matchResult, MatchError, UnsupportedOperatorError } from '../../scripts/conformance/matcher.ts';

const ok =
  (expected: unknown, actual: unknown, isRoot = true) =>
  () =>
    match(expected, actual, isRoot);

describe('match: documents', () => {
  it('allows extra fields in a root-level document', () => {
    expect(ok({ x: 1 }, { x: 1, y: 1 })).not.toThrow();
  });

  it('rejects extra fields in a nested document', () => {
    expect(ok({ x: { y: 1 } }, { x: { y: 1, z: 1 } })).toThrow(/x: unexpected field\(s\) z/);
  });

  it('rejects extra fields in a document that is not root', () => {
    expect(ok({ x: 1 }, { x: 1, y: 1 }, false)).toThrow(MatchError);
  });

  it('requires every expected field', () => {
    expect(ok({ x: 1, y: 1 }, { x: 1 })).toThrow(/y: missing field/);
  });

  it('ignores key order', () => {
    expect(ok({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).not.toThrow();
  });

  it('treats an expected null as requiring a present null', () => {
    expect(ok({ x: null }, { x: null })).not.toThrow();
    expect(ok({ x: null }, {})).toThrow(/missing field/);
  });

  it('rejects a scalar where a document is expected', () => {
    expect(ok({ x: { y: 1 } }, { x: 5 })).toThrow(/expected a document/);
  });

  it('names the path of a nested difference', () => {
    try {
      match({ a: [{ b: 1 }, { b: 2 }] }, { a: [{ b: 1 }, { b: 3 }] }, true);
      expect.unreachable();
    } catch (error) {
      expect((error as MatchError).path).toBe('a.1.b');
    }
  });
});

describe('match: arrays', () => {
  it('requires the same number of elements', () => {
    expect(ok([1, 2, 3], [1, 2, 3, 4])).toThrow(/expected 3 element/);
    expect(ok([1, 2, 3], [1, 2])).toThrow(MatchError);
  });

  it('compares elements in order', () => {
    expect(ok([1, 2], [2, 1])).toThrow(MatchError);
    expect(ok([1, 2], [1, 2])).not.toThrow();
  });

  it('does not treat documents inside an array value as root-level', () => {
    expect(ok([{ x: 1 }], [{ x: 1, y: 1 }])).toThrow(/unexpected field/);
  });

  it('treats documents of an iterable result (find, aggregate) as root-level', () => {
    expect(() =>
      matchResult(
        [{ x: 1 }, { x: 2 }],
        [
          { x: 1, y: 1 },
          { x: 2, y: 2 },
        ],
        true,
      ),
    ).not.toThrow();
    expect(() =>
      matchResult(
        [{ x: 1 }, { x: 2 }],
        [
          { x: 1, y: 1 },
          { x: 2, y: 2 },
        ],
        false,
      ),
    ).toThrow(MatchError);
    expect(() => matchResult([{ x: 1 }], [{ x: 1 }, { x: 2 }], true)).toThrow(/expected 1 document/);
  });
});

describe('match: flexible numbers', () => {
  it('considers int, long and double equal when the values are', () => {
    expect(ok(1, new Double(1))).not.toThrow();
    expect(ok(new Long(5), 5)).not.toThrow();
    expect(ok(new Int32(7), Long.fromNumber(7))).not.toThrow();
    expect(ok({ n: 1 }, { n: 1.0, ok: 1 })).not.toThrow();
  });

  it('does not consider different values equal', () => {
    expect(ok(1, 1.5)).toThrow(MatchError);
    expect(ok(new Long(5), 6)).toThrow(MatchError);
  });

  it('compares a long beyond 2^53 exactly', () => {
    expect(ok(Long.fromString('9007199254740993'), Long.fromString('9007199254740993'))).not.toThrow();
    expect(ok(Long.fromString('9007199254740993'), 9007199254740992)).toThrow(MatchError);
  });

  it('does not make Decimal128 flexible', () => {
    expect(ok(Decimal128.fromString('1'), 1)).toThrow(MatchError);
    expect(ok(Decimal128.fromString('1.50'), Decimal128.fromString('1.50'))).not.toThrow();
  });

  it('does not confuse a number with a string or boolean', () => {
    expect(ok(1, '1')).toThrow(MatchError);
    expect(ok(1, true)).toThrow(MatchError);
  });
});

describe('match: other scalars', () => {
  it('compares ObjectId and Date by value', () => {
    const id = new ObjectId();
    expect(ok(new ObjectId(id.toHexString()), id)).not.toThrow();
    expect(ok(new ObjectId(), id)).toThrow(MatchError);
    expect(ok(new Date(5), new Date(5))).not.toThrow();
    expect(ok(new Date(5), new Date(6))).toThrow(MatchError);
  });
});

describe('match: special operators', () => {
  it('$$exists checks presence and absence of a key', () => {
    expect(ok({ a: { $$exists: true } }, { a: null })).not.toThrow();
    expect(ok({ a: { $$exists: true } }, {})).toThrow(/expected the field to exist/);
    expect(ok({ a: { $$exists: false } }, {})).not.toThrow();
    expect(ok({ a: { $$exists: false } }, { a: 1 })).toThrow(/expected no field/);
  });

  it('$$exists false is satisfied inside a nested document too', () => {
    expect(ok({ q: { x: 1, w: { $$exists: false } } }, { q: { x: 1 } })).not.toThrow();
  });

  it('$$unsetOrMatches accepts a missing value or a matching one', () => {
    expect(ok({ a: { $$unsetOrMatches: 2 } }, {})).not.toThrow();
    expect(ok({ a: { $$unsetOrMatches: 2 } }, { a: 2 })).not.toThrow();
    expect(ok({ a: { $$unsetOrMatches: 2 } }, { a: 3 })).toThrow(MatchError);
  });

  it('$$unsetOrMatches at the root keeps the root-level leniency', () => {
    expect(ok({ $$unsetOrMatches: { insertedId: 1 } }, { insertedId: 1, acknowledged: true })).not.toThrow();
    expect(ok({ $$unsetOrMatches: { insertedId: 1 } }, undefined)).not.toThrow();
    expect(ok({ $$unsetOrMatches: { insertedId: 1 } }, { insertedId: 2 })).toThrow(MatchError);
  });

  it('$$unsetOrMatches of a nested document still forbids extra fields', () => {
    expect(ok({ ids: { $$unsetOrMatches: { 0: 1 } } }, { ids: { 0: 1, 1: 2 } })).toThrow(/unexpected field/);
  });

  it('$$type accepts one of the listed types', () => {
    expect(ok({ a: { $$type: ['int', 'long'] } }, { a: Long.fromNumber(3) })).not.toThrow();
    expect(ok({ a: { $$type: ['int', 'long'] } }, { a: 3 })).not.toThrow();
    expect(ok({ a: { $$type: 'double' } }, { a: 1.5 })).not.toThrow();
    expect(ok({ a: { $$type: ['string', 'object'] } }, { a: { x: 1 } })).not.toThrow();
    expect(ok({ a: { $$type: 'string' } }, { a: 3 })).toThrow(/expected type string/);
    expect(ok({ a: { $$type: 'int' } }, { a: 1.5 })).toThrow(MatchError);
    expect(ok({ a: { $$type: 'objectId' } }, {})).toThrow(/missing/);
  });

  it('$$type on an array checks only the array itself', () => {
    expect(ok({ a: { $$type: 'array' } }, { a: ['x'] })).not.toThrow();
    expect(ok({ a: { $$type: 'string' } }, { a: ['x'] })).toThrow(MatchError);
  });

  it('$$matchesEntity compares with a saved entity', () => {
    const id = new ObjectId();
    const entities = (name: string) => {
      if (name === 'saved') return id;
      throw new Error(`no entity ${name}`);
    };
    expect(() => match({ _id: { $$matchesEntity: 'saved' } }, { _id: id }, true, '', { entities })).not.toThrow();
    expect(() => match({ _id: { $$matchesEntity: 'saved' } }, { _id: new ObjectId() }, true, '', { entities })).toThrow(MatchError);
    expect(() => match({ _id: { $$matchesEntity: 'other' } }, { _id: id }, true, '', { entities })).toThrow(/no entity other/);
  });

  it('does not treat a "$$" key among other keys as an operator', () => {
    expect(ok({ a: { $$type: 'int', b: 1 } }, { a: { $$type: 'int', b: 1 } })).not.toThrow();
  });

  it('reports an unknown operator instead of passing', () => {
    expect(ok({ a: { $$sessionLsid: 'session0' } }, { a: 1 })).toThrow(UnsupportedOperatorError);
  });
});

describe('matchExactly (outcome)', () => {
  it('rejects extra fields even at the root', () => {
    expect(() => matchExactly([{ _id: 1 }], [{ _id: 1, x: 1 }])).toThrow(/unexpected field/);
  });

  it('accepts a different key order and int/double of the same value', () => {
    expect(() => matchExactly([{ _id: 1, x: 2 }], [{ x: 2.0, _id: 1 }])).not.toThrow();
  });

  it('does not interpret special operators', () => {
    expect(() => matchExactly([{ _id: { $$exists: true } }], [{ _id: 1 }])).toThrow(MatchError);
  });

  it('requires the same documents in the same order', () => {
    expect(() => matchExactly([{ _id: 1 }, { _id: 2 }], [{ _id: 2 }, { _id: 1 }])).toThrow(MatchError);
    expect(() => matchExactly([], [{ _id: 1 }])).toThrow(/expected 0 element/);
  });
});

describe('match with values parsed from Extended JSON', () => {
  it('matches a canonical $numberLong against a promoted JS number', () => {
    const expected = EJSON.parse('{"n": {"$numberLong": "42"}}', { relaxed: false });
    expect(ok(expected, { n: 42 })).not.toThrow();
  });
});

describe('match with driver-side Maps', () => {
  it('treats a Map (the driver sends sort as one) as the document it serialises to', () => {
    expect(ok({ sort: { _id: 1 } }, { sort: new Map([['_id', 1]]) })).not.toThrow();
    expect(ok({ sort: { _id: 1 } }, { sort: new Map([['_id', -1]]) })).toThrow(/sort._id/);
    expect(
      ok(
        { sort: { _id: 1 } },
        {
          sort: new Map([
            ['_id', 1],
            ['x', 1],
          ]),
        },
      ),
    ).toThrow(/unexpected field/);
    expect(ok({ sort: { $$type: 'object' } }, { sort: new Map([['_id', 1]]) })).not.toThrow();
  });
});
