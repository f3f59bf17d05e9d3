import { isDocument, scalarEquals, show, typeAliasesOf, numericValue } from './bson-values.ts';

/**
 * The unified test format's "Evaluating Matches" rules: special `$$` operators, flexible numbers,
 * extra keys allowed only in root-level documents, arrays of equal length.
 */

/** Looks up a named entity for `$$matchesEntity`; throws when it does not exist. */
export type EntityLookup = (name: string) => unknown;

export interface MatchOptions {
  entities?: EntityLookup;
}

/** Thrown by the matcher; `path` says where in the value the mismatch is. */
export class MatchError extends Error {
  readonly code = 'CONFORMANCE_MISMATCH';
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path || '(root)'}: ${detail}`);
  }
}

function operatorOf(value: unknown): [string, unknown] | undefined {
  if (!isDocument(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0].startsWith('$$')) return [keys[0], value[keys[0]]];
  return undefined;
}

/** The driver passes some command fields (e.g. `sort`) as a Map, which BSON serialises as a document. */
function plainMap(value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

function join(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

/** Visible keys of an actual document (a property holding `undefined` is a JS artefact, not a field). */
function actualKeys(doc: Record<string, unknown>): string[] {
  return Object.keys(doc).filter((k) => doc[k] !== undefined);
}

function hasKey(doc: Record<string, unknown>, key: string): boolean {
  return doc[key] !== undefined;
}

function matchOperator(op: string, arg: unknown, actual: unknown, isRoot: boolean, path: string, options: MatchOptions): void {
  switch (op) {
    case '$$exists':
      if (Boolean(arg) !== (actual !== undefined)) {
        throw new MatchError(path, arg ? 'expected the field to exist' : `expected no field, got ${show(actual)}`);
      }
      return;
    case '$$unsetOrMatches':
      if (actual === undefined) return;
      match(arg, actual, isRoot, path, options);
      return;
    case '$$type': {
      const wanted = Array.isArray(arg) ? arg.map(String) : [String(arg)];
      if (actual === undefined) throw new MatchError(path, `expected a value of type ${wanted.join('|')}, field is missing`);
      const got = typeAliasesOf(actual);
      if (!wanted.some((t) => got.includes(t))) {
        throw new MatchError(path, `expected type ${wanted.join('|')}, got ${got.join('|') || typeof actual} (${show(actual)})`);
      }
      return;
    }
    case '$$matchesEntity': {
      if (!options.entities) throw new MatchError(path, '$$matchesEntity used without an entity map');
      match(options.entities(String(arg)), actual, isRoot, path, options);
      return;
    }
    case '$$matchAsRoot':
      match(arg, actual, true, path, options);
      return;
    case '$$matchAsDocument': {
      if (typeof actual !== 'string') throw new MatchError(path, `expected an Extended JSON string, got ${show(actual)}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(actual);
      } catch {
        throw new MatchError(path, `not valid JSON: ${actual}`);
      }
      match(arg, parsed, false, path, options);
      return;
    }
    case '$$lte': {
      const a = numericValue(actual);
      const e = numericValue(arg);
      if (a === undefined || e === undefined || Number(a) > Number(e)) {
        throw new MatchError(path, `expected a number <= ${show(arg)}, got ${show(actual)}`);
      }
      return;
    }
    default:
      throw new UnsupportedOperatorError(op);
  }
}

/** A `$$` operator the runner does not implement (the test is reported, not silently passed). */
export class UnsupportedOperatorError extends Error {
  readonly code = 'CONFORMANCE_UNSUPPORTED_OPERATOR';
  constructor(readonly operator: string) {
    super(`unsupported special operator ${operator}`);
  }
}

/** Asserts `actual` matches `expected`; throws MatchError naming the first difference. */
export function match(expected: unknown, actual: unknown, isRoot: boolean, path = '', options: MatchOptions = {}): void {
  actual = plainMap(actual);
  const op = operatorOf(expected);
  if (op) {
    matchOperator(op[0], op[1], actual, isRoot, path, options);
    return;
  }
  if (isDocument(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual) || !isDocument(actual)) {
      throw new MatchError(path, `expected a document, got ${show(actual)}`);
    }
    const actualDoc = actual as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected)) {
      const childPath = join(path, key);
      const keyOp = operatorOf(value);
      if (keyOp && (keyOp[0] === '$$exists' || keyOp[0] === '$$unsetOrMatches')) {
        matchOperator(keyOp[0], keyOp[1], actualDoc[key], false, childPath, options);
        continue;
      }
      if (!hasKey(actualDoc, key)) throw new MatchError(childPath, `missing field, expected ${show(value)}`);
      match(value, actualDoc[key], false, childPath, options);
    }
    if (!isRoot) {
      const extra = actualKeys(actualDoc).filter((k) => !(k in expected));
      if (extra.length > 0) throw new MatchError(path, `unexpected field(s) ${extra.join(', ')} in ${show(actual)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new MatchError(path, `expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length) {
      throw new MatchError(path, `expected ${expected.length} element(s), got ${actual.length}: ${show(actual)}`);
    }
    expected.forEach((value, i) => match(value, actual[i], false, join(path, i), options));
    return;
  }
  if (!scalarEquals(expected, actual)) throw new MatchError(path, `expected ${show(expected)}, got ${show(actual)}`);
}

/** Matches a result; `iterable` results (find, aggregate) have root-level documents as elements. */
export function matchResult(expected: unknown, actual: unknown, iterable: boolean, options: MatchOptions = {}): void {
  if (iterable && Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new MatchError('', `expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length) {
      throw new MatchError('', `expected ${expected.length} document(s), got ${actual.length}: ${show(actual)}`);
    }
    expected.forEach((value, i) => match(value, actual[i], true, String(i), options));
    return;
  }
  match(expected, actual, true, '', options);
}

/**
 * The `outcome` comparison: documents must be equal with no extra or missing fields at any level;
 * key order is free and numbers compare by value (the driver has promoted int/long/double alike).
 */
export function matchExactly(expected: unknown, actual: unknown, path = ''): void {
  actual = plainMap(actual);
  if (isDocument(expected)) {
    if (!isDocument(actual)) throw new MatchError(path, `expected a document, got ${show(actual)}`);
    const expectedKeys = Object.keys(expected);
    for (const key of expectedKeys) {
      if (!hasKey(actual, key)) throw new MatchError(join(path, key), `missing field, expected ${show(expected[key])}`);
      matchExactly(expected[key], actual[key], join(path, key));
    }
    const extra = actualKeys(actual).filter((k) => !expectedKeys.includes(k));
    if (extra.length > 0) throw new MatchError(path, `unexpected field(s) ${extra.join(', ')} in ${show(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new MatchError(path, `expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length) {
      throw new MatchError(path, `expected ${expected.length} element(s), got ${actual.length}: ${show(actual)}`);
    }
    expected.forEach((value, i) => matchExactly(value, actual[i], join(path, i)));
    return;
  }
  if (!scalarEquals(expected, actual)) throw new MatchError(path, `expected ${show(expected)}, got ${show(actual)}`);
}
