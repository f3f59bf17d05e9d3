import { Aggregator } from 'mingo';
import * as pipelineOperators from 'mingo/operators/pipeline';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';
import type { Doc } from '../storage/collection.ts';
import { cloneValue } from './clone.ts';
import { compileExpression, referencesClusterTime, type Evaluator, type Variables } from './expression.ts';

/**
 * Updates written as aggregation pipelines (`updateOne(filter, [{$set: …}, {$unset: …}])`),
 * compiled once per statement. `$set`/`$addFields` and `$unset` are applied here, with MongoDB's
 * projection semantics (mingo differs: it replaces an embedded document that a nested `$set`
 * spec should merge into); `$project`, `$replaceRoot` and `$replaceWith` run through mingo.
 * Expressions are evaluated against the stage's input document, as MongoDB does.
 */
export type PipelineUpdate = (doc: Doc) => Doc;

/** The stages MongoDB accepts in an update pipeline (update command, "Update with an Aggregation Pipeline"). */
const UPDATE_STAGES: ReadonlySet<string> = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

/** Stage names the server knows but refuses in an update (72), as opposed to unknown names (40324). */
const OTHER_STAGES: ReadonlySet<string> = new Set([
  ...Object.keys(pipelineOperators),
  '$geoNear',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$changeStream',
  '$indexStats',
  '$collStats',
  '$currentOp',
  '$listSessions',
  '$listLocalSessions',
  '$planCacheStats',
  '$unionWith',
  '$densify',
  '$fill',
  '$documents',
]);

interface ExprNode {
  kind: 'expr';
  evaluate: Evaluator;
}

interface TreeNode {
  kind: 'tree';
  children: Map<string, ExprNode | TreeNode>;
}

function stageError(stage: unknown): never {
  if (!isPlainObject(stage)) throw new CommandError(ErrorCode.TypeMismatch, "Each element of the 'pipeline' array must be an object");
  throw new CommandError(40323, 'A pipeline stage specification object must contain exactly one field.');
}

function isRegularField(name: string): boolean {
  return name.length > 0 && !name.startsWith('$') && name !== '__proto__';
}

/**
 * The projection tree of a `$set` spec: dotted names and nested documents become subtrees, every
 * other value an expression. Null for what this code leaves to mingo (field names with `$`,
 * conflicting paths), which then answers as it does.
 */
function buildTree(spec: Doc, variables: Variables): TreeNode | null {
  const root: TreeNode = { kind: 'tree', children: new Map() };
  for (const [key, value] of Object.entries(spec)) {
    const parts = key.split('.');
    if (!parts.every(isRegularField)) return null;
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const existing = node.children.get(parts[i]);
      if (existing === undefined) {
        const created: TreeNode = { kind: 'tree', children: new Map() };
        node.children.set(parts[i], created);
        node = created;
      } else if (existing.kind === 'tree') {
        node = existing;
      } else {
        return null;
      }
    }
    const last = parts[parts.length - 1];
    if (node.children.has(last)) return null;
    const nestedSpec = isPlainObject(value) && Object.keys(value).length > 0 && !Object.keys(value)[0].startsWith('$');
    if (nestedSpec) {
      if (Object.keys(value).some((k) => k.startsWith('$'))) return null;
      const sub = buildTree(value, variables);
      if (sub === null) return null;
      node.children.set(last, sub);
    } else {
      node.children.set(last, { kind: 'expr', evaluate: compileExpression(value, variables) });
    }
  }
  return root;
}

function dropMissing(doc: Doc): Doc {
  const out: Doc = {};
  for (const k of Object.keys(doc)) if (doc[k] !== undefined) out[k] = doc[k];
  return out;
}

/** Sets the tree's fields on a copy of `input` (existing fields keep their place, new ones follow). */
function applyTree(root: Doc, node: TreeNode, input: Doc): Doc {
  const out: Doc = { ...input };
  let removed = false;
  for (const [field, child] of node.children) {
    const value = child.kind === 'expr' ? child.evaluate(root) : applyToValue(root, child, out[field]);
    if (value === undefined) {
      // An expression that evaluates to missing ($$REMOVE, an absent field) removes the field.
      if (field in out) {
        out[field] = undefined;
        removed = true;
      }
    } else {
      out[field] = value;
    }
  }
  return removed ? dropMissing(out) : out;
}

