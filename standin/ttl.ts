import { RankBound, TypeRank } from './bson-order.ts';
import type { Catalog } from './storage/catalog.ts';

export const DEFAULT_TTL_INTERVAL_MS = 60_000;

/** Deletes documents whose TTL-indexed date is older than expireAfterSeconds, on a timer. */
export class TtlMonitor {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly catalog: Catalog,
    private intervalMs: number = DEFAULT_TTL_INTERVAL_MS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  setInterval(ms: number): void {
    this.intervalMs = Math.max(1, ms);
    if (this.timer !== null) this.start();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every TTL index; returns how many documents it deleted. */
  sweep(): number {
    const nowMs = this.now().getTime();
    let deleted = 0;
    for (const coll of this.catalog.allCollections()) {
      if (coll.capped) continue;
      for (const ix of [...coll.indexes]) {
        const secs = ix.spec.expireAfterSeconds;
        if (typeof secs !== 'number' || ix.fields.length !== 1) continue;
        const cutoff = new Date(nowMs - secs * 1000);
        const lo = ix.dirs[0] > 0 ? [new RankBound(TypeRank.Date, -1)] : [cutoff];
        const hi = ix.dirs[0] > 0 ? [cutoff] : [new RankBound(TypeRank.Date, -1)];
        const rids = new Set<number>();
        for (const rid of ix.scan(lo, -Infinity, hi, -Infinity, false)) rids.add(rid);
        for (const rid of rids) {
          coll.remove(rid);
          deleted++;
        }
      }
    }
    return deleted;
  }
}
