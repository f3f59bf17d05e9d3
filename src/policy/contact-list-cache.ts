import type { Db } from 'mongodb';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { ContactListStore, type EntryKey, type EntrySource, type ListChange } from './contact-lists.ts';

export interface ContactListCacheOptions {
  /** How often the version document is read (default 1 s): replicas agree within about this. */
  refreshMs?: number;
  /** A full reload this often even without an announced change (default 10 min): the safety net. */
  fullReloadMs?: number;
}

/** One account's (or the global) list: exact numbers and prefixes, each with who added it. */
class NumberSet {
  readonly numbers = new Map<string, EntrySource>();
  readonly prefixes = new Map<string, EntrySource>();
  /** Lengths of the prefixes present, so a lookup tries only those (a handful). */
  #lengths: number[] = [];

  add(match: EntryKey['match'], value: string, source: EntrySource): void {
    if (match === 'number') this.numbers.set(value, source);
    else {
      this.prefixes.set(value, source);
      this.#relength();
    }
  }

  delete(match: EntryKey['match'], value: string): void {
    if (match === 'number') this.numbers.delete(value);
    else {
      this.prefixes.delete(value);
      this.#relength();
    }
  }

  /** Who listed `digits` (exact number first, then the longest prefix), or undefined. */
  find(digits: string): { source: EntrySource; match: EntryKey['match']; value: string } | undefined {
    const exact = this.numbers.get(digits);
    if (exact) return { source: exact, match: 'number', value: digits };
    for (const length of this.#lengths) {
      if (length > digits.length) continue;
      const prefix = digits.slice(0, length);
      const source = this.prefixes.get(prefix);
      if (source) return { source, match: 'prefix', value: prefix };
    }
    return undefined;
  }

  get empty(): boolean {
    return this.numbers.size === 0 && this.prefixes.size === 0;
  }

  #relength(): void {
    this.#lengths = [...new Set([...this.prefixes.keys()].map((p) => p.length))].sort((a, b) => b - a);
  }
}

export interface ListHit {
  /** '' = the global list. */
  account: string;
  match: EntryKey['match'];
  value: string;
  source: EntrySource;
}

/**
 * Every contact list in memory, so a submit is checked without a database round trip. It reads
 * the version document every `refreshMs` (one indexed `_id` read) and applies the announced
 * changes, or reloads everything when it fell too far behind. MongoDB change streams would do
 * the same, but this needs none (and works against a standalone server).
 */
export class ContactListCache {
  readonly #store: ContactListStore;
  readonly #log: Logger;
  readonly #refreshMs: number;
  readonly #fullReloadMs: number;
  #block = new Map<string, NumberSet>();
  #allow = new Map<string, NumberSet>();
  #version = -1;
  #lastFullLoad = 0;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #closed = false;
  readonly stats = { fullLoads: 0, changesApplied: 0, refreshErrors: 0 };

  constructor(db: Db, options: ContactListCacheOptions & { logger?: Logger } = {}) {
    this.#store = new ContactListStore(db);
    this.#log = (options.logger ?? silentLogger).child({ component: 'contact-lists' });
    this.#refreshMs = options.refreshMs ?? 1_000;
    this.#fullReloadMs = options.fullReloadMs ?? 600_000;
  }

  /** Loads everything, then follows changes. A failed first load throws (the process should not start blind). */
  async start(): Promise<void> {
    if (this.#version >= 0) return;
    await this.refresh();
    this.#schedule();
  }

  get version(): number {
    return this.#version;
  }

  /** The blocklist entry that stops `digits` for `account` (its own list first, then the global one). */
  blocked(account: string, digits: string): ListHit | undefined {
    const own = this.#block.get(account)?.find(digits);
    if (own) return { account, ...own };
    const global = this.#block.get('')?.find(digits);
    return global ? { account: '', ...global } : undefined;
  }

  /** Whether `digits` is a registered destination of `account` (its allowlist, or the global one). */
  registered(account: string, digits: string): boolean {
    return this.#allow.get(account)?.find(digits) !== undefined || this.#allow.get('')?.find(digits) !== undefined;
  }

  /** Catches up now (tests and the CLI call it; the timer does otherwise). Concurrent calls share one read. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#catchUp().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #catchUp(): Promise<void> {
    const stale = Date.now() - this.#lastFullLoad >= this.#fullReloadMs;
    if (this.#version >= 0 && !stale) {
      const { version, changes } = await this.#store.changesSince(this.#version);
      if (changes) {
        for (const change of changes) this.#apply(change);
        this.stats.changesApplied += changes.length;
        this.#version = version;
        return;
      }
    }
    // Version first: a change announced while we read the entries is applied again on the next
    // read, which is harmless (adds and removes are idempotent and replayed in order).
    const version = await this.#store.currentVersion();
    const entries = await this.#store.all();
    const block = new Map<string, NumberSet>();
    const allow = new Map<string, NumberSet>();
    for (const e of entries) {
      const lists = e.list === 'allow' ? allow : block;
      let set = lists.get(e.account);
      if (!set) lists.set(e.account, (set = new NumberSet()));
      set.add(e.match, e.value, e.source ?? 'operator');
    }
    this.#block = block;
    this.#allow = allow;
    this.#version = version;
    this.#lastFullLoad = Date.now();
    this.stats.fullLoads++;
    this.#log.debug({ version, entries: entries.length }, 'contact lists loaded');
  }

  #apply(change: ListChange): void {
    const { entry } = change;
    const lists = entry.list === 'allow' ? this.#allow : this.#block;
    let set = lists.get(entry.account);
    if (change.op === 'add') {
      if (!set) lists.set(entry.account, (set = new NumberSet()));
      set.add(entry.match, entry.value, entry.source ?? 'operator');
    } else if (set) {
      set.delete(entry.match, entry.value);
      if (set.empty) lists.delete(entry.account);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.refresh()
        .catch((error: unknown) => {
          this.stats.refreshErrors++;
          this.#log.warn({ err: (error as Error).message }, 'could not refresh the contact lists; using the ones loaded before');
        })
        .finally(() => this.#schedule());
    }, this.#refreshMs);
    this.#timer.unref();
  }
}
