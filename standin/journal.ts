import { closeSync, existsSync, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'bson';
import type { Catalog, CatalogEvent } from './storage/catalog.ts';

const FILE = 'journal.bson';

function splitNs(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

/** Applies one journal event to the catalog (used on replay, with the listener detached). */
function apply(catalog: Catalog, e: CatalogEvent): void {
  const [db, name] = splitNs(e.ns);
  switch (e.op) {
    case 'create':
      if (catalog.get(db, name) === undefined) catalog.create(db, name, e.options);
      return;
    case 'drop':
      catalog.drop(db, name);
      return;
    case 'view':
      if (catalog.view(db, name) === undefined) catalog.createView(db, name, e.viewOn, e.pipeline);
      return;
    case 'index': {
      const coll = catalog.getOrCreate(db, name);
      if (coll.findIndex(e.spec.name) === undefined) coll.addIndex(e.spec);
      return;
    }
    case 'dropIndex':
      catalog.get(db, name)?.dropIndex(e.name);
      return;
    case 'put': {
      const coll = catalog.getOrCreate(db, name);
      const rid = coll.ridById(e.doc._id);
      if (rid === undefined) coll.insert(e.doc, false);
      else coll.replace(rid, e.doc, false);
      return;
    }
    case 'del': {
      const coll = catalog.get(db, name);
      const rid = coll?.ridById(e.id);
      if (coll !== undefined && rid !== undefined) coll.remove(rid);
      return;
    }
  }
}

/**
 * An append-only journal of catalog events. Writes reach the file on the next tick; a write
 * with j:true waits for an fsync, and concurrent waiters share one fsync.
 */
export class Journal {
  private fd: number;
  private pending: Uint8Array[] = [];
  private scheduled = false;
  private inflight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly dir: string) {
    this.fd = openSync(join(dir, FILE), 'a');
  }

  /** Replays DIR's journal into the catalog, compacts it, and starts journalling. */
  static open(dir: string, catalog: Catalog): Journal {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, FILE);
    if (existsSync(path)) {
      const buf = readFileSync(path);
      let at = 0;
      while (at + 4 <= buf.length) {
        const size = buf.readInt32LE(at);
        if (size < 5 || at + size > buf.length) break; // a torn final record from a crash
        apply(catalog, deserialize(buf.subarray(at, at + size)) as CatalogEvent);
        at += size;
      }
    }
    Journal.compact(dir, catalog);
    const journal = new Journal(dir);
    catalog.setListener((e) => journal.append(e));
    return journal;
  }

  /** Rewrites the journal as a snapshot of the current state (atomically, by rename). */
  private static compact(dir: string, catalog: Catalog): void {
    const tmp = join(dir, `${FILE}.tmp`);
    const fd = openSync(tmp, 'w');
    const parts: Uint8Array[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (parts.length === 0) return;
      writeSync(fd, Buffer.concat(parts));
      parts.length = 0;
      bytes = 0;
    };
    const add = (e: CatalogEvent): void => {
      const b = serialize(e);
      parts.push(b);
      bytes += b.length;
      if (bytes > 4 * 1024 * 1024) flush();
    };
    for (const view of catalog.allViews()) add(view);
    for (const coll of catalog.allCollections()) {
      add({ op: 'create', ns: coll.ns, options: coll.options });
      for (const ix of coll.indexes.slice(1)) add({ op: 'index', ns: coll.ns, spec: ix.spec });
      for (const rid of coll.natural()) add({ op: 'put', ns: coll.ns, doc: coll.docs.get(rid)! });
    }
    flush();
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(dir, FILE));
  }

  append(event: CatalogEvent): void {
    if (this.closed) return;
    this.pending.push(serialize(event));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    writeSync(this.fd, buf);
  }

  /** Resolves once everything appended so far is on disk. */
  sync(): Promise<void> {
    this.flush();
    if (this.inflight === null) return this.startSync();
    if (this.queued === null) {
      this.queued = this.inflight.then(() => {
        this.queued = null;
        this.flush();
        return this.startSync();
      });
    }
    return this.queued;
  }

  private startSync(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      if (this.closed) return resolve();
      fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    }).finally(() => {
      if (this.inflight === p) this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    fsyncSync(this.fd);
    this.closed = true;
    closeSync(this.fd);
  }

  get directory(): string {
    return this.dir;
  }
}
