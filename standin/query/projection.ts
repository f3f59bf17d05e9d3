import { Query } from 'mingo';
import { CommandError, toCommandError } from '../errors.ts';
import type { Doc } from '../storage/collection.ts';
import { isPlainObject } from '../bson-order.ts';

export type Projector = (doc: Doc) => Doc;

const IDENTITY: Projector = (d) => d;

/** Compiles a projection once; simple include/exclude lists of top-level fields skip mingo. */
export function compileProjection(projection: unknown, filter?: unknown): Projector {
  if (projection === undefined || projection === null) return IDENTITY;
  if (!isPlainObject(projection)) throw new CommandError(2, 'projection must be an object');
  const entries = Object.entries(projection);
  if (entries.length === 0) return IDENTITY;
  const simple = entries.every(([k, v]) => !k.includes('.') && !k.startsWith('$') && (typeof v === 'number' || typeof v === 'boolean'));
  if (simple) {
    const include = entries.filter(([k]) => k !== '_id').some(([, v]) => Boolean(v));
    const exclude = entries.filter(([k]) => k !== '_id').some(([, v]) => !v);
    if (include && exclude) {
      const [field] = entries.find(([k, v]) => k !== '_id' && !v)!;
      throw new CommandError(31254, `Cannot do exclusion on field ${field} in inclusion projection`);
    }
    const idSpec = projection._id;
    const keepId = idSpec === undefined || Boolean(idSpec);
    if (include) {
      const fields = entries.filter(([k, v]) => k !== '_id' && Boolean(v)).map(([k]) => k);
      return (d) => {
        const out: Doc = {};
        if (keepId && '_id' in d) out._id = d._id;
        for (const f of fields) if (f in d) out[f] = d[f];
        return out;
      };
    }
    const drop = new Set(entries.filter(([, v]) => !v).map(([k]) => k));
    if (keepId) drop.delete('_id');
    return (d) => {
      const out: Doc = {};
      for (const k of Object.keys(d)) if (!drop.has(k)) out[k] = d[k];
      return out;
    };
  }
  let q: Query;
  try {
    q = new Query(isPlainObject(filter) ? filter : {});
  } catch (err) {
    throw toCommandError(err);
  }
  return (d) => {
    try {
      return (q.find([d], projection).all()[0] ?? {}) as Doc;
    } catch (err) {
      throw toCommandError(err);
    }
  };
}
