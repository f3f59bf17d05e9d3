import { CommandError, ErrorCode } from '../errors.ts';
import { Collection, type CollectionHooks, type CollectionOptions, type WriteEvent } from './collection.ts';
import type { IndexSpec } from './key-index.ts';

/** DDL events for the journal, beside the document writes collections report. */
export type CatalogEvent =
  | WriteEvent
  | { op: 'create'; ns: string; options: CollectionOptions }
  | { op: 'drop'; ns: string }
  | { op: 'index'; ns: string; spec: IndexSpec }
  | { op: 'dropIndex'; ns: string; name: string };

export type CatalogListener = (event: CatalogEvent) => void;

const NAME_RE = /^[^\0$]+$/;

/** All databases and their collections. */
export class Catalog {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private listener: CatalogListener = () => {};
  private readonly hooks: CollectionHooks = { onWrite: (e) => this.listener(e) };

  setListener(listener: CatalogListener): void {
    this.listener = listener;
  }

  databaseNames(): string[] {
    return [...this.dbs.keys()].filter((d) => (this.dbs.get(d)?.size ?? 0) > 0);
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

  allCollections(): Collection[] {
    const out: Collection[] = [];
    for (const colls of this.dbs.values()) out.push(...colls.values());
    return out;
  }
}
