/** What `until` hands back: the check's value once it is truthy. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/**
 * The stand-in package's way of waiting in its tests (the same helper as the product's
 * test/support/until.ts; a package does not reach into another's tests): polls `check` until
 * it returns something truthy and returns that, or fails with `what` once `timeoutMs` has passed. Polls fast at first (a condition that is
 * almost there costs no fixed delay), then back off to every 100 ms (a long wait on a database
 * or a child process does not load the shared machine). Generous timeouts: the machine is busy.
 */
export async function until<T>(check: () => T | PromiseLike<T>, timeoutMs: number, what: string): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let pollMs = FIRST_POLL_MS;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
  }
}
