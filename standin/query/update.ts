import { update as mingoUpdate } from 'mingo';
import { Long, ObjectId, Timestamp } from 'bson';
import { compareValues, isPlainObject, typeRank, TypeRank } from '../bson-order.ts';
import { CommandError, ErrorCode, failedToParse, toCommandError } from '../errors.ts';
import type { Doc } from '../storage/collection.ts';
import { cloneValue } from './clone.ts';
import { getPath, splitPath } from './paths.ts';
import { shellString } from '../storage/dup-key.ts';
import { compilePipelineUpdate, type PipelineUpdate } from './pipeline-update.ts';

export type UpdateSpec = Doc | Doc[];

export interface UpdateContext {
  arrayFilters?: Doc[];
  filter?: Doc;
  /** True when this update builds a new document for an upsert ($setOnInsert applies). */
  inserting?: boolean;
  variables?: Doc;
  /** The statement's pipeline update, compiled once (compiled here when absent). */
  pipeline?: PipelineUpdate;
}

export function isOperatorUpdate(u: unknown): boolean {
  if (!isPlainObject(u)) return false;
  const keys = Object.keys(u);
  return keys.length > 0 && keys[0].startsWith('$');
}

/** Checks an update document's shape before anything runs (as the server parses it). */
export function validateUpdate(u: unknown): void {
  if (Array.isArray(u)) return;
  if (!isPlainObject(u)) throw failedToParse('Update argument must be either an object or an array');
  const keys = Object.keys(u);
  if (keys.length === 0 || !keys[0].startsWith('$')) {
    for (const k of keys) {
      if (k.startsWith('$')) {
        throw new CommandError(
          ErrorCode.DollarPrefixedFieldName,
          `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
        );
      }
    }
    return;
  }
  for (const k of keys) {
    if (!k.startsWith('$')) {
      throw failedToParse(`Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
  }
}

const KNOWN_OPS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$push',
  '$pull',
  '$pullAll',
  '$addToSet',
  '$pop',
  '$setOnInsert',
  '$currentDate',
  '$bit',
]);
const FAST_OPS = new Set(['$set', '$unset', '$inc', '$setOnInsert', '$push']);

/** `$push` specs the fast path handles: a value, or `$each` with an optional `$slice`. */
function simplePush(spec: unknown): { items: unknown[]; slice?: number } | null {
  if (!isPlainObject(spec) || !('$each' in spec)) return { items: [spec] };
  const keys = Object.keys(spec);
  if (!Array.isArray(spec.$each) || !keys.every((k) => k === '$each' || k === '$slice')) return null;
  if (spec.$slice !== undefined && (typeof spec.$slice !== 'number' || !Number.isInteger(spec.$slice))) return null;
  return { items: spec.$each, slice: spec.$slice as number | undefined };
}

function checkConflicts(u: Doc): void {
  const paths: string[] = [];
  for (const [op, spec] of Object.entries(u)) {
    if (!KNOWN_OPS.has(op))
      throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isPlainObject(spec))
      throw failedToParse(
        `Modifiers operate on fields but we found type ${Array.isArray(spec) ? 'array' : typeof spec} instead. For example: {$mod: {<field>: ...}} not {$set: <field>}`,
      );
    for (const p of Object.keys(spec)) {
      paths.push(p);
      if (op === '$rename' && typeof spec[p] === 'string') paths.push(spec[p] as string);
    }
  }
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a === b || b.startsWith(a + '.')) {
      throw new CommandError(ErrorCode.ConflictingUpdateOperators, `Updating the path '${b}' would create a conflict at '${a}'`);
    }
  }
}

function isNumeric(v: unknown): boolean {
  return typeRank(v) === TypeRank.Number;
}

function addNumbers(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const ta = (a as { _bsontype?: string })?._bsontype;
  const tb = (b as { _bsontype?: string })?._bsontype;
  if (ta === 'Long' || tb === 'Long') {
    return Long.fromValue(a as never).add(Long.fromValue(b as never));
  }
  return Number(a) + Number(b);
}

