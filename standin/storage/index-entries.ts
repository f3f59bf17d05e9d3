import { compareValues } from '../bson-order.ts';

/** Chunks hold LOAD to 2*LOAD entries: small enough that a splice moves little memory. */
const LOAD = 64;

const DATE_SLOTS = 4096;
const recentDates: Array<Date | undefined> = new Array<Date | undefined>(DATE_SLOTS);

/**
 * The key value to keep in an index: a Date equal to a recently kept one is replaced by that one.
 * Documents written together carry equal timestamps (arrival, due time, expiry), and one Date
 * object per entry was the largest share of what a full garbage collection had to visit in a
 * big collection. Index keys are only compared and copied, never handed out to be mutated.
 */
function shared(value: unknown): unknown {
  if (!(value instanceof Date)) return value;
  const ms = value.getTime();
  if (ms !== ms) return value;
  const slot = (ms >>> 0) & (DATE_SLOTS - 1);
  const kept = recentDates[slot];
  if (kept !== undefined && kept.getTime() === ms) return kept;
  recentDates[slot] = value;
  return value;
}

/** A run of consecutive entries: `width` key values per entry laid end to end, and their record ids. */
interface Chunk {
  keys: unknown[];
  rids: number[];
}

/**
 * The (key, record id) entries of one index in index order, kept as small sorted chunks of
 * parallel arrays. Storing no object per entry matters: with a dozen indexes on a collection of
 * a few hundred thousand documents, per-entry objects were most of the heap and of the GC work.
 */
export class IndexEntries {
  private chunks: Chunk[] = [];
  private count = 0;

  constructor(
    private readonly width: number,
    private readonly dirs: readonly number[],
  ) {}

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  /** Entry i of chunk c against (key, rid), in index order (directions applied, then record id). */
  private cmpAt(c: Chunk, i: number, key: readonly unknown[], rid: number): number {
    const w = this.width;
    const ks = c.keys;
    const base = i * w;
    for (let f = 0; f < w; f++) {
      const x = compareValues(ks[base + f], key[f]);
      if (x !== 0) return this.dirs[f] < 0 ? -x : x;
    }
    const r = c.rids[i];
    return r < rid ? -1 : r > rid ? 1 : 0;
  }

