import { compareValues, isPlainObject, isScalar, MAX_BOUND, MIN_BOUND, RankBound, typeRank, valuesEqual } from '../bson-order.ts';
import { badValue } from '../errors.ts';
import type { Collection, Doc } from '../storage/collection.ts';
import { indexMax, indexMin, type KeyIndex } from '../storage/key-index.ts';
import { compileExpression, readsNoField, type Variables } from './expression.ts';
import type { SortKey } from './sort.ts';

interface Interval {
  lo: unknown;
  loIncl: boolean;
  hi: unknown;
  hiIncl: boolean;
}

/** Per-path constraints an index can serve: exact points or one range. */
interface PathBounds {
  points?: unknown[];
  range?: Interval;
  /**
   * From `$expr` comparisons of the field with a constant. Aggregation compares across types, so
   * these ranges are not bracketed by type, and MongoDB uses them only on indexes that are not
   * multikey, partial or sparse.
   */
  exprPoint?: unknown;
  exprRange?: Interval;
}

export interface Plan {
  /** Record ids to examine (a superset of the matches), in the order they are produced. */
  rids: Iterable<number>;
  /** True when `rids` already comes in the requested sort order. */
  sorted: boolean;
  /** Index name used, for explain-like diagnostics. */
  index: string | null;
}

const MAX_IN_POINTS = 1000;

function addRange(b: PathBounds, op: string, v: unknown): void {
  const r = b.range ?? { lo: new RankBound(typeRank(v), -1), loIncl: true, hi: new RankBound(typeRank(v), 1), hiIncl: true };
  if (op === '$gt' || op === '$gte') {
    r.lo = v;
    r.loIncl = op === '$gte';
    if (b.range === undefined) r.hi = new RankBound(typeRank(v), 1);
  } else {
    r.hi = v;
    r.hiIncl = op === '$lte';
    if (b.range === undefined) r.lo = new RankBound(typeRank(v), -1);
  }
  b.range = r;
}

const FLIPPED: Readonly<Record<string, string>> = Object.freeze({ $eq: '$eq', $lt: '$gt', $lte: '$gte', $gt: '$lt', $gte: '$lte' });

/** An expression whose value is known before the scan: it reads no field and is not random. */
function isConstantExpr(expr: unknown): boolean {
  return readsNoField(expr) && !JSON.stringify(expr).includes('"$rand"');
}

function isFieldPath(v: unknown): v is string {
  return typeof v === 'string' && v.length > 1 && v.startsWith('$') && !v.startsWith('$$');
}

function narrowExprRange(b: PathBounds, op: string, v: unknown): void {
  const r = b.exprRange ?? { lo: MIN_BOUND, loIncl: true, hi: MAX_BOUND, hiIncl: true };
  if (op === '$gt' || op === '$gte') {
    const c = compareValues(v, r.lo);
    if (c > 0 || (c === 0 && op === '$gt')) {
      r.lo = v;
      r.loIncl = op === '$gte';
    }
  } else {
    const c = compareValues(v, r.hi);
    if (c < 0 || (c === 0 && op === '$lt')) {
      r.hi = v;
      r.hiIncl = op === '$lte';
    }
  }
  b.exprRange = r;
}

/**
 * `$expr` comparisons ($eq/$lt/$lte/$gt/$gte) of a field with a constant, `$$NOW` or a `let`
 * variable included (MongoDB folds those to constants and rewrites the comparison into an
 * indexable predicate), become bounds on that field.
 */
