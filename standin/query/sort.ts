import { compareValues, RankBound, TypeRank } from '../bson-order.ts';
import { badValue } from '../errors.ts';
import { pathValues } from './paths.ts';
import type { Doc } from '../storage/collection.ts';

export interface SortKey {
  field: string;
  dir: 1 | -1;
}

const BELOW_NULL = new RankBound(TypeRank.Null, -1);

/** Parses a sort document; `$natural` is returned separately because it is not a field. */
export function parseSort(sort: unknown): { keys: SortKey[]; natural: 0 | 1 | -1 } {
  if (sort === undefined || sort === null) return { keys: [], natural: 0 };
  if (typeof sort !== 'object' || Array.isArray(sort)) throw badValue('sort must be an object');
  const keys: SortKey[] = [];
  let natural: 0 | 1 | -1 = 0;
  for (const [field, raw] of Object.entries(sort as Record<string, unknown>)) {
    let dir: number;
    if (typeof raw === 'number') dir = raw;
    else if (raw !== null && typeof raw === 'object' && '$meta' in raw) continue;
    else dir = Number(raw);
    if (dir !== 1 && dir !== -1) throw badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    if (field === '$natural') natural = dir as 1 | -1;
    else keys.push({ field, dir: dir as 1 | -1 });
  }
  return { keys, natural };
}

/** The value a document sorts by: the smallest (ascending) or largest (descending) array element. */
function sortValue(doc: Doc, field: string, dir: number): unknown {
  const vals = pathValues(doc, field);
  let best: unknown = undefined;
  let have = false;
  for (const v of vals) {
    const cands = Array.isArray(v) ? (v.length === 0 ? [BELOW_NULL] : v) : [v === undefined ? null : v];
    for (const c of cands) {
      if (!have || (dir > 0 ? compareValues(c, best) < 0 : compareValues(c, best) > 0)) {
        best = c;
        have = true;
      }
    }
  }
  return have ? best : null;
}

interface Decorated {
  d: Doc;
  v: unknown[];
}

function comparator(keys: SortKey[]): (a: Decorated, b: Decorated) => number {
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareValues(a.v[i], b.v[i]);
      if (c !== 0) return keys[i].dir < 0 ? -c : c;
    }
    return 0;
  };
}

/**
 * Sorts documents (stably) by the sort keys; with `keep`, only the first `keep` are needed,
 * which a bounded insertion sort finds without sorting everything.
 */
export function sortDocs(docs: Doc[], keys: SortKey[], keep = Infinity): Doc[] {
  if (keys.length === 0) return docs;
  const cmp = comparator(keys);
  if (keep < docs.length && keep <= 1000) {
    const top: Decorated[] = [];
    for (const d of docs) {
      const x = { d, v: keys.map((k) => sortValue(d, k.field, k.dir)) };
      if (top.length === keep && cmp(x, top[keep - 1]) >= 0) continue;
      let lo = 0;
      let hi = top.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cmp(top[mid], x) <= 0) lo = mid + 1;
        else hi = mid;
      }
      top.splice(lo, 0, x);
      if (top.length > keep) top.pop();
    }
    return top.map((x) => x.d);
  }
  const decorated = docs.map((d) => ({ d, v: keys.map((k) => sortValue(d, k.field, k.dir)) }));
  decorated.sort(cmp);
  return decorated.map((x) => x.d);
}
