import { isPlainObject } from '../bson-order.ts';
import { badValue } from '../errors.ts';
import type { Collection, Doc } from '../storage/collection.ts';
import { compileFilter, type Matcher } from './matcher.ts';
import { planQuery } from './planner.ts';
import { parseSort, sortDocs } from './sort.ts';

export interface QueryOptions {
  filter?: unknown;
  sort?: unknown;
  skip?: number;
  /** 0 or undefined: no limit. */
  limit?: number;
  hint?: unknown;
  matcher?: Matcher;
  /** `let` variables for $expr. */
  variables?: Record<string, unknown>;
  /** Filled in when given: how much work the query did (for explain executionStats). */
  stats?: QueryStats;
}

export interface QueryStats {
  index: string | null;
  docsExamined: number;
  nReturned: number;
}

export interface Match {
  rid: number;
  doc: Doc;
}

/** Finds matching documents (stored objects, never to be mutated) with sort, skip and limit. */
export function runQuery(coll: Collection, opts: QueryOptions): Match[] {
  const filter = opts.filter ?? {};
  if (!isPlainObject(filter)) throw badValue('filter must be an object');
  const matcher = opts.matcher ?? compileFilter(filter, opts.variables);
  const { keys, natural } = parseSort(opts.sort);
  const skip = Math.max(0, opts.skip ?? 0);
  const limit = opts.limit !== undefined && opts.limit !== 0 ? Math.abs(opts.limit) : Infinity;
  const plan = planQuery(coll, filter, keys, natural, opts.hint, opts.variables);
  const out: Match[] = [];
  const stats = opts.stats;
  if (stats !== undefined) stats.index = plan.index;
  if (plan.sorted) {
    let skipped = 0;
    for (const rid of plan.rids) {
      if (stats !== undefined) stats.docsExamined++;
      const doc = coll.docs.get(rid);
      if (doc === undefined || !matcher(doc)) continue;
      if (skipped < skip) {
        skipped++;
        continue;
      }
      out.push({ rid, doc });
      if (out.length >= limit) break;
    }
    if (stats !== undefined) stats.nReturned = out.length;
    return out;
  }
  const all: Match[] = [];
  for (const rid of plan.rids) {
    if (stats !== undefined) stats.docsExamined++;
    const doc = coll.docs.get(rid);
    if (doc !== undefined && matcher(doc)) all.push({ rid, doc });
  }
  const byDoc = new Map<Doc, number>();
  for (const m of all) byDoc.set(m.doc, m.rid);
  const sorted = sortDocs(
    all.map((m) => m.doc),
    keys,
    skip + limit,
  );
  const end = limit === Infinity ? sorted.length : Math.min(sorted.length, skip + limit);
  for (let i = skip; i < end; i++) out.push({ rid: byDoc.get(sorted[i])!, doc: sorted[i] });
  if (stats !== undefined) stats.nReturned = out.length;
  return out;
}

export function countMatches(
  coll: Collection,
  filter: unknown,
  skip = 0,
  limit = 0,
  hint?: unknown,
  variables?: Record<string, unknown>,
): number {
  const f = filter ?? {};
  if (isPlainObject(f) && Object.keys(f).length === 0 && hint === undefined) {
    const n = Math.max(0, coll.count - Math.max(0, skip));
    return limit > 0 ? Math.min(n, limit) : n;
  }
  return runQuery(coll, { filter: f, skip, limit, hint, variables }).length;
}