function collectExprBounds(expr: unknown, out: Map<string, PathBounds>, variables: Variables): void {
  if (!isPlainObject(expr)) return;
  const keys = Object.keys(expr);
  if (keys.length !== 1) return;
  const op = keys[0];
  const arg = expr[op];
  if (op === '$and' && Array.isArray(arg)) {
    for (const sub of arg) collectExprBounds(sub, out, variables);
    return;
  }
  if (FLIPPED[op] === undefined || !Array.isArray(arg) || arg.length !== 2) return;
  const [left, right] = arg;
  let field: string;
  let other: unknown;
  let cmp = op;
  if (isFieldPath(left) && isConstantExpr(right)) {
    field = left.slice(1);
    other = right;
  } else if (isFieldPath(right) && isConstantExpr(left)) {
    field = right.slice(1);
    other = left;
    cmp = FLIPPED[op];
  } else {
    return;
  }
  let value: unknown;
  try {
    value = compileExpression(other, variables)({});
  } catch {
    return; // the matcher reports the error
  }
  // MongoDB does not use an index when the constant is missing or an array.
  if (value === undefined || Array.isArray(value) || !isScalar(value)) return;
  const b = out.get(field) ?? {};
  if (cmp === '$eq') b.exprPoint = value;
  else narrowExprRange(b, cmp, value);
  out.set(field, b);
}

function collectBounds(filter: Record<string, unknown>, out: Map<string, PathBounds>, variables: Variables): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const sub of value) if (isPlainObject(sub)) collectBounds(sub, out, variables);
      continue;
    }
    if (key === '$expr') {
      collectExprBounds(value, out, variables);
      continue;
    }
    if (key.startsWith('$')) continue;
    const b = out.get(key) ?? {};
    if (isScalar(value)) {
      b.points = [value];
    } else if (isPlainObject(value)) {
      for (const [op, v] of Object.entries(value)) {
        if (op === '$eq' && isScalar(v)) b.points = [v];
        else if (op === '$in' && Array.isArray(v) && v.length <= MAX_IN_POINTS && v.every(isScalar)) {
          if (b.points === undefined) b.points = v;
        } else if ((op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte') && isScalar(v) && v !== null) {
          addRange(b, op, v);
        }
      }
    }
    if (b.points !== undefined || b.range !== undefined) out.set(key, b);
  }
}

interface Candidate {
  ix: KeyIndex;
  score: number;
  /** Leading fields fixed to one point. */
  eq: number;
  /** Intervals on field `eq` (a range or several points), if any. */
  intervals: Interval[] | null;
  reverse: boolean;
  sorted: boolean;
  /** The values of the `eq` leading fields. */
  fixed: unknown[];
}

function pointInterval(v: unknown): Interval {
  return { lo: v, loIncl: true, hi: v, hiIncl: true };
}

/** The bounds this index can use: `$expr` ones only on a complete, non-multikey index. */
function boundsFor(ix: KeyIndex, all: Map<string, PathBounds>): Map<string, PathBounds> {
  let withExpr = false;
  for (const b of all.values()) if (b.exprPoint !== undefined || b.exprRange !== undefined) withExpr = true;
  if (!withExpr) return all;
  const usable = ix.complete && !ix.multikey;
  const out = new Map<string, PathBounds>();
  for (const [path, b] of all) {
    const merged: PathBounds = { points: b.points, range: b.range };
    if (usable && merged.points === undefined) {
      if (b.exprPoint !== undefined) merged.points = [b.exprPoint];
      else if (b.exprRange !== undefined) merged.range = intersect(b.range, b.exprRange);
    }
    if (merged.points !== undefined || merged.range !== undefined) out.set(path, merged);
  }
  return out;
}

function intersect(a: Interval | undefined, b: Interval): Interval {
  if (a === undefined) return b;
  const lo = compareValues(a.lo, b.lo);
  const hi = compareValues(a.hi, b.hi);
  return {
    lo: lo >= 0 ? a.lo : b.lo,
    loIncl: lo > 0 ? a.loIncl : lo < 0 ? b.loIncl : a.loIncl && b.loIncl,
    hi: hi <= 0 ? a.hi : b.hi,
    hiIncl: hi < 0 ? a.hiIncl : hi > 0 ? b.hiIncl : a.hiIncl && b.hiIncl,
  };
}

