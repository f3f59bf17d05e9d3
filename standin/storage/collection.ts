import { ObjectId, UUID } from 'bson';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode } from '../errors.ts';
import { compileFilter, type Matcher } from '../query/matcher.ts';
import { DocStore, type Doc } from './doc-store.ts';
import { duplicateKeyError } from './dup-key.ts';
import { KeyIndex, keysEqual, type IndexSpec } from './key-index.ts';

export type { Doc };

export interface CollectionOptions {
  capped?: boolean;
  size?: number;
  max?: number;
  [option: string]: unknown;
}

/** What a write did, for the journal. */
export type WriteEvent = { op: 'put'; ns: string; doc: Doc } | { op: 'del'; ns: string; id: unknown };

export interface CollectionHooks {
  onWrite(event: WriteEvent): void;
  /** False when nobody records writes (no journal): events are then not even built. */
  listening?: boolean;
}

/**
 * One collection: documents by record id in natural (insertion) order, its indexes, capped
 * limits, and the waiters of tailable cursors. Every method runs synchronously, so each
 * command is atomic with respect to every other connection.
 */
export class Collection {
  readonly uuid = new UUID();
  readonly docs = new DocStore();
  readonly indexes: KeyIndex[] = [];
  readonly idIndex: KeyIndex;
  /** Capped collections only: record ids in insertion order. */
  readonly order: number[] = [];
  private orderHead = 0;
  private cappedBytes = 0;
  private seq = 0;
  private waiters = new Set<() => void>();
  dropped = false;

  constructor(
    readonly dbName: string,
    readonly name: string,
    readonly options: CollectionOptions,
    private readonly hooks: CollectionHooks,
  ) {
    this.idIndex = new KeyIndex({ v: 2, key: { _id: 1 }, name: '_id_' });
    this.indexes.push(this.idIndex);
  }

  get ns(): string {
    return `${this.dbName}.${this.name}`;
  }

  get capped(): boolean {
    return this.options.capped === true;
  }

  get count(): number {
    return this.docs.size;
  }

  get lastRecordId(): number {
    return this.seq;
  }

