import { Aggregator } from 'mingo';
import { toCommandError } from '../errors.ts';
import { cloneValue } from '../query/clone.ts';
import { Collection, type Doc } from '../storage/collection.ts';
import type { CommandContext } from './context.ts';

const MAX_VIEW_DEPTH = 20;

/** The documents a view yields, computed from its source (which may itself be a view). */
function viewDocs(ctx: CommandContext, name: string, depth: number): Doc[] | undefined {
  const catalog = ctx.server.catalog;
  const coll = catalog.get(ctx.db, name);
  if (coll !== undefined) return [...coll.natural()].map((rid) => cloneValue(coll.docs.get(rid)!));
  const view = catalog.view(ctx.db, name);
  if (view === undefined || depth > MAX_VIEW_DEPTH) return undefined;
  const source = viewDocs(ctx, view.viewOn, depth + 1) ?? [];
  try {
    return new Aggregator(view.pipeline).run(source) as Doc[];
  } catch (err) {
    throw toCommandError(err);
  }
}

/**
 * A collection to read from: the real one, or for a view a throwaway collection holding the
 * view's current result (views are not materialized; this is computed per command).
 */
export function readable(ctx: CommandContext, name: string): Collection | undefined {
  const coll = ctx.server.catalog.get(ctx.db, name);
  if (coll !== undefined || ctx.server.catalog.view(ctx.db, name) === undefined) return coll;
  const temp = new Collection(ctx.db, name, {}, { onWrite: () => {} });
  for (const doc of viewDocs(ctx, name, 0) ?? []) {
    try {
      temp.insert(doc, false);
    } catch {
      // A view may yield documents with equal _id values; a query over it still sees the first.
    }
  }
  return temp;
}
