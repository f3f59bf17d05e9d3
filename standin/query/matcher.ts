import { Query } from 'mingo';
import { compareValues, isPlainObject, isScalar, typeRank } from '../bson-order.ts';
import { badValue, toCommandError } from '../errors.ts';
import { aggTruthy, compileExpression, type Variables } from './expression.ts';
import { pathValues } from './paths.ts';

export type Matcher = (doc: Record<string, unknown>) => boolean;
type Pred = (values: unknown[]) => boolean;

const MATCH_ALL: Matcher = () => true;

/** Equality as a query sees it: an array field matches when the array or one element equals. */
function eqAny(values: unknown[], v: unknown): boolean {
  const wantNull = v === null;
  for (const x of values) {
    if (x === undefined || x === null) {
      if (wantNull) return true;
      continue;
    }
    if (Array.isArray(x)) {
      for (const el of x) if (el === null ? wantNull : compareValues(el, v) === 0) return true;
      continue;
    }
    if (compareValues(x, v) === 0) return true;
  }
  return false;
}

function cmpAny(values: unknown[], v: unknown, ok: (c: number) => boolean): boolean {
  // No local closure: tsx (esbuild keepNames) would name it with a helper call on every test.
  const rank = typeRank(v);
  for (const x of values) {
    if (Array.isArray(x)) {
      for (const el of x) if (typeRank(el) === rank && ok(compareValues(el, v))) return true;
    } else if (typeRank(x) === rank && ok(compareValues(x, v))) {
      return true;
    }
  }
  return false;
}

const TYPE_ALIASES: Readonly<Record<number, string>> = Object.freeze({
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  13: 'javascript',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
});

/** The BSON type name of a stored value (numbers: int when they fit int32, else double). */
export function bsonTypeName(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? 'int' : 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'long';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  switch ((v as { _bsontype?: string })._bsontype) {
    case 'ObjectId':
      return 'objectId';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'Double':
      return 'double';
    case 'Int32':
      return 'int';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'Code':
      return 'javascript';
    default:
      return 'object';
  }
}

const NUMBER_TYPES = new Set(['int', 'long', 'double', 'decimal']);

function typePred(spec: unknown): Pred | null {
  const list = Array.isArray(spec) ? spec : [spec];
  const names: string[] = [];
  for (const t of list) {
    if (typeof t === 'number' && TYPE_ALIASES[t] !== undefined) names.push(TYPE_ALIASES[t]);
    else if (typeof t === 'string') names.push(t);
    else return null;
  }
  const has = (v: unknown): boolean => {
    const n = bsonTypeName(v);
    return names.includes(n) || (names.includes('number') && NUMBER_TYPES.has(n));
  };
  return (vals) => vals.some((v) => v !== undefined && (has(v) || (Array.isArray(v) && v.some(has))));
}

function compileOperators(spec: Record<string, unknown>): Pred | null {
  const preds: Pred[] = [];
  for (const [op, v] of Object.entries(spec)) {
    if (op === '$type') {
      const p = typePred(v);
      if (p === null) return null;
      preds.push(p);
      continue;
    }
    if (op === '$exists') {
      const want = Boolean(v);
      preds.push((vals) => vals.some((x) => x !== undefined) === want);
      continue;
    }
    if (op === '$in' || op === '$nin') {
      if (!Array.isArray(v) || !v.every(isScalar)) return null;
      const list = v;
      preds.push(op === '$in' ? (vals) => list.some((e) => eqAny(vals, e)) : (vals) => !list.some((e) => eqAny(vals, e)));
      continue;
    }
    if (!isScalar(v)) return null;
    switch (op) {
      case '$eq':
        preds.push((vals) => eqAny(vals, v));
        break;
      case '$ne':
        preds.push((vals) => !eqAny(vals, v));
        break;
      case '$gt':
        preds.push((vals) => cmpAny(vals, v, (c) => c > 0));
        break;
      case '$gte':
        preds.push(v === null ? (vals) => eqAny(vals, null) : (vals) => cmpAny(vals, v, (c) => c >= 0));
        break;
      case '$lt':
        preds.push((vals) => cmpAny(vals, v, (c) => c < 0));
        break;
      case '$lte':
        preds.push(v === null ? (vals) => eqAny(vals, null) : (vals) => cmpAny(vals, v, (c) => c <= 0));
        break;
      default:
        return null;
    }
  }
  if (preds.length === 1) return preds[0];
  return (vals) => preds.every((p) => p(vals));
}

/** Returned rather than assigned to a variable, so that tsx adds no naming helper call. */
function equalsPred(value: unknown): Pred {
  return (vals) => eqAny(vals, value);
}

/** `$expr`: the expression evaluated per document, true when aggregation calls its value true. */
function exprPredicate(expr: unknown, variables: Variables): Matcher {
  const evaluate = compileExpression(expr, variables);
  return (d) => aggTruthy(evaluate(d));
}

/** Compiles the common filter shapes to plain functions; null means "let mingo do it". */
function compileFast(filter: Record<string, unknown>, variables: Variables): Matcher | null {
  const parts: Matcher[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$expr') {
      parts.push(exprPredicate(value, variables));
      continue;
    }
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) return null;
      const subs: Matcher[] = [];
      for (const sub of value) {
        if (!isPlainObject(sub)) return null;
        const m = compileFast(sub, variables);
        if (m === null) return null;
        subs.push(m);
      }
      if (key === '$and') parts.push((d) => subs.every((m) => m(d)));
      else if (key === '$or') parts.push((d) => subs.some((m) => m(d)));
      else parts.push((d) => !subs.some((m) => m(d)));
      continue;
    }
    if (key.startsWith('$')) return null;
    let pred: Pred | null;
    if (isScalar(value)) {
      pred = equalsPred(value);
    } else if (isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$'))) {
      pred = compileOperators(value);
    } else {
      pred = null;
    }
    if (pred === null) return null;
    const p = pred;
    if (!key.includes('.')) parts.push((d) => p([d[key]]));
    else parts.push((d) => p(pathValues(d, key)));
  }
  if (parts.length === 0) return MATCH_ALL;
  if (parts.length === 1) return parts[0];
  return (d) => parts.every((m) => m(d));
}

/** Compiles a query filter once per command. Throws BadValue for filters MongoDB would reject. */
export function compileFilter(filter: unknown, variables?: Record<string, unknown>): Matcher {
  if (filter === undefined || filter === null) return MATCH_ALL;
  if (!isPlainObject(filter)) throw badValue('query filter must be an object');
  if ('$expr' in filter) {
    // The top-level $expr always gets aggregation semantics, whatever compiles the rest.
    const { $expr: expr, ...rest } = filter;
    const matchesExpr = exprPredicate(expr, variables);
    const matchesRest = compileFilter(rest, variables);
    if (matchesRest === MATCH_ALL) return matchesExpr;
    return (d) => matchesRest(d) && matchesExpr(d);
  }
  const fast = compileFast(filter, variables);
  if (fast !== null) return fast;
  let q: Query;
  try {
    q = new Query(filter, variables ? { variables } : undefined);
  } catch (err) {
    throw toCommandError(err);
  }
  return (d) => q.test(d);
}