  /** Record ids of a capped collection after `afterRid`, in insertion order. */
  *cappedAfter(afterRid: number): Generator<number> {
    const order = this.order;
    let lo = this.orderHead;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid] <= afterRid) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < order.length; i++) {
      if (this.docs.has(order[i])) yield order[i];
    }
  }

  /** Record ids in natural order (or reversed). */
  *natural(reverse = false): Generator<number> {
    if (this.capped) {
      if (!reverse) {
        for (let i = this.orderHead; i < this.order.length; i++) yield this.order[i];
      } else {
        for (let i = this.order.length - 1; i >= this.orderHead; i--) yield this.order[i];
      }
      return;
    }
    if (!reverse) {
      yield* this.docs.keys();
    } else {
      const keys = [...this.docs.keys()];
      for (let i = keys.length - 1; i >= 0; i--) yield keys[i];
    }
  }

  findIndex(name: string): KeyIndex | undefined {
    return this.indexes.find((ix) => ix.name === name);
  }

  ridById(id: unknown): number | undefined {
    for (const rid of this.idIndex.scan([id], -Infinity, [id], Infinity, false)) return rid;
    return undefined;
  }

  private checkUnique(keysets: unknown[][][], self: number): void {
    for (let i = 0; i < this.indexes.length; i++) {
      const ix = this.indexes[i];
      if (!ix.unique) continue;
      const c = ix.conflict(keysets[i], self);
      if (c !== null) throw duplicateKeyError(this.ns, ix.name, ix.spec.key, c.key);
    }
  }

  private validatorSource: unknown = undefined;
  private validatorMatcher: Matcher | null = null;

  /** Enforces the collection's query-style validator (validationAction "error"). */
  private validate(doc: Doc): void {
    const v = this.options.validator;
    if (v !== this.validatorSource) {
      this.validatorSource = v;
      try {
        this.validatorMatcher = isPlainObject(v) && Object.keys(v).length > 0 ? compileFilter(v) : null;
      } catch {
        // Validators mingo cannot compile ($jsonSchema) are not enforced by the stand-in.
        this.validatorMatcher = null;
      }
    }
    if (this.validatorMatcher === null || this.options.validationLevel === 'off' || this.options.validationAction === 'warn') return;
    if (!this.validatorMatcher(doc)) {
      throw new CommandError(121, 'Document failed validation', {
        errInfo: { failingDocumentId: doc._id, details: { operatorName: '$and', clausesNotSatisfied: [] } },
      });
    }
  }

  /**
   * Inserts a document (adding _id first when missing); throws E11000 on a unique clash. `sent`:
   * the BSON bytes `input` was decoded from, stored as they are when nothing had to be reordered.
   */
  insert(input: Doc, validate = true, sent?: Buffer): Doc {
    const doc = withIdFirst(input);
    if (Array.isArray(doc._id)) {
      throw new CommandError(ErrorCode.InvalidIdField, `The '_id' value cannot be of type array`);
    }
    if (isPlainObject(doc._id)) {
      const bad = Object.keys(doc._id).find((k) => k.startsWith('$'));
      if (bad !== undefined) {
        throw new CommandError(
          ErrorCode.InvalidIdField,
          `_id fields may not contain '$'-prefixed fields: ${bad} is not valid for storage.`,
        );
      }
    }
    if (validate) this.validate(doc);
    const indexes = this.indexes;
    const keysets: unknown[][][] = [];
    for (let i = 0; i < indexes.length; i++) keysets.push(indexes[i].keysFor(doc));
    this.checkUnique(keysets, -1);
    const rid = ++this.seq;
    const size = this.docs.set(rid, doc, doc === input ? sent : undefined);
    for (let i = 0; i < indexes.length; i++) indexes[i].add(keysets[i], rid);
    if (this.capped) {
      this.order.push(rid);
      this.cappedBytes += size;
      this.evict(rid);
    }
    if (this.hooks.listening !== false) this.hooks.onWrite({ op: 'put', ns: this.ns, doc });
    this.wake();
    return doc;
  }

  /** Replaces the document at rid with a new object (stored documents are never mutated). */
  replace(rid: number, next: Doc, validate = true): void {
    const prev = this.docs.get(rid);
    if (prev === undefined) throw new CommandError(ErrorCode.InternalError, 'record vanished');
    if (validate) this.validate(next);
    const indexes = this.indexes;
    // Only indexes whose inputs changed need keys at all (updates share untouched values).
    const oldKeys: Array<unknown[][] | null> = [];
    const newKeys: Array<unknown[][] | null> = [];
    for (let i = 0; i < indexes.length; i++) {
      const ix = indexes[i];
      if (sameInputs(ix.dependsOn, prev, next)) {
        oldKeys.push(null);
        newKeys.push(null);
        continue;
      }
      const o = ix.keysFor(prev);
      const n = ix.keysFor(next);
      const same = keysEqual(o, n);
      oldKeys.push(same ? null : o);
      newKeys.push(same ? null : n);
    }
    for (let i = 0; i < indexes.length; i++) {
      const ix = indexes[i];
      const keys = newKeys[i];
      if (keys === null || !ix.unique) continue;
      const c = ix.conflict(keys, rid);
      if (c !== null) throw duplicateKeyError(this.ns, ix.name, ix.spec.key, c.key);
    }
    for (let i = 0; i < indexes.length; i++) {
      const keys = newKeys[i];
      if (keys === null) continue;
      indexes[i].remove(oldKeys[i]!, rid);
      indexes[i].add(keys, rid);
    }
    const before = this.docs.sizeOf(rid);
    const size = this.docs.set(rid, next);
    if (this.capped) this.cappedBytes += size - before;
    if (this.hooks.listening !== false) this.hooks.onWrite({ op: 'put', ns: this.ns, doc: next });
    // A tailable cursor only sees inserts, but waking it is harmless and keeps waits short.
    this.wake();
  }

  remove(rid: number): void {
    const doc = this.docs.get(rid);
    if (doc === undefined) return;
    for (const ix of this.indexes) ix.remove(ix.keysFor(doc), rid);
    const size = this.docs.sizeOf(rid);
    this.docs.delete(rid);
    if (this.capped) {
      this.cappedBytes -= size;
      if (this.order[this.orderHead] === rid) this.advanceHead();
      else {
        const at = this.order.indexOf(rid, this.orderHead);
        if (at >= 0) this.order.splice(at, 1);
      }
    }
    if (this.hooks.listening !== false) this.hooks.onWrite({ op: 'del', ns: this.ns, id: doc._id });
  }

  private advanceHead(): void {
    this.orderHead++;
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead);
      this.orderHead = 0;
    }
  }

  private evict(keep: number): void {
    const max = typeof this.options.max === 'number' && this.options.max > 0 ? this.options.max : Infinity;
    const size = typeof this.options.size === 'number' && this.options.size > 0 ? this.options.size : Infinity;
    while ((this.docs.size > max || this.cappedBytes > size) && this.orderHead < this.order.length) {
      const rid = this.order[this.orderHead];
      if (rid === keep) break;
      this.remove(rid);
    }
  }

  /** The oldest record id still present in a capped collection (Infinity when empty). */
  get firstRecordId(): number {
    return this.orderHead < this.order.length ? this.order[this.orderHead] : Infinity;
  }

  addIndex(spec: IndexSpec): KeyIndex {
    const ix = new KeyIndex(spec);
    const keysets: Array<[number, unknown[][]]> = [];
    for (const [rid, doc] of this.docs) {
      const keys = ix.keysFor(doc);
      if (ix.unique) {
        const c = ix.conflict(keys, rid);
        if (c !== null) throw duplicateKeyError(this.ns, ix.name, ix.spec.key, c.key);
      }
      ix.add(keys, rid);
      keysets.push([rid, keys]);
    }
    this.indexes.push(ix);
    return ix;
  }

  dropIndex(name: string): void {
    const at = this.indexes.findIndex((ix) => ix.name === name);
    if (at > 0) this.indexes.splice(at, 1);
  }

  /** Resolves when anything is written to this collection (or it is dropped). */
  waitForWrite(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      // A waiting getMore must not keep a closed server's process alive.
      timer.unref();
      this.waiters.add(done);
    });
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  dataSize(): number {
    return this.docs.totalBytes;
  }
}

/** True when every field the index depends on holds the very same value in both versions. */
function sameInputs(deps: readonly string[] | null, prev: Doc, next: Doc): boolean {
  if (deps === null) return false;
  for (let i = 0; i < deps.length; i++) if (prev[deps[i]] !== next[deps[i]]) return false;
  return true;
}

function withIdFirst(doc: Doc): Doc {
  // The first key without materializing Object.keys (for-in runs in the same order).
  for (const first in doc) {
    if (first === '_id') return doc;
    break;
  }
  if (!('_id' in doc)) return { _id: new ObjectId(), ...doc };
  const out: Doc = { _id: doc._id };
  for (const k in doc) {
    // A stored "__proto__" field is an own property (as bson decodes it), not the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: doc[k], enumerable: true, writable: true, configurable: true });
    else if (k !== '_id') out[k] = doc[k];
  }
  return out;
}
