const LOAD = 256;

/**
 * A sorted sequence kept as a list of small sorted chunks, so inserts and removals cost a
 * short splice instead of moving the whole array.
 */
export class SortedList<T> {
  private chunks: T[][] = [];
  private maxes: T[] = [];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.chunks = [];
    this.maxes = [];
    this.count = 0;
  }

  /** Index of the first chunk whose last element is >= probe (or chunks.length). */
  private chunkFor(probe: T): number {
    let lo = 0;
    let hi = this.maxes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmp(this.maxes[mid], probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerIn<T>(chunk: T[], probe: T, cmp: (a: T, b: T) => number): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(chunk[mid], probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: T): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      this.maxes.push(item);
      return;
    }
    let ci: number;
    let at: number;
    const last = this.chunks.length - 1;
    // Ascending keys (ObjectIds, sequence numbers, timestamps) append: skip both searches.
    if (this.cmp(item, this.maxes[last]) > 0) {
      ci = last;
      at = this.chunks[last].length;
    } else {
      ci = this.chunkFor(item);
      if (ci === this.chunks.length) ci--;
      at = SortedList.lowerIn(this.chunks[ci], item, this.cmp);
    }
    const chunk = this.chunks[ci];
    if (at === chunk.length) chunk.push(item);
    else chunk.splice(at, 0, item);
    this.maxes[ci] = chunk[chunk.length - 1];
    if (chunk.length > LOAD * 2) {
      const tail = chunk.splice(LOAD);
      this.chunks.splice(ci + 1, 0, tail);
      this.maxes.splice(ci, 1, chunk[chunk.length - 1], tail[tail.length - 1]);
    }
  }

  /** Removes the element equal to item under cmp; false when absent. */
  remove(item: T): boolean {
    const ci = this.chunkFor(item);
    if (ci === this.chunks.length) return false;
    const chunk = this.chunks[ci];
    const at = SortedList.lowerIn(chunk, item, this.cmp);
    if (at >= chunk.length || this.cmp(chunk[at], item) !== 0) return false;
    chunk.splice(at, 1);
    this.count--;
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1);
      this.maxes.splice(ci, 1);
    } else {
      this.maxes[ci] = chunk[chunk.length - 1];
    }
    return true;
  }

  /** Elements e with lo <= e <= hi, ascending or descending. */
  *range(lo: T, hi: T, reverse = false): Generator<T> {
    if (this.count === 0) return;
    if (!reverse) {
      let ci = this.chunkFor(lo);
      if (ci === this.chunks.length) return;
      let i = SortedList.lowerIn(this.chunks[ci], lo, this.cmp);
      for (; ci < this.chunks.length; ci++, i = 0) {
        const chunk = this.chunks[ci];
        for (; i < chunk.length; i++) {
          const e = chunk[i];
          if (this.cmp(e, hi) > 0) return;
          yield e;
        }
      }
    } else {
      let ci = this.chunkFor(hi);
      let i: number;
      if (ci === this.chunks.length) {
        ci--;
        i = this.chunks[ci].length - 1;
      } else {
        const chunk = this.chunks[ci];
        i = SortedList.lowerIn(chunk, hi, this.cmp);
        if (i >= chunk.length || this.cmp(chunk[i], hi) > 0) i--;
      }
      for (; ci >= 0; ci--, i = ci >= 0 ? this.chunks[ci].length - 1 : 0) {
        const chunk = this.chunks[ci];
        for (; i >= 0; i--) {
          const e = chunk[i];
          if (this.cmp(e, lo) < 0) return;
          yield e;
        }
      }
    }
  }

  *all(reverse = false): Generator<T> {
    if (!reverse) {
      for (const chunk of this.chunks) yield* chunk;
    } else {
      for (let ci = this.chunks.length - 1; ci >= 0; ci--) {
        const chunk = this.chunks[ci];
        for (let i = chunk.length - 1; i >= 0; i--) yield chunk[i];
      }
    }
  }
}
