import { calculateObjectSize, Long } from 'bson';
import { CommandError, ErrorCode } from './errors.ts';
import type { Matcher } from './query/matcher.ts';
import type { Projector } from './query/projection.ts';
import type { Collection, Doc } from './storage/collection.ts';

const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
export const DEFAULT_FIRST_BATCH = 101;
const DEFAULT_AWAIT_MS = 1000;
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export interface BatchReply {
  cursor: { id: Long; ns: string; firstBatch?: Doc[]; nextBatch?: Doc[] };
  ok: 1;
}

/** Takes up to n items but stops before the batch would exceed a reply's size. */
function takeBatch(docs: Doc[], from: number, n: number, project: Projector): Doc[] {
  const out: Doc[] = [];
  let bytes = 0;
  const end = Math.min(docs.length, from + n);
  for (let i = from; i < end; i++) {
    const d = project(docs[i]);
    if (n > 16) {
      bytes += calculateObjectSize(d);
      if (bytes > MAX_BATCH_BYTES && out.length > 0) break;
    }
    out.push(d);
  }
  return out;
}

interface BaseCursor {
  id: number;
  ns: string;
  lastUsed: number;
}

/** Results computed up front, handed out batch by batch. */
export interface BufferedCursor extends BaseCursor {
  kind: 'buffered';
  docs: Doc[];
  pos: number;
  project: Projector;
}

/** A tailable cursor over a capped collection: it remembers its position, not results. */
export interface TailableCursor extends BaseCursor {
  kind: 'tailable';
  coll: Collection;
  matcher: Matcher;
  project: Projector;
  position: number;
  awaitData: boolean;
}

export type Cursor = BufferedCursor | TailableCursor;

function newId(): number {
  // Below 2^53 so the driver round-trips the id through a JS number unchanged.
  return 1 + Math.floor(Math.random() * (2 ** 52 - 2));
}

export class CursorManager {
  private readonly cursors = new Map<number, Cursor>();

  get size(): number {
    return this.cursors.size;
  }

  /** First reply for buffered results; keeps a cursor open only when more remain. */
  openBuffered(ns: string, docs: Doc[], batchSize: number | undefined, singleBatch: boolean, project: Projector): BatchReply {
    const n = batchSize === undefined ? DEFAULT_FIRST_BATCH : batchSize;
    const first = takeBatch(docs, 0, n, project);
    if (singleBatch || first.length >= docs.length) {
      return { cursor: { id: Long.ZERO, ns, firstBatch: first }, ok: 1 };
    }
    const id = newId();
    this.cursors.set(id, { kind: 'buffered', id, ns, docs, pos: first.length, project, lastUsed: Date.now() });
    return { cursor: { id: Long.fromNumber(id), ns, firstBatch: first }, ok: 1 };
  }

  openTailable(coll: Collection, matcher: Matcher, project: Projector, batchSize: number | undefined, awaitData: boolean): BatchReply {
    const ns = coll.ns;
    if (coll.count === 0) return { cursor: { id: Long.ZERO, ns, firstBatch: [] }, ok: 1 };
    const cursor: TailableCursor = {
      kind: 'tailable',
      id: newId(),
      ns,
      coll,
      matcher,
      project,
      position: 0,
      awaitData,
      lastUsed: Date.now(),
    };
    const first = this.scanTailable(cursor, batchSize ?? DEFAULT_FIRST_BATCH);
    this.cursors.set(cursor.id, cursor);
    return { cursor: { id: Long.fromNumber(cursor.id), ns, firstBatch: first }, ok: 1 };
  }

  private scanTailable(c: TailableCursor, n: number): Doc[] {
    const out: Doc[] = [];
    if (n <= 0) return out;
    let bytes = 0;
    for (const rid of c.coll.cappedAfter(c.position)) {
      const doc = c.coll.docs.get(rid)!;
      c.position = rid;
      if (!c.matcher(doc)) continue;
      const d = c.project(doc);
      bytes += calculateObjectSize(d);
      out.push(d);
      if (out.length >= n || bytes > MAX_BATCH_BYTES) break;
    }
    return out;
  }

  private get(id: number): Cursor {
    const c = this.cursors.get(id);
    if (c === undefined) throw new CommandError(ErrorCode.CursorNotFound, `cursor id ${id} not found`);
    return c;
  }

  /** A getMore: the next batch, waiting for new documents on awaitData cursors. */
  async getMore(id: number, batchSize: number | undefined, maxTimeMS: number | undefined): Promise<BatchReply> {
    const c = this.get(id);
    c.lastUsed = Date.now();
    if (maxTimeMS !== undefined && !(c.kind === 'tailable' && c.awaitData)) {
      throw new CommandError(ErrorCode.BadValue, 'cannot set maxTimeMS on getMore command for a non-awaitData cursor');
    }
    if (c.kind === 'buffered') {
      const n = batchSize ?? Number.MAX_SAFE_INTEGER;
      const batch = takeBatch(c.docs, c.pos, n, c.project);
      c.pos += batch.length;
      const done = c.pos >= c.docs.length;
      if (done) this.cursors.delete(id);
      return { cursor: { id: done ? Long.ZERO : Long.fromNumber(id), ns: c.ns, nextBatch: batch }, ok: 1 };
    }
    const n = batchSize ?? Number.MAX_SAFE_INTEGER;
    const deadline = Date.now() + (maxTimeMS ?? DEFAULT_AWAIT_MS);
    for (;;) {
      this.checkPosition(c);
      const batch = this.scanTailable(c, n);
      if (batch.length > 0 || !c.awaitData) {
        return { cursor: { id: Long.fromNumber(id), ns: c.ns, nextBatch: batch }, ok: 1 };
      }
      const left = deadline - Date.now();
      if (left <= 0) return { cursor: { id: Long.fromNumber(id), ns: c.ns, nextBatch: [] }, ok: 1 };
      await c.coll.waitForWrite(left);
      if (!this.cursors.has(id)) throw new CommandError(ErrorCode.CursorNotFound, `cursor id ${id} not found`);
    }
  }

  private checkPosition(c: TailableCursor): void {
    if (c.coll.dropped) {
      this.cursors.delete(c.id);
      throw new CommandError(175, `collection dropped. UUID ${c.coll.uuid.toHexString()}`, { codeName: 'QueryPlanKilled' });
    }
    if (c.position !== 0 && !c.coll.docs.has(c.position)) {
      this.cursors.delete(c.id);
      throw new CommandError(
        ErrorCode.CappedPositionLost,
        `CollectionScan died due to position in capped collection being deleted. Last seen record id: RecordId(${c.position})`,
      );
    }
  }

  kill(ids: number[]): { killed: number[]; notFound: number[] } {
    const killed: number[] = [];
    const notFound: number[] = [];
    for (const id of ids) {
      if (this.cursors.delete(id)) killed.push(id);
      else notFound.push(id);
    }
    return { killed, notFound };
  }

  /** Forgets cursors idle for ten minutes, as the server's cursor timeout does. */
  sweepIdle(now = Date.now()): void {
    for (const [id, c] of this.cursors) if (now - c.lastUsed > IDLE_TIMEOUT_MS) this.cursors.delete(id);
  }

  killAll(): void {
    this.cursors.clear();
  }
}
