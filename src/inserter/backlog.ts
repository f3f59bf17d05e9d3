import type { Collection, Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';

interface Entry {
  count: number;
  checkedAt: number;
  refreshing: boolean;
}

/**
 * Whether an account's stored backlog (queued or locked messages) is at its cap. The count comes
 * from the store at most once per `refreshMs` per account (a bounded countDocuments on the
 * account_state index); messages this process stores in between are added locally.
 */
export class BacklogTracker {
  readonly #sms: Collection<SmsDocument>;
  readonly #refreshMs: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(db: Db, logger: Logger, clock: Clock, refreshMs = 1000) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#refreshMs = refreshMs;
    this.#logger = logger;
    this.#clock = clock;
  }

  /** True when `adding` more messages would exceed `cap` (0 = no cap). */
  async isFull(account: string, cap: number, adding: number): Promise<boolean> {
    if (cap <= 0) return false;
    let entry = this.#entries.get(account);
    const now = this.#clock.monotonic();
    if (!entry) {
      entry = { count: 0, checkedAt: 0, refreshing: false };
      this.#entries.set(account, entry);
      await this.#refresh(account, cap, entry);
    } else if (now - entry.checkedAt >= this.#refreshMs && !entry.refreshing) {
      void this.#refresh(account, cap, entry);
    }
    return entry.count + adding > cap;
  }

  /** Messages just stored for the account (until the next count includes them). */
  added(account: string, n: number): void {
    const entry = this.#entries.get(account);
    if (entry) entry.count += n;
  }

  async #refresh(account: string, cap: number, entry: Entry): Promise<void> {
    entry.refreshing = true;
    try {
      entry.count = await this.#sms.countDocuments({ account, state: { $in: [SmsState.queued, SmsState.locked] } }, { limit: cap + 1 });
      entry.checkedAt = this.#clock.monotonic();
    } catch (error) {
      this.#logger.warn({ err: (error as Error).message, account }, 'could not count the backlog; keeping the last count');
    } finally {
      entry.refreshing = false;
    }
  }
}
