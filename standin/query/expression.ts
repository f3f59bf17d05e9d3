import { Context, evalExpr } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { compareValues, isPlainObject, typeRank, TypeRank } from '../bson-order.ts';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';
import type { Doc } from '../storage/collection.ts';
import { cloneValue } from './clone.ts';
import { operationNow, prebuiltMingoOptions } from './now.ts';

/**
 * Aggregation expressions, compiled once per command. The shapes hot paths use (constants, field
 * paths, `$$NOW`, `let` variables, `$literal`, `$add`/`$subtract` of numbers and dates,
 * comparisons, `$and`/`$or`, `$cond`, `$ifNull`, `$max`/`$min`, expression objects) are evaluated
 * here with MongoDB's semantics; every other operator goes to mingo.
 * `undefined` stands for "missing", as MongoDB distinguishes it from null.
 */
export type Evaluator = (root: Doc) => unknown;

export type Variables = Record<string, unknown> | undefined;

const MINGO_CONTEXT = Context.init({
  accumulator: accumulatorOperators,
  expression: expressionOperators,
  pipeline: pipelineOperators,
  projection: projectionOperators,
  query: queryOperators,
  window: windowOperators,
} as never);

export function clusterTimeUnavailable(): CommandError {
  return new CommandError(51144, "Builtin variable '$$CLUSTER_TIME' is not available");
}

export function undefinedVariable(name: string): CommandError {
  return new CommandError(17276, `Use of undefined variable: ${name}`);
}

function isBsonValue(v: object): boolean {
  return (v as { _bsontype?: string })._bsontype !== undefined || v instanceof Date || v instanceof RegExp || v instanceof Uint8Array;
}

/** A value, not an expression: nothing in it is evaluated. */
function isConstant(expr: unknown): boolean {
  if (typeof expr === 'string') return !expr.startsWith('$');
  if (expr === null || typeof expr !== 'object') return true;
  if (isBsonValue(expr)) return true;
  if (Array.isArray(expr)) return expr.every(isConstant);
  return false;
}

function constant(v: unknown): Evaluator {
  if (v === null || typeof v !== 'object' || v instanceof Date || isBsonValue(v)) return () => v;
  // Arrays and documents: a copy per use, so no two stored documents share a mutable object.
  return () => cloneValue(v);
}

/** Evaluation by mingo (with the command's variables; `$$NOW` is the command's, see now.ts). */
function byMingo(expr: unknown, variables: Variables): Evaluator {
  // Built on first use: most compiled fallbacks (behind a fast path) are never called, and
  // building the options copies mingo's operator tables.
  let options: unknown;
  return (root) => {
    try {
      options ??= prebuiltMingoOptions({ context: MINGO_CONTEXT, variables });
      return evalExpr(root, expr, options as never);
    } catch (err) {
      throw toCommandError(err);
    }
  };
}

/**
 * `$a.b.c` as aggregation reads it: through an array it maps over the elements that are
 * documents (others are skipped), so `$a.b` of `{a: [{b: 1}, {c: 2}, 3]}` is `[1]`.
 */