  /** Index of the first chunk whose last entry is >= (key, rid), or chunks.length. */
  private chunkFor(key: readonly unknown[], rid: number): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid];
      if (this.cmpAt(c, c.rids.length - 1, key, rid) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of the first entry of c that is >= (key, rid). */
  private lowerIn(c: Chunk, key: readonly unknown[], rid: number): number {
    let lo = 0;
    let hi = c.rids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpAt(c, mid, key, rid) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: readonly unknown[], rid: number): void {
    const w = this.width;
    this.count++;
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push({ keys: key.slice(0, w).map(shared), rids: [rid] });
      return;
    }
    let ci = chunks.length - 1;
    let c = chunks[ci];
    let at: number;
    // Ascending keys (ObjectIds, sequence numbers, timestamps) append: skip both searches.
    if (this.cmpAt(c, c.rids.length - 1, key, rid) < 0) {
      at = c.rids.length;
    } else {
      ci = this.chunkFor(key, rid);
      if (ci === chunks.length) ci--;
      c = chunks[ci];
      at = this.lowerIn(c, key, rid);
    }
    if (at === c.rids.length) {
      c.rids.push(rid);
      for (let f = 0; f < w; f++) c.keys.push(shared(key[f]));
    } else {
      c.rids.splice(at, 0, rid);
      if (w === 1) c.keys.splice(at, 0, shared(key[0]));
      else if (w === 2) c.keys.splice(at * 2, 0, shared(key[0]), shared(key[1]));
      else if (w === 3) c.keys.splice(at * 3, 0, shared(key[0]), shared(key[1]), shared(key[2]));
      else c.keys.splice(at * w, 0, ...key.slice(0, w).map(shared));
    }
    if (c.rids.length > LOAD * 2) {
      const tail: Chunk = { keys: c.keys.splice(LOAD * w), rids: c.rids.splice(LOAD) };
      chunks.splice(ci + 1, 0, tail);
    }
  }

  /** Removes the entry (key, rid); false when absent. */
  remove(key: readonly unknown[], rid: number): boolean {
    const ci = this.chunkFor(key, rid);
    if (ci === this.chunks.length) return false;
    const c = this.chunks[ci];
    const at = this.lowerIn(c, key, rid);
    if (at >= c.rids.length || this.cmpAt(c, at, key, rid) !== 0) return false;
    c.rids.splice(at, 1);
    c.keys.splice(at * this.width, this.width);
    this.count--;
    if (c.rids.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /** The first record id other than `self` holding exactly this key, or -1. */
  otherWith(key: readonly unknown[], self: number): number {
    const chunks = this.chunks;
    if (chunks.length === 0) return -1;
    // New keys above every stored one (ascending _id values) are the common case: one comparison.
    const last = chunks[chunks.length - 1];
    if (this.cmpAt(last, last.rids.length - 1, key, -Infinity) < 0) return -1;
    let ci = this.chunkFor(key, -Infinity);
    if (ci === chunks.length) return -1;
    let i = this.lowerIn(chunks[ci], key, -Infinity);
    for (; ci < chunks.length; ci++, i = 0) {
      const c = chunks[ci];
      for (; i < c.rids.length; i++) {
        // Entries from (key, -Infinity) on hold this key until one compares above (key, Infinity).
        if (this.cmpAt(c, i, key, Infinity) > 0) return -1;
        if (c.rids[i] !== self) return c.rids[i];
      }
    }
    return -1;
  }

  /** Record ids of entries e with (lo, loRid) <= e <= (hi, hiRid), ascending or descending. */
  *range(lo: readonly unknown[], loRid: number, hi: readonly unknown[], hiRid: number, reverse = false): Generator<number> {
    if (this.count === 0) return;
    const chunks = this.chunks;
    if (!reverse) {
      let ci = this.chunkFor(lo, loRid);
      if (ci === chunks.length) return;
      let i = this.lowerIn(chunks[ci], lo, loRid);
      for (; ci < chunks.length; ci++, i = 0) {
        const c = chunks[ci];
        for (; i < c.rids.length; i++) {
          if (this.cmpAt(c, i, hi, hiRid) > 0) return;
          yield c.rids[i];
        }
      }
    } else {
      let ci = this.chunkFor(hi, hiRid);
      let i: number;
      if (ci === chunks.length) {
        ci--;
        i = chunks[ci].rids.length - 1;
      } else {
        const c = chunks[ci];
        i = this.lowerIn(c, hi, hiRid);
        if (i >= c.rids.length || this.cmpAt(c, i, hi, hiRid) > 0) i--;
      }
      for (; ci >= 0; ci--, i = ci >= 0 ? chunks[ci].rids.length - 1 : 0) {
        const c = chunks[ci];
        for (; i >= 0; i--) {
          if (this.cmpAt(c, i, lo, loRid) < 0) return;
          yield c.rids[i];
        }
      }
    }
  }

  /** Every entry as (key, record id), ascending or descending. */
  *all(reverse = false): Generator<{ k: unknown[]; r: number }> {
    const w = this.width;
    const chunks = this.chunks;
    if (!reverse) {
      for (const c of chunks) {
        for (let i = 0; i < c.rids.length; i++) yield { k: c.keys.slice(i * w, i * w + w), r: c.rids[i] };
      }
    } else {
      for (let ci = chunks.length - 1; ci >= 0; ci--) {
        const c = chunks[ci];
        for (let i = c.rids.length - 1; i >= 0; i--) yield { k: c.keys.slice(i * w, i * w + w), r: c.rids[i] };
      }
    }
  }
}