function checkIncTypes(doc: Doc, spec: Doc, op: string): void {
  for (const [path, v] of Object.entries(spec)) {
    if (!isNumeric(v)) {
      throw new CommandError(
        ErrorCode.TypeMismatch,
        `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${shellString(v)}}`,
      );
    }
    const cur = getPath(doc, path);
    if (cur !== undefined && cur !== null && !isNumeric(cur)) {
      throw new CommandError(
        ErrorCode.TypeMismatch,
        `Cannot apply ${op} to a value of non-numeric type. {_id: ${shellString(doc._id)}} has the field '${path}' of non-numeric type ${typeName(cur)}`,
      );
    }
  }
}

/** $push and $addToSet need an array (or nothing) at their path, as MongoDB checks. */
function checkArrayTargets(doc: Doc, spec: Doc): void {
  for (const path of Object.keys(spec)) {
    if (path.includes('$')) continue;
    const cur = getPath(doc, path);
    if (cur !== undefined && !Array.isArray(cur)) {
      throw new CommandError(
        ErrorCode.BadValue,
        `The field '${path}' must be an array but is of type ${typeName(cur)} in document {_id: ${shellString(doc._id)}}`,
      );
    }
  }
}

function typeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v === null) return 'null';
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return 'objectId';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Sets a dotted path on a copy-on-write document (cloning only the objects on the path). */
function setPath(doc: Doc, path: string, value: unknown, unset = false): boolean {
  const parts = splitPath(path);
  let cur: Doc = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    const next = cur[p];
    if (next === undefined || next === null) {
      if (unset) return true;
      if (next === null) return false;
      const created: Doc = {};
      cur[p] = created;
      cur = created;
    } else if (isPlainObject(next)) {
      const copy = { ...next };
      cur[p] = copy;
      cur = copy;
    } else {
      return false;
    }
  }
  const last = parts[parts.length - 1];
  if (unset) delete cur[last];
  else cur[last] = value;
  return true;
}

/** Paths through arrays or positional operators need mingo. */
function pathIsPlain(doc: Doc, path: string): boolean {
  if (path.includes('$')) return false;
  const parts = splitPath(path);
  let cur: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = (cur as Doc)[parts[i]];
    if (cur === undefined) return true;
    if (!isPlainObject(cur)) return false;
  }
  return true;
}

function applyFast(doc: Doc, u: Doc, ctx: UpdateContext): Doc | null {
  for (const [op, spec] of Object.entries(u)) {
    if (!FAST_OPS.has(op)) return null;
    for (const [p, v] of Object.entries(spec as Doc)) {
      if (!pathIsPlain(doc, p)) return null;
      if (op === '$push') {
        const cur = getPath(doc, p);
        if ((cur !== undefined && !Array.isArray(cur)) || simplePush(v) === null) return null;
      }
    }
  }
  const out: Doc = { ...doc };
  for (const [op, spec] of Object.entries(u)) {
    const s = spec as Doc;
    for (const [p, v] of Object.entries(s)) {
      let ok = true;
      if (op === '$set' || (op === '$setOnInsert' && ctx.inserting)) ok = setPath(out, p, cloneValue(v));
      else if (op === '$unset') ok = setPath(out, p, undefined, true);
      else if (op === '$push') {
        const { items, slice } = simplePush(v)!;
        const cur = (getPath(out, p) as unknown[] | undefined) ?? [];
        let arr = [...cur, ...items.map(cloneValue)];
        if (slice !== undefined) arr = slice >= 0 ? arr.slice(0, slice) : arr.slice(slice);
        ok = setPath(out, p, arr);
      } else if (op === '$inc') {
        const cur = getPath(out, p);
        ok = setPath(out, p, cur === undefined || cur === null ? v : addNumbers(cur, v));
      }
      if (!ok) return null;
    }
  }
  // `delete` (in $unset) leaves an object in V8's slow dictionary mode, and every later copy of
  // the stored document pays for it: store a plain copy instead.
  return '$unset' in u ? plainCopy(out) : out;
}

function plainCopy(doc: Doc): Doc {
  const out: Doc = {};
  for (const k of Object.keys(doc)) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: doc[k], enumerable: true, writable: true, configurable: true });
    else out[k] = doc[k];
  }
  return out;
}

function convertCurrentDate(u: Doc): Doc {
  const cd = u.$currentDate as Doc | undefined;
  if (cd === undefined) return u;
  const out: Doc = { ...u };
  delete out.$currentDate;
  const set: Doc = { ...((out.$set as Doc) ?? {}) };
  const now = new Date();
  for (const [p, spec] of Object.entries(cd)) {
    const ts = isPlainObject(spec) && spec.$type === 'timestamp';
    set[p] = ts ? new Timestamp({ t: Math.floor(now.getTime() / 1000), i: 1 }) : now;
  }
  out.$set = set;
  return out;
}