function evaluate(ix: KeyIndex, allBounds: Map<string, PathBounds>, sort: SortKey[]): Candidate {
  const bounds = boundsFor(ix, allBounds);
  let eq = 0;
  const fixed: unknown[] = [];
  while (eq < ix.fields.length) {
    const b = bounds.get(ix.fields[eq]);
    if (b?.points?.length !== 1) break;
    fixed.push(b.points[0]);
    eq++;
  }
  let intervals: Interval[] | null = null;
  if (eq < ix.fields.length) {
    const b = bounds.get(ix.fields[eq]);
    if (b?.points !== undefined && b.points.length > 1) intervals = b.points.map(pointInterval);
    else if (b?.range !== undefined) intervals = [b.range];
  }
  // Sort keys pinned to one value by the filter do not affect order.
  const rest = sort.filter((k) => bounds.get(k.field)?.points?.length !== 1);
  let sorted = rest.length === 0;
  let reverse = false;
  if (!sorted && !ix.multikey && (intervals === null || intervals.length === 1)) {
    const sameDir = rest.every((k, i) => ix.fields[eq + i] === k.field && ix.dirs[eq + i] === k.dir);
    const oppDir = rest.every((k, i) => ix.fields[eq + i] === k.field && ix.dirs[eq + i] === -k.dir);
    if (sameDir || oppDir) {
      sorted = true;
      reverse = oppDir && !sameDir;
    }
  }
  // An index that yields the requested order beats one that only narrows a range on the same
  // equality prefix: sort+limit (a claim: "the oldest due message") then stops at the first
  // match instead of collecting and sorting every candidate.
  let score = eq * 10 + (intervals !== null ? (intervals.length === 1 ? 6 : 4) : 0) + (sorted && sort.length > 0 ? 7 : 0);
  if (ix.unique && eq === ix.fields.length) score += 100;
  return { ix, score, eq, intervals, reverse, sorted, fixed };
}

function* scanCandidate(c: Candidate, fixed: unknown[]): Generator<number> {
  const { ix } = c;
  const n = ix.fields.length;
  const intervals = c.intervals ?? [{ lo: indexMin(1), loIncl: true, hi: indexMax(1), hiIncl: true }];
  const j = c.eq;
  const seen = ix.multikey || intervals.length > 1 ? new Set<number>() : null;
  const ordered = c.reverse ? [...intervals].reverse() : intervals;
  for (const iv of ordered) {
    const lo: unknown[] = [...fixed];
    const hi: unknown[] = [...fixed];
    let loRid = -Infinity;
    let hiRid = Infinity;
    if (j < n) {
      const d = ix.dirs[j];
      const unbounded = c.intervals === null;
      const startVal = unbounded ? indexMin(d) : d > 0 ? iv.lo : iv.hi;
      const startIncl = unbounded ? true : d > 0 ? iv.loIncl : iv.hiIncl;
      const endVal = unbounded ? indexMax(d) : d > 0 ? iv.hi : iv.lo;
      const endIncl = unbounded ? true : d > 0 ? iv.hiIncl : iv.loIncl;
      lo.push(startVal);
      hi.push(endVal);
      for (let k = j + 1; k < n; k++) {
        lo.push(startIncl ? indexMin(ix.dirs[k]) : indexMax(ix.dirs[k]));
        hi.push(endIncl ? indexMax(ix.dirs[k]) : indexMin(ix.dirs[k]));
      }
      loRid = startIncl ? -Infinity : Infinity;
      hiRid = endIncl ? Infinity : -Infinity;
    }
    for (const rid of ix.scan(lo, loRid, hi, hiRid, c.reverse)) {
      if (seen !== null) {
        if (seen.has(rid)) continue;
        seen.add(rid);
      }
      yield rid;
    }
  }
}

function hintedIndex(coll: Collection, hint: unknown): KeyIndex | null {
  if (hint === undefined || hint === null) return null;
  if (typeof hint === 'string') {
    const ix = coll.findIndex(hint);
    if (ix === undefined) throw badValue('hint provided does not correspond to an existing index');
    return ix;
  }
  if (isPlainObject(hint)) {
    if (Object.keys(hint).length === 0) return null;
    if ('$natural' in hint) return null;
    const want = JSON.stringify(hint);
    const ix = coll.indexes.find((x) => JSON.stringify(x.spec.key) === want);
    if (ix === undefined) throw badValue('hint provided does not correspond to an existing index');
    return ix;
  }
  throw badValue('hint must be a string or an object');
}

