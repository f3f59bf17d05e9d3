/** A generation counter lanes wait on: a wake that comes while a lane is busy is not lost. */
export class Wakeup {
  #generation = 0;
  #waiters = new Set<() => void>();

  get generation(): number {
    return this.#generation;
  }

  wake(): void {
    this.#generation++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const resolve of waiters) resolve();
  }

  /**
   * A wake for one waiter only (busy lanes see it too, through the generation). Lanes that find
   * work `recruit` more, so a trickle of work keeps one lane busy instead of every lane making a
   * query that finds nothing.
   */
  wakeOne(): void {
    this.#generation++;
    this.recruit();
  }

  /** Wakes one more waiter, if any, without counting as a new wake. */
  recruit(): void {
    const first = this.#waiters.values().next();
    if (!first.done) first.value();
  }

  /**
   * Resolves at the next wake after `seen`, at once if one already happened, or after
   * `timeoutMs` (never when undefined).
   */
  wait(seen: number, timeoutMs: number | undefined, signal?: AbortSignal): Promise<void> {
    if (this.#generation !== seen || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