/**
 * Applies an update (operators, replacement or pipeline) to a document and returns the new
 * document; the input is never mutated. Validates _id immutability and numeric types.
 */
export function applyUpdate(doc: Doc, u: UpdateSpec, ctx: UpdateContext = {}): Doc {
  let next: Doc;
  if (Array.isArray(u)) {
    next = (ctx.pipeline ?? compilePipelineUpdate(u, ctx.variables))(doc);
    // A pipeline that drops _id keeps the original one, first (as a replacement does).
    if (!('_id' in next) && '_id' in doc) next = { _id: doc._id, ...next };
  } else if (!isOperatorUpdate(u)) {
    next = { _id: doc._id, ...cloneValue(u) };
    if ('_id' in u && doc._id !== undefined && compareValues(u._id, doc._id) !== 0) {
      throw new CommandError(
        ErrorCode.ImmutableField,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${shellString(u._id)}`,
      );
    }
    if ('_id' in u && doc._id === undefined) next._id = u._id;
  } else {
    checkConflicts(u);
    if (u.$inc !== undefined) checkIncTypes(doc, u.$inc as Doc, '$inc');
    if (u.$mul !== undefined) checkIncTypes(doc, u.$mul as Doc, '$mul');
    for (const op of ['$push', '$addToSet']) if (u[op] !== undefined) checkArrayTargets(doc, u[op] as Doc);
    const mod = convertCurrentDate(u);
    const fast = applyFast(doc, mod, ctx);
    if (fast !== null) {
      next = fast;
    } else {
      next = cloneValue(doc);
      const forMingo: Doc = { ...mod };
      const onInsert = forMingo.$setOnInsert as Doc | undefined;
      delete forMingo.$setOnInsert;
      if (ctx.inserting && onInsert !== undefined) {
        forMingo.$set = { ...((forMingo.$set as Doc) ?? {}), ...onInsert };
      }
      if (Object.keys(forMingo).length > 0) {
        try {
          mingoUpdate(next, forMingo, ctx.arrayFilters, ctx.filter, { cloneMode: 'deep' });
        } catch (err) {
          throw toCommandError(err);
        }
      }
    }
  }
  if (doc._id !== undefined && (next._id === undefined || compareValues(next._id, doc._id) !== 0)) {
    throw new CommandError(ErrorCode.ImmutableField, `Performing an update on the path '_id' would modify the immutable field '_id'`);
  }
  return next;
}

/** The document an upsert starts from: the filter's equality clauses (and its _id). */
export function seedFromFilter(filter: Doc): Doc {
  const seed: Doc = {};
  const visit = (f: Doc): void => {
    for (const [k, v] of Object.entries(f)) {
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (k.startsWith('$')) continue;
      let val: unknown;
      if (isPlainObject(v)) {
        const keys = Object.keys(v);
        if (keys.length > 0 && keys.every((x) => x.startsWith('$'))) {
          if (!('$eq' in v)) continue;
          val = v.$eq;
        } else {
          val = v;
        }
      } else if (v instanceof RegExp) {
        continue;
      } else {
        val = v;
      }
      setPath(seed, k, cloneValue(val));
    }
  };
  visit(filter);
  return seed;
}

/** Builds the document an upsert inserts. */
export function buildUpsert(filter: Doc, u: UpdateSpec, ctx: UpdateContext): Doc {
  let doc: Doc;
  if (!Array.isArray(u) && !isOperatorUpdate(u)) {
    const seed = seedFromFilter(filter);
    doc = cloneValue(u);
    if (!('_id' in doc) && '_id' in seed) doc = { _id: seed._id, ...doc };
  } else {
    const seed = seedFromFilter(filter);
    doc = applyUpdate(seed, u, { ...ctx, inserting: true });
  }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  return doc;
}

export function docsEqual(a: Doc, b: Doc): boolean {
  // compareValues(a, b) === 0, without comparing the values an update left shared.
  if (a === b) return true;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false;
    const va = a[ka[i]];
    const vb = b[kb[i]];
    if (va !== vb && compareValues(va, vb) !== 0) return false;
  }
  return true;
}
