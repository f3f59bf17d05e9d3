import type { Writable } from 'node:stream';

/**
 * The only writer of a session's socket. The first write corks it until the next tick, so the
 * responses to a burst of requests (a stored batch answers many PDUs in one microtask run) leave
 * in one syscall instead of one each: that was the largest cost per message after encoding.
 */
export class CorkedWriter {
  readonly #socket: Writable;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  constructor(socket: Writable) {
    this.#socket = socket;
  }

  /** Queues one frame; false (and nothing written) once the socket takes no more writes. */
  write(frame: Buffer): boolean {
    const socket = this.#socket;
    if (!socket.writable) return false;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(this.#uncork);
    }
    socket.write(frame);
    return true;
  }
}