function pathValue(value: unknown, parts: readonly string[], from: number): unknown {
  let cur = value;
  for (let i = from; i < parts.length; i++) {
    if (Array.isArray(cur)) {
      const out: unknown[] = [];
      for (const el of cur) {
        if (!isPlainObject(el)) continue;
        const v = pathValue(el, parts, i);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    if (!isPlainObject(cur)) return undefined;
    cur = cur[parts[i]];
  }
  return cur;
}

function fieldPath(parts: string[]): Evaluator {
  if (parts.length === 1) {
    const name = parts[0];
    return (root) => root[name];
  }
  return (root) => pathValue(root, parts, 0);
}

/** Rounds half-way cases away from zero, as MongoDB turns a sum into a date (llround). */
function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Marks a case the fast evaluator leaves to mingo (a Long, a string, ...). */
const UNHANDLED = Symbol('unhandled');

function fastAdd(args: Evaluator[]): (root: Doc) => unknown {
  return (root) => {
    let sum = 0;
    let date: Date | null = null;
    for (const a of args) {
      const v = a(root);
      if (typeof v === 'number') sum += v;
      else if (v instanceof Date) {
        if (date !== null) throw new CommandError(16612, 'only one date allowed in an $add expression');
        date = v;
      } else if (v === null || v === undefined) return null;
      else return UNHANDLED;
    }
    if (date === null) return sum;
    const ms = date.getTime() + sum;
    if (!Number.isFinite(ms)) return UNHANDLED;
    return new Date(roundAway(ms));
  };
}

function fastSubtract(left: Evaluator, right: Evaluator): (root: Doc) => unknown {
  return (root) => {
    const a = left(root);
    const b = right(root);
    if (a === null || a === undefined || b === null || b === undefined) return null;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
    if (a instanceof Date && typeof b === 'number' && Number.isInteger(b)) return new Date(a.getTime() - b);
    return UNHANDLED;
  };
}

function withFallback(fast: (root: Doc) => unknown, expr: unknown, variables: Variables): Evaluator {
  const slow = byMingo(expr, variables);
  return (root) => {
    const v = fast(root);
    return v === UNHANDLED ? slow(root) : v;
  };
}

function compileVariable(name: string, rest: string[], variables: Variables): Evaluator {
  switch (name) {
    case 'NOW':
      return rest.length === 0 ? () => operationNow() : () => undefined;
    case 'CLUSTER_TIME':
      // Only replica sets and sharded clusters have a cluster time; a standalone refuses.
      throw clusterTimeUnavailable();
    case 'REMOVE':
      return () => undefined;
    case 'ROOT':
    case 'CURRENT':
      return rest.length === 0 ? (root) => root : fieldPath(rest);
    default:
      break;
  }
  // Only the command's `let` variables are in scope here: $$this and $$value exist inside the
  // operators that bind them ($map, $reduce, ...), which mingo evaluates whole.
  if (variables === undefined || !Object.prototype.hasOwnProperty.call(variables, name)) throw undefinedVariable(name);
  const value = variables[name];
  return rest.length === 0 ? () => value : () => pathValue(value, rest, 0);
}

/** Compiles an aggregation expression (throws the server's parse errors where it knows them). */
export function compileExpression(expr: unknown, variables: Variables): Evaluator {
  if (typeof expr === 'string') {
    if (!expr.startsWith('$')) return () => expr;
    if (expr.startsWith('$$')) {
      const [name, ...rest] = expr.slice(2).split('.');
      return compileVariable(name, rest, variables);
    }
    if (expr.length === 1 || expr.includes('..') || expr.endsWith('.')) return byMingo(expr, variables);
    return fieldPath(expr.slice(1).split('.'));
  }
  if (isConstant(expr)) return constant(expr);
  if (Array.isArray(expr)) {
    // An array expression: elements that evaluate to missing become null there.
    const items = expr.map((e) => compileExpression(e, variables));
    return (root) =>
      items.map((f) => {
        const v = f(root);
        return v === undefined ? null : v;
      });
  }
  if (!isPlainObject(expr)) return constant(expr);
  const keys = Object.keys(expr);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const op = keys[0];
    const arg = expr[op];
    if (op === '$literal') return constant(arg);
    const comparison = COMPARISONS[op];
    if (comparison !== undefined && Array.isArray(arg) && arg.length === 2) {
      return compare(compileExpression(arg[0], variables), compileExpression(arg[1], variables), comparison);
    }
    if ((op === '$and' || op === '$or') && Array.isArray(arg))
      return logical(
        op,
        arg.map((a) => compileExpression(a, variables)),
      );
    if (op === '$cond') {
      const parts =
        Array.isArray(arg) && arg.length === 3
          ? arg
          : isPlainObject(arg) && Object.keys(arg).length === 3 && 'if' in arg && 'then' in arg && 'else' in arg
            ? [arg.if, arg.then, arg.else]
            : null;
      if (parts !== null) {
        const [test, then, otherwise] = parts.map((a) => compileExpression(a, variables));
        return (root) => (aggTruthy(test(root)) ? then(root) : otherwise(root));
      }
    }
    if (op === '$ifNull' && Array.isArray(arg) && arg.length >= 2) return firstNotNull(arg.map((a) => compileExpression(a, variables)));
    if (op === '$max' || op === '$min') {
      return extreme(
        op === '$max' ? 1 : -1,
        Array.isArray(arg) ? arg.map((a) => compileExpression(a, variables)) : [compileExpression(arg, variables)],
      );
    }
    if (op === '$add' && Array.isArray(arg)) return withFallback(fastAdd(arg.map((a) => compileExpression(a, variables))), expr, variables);
    if (op === '$subtract' && Array.isArray(arg) && arg.length === 2) {
      return withFallback(fastSubtract(compileExpression(arg[0], variables), compileExpression(arg[1], variables)), expr, variables);
    }
    referencesClusterTime(arg);
    if (MINGO_CONTEXT.getOperator('expression' as never, op) === null && MINGO_CONTEXT.getOperator('accumulator' as never, op) === null) {
      throw new CommandError(ErrorCode.InvalidPipelineOperator, `Unrecognized expression '${op}'`);
    }
    return byMingo(expr, variables);
  }
  if (keys.some((k) => k.startsWith('$'))) return byMingo(expr, variables);
  // An expression object: each field computed; fields that evaluate to missing are left out.
  const fields = keys.map((k) => [k, compileExpression(expr[k], variables)] as const);
  return (root) => {
    const out: Doc = {};
    for (const [k, f] of fields) {
      const v = f(root);
      if (v !== undefined) out[k] = v;
    }
    return out;
  };
}

type Comparison = (c: number) => boolean;

/** Aggregation comparisons: any two values compare, in aggregation order (no type bracketing). */
const COMPARISONS: Readonly<Record<string, Comparison>> = Object.freeze({
  $eq: (c: number) => c === 0,
  $ne: (c: number) => c !== 0,
  $lt: (c: number) => c < 0,
  $lte: (c: number) => c <= 0,
  $gt: (c: number) => c > 0,
  $gte: (c: number) => c >= 0,
});

function compare(left: Evaluator, right: Evaluator, test: Comparison): Evaluator {
  return (root) => test(aggCompare(left(root), right(root)));
}

function logical(op: '$and' | '$or', args: Evaluator[]): Evaluator {
  if (op === '$and') return (root) => args.every((f) => aggTruthy(f(root)));
  return (root) => args.some((f) => aggTruthy(f(root)));
}

/** `$ifNull`: the first operand that is neither null nor missing, else the last one's value. */
function firstNotNull(args: Evaluator[]): Evaluator {
  const last = args.length - 1;
  return (root) => {
    for (let i = 0; i < last; i++) {
      const v = args[i](root);
      if (v !== null && v !== undefined) return v;
    }
    return args[last](root);
  };
}

/**
 * `$max`/`$min` as expressions: null and missing operands are ignored (null when nothing is left);
 * a single operand that is an array is searched element by element.
 */
function extreme(direction: 1 | -1, args: Evaluator[]): Evaluator {
  return (root) => {
    let values: unknown[];
    if (args.length === 1) {
      const v = args[0](root);
      values = Array.isArray(v) ? v : [v];
    } else {
      values = args.map((f) => f(root));
    }
    let best: unknown;
    for (const v of values) {
      if (v === null || v === undefined) continue;
      if (best === undefined || aggCompare(v, best) * direction > 0) best = v;
    }
    return best === undefined ? null : best;
  };
}

/** Whether an expression reads no field of the document (its value is known before any document). */
export function readsNoField(expr: unknown): boolean {
  if (typeof expr === 'string') return !expr.startsWith('$') || (expr.startsWith('$$') && !/^\$\$(ROOT|CURRENT)(\.|$)/.test(expr));
  if (Array.isArray(expr)) return expr.every(readsNoField);
  if (!isPlainObject(expr)) return true;
  if ('$literal' in expr) return true;
  return Object.values(expr).every(readsNoField);
}

/** Throws 51144 when an expression refers to `$$CLUSTER_TIME` (outside `$literal`). */
export function referencesClusterTime(expr: unknown): void {
  if (typeof expr === 'string') {
    if (expr === '$$CLUSTER_TIME' || expr.startsWith('$$CLUSTER_TIME.')) throw clusterTimeUnavailable();
    return;
  }
  if (Array.isArray(expr)) {
    for (const e of expr) referencesClusterTime(e);
    return;
  }
  if (!isPlainObject(expr)) return;
  for (const [k, v] of Object.entries(expr)) if (k !== '$literal') referencesClusterTime(v);
}

/**
 * Aggregation's comparison order: BSON order, except that a missing value sorts below null
 * (canonical type 0 against null's 5), so `{$lt: ['$missing', null]}` holds.
 */
export function aggCompare(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return compareValues(a, b);
}

/** Aggregation truthiness ($expr, $cond, $and): false, null, missing and numeric zero are false. */
export function aggTruthy(v: unknown): boolean {
  if (v === false || v === null || v === undefined) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeRank(v) === TypeRank.Number && typeof v === 'object') {
    const n = Number((v as { toString(): string }).toString());
    return n !== 0;
  }
  return true;
}
