import { compareValues, MAX_BOUND, MIN_BOUND } from '../bson-order.ts';
import { compileFilter, type Matcher } from '../query/matcher.ts';
import { pathValues } from '../query/paths.ts';
import { IndexEntries } from './index-entries.ts';

export interface IndexSpec {
  v: number;
  key: Record<string, unknown>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Record<string, unknown>;
  expireAfterSeconds?: number;
  [option: string]: unknown;
}

export interface IndexEntry {
  k: unknown[];
  r: number;
}

const MAX_KEYS_PER_DOC = 10_000;

/** Sentinel key components: the lowest and highest key in index order for a direction. */
export function indexMin(dir: number): unknown {
  return dir < 0 ? MAX_BOUND : MIN_BOUND;
}
export function indexMax(dir: number): unknown {
  return dir < 0 ? MIN_BOUND : MAX_BOUND;
}

/** A secondary (or _id) index: a sorted list of (key, recordId) entries. */
export class KeyIndex {
  readonly spec: IndexSpec;
  readonly fields: string[];
  readonly dirs: number[];
  readonly unique: boolean;
  /** Set once any document produced more than one key (an array value). */
  multikey = false;
  private readonly partial: Matcher | null;
  private readonly entries: IndexEntries;
  private readonly dotted: boolean;
  /**
   * Top-level fields the index's keys (and partial filter) depend on; null when unknown. A
   * rewrite that keeps each of these values (the same stored value) cannot change the keys.
   */
  readonly dependsOn: readonly string[] | null;
  /** Usable for ordinary query planning (partial and sparse indexes may lack documents). */
  readonly complete: boolean;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.dirs = this.fields.map((f) => {
      const d = spec.key[f];
      return typeof d === 'number' && d < 0 ? -1 : 1;
    });
    this.unique = spec.unique === true || spec.name === '_id_';
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : null;
    this.entries = new IndexEntries(this.fields.length, this.dirs);
    this.dotted = this.fields.some((f) => f.includes('.'));
    this.dependsOn = dependencies(this.fields, spec.partialFilterExpression);
    this.complete = this.partial === null && spec.sparse !== true && !this.fields.some((f) => typeof spec.key[f] === 'string');
  }

  get name(): string {
    return this.spec.name;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The distinct keys a document contributes (none when sparse/partial excludes it). */
  keysFor(doc: Record<string, unknown>): unknown[][] {
    if (this.partial !== null && !this.partial(doc)) return [];
    // The common case: top-level fields without arrays give exactly one key.
    if (!this.dotted) {
      const fields = this.fields;
      const key: unknown[] = [];
      let allMissing = true;
      for (let i = 0; i < fields.length; i++) {
        const v = doc[fields[i]];
        if (Array.isArray(v)) return this.expandKeys(doc);
        if (v === undefined) {
          key.push(null);
        } else {
          allMissing = false;
          key.push(v);
        }
      }
      if (allMissing && this.spec.sparse === true) return [];
      return [key];
    }
    return this.expandKeys(doc);
  }

  /** Keys of any document: dotted paths through arrays, multikey values, sparse exclusion. */
  private expandKeys(doc: Record<string, unknown>): unknown[][] {
    let keys: unknown[][] = [[]];
    let allMissing = true;
    for (const field of this.fields) {
      const raw = field.includes('.') ? pathValues(doc, field) : [doc[field]];
      const vals: unknown[] = [];
      for (const v of raw) {
        if (Array.isArray(v)) {
          if (v.length === 0) vals.push(undefined);
          else for (const el of v) vals.push(el);
        } else {
          vals.push(v);
        }
      }
      if (vals.some((v) => v !== undefined)) allMissing = false;
      const uniq = dedupe(vals.map((v) => (v === undefined ? null : v)));
      if (uniq.length === 1) {
        for (const k of keys) k.push(uniq[0]);
      } else {
        const next: unknown[][] = [];
        for (const k of keys) for (const v of uniq) next.push([...k, v]);
        keys = next.slice(0, MAX_KEYS_PER_DOC);
      }
    }
    if (allMissing && this.spec.sparse === true) return [];
    if (keys.length > 1) this.multikey = true;
    return keys;
  }

  add(keys: unknown[][], rid: number): void {
    for (const k of keys) this.entries.insert(k, rid);
  }

  remove(keys: unknown[][], rid: number): void {
    for (const k of keys) this.entries.remove(k, rid);
  }

  /** A record other than `self` that holds one of these keys, if this index is unique. */
  conflict(keys: unknown[][], self: number): { rid: number; key: unknown[] } | null {
    if (!this.unique) return null;
    for (const k of keys) {
      const rid = this.entries.otherWith(k, self);
      if (rid !== -1) return { rid, key: k };
    }
    return null;
  }

  /** Record ids whose keys lie between two (sentinel-padded) keys, in index order. */
  *scan(lo: unknown[], loRid: number, hi: unknown[], hiRid: number, reverse: boolean): Generator<number> {
    yield* this.entries.range(lo, loRid, hi, hiRid, reverse);
  }

  *scanAll(reverse: boolean): Generator<IndexEntry> {
    yield* this.entries.all(reverse);
  }

  clear(): void {
    this.entries.clear();
    this.multikey = false;
  }
}

/** The top-level field names the index fields and a simple partial filter refer to. */
function dependencies(fields: string[], partial: Record<string, unknown> | undefined): string[] | null {
  const deps = new Set(fields.map((f) => f.split('.')[0]));
  if (partial !== undefined) {
    for (const k of Object.keys(partial)) {
      // Operators ($and, $or, $expr...) could refer to anything: give up on this index.
      if (k.startsWith('$')) return null;
      deps.add(k.split('.')[0]);
    }
  }
  return [...deps];
}

function dedupe(vals: unknown[]): unknown[] {
  if (vals.length < 2) return vals;
  const out: unknown[] = [];
  for (const v of vals) if (!out.some((o) => compareValues(o, v) === 0)) out.push(v);
  return out;
}

export function keysEqual(a: unknown[][], b: unknown[][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) {
      if (x[j] !== y[j] && compareValues(x[j], y[j]) !== 0) return false;
      // same value but different type (1 vs "1") compares unequal already; int vs double equal is fine
    }
  }
  return true;
}
