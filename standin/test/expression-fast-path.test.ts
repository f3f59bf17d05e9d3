import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Aggregator } from 'mingo';
import { serialize } from 'bson';
import { cloneValue } from '../query/clone.ts';
import { compileExpression } from '../query/expression.ts';
import { withOperationTime } from '../query/now.ts';
import { compilePipelineUpdate } from '../query/pipeline-update.ts';

/**
 * The stand-in evaluates the expressions hot paths use itself and leaves the rest to mingo; where
 * mingo agrees with MongoDB, both must give the same document, byte for byte (types and field
 * order included). The domain leaves out what mingo does differently from MongoDB on purpose:
 * comparisons across types and with missing values, $max/$min over null, a fraction of a
 * millisecond added to a date, nested $set specs over existing documents (see README).
 */
const NOW = new Date('2024-05-06T07:08:09.010Z');

const dateArb = fc.integer({ min: 0, max: 2_000_000_000_000 }).map((ms) => new Date(ms));
const intArb = fc.integer({ min: -1_000_000, max: 1_000_000 });

const docArb = fc.record({
  _id: fc.integer(),
  n: intArb,
  m: intArb,
  at: dateArb,
  due: dateArb,
  s: fc.string({ maxLength: 5 }).filter((x) => !x.startsWith('$')),
  lock: fc.record({ token: fc.string({ maxLength: 3 }), leaseUntil: dateArb, tries: intArb }),
});

const numberLeaf = fc.oneof(
  intArb,
  fc.constant('$n'),
  fc.constant('$m'),
  fc.constant('$lock.tries'),
  intArb.map((v) => ({ $literal: v })),
);
const dateLeaf = fc.oneof(dateArb, fc.constant('$at'), fc.constant('$due'), fc.constant('$$NOW'), fc.constant('$lock.leaseUntil'));

const numberExpr: fc.Arbitrary<unknown> = fc.oneof(
  numberLeaf,
  fc.array(numberLeaf, { minLength: 1, maxLength: 4 }).map((args) => ({ $add: args })),
  fc.tuple(numberLeaf, numberLeaf).map((args) => ({ $subtract: args })),
  fc.tuple(dateLeaf, dateLeaf).map((args) => ({ $subtract: args })),
  fc.array(numberLeaf, { minLength: 2, maxLength: 3 }).map((args) => ({ $max: args })),
  fc.array(numberLeaf, { minLength: 2, maxLength: 3 }).map((args) => ({ $min: args })),
);

const dateExpr: fc.Arbitrary<unknown> = fc.oneof(
  dateLeaf,
  fc.tuple(dateLeaf, fc.array(numberLeaf, { maxLength: 2 })).map(([d, ns]) => ({ $add: [d, ...ns] })),
  fc.tuple(numberLeaf, dateLeaf).map(([n, d]) => ({ $add: [n, d] })),
  fc.tuple(dateLeaf, intArb).map((args) => ({ $subtract: args })),
  fc.array(dateLeaf, { minLength: 2, maxLength: 3 }).map((args) => ({ $max: args })),
);

const comparison = fc.oneof(
  fc.tuple(fc.constantFrom('$eq', '$ne', '$lt', '$lte', '$gt', '$gte'), numberExpr, numberExpr).map(([op, a, b]) => ({ [op]: [a, b] })),
  fc.tuple(fc.constantFrom('$eq', '$ne', '$lt', '$lte', '$gt', '$gte'), dateExpr, dateExpr).map(([op, a, b]) => ({ [op]: [a, b] })),
);

const anyExpr: fc.Arbitrary<unknown> = fc.oneof(
  numberExpr,
  dateExpr,
  comparison,
  fc.array(comparison, { minLength: 1, maxLength: 3 }).map((args) => ({ $and: args })),
  fc.array(comparison, { minLength: 1, maxLength: 3 }).map((args) => ({ $or: args })),
  fc.tuple(comparison, numberExpr, numberExpr).map(([c, a, b]) => ({ $cond: [c, a, b] })),
  fc
    .tuple(comparison, dateExpr, fc.constantFrom('$lock.leaseUntil', '$nosuch'))
    .map(([c, a, b]) => ({ $cond: { if: c, then: a, else: b } })),
  fc.tuple(fc.constantFrom('$nosuch', null, '$lock.nosuch'), dateExpr).map(([a, b]) => ({ $ifNull: [a, b] })),
  fc.tuple(fc.constantFrom('$nosuch', null), fc.constantFrom('$nosuch2', null), numberExpr).map(([a, b, c]) => ({ $ifNull: [a, b, c] })),
  fc.string({ maxLength: 4 }).filter((x) => !x.startsWith('$')),
  fc.constant('$s'),
  fc.constant('$lock.token'),
  fc.constant({ $literal: '$$NOW' }),
  fc.record({ owner: fc.constant('w'), at: dateExpr, n: numberExpr }),
);

function bytes(v: unknown): Buffer {
  return Buffer.from(serialize({ v }));
}

function mingoValue(doc: Record<string, unknown>, expr: unknown): unknown {
  const [out] = new Aggregator([{ $replaceWith: { v: expr } }]).run([cloneValue(doc)]) as Array<{ v?: unknown }>;
  return out.v;
}

function outcome(run: () => unknown): { value?: Buffer; threw?: boolean } {
  try {
    return { value: bytes(run()) };
  } catch {
    return { threw: true };
  }
}

describe('stand-in expression evaluation against mingo', () => {
  it('evaluates the fast-path expressions exactly as mingo does', () => {
    fc.assert(
      fc.property(docArb, anyExpr, (doc, expr) => {
        const ours = outcome(() => withOperationTime(NOW, () => compileExpression(expr, undefined)(doc)));
        const theirs = outcome(() => withOperationTime(NOW, () => mingoValue(doc, expr)));
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 1500 },
    );
  });

  it('applies flat and dotted $set and $unset stages exactly as mingo does', () => {
    // Stages write and remove only fields the expressions do not read, so that no later
    // expression compares values of different types (where mingo and MongoDB part ways).
    const setSpec = fc.dictionary(fc.constantFrom('state', 'fresh', 'lock.until', 'lock.owner', 'copy', 's'), anyExpr, {
      minKeys: 1,
      maxKeys: 4,
    });
    const unsetSpec = fc.uniqueArray(fc.constantFrom('s', 'lock.token', 'state', 'nosuch'), { minLength: 1, maxLength: 3 });
    const pipeline = fc.array(
      fc.oneof(
        setSpec.map((spec) => ({ $set: spec })),
        unsetSpec.map((paths) => ({ $unset: paths })),
      ),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(docArb, pipeline, (doc, stages) => {
        const before = bytes(doc);
        const ours = outcome(() => withOperationTime(NOW, () => compilePipelineUpdate(stages, undefined)(doc)));
        const theirs = outcome(() => withOperationTime(NOW, () => new Aggregator(stages).run([cloneValue(doc)])[0]));
        expect(ours).toEqual(theirs);
        // The stored document is never modified in place.
        expect(bytes(doc).equals(before)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
