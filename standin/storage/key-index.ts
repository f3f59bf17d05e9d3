import { compareValues, MAX_BOUND, MIN_BOUND } from '../bson-order.ts';
import { compileFilter, type Matcher } from '../query/matcher.ts';
import { pathValues } from '../query/paths.ts';
import { SortedList } from './sorted-list.ts';

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
  private readonly entries: SortedList<IndexEntry>;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.dirs = this.fields.map((f) => {
      const d = spec.key[f];
      return typeof d === 'number' && d < 0 ? -1 : 1;
    });
    this.unique = spec.unique === true || spec.name === '_id_';
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : null;
    const dirs = this.dirs;
    const n = dirs.length;
    this.entries = new SortedList<IndexEntry>((a, b) => {
      for (let i = 0; i < n; i++) {
        const c = compareValues(a.k[i], b.k[i]);
        if (c !== 0) return dirs[i] < 0 ? -c : c;
      }
      return a.r < b.r ? -1 : a.r > b.r ? 1 : 0;
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Usable for ordinary query planning (partial and sparse indexes may lack documents). */
  get complete(): boolean {
    return this.partial === null && this.spec.sparse !== true && !this.fields.some((f) => typeof this.spec.key[f] === 'string');
  }

  /** The distinct keys a document contributes (none when sparse/partial excludes it). */
  keysFor(doc: Record<string, unknown>): unknown[][] {
    if (this.partial !== null && !this.partial(doc)) return [];
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
    for (const k of keys) this.entries.insert({ k, r: rid });
  }

  remove(keys: unknown[][], rid: number): void {
    for (const k of keys) this.entries.remove({ k, r: rid });
  }

  /** A record other than `self` that holds one of these keys, if this index is unique. */
  conflict(keys: unknown[][], self: number): { rid: number; key: unknown[] } | null {
    if (!this.unique) return null;
    for (const k of keys) {
      for (const e of this.entries.range({ k, r: -Infinity }, { k, r: Infinity })) {
        if (e.r !== self) return { rid: e.r, key: k };
      }
    }
    return null;
  }

  /** Record ids whose keys lie between two (sentinel-padded) keys, in index order. */
  *scan(lo: unknown[], loRid: number, hi: unknown[], hiRid: number, reverse: boolean): Generator<number> {
    for (const e of this.entries.range({ k: lo, r: loRid }, { k: hi, r: hiRid }, reverse)) yield e.r;
  }

  *scanAll(reverse: boolean): Generator<IndexEntry> {
    yield* this.entries.all(reverse);
  }

  clear(): void {
    this.entries.clear();
    this.multikey = false;
  }
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