/**
 * Whether the query's own equality clauses imply a partial index's filter, as MongoDB requires
 * before it plans with a partial index. Only filters made of equalities are recognised; anything
 * else keeps the index out of plans (a safe no).
 */
function impliesPartialFilter(ix: KeyIndex, bounds: Map<string, PathBounds>): boolean {
  const partial = ix.spec.partialFilterExpression;
  if (partial === undefined || ix.spec.sparse === true || ix.fields.some((f) => typeof ix.spec.key[f] === 'string')) return false;
  for (const [path, cond] of Object.entries(partial)) {
    const want = isPlainObject(cond) && Object.keys(cond).length === 1 && '$eq' in cond ? cond.$eq : cond;
    if (path.startsWith('$') || !isScalar(want)) return false;
    const points = bounds.get(path)?.points;
    if (points?.length !== 1 || !valuesEqual(points[0], want)) return false;
  }
  return true;
}

/**
 * Whether a sparse index holds every document the query can match: the query must require one of
 * the index's fields to exist (a non-null equality or $in, a range, or `$exists: true`), since a
 * sparse index leaves out documents that lack all of its fields. MongoDB plans with it then too.
 */
function sparseCovers(ix: KeyIndex, bounds: Map<string, PathBounds>, filter: Doc): boolean {
  if (ix.spec.sparse !== true || ix.spec.partialFilterExpression !== undefined) return false;
  if (ix.fields.some((f) => typeof ix.spec.key[f] === 'string')) return false;
  return ix.fields.some((f) => {
    const b = bounds.get(f);
    if (b?.range !== undefined) return true;
    if (b?.points !== undefined && b.points.every((v) => v !== null && v !== undefined)) return true;
    const cond = filter[f];
    return isPlainObject(cond) && cond.$exists !== undefined && cond.$exists !== false && cond.$exists !== 0 && cond.$exists !== null;
  });
}

/** Chooses how to find candidate documents for a filter: an index scan or the natural order. */
export function planQuery(
  coll: Collection,
  filter: Doc,
  sort: SortKey[],
  natural: 0 | 1 | -1,
  hint?: unknown,
  variables?: Variables,
): Plan {
  const forced = hintedIndex(coll, hint);
  if (natural !== 0 || coll.indexes.length === 0 || (isPlainObject(hint) && '$natural' in hint)) {
    return { rids: coll.natural(natural < 0), sorted: sort.length === 0, index: null };
  }
  const bounds = new Map<string, PathBounds>();
  collectBounds(filter, bounds, variables);
  let best: Candidate | null = null;
  for (const ix of forced ? [forced] : coll.indexes) {
    const sparse = !forced && !ix.complete && sparseCovers(ix, bounds, filter);
    if (!forced && !ix.complete && !sparse && !impliesPartialFilter(ix, bounds)) continue;
    const c = evaluate(ix, bounds, sort);
    // A partial index holds only documents that already pass its filter's equalities: count
    // them like equality-bound leading fields (MongoDB's trial runs favour it the same way).
    const partial = ix.complete ? undefined : ix.spec.partialFilterExpression;
    if (partial !== undefined) c.score += Object.keys(partial).length * 10;
    // Scanned whole, a sparse index is exactly the documents that have its fields.
    else if (sparse && c.eq === 0 && c.intervals === null) c.score += 10;
    else if (!forced && c.eq === 0 && c.intervals === null && !(c.sorted && sort.length > 0)) continue;
    if (best === null || c.score > best.score) best = c;
  }
  if (best === null) return { rids: coll.natural(false), sorted: sort.length === 0, index: null };
  return { rids: scanCandidate(best, best.fixed), sorted: best.sorted, index: best.ix.name };
}
