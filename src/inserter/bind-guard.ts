import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';

export interface BindGuardOptions {
  /** Failures are counted within this window from the first one (default 60 s). */
  windowMs?: number;
  /** From this many failures on, every bind attempt for the key is delayed (default 3). */
  slowAfter?: number;
  /**
   * At this many failures an (address, system_id) pair, or an address, is refused outright for
   * `refuseForMs` (default 10). A system_id alone is never refused, only slowed down: otherwise
   * anyone who knows it could keep its real ESME from binding.
   */
  refuseAfter?: number;
  refuseForMs?: number;
  /** Delay doubles per failure past `slowAfter` from 250 ms, capped here (default 2 s). */
  maxDelayMs?: number;
  /** Bounded memory under a flood of distinct addresses (default 10,000 keys). */
  maxKeys?: number;
  /**
   * Password checks in progress at once per key (default 4): scrypt is deliberately costly, so a
   * burst of parallel binds must not get them all computed before the first failures count.
   */
  maxConcurrentPerKey?: number;
}

export interface BindVerdict {
  refuse: boolean;
  delayMs: number;
}

interface Entry {
  failures: number;
  firstAt: number;
  refusedUntil: number;
}

/** The keys a bind is judged by (see BindGuard). */
export function bindGuardKeys(address: string, systemId: string): string[] {
  return [`pair:${address}|${systemId}`, `addr:${address}`, `sys:${systemId}`];
}

const SLOW_ONLY_PREFIX = 'sys:';

/**
 * Slows down, then refuses for a while, repeated bind failures, so credentials cannot be guessed
 * at line rate — without letting an attacker lock a customer out:
 * - `pair:<address>|<system_id>` and `addr:<address>` are slowed down, then refused: the guesser's
 *   own address is what gets locked;
 * - `sys:<system_id>` (failures from every address together) is only ever slowed down, never
 *   refused, and its password checks are not limited in number (a flood of binds from elsewhere
 *   must not take the customer's slots);
 * - binds from an account's trusted addresses are not judged at all (the inserter skips the guard).
 */
export class BindGuard {
  readonly #windowMs: number;
  readonly #slowAfter: number;
  readonly #refuseAfter: number;
  readonly #refuseForMs: number;
  readonly #maxDelayMs: number;
  readonly #maxKeys: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #inProgress = new Map<string, number>();
  readonly #maxConcurrent: number;

  constructor(options: BindGuardOptions = {}, clock: Clock = systemClock) {
    this.#windowMs = options.windowMs ?? 60_000;
    this.#slowAfter = options.slowAfter ?? 3;
    this.#refuseAfter = options.refuseAfter ?? 10;
    this.#refuseForMs = options.refuseForMs ?? 60_000;
    this.#maxDelayMs = options.maxDelayMs ?? 2_000;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#clock = clock;
    this.#maxConcurrent = options.maxConcurrentPerKey ?? 4;
  }

  /** Claims a password-check slot for every key (system_id keys excepted); false (nothing claimed) when one is at its limit. */
  begin(keys: readonly string[]): boolean {
    const limited = keys.filter((key) => !key.startsWith(SLOW_ONLY_PREFIX));
    if (limited.some((key) => (this.#inProgress.get(key) ?? 0) >= this.#maxConcurrent)) return false;
    for (const key of limited) this.#inProgress.set(key, (this.#inProgress.get(key) ?? 0) + 1);
    return true;
  }

  /** Releases what begin() claimed. */
  end(keys: readonly string[]): void {
    for (const key of keys) {
      if (key.startsWith(SLOW_ONLY_PREFIX)) continue;
      const left = (this.#inProgress.get(key) ?? 1) - 1;
      if (left <= 0) this.#inProgress.delete(key);
      else this.#inProgress.set(key, left);
    }
  }

  /** The strictest verdict over the keys (bindGuardKeys). */
  check(keys: readonly string[]): BindVerdict {
    const now = this.#clock.now().getTime();
    let refuse = false;
    let delayMs = 0;
    for (const key of keys) {
      const entry = this.#live(key, now);
      if (!entry) continue;
      if (entry.refusedUntil > now && !key.startsWith(SLOW_ONLY_PREFIX)) refuse = true;
      if (entry.failures >= this.#slowAfter) {
        delayMs = Math.max(delayMs, Math.min(this.#maxDelayMs, 250 * 2 ** (entry.failures - this.#slowAfter)));
      }
    }
    return { refuse, delayMs };
  }

  /** Records a failed bind; returns the keys that just became refused (for the log). */
  recordFailure(keys: readonly string[]): string[] {
    const now = this.#clock.now().getTime();
    const newlyRefused: string[] = [];
    for (const key of keys) {
      let entry = this.#live(key, now);
      if (!entry) {
        if (this.#entries.size >= this.#maxKeys) this.#evictOldest();
        entry = { failures: 0, firstAt: now, refusedUntil: 0 };
        this.#entries.set(key, entry);
      }
      entry.failures++;
      if (entry.failures >= this.#refuseAfter && entry.refusedUntil <= now && !key.startsWith(SLOW_ONLY_PREFIX)) {
        entry.refusedUntil = now + this.#refuseForMs;
        newlyRefused.push(key);
      }
    }
    return newlyRefused;
  }

  /**
   * A bind succeeded: its address and pair start afresh. The system_id's count is kept (it ends
   * with its window), so a guesser elsewhere is not let off by the customer's own binds.
   */
  recordSuccess(keys: readonly string[]): void {
    for (const key of keys) if (!key.startsWith(SLOW_ONLY_PREFIX)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.refusedUntil <= now && now - entry.firstAt > this.#windowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #evictOldest(): void {
    // Map iteration is insertion order: the first key is the oldest entry.
    const first = this.#entries.keys().next();
    if (!first.done) this.#entries.delete(first.value);
  }
}
