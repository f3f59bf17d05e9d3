import { CommandError, ErrorCode } from '../errors.ts';
import { Collection, type CollectionHooks, type CollectionOptions, type WriteEvent } from './collection.ts';
import type { IndexSpec } from './key-index.ts';

/** DDL events for the journal, beside the document writes collections report. */
export type CatalogEvent =
  | WriteEvent
  | { op: 'create'; ns: string; options: CollectionOptions }
  | { op: 'drop'; ns: string }
  | { op: 'view'; ns: string; viewOn: string; pipeline: Record<string, unknown>[] }
  | { op: 'index'; ns: string; spec: IndexSpec }
  | { op: 'dropIndex'; ns: string; name: string };

export type CatalogListener = (event: CatalogEvent) => void;

const NAME_RE = /^[^\0$]+$/;

/** A read-only view: a pipeline over another collection of the same database. */
export interface ViewDef {
  name: string;
  viewOn: string;
  pipeline: Record<string, unknown>[];
}

/** All databases and their collections (and views). */
export class Catalog {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private readonly views = new Map<string, Map<string, ViewDef>>();
  private listener: CatalogListener = () => {};
  private readonly hooks: CollectionHooks = { onWrite: (e) => this.listener(e), listening: false };

  setListener(listener: CatalogListener): void {
    this.listener = listener;
    this.hooks.listening = true;
  }

  databaseNames(): string[] {
    return [...this.dbs.keys()].filter((d) => (this.dbs.get(d)?.size ?? 0) > 0);
  }

  view(db: string, name: string): ViewDef | undefined {
    return this.views.get(db)?.get(name);
  }

  viewsOf(db: string): ViewDef[] {
    return [...(this.views.get(db)?.values() ?? [])];
  }

  createView(db: string, name: string, viewOn: string, pipeline: Record<string, unknown>[]): void {
    if (this.get(db, name) !== undefined || this.view(db, name) !== undefined) {
      throw new CommandError(ErrorCode.NamespaceExists, `Collection ${db}.${name} already exists.`);
    }
    let views = this.views.get(db);
    if (views === undefined) {
      views = new Map();
      this.views.set(db, views);
    }
    views.set(name, { name, viewOn, pipeline });
    this.listener({ op: 'view', ns: `${db}.${name}`, viewOn, pipeline });
  }

  /** Throws CommandNotSupportedOnView (166) when the namespace is a view. */
  requireNotView(db: string, name: string): void {
    if (this.view(db, name) !== undefined) {
      throw new CommandError(166, `Namespace ${db}.${name} is a view, not a collection`, { codeName: 'CommandNotSupportedOnView' });
    }
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, or NamespaceNotFound (26). */
  require(db: string, name: string): Collection {
    const c = this.get(db, name);
    if (c === undefined) throw new CommandError(ErrorCode.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
    return c;
  }

  create(db: string, name: string, options: CollectionOptions = {}): Collection {
    this.requireNotView(db, name);
    if (typeof name !== 'string' || name.length === 0 || !NAME_RE.test(name) || name.startsWith('system.')) {
      throw new CommandError(ErrorCode.InvalidNamespace, `Invalid collection name: ${String(name)}`);
    }
    if (this.get(db, name) !== undefined) {
      throw new CommandError(ErrorCode.NamespaceExists, `Collection ${db}.${name} already exists.`);
    }
    let colls = this.dbs.get(db);
    if (colls === undefined) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    const coll = new Collection(db, name, options, this.hooks);
    colls.set(name, coll);
    this.listener({ op: 'create', ns: coll.ns, options });
    return coll;
  }

  /** The collection, created implicitly as inserts and createIndexes do. */
  getOrCreate(db: string, name: string): Collection {
    return this.get(db, name) ?? this.create(db, name);
  }

  drop(db: string, name: string): Collection | undefined {
    if (this.views.get(db)?.delete(name)) {
      this.listener({ op: 'drop', ns: `${db}.${name}` });
      return new Collection(db, name, {}, this.hooks);
    }
    const colls = this.dbs.get(db);
    const c = colls?.get(name);
    if (c === undefined) return undefined;
    colls!.delete(name);
    c.dropped = true;
    c.wake();
    this.listener({ op: 'drop', ns: c.ns });
    return c;
  }

  dropDatabase(db: string): void {
    for (const c of this.collections(db)) this.drop(db, c.name);
    for (const v of this.viewsOf(db)) this.drop(db, v.name);
    this.dbs.delete(db);
  }

  addIndex(coll: Collection, spec: IndexSpec): void {
    coll.addIndex(spec);
    this.listener({ op: 'index', ns: coll.ns, spec });
  }

  dropIndex(coll: Collection, name: string): void {
    coll.dropIndex(name);
    this.listener({ op: 'dropIndex', ns: coll.ns, name });
  }

  allViews(): CatalogEvent[] {
    const out: CatalogEvent[] = [];
    for (const [db, views] of this.views) {
      for (const v of views.values()) out.push({ op: 'view', ns: `${db}.${v.name}`, viewOn: v.viewOn, pipeline: v.pipeline });
    }
    return out;
  }

  allCollections(): Collection[] {
    const out: Collection[] = [];
    for (const colls of this.dbs.values()) out.push(...colls.values());
    return out;
  }
}