/**
 * A subtree applied to an existing value: merged into a document, applied to each element of an
 * array, and a scalar or missing value is replaced by a document of the computed fields
 * (MongoDB's ProjectionNode::applyExpressionsToValue).
 */
function applyToValue(root: Doc, node: TreeNode, input: unknown): unknown {
  if (isPlainObject(input)) return applyTree(root, node, input);
  if (Array.isArray(input)) return input.map((el) => applyToValue(root, node, el));
  return applyTree(root, node, {});
}

function compileSet(name: string, spec: unknown, variables: Variables): PipelineUpdate {
  if (!isPlainObject(spec)) {
    throw new CommandError(40272, `${name} specification stage must be an object, got ${Array.isArray(spec) ? 'array' : typeof spec}`);
  }
  const tree = buildTree(spec, variables);
  if (tree === null) {
    referencesClusterTime(spec);
    return byMingo({ [name]: spec }, variables);
  }
  return (doc) => applyTree(doc, tree, doc);
}

function unsetPath(value: Doc, parts: readonly string[], i: number): Doc {
  const key = parts[i];
  if (!(key in value)) return value;
  if (i === parts.length - 1) {
    const out: Doc = {};
    for (const k of Object.keys(value)) if (k !== key) out[k] = value[k];
    return out;
  }
  const child = value[key];
  const next = unsetIn(child, parts, i + 1);
  return next === child ? value : { ...value, [key]: next };
}

/** Exclusion through arrays: documents in them lose the field, other elements stay. */
function unsetIn(value: unknown, parts: readonly string[], i: number): unknown {
  if (isPlainObject(value)) return unsetPath(value, parts, i);
  if (Array.isArray(value)) return value.map((el) => unsetIn(el, parts, i));
  return value;
}

function compileUnset(spec: unknown, variables: Variables): PipelineUpdate {
  const list = typeof spec === 'string' ? [spec] : spec;
  if (!Array.isArray(list) || list.length === 0) {
    throw new CommandError(31119, '$unset specification must be a string or an array with at least one field');
  }
  if (!list.every((p) => typeof p === 'string')) {
    throw new CommandError(31120, '$unset specification must be a string or an array containing only string values');
  }
  const paths = (list as string[]).map((p) => p.split('.'));
  const joined = (list as string[]).slice().sort();
  const conflicting = joined.some((p, i) => i > 0 && (p === joined[i - 1] || p.startsWith(`${joined[i - 1]}.`)));
  if (conflicting || !paths.every((parts) => parts.every(isRegularField))) return byMingo({ $unset: spec }, variables);
  return (doc) => {
    let out = doc;
    for (const parts of paths) out = unsetPath(out, parts, 0);
    return out === doc ? { ...doc } : out;
  };
}

function byMingo(stage: Doc, variables: Variables): PipelineUpdate {
  let agg: Aggregator;
  try {
    agg = new Aggregator([stage], { variables });
  } catch (err) {
    throw toCommandError(err);
  }
  return (doc) => {
    try {
      return (agg.run([cloneValue(doc)])[0] ?? {}) as Doc;
    } catch (err) {
      throw toCommandError(err);
    }
  };
}

function compileStage(stage: unknown, variables: Variables): PipelineUpdate {
  if (!isPlainObject(stage)) stageError(stage);
  const keys = Object.keys(stage);
  if (keys.length !== 1) stageError(stage);
  const name = keys[0];
  const spec = stage[name];
  if (!UPDATE_STAGES.has(name)) {
    if (OTHER_STAGES.has(name)) throw new CommandError(ErrorCode.InvalidOptions, `${name} is not allowed to be used within an update`);
    throw new CommandError(ErrorCode.Location40324, `Unrecognized pipeline stage name: '${name}'`);
  }
  if (name === '$set' || name === '$addFields') return compileSet(name, spec, variables);
  if (name === '$unset') return compileUnset(spec, variables);
  referencesClusterTime(spec);
  return byMingo(stage, variables);
}

/** Compiles an update pipeline; throws the errors MongoDB gives when it parses one. */
export function compilePipelineUpdate(stages: unknown[], variables: Variables): PipelineUpdate {
  const compiled = stages.map((st) => compileStage(st, variables));
  if (compiled.length === 1) return compiled[0];
  return (doc) => {
    let cur = doc;
    for (const run of compiled) cur = run(cur);
    return cur;
  };
}
