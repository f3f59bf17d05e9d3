/** The part of a socket the flow control drives. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/**
 * When a session reads its socket. Two independent reasons stop reading: too many inbound requests
 * unanswered (backpressure: the kernel buffers the rest, not us) and the owner's pause (the first
 * step of a shutdown). Reading resumes only once neither holds, and never after the session
 * stopped. Counts the unanswered requests too, for those who wait until none is left.
 */
export class InboundFlow {
  readonly #socket: Pausable;
  readonly #maxUnanswered: number;
  readonly #stopped: () => boolean;
  #unanswered = 0;
  #backpressured = false;
  #paused = false;
  #idleWaiters: (() => void)[] = [];

  /** Backpressure starts at maxUnanswered requests and ends when half of them are answered. */
  constructor(socket: Pausable, maxUnanswered: number, stopped: () => boolean) {
    this.#socket = socket;
    this.#maxUnanswered = Math.max(1, maxUnanswered);
    this.#stopped = stopped;
  }

  /** Requests handed to a handler and not answered yet. */
  get unanswered(): number {
    return this.#unanswered;
  }

  /** Whether the next PDU already buffered may be taken: neither backpressure nor a pause holds. */
  get flowing(): boolean {
    return !this.#backpressured && !this.#paused;
  }

  /** Whether the owner paused reading. */
  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  /** Lifts the owner's pause; the socket reads again unless backpressure still holds. */
  resume(): void {
    this.#paused = false;
    if (!this.#backpressured && !this.#stopped()) this.#socket.resume();
  }

  /** A request was handed to its handler. */
  dispatched(): void {
    this.#unanswered++;
    if (this.#unanswered >= this.#maxUnanswered && !this.#backpressured) {
      this.#backpressured = true;
      this.#socket.pause();
    }
  }

  /** A request was answered. True when that ended the backpressure: the caller takes what is buffered. */
  answered(): boolean {
    this.#unanswered--;
    if (this.#unanswered === 0 && this.#idleWaiters.length > 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
    if (!this.#backpressured || this.#unanswered > this.#maxUnanswered >> 1) return false;
    this.#backpressured = false;
    if (!this.#paused && !this.#stopped()) this.#socket.resume();
    return true;
  }

  /** Resolves when every request dispatched so far has been answered, or after timeoutMs. */
  waitIdle(timeoutMs: number): Promise<void> {
    if (this.#unanswered === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
