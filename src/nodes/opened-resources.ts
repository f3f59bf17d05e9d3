import type { Logger } from '../logging/logger.ts';
import { Shutdown, type ShutdownStep } from './shutdown.ts';

/**
 * What a process entry point has opened so far, so a start-up that fails half-way (a port in
 * use, MongoDB unreachable, a bad option found late) closes it again and the process ends,
 * instead of lingering with bound connectors and open pools.
 */
export class OpenedResources {
  readonly #steps: ShutdownStep[] = [];

  add(name: string, close: () => unknown): void {
    this.#steps.push({ name, run: close });
  }

  /** Closes everything in reverse order of opening, within `budgetMs` in all. */
  async unwind(logger: Logger, budgetMs: number): Promise<void> {
    const shutdown = new Shutdown({ graceMs: budgetMs, logger, exit: () => {} });
    await shutdown.run([...this.#steps].reverse());
    shutdown.done();
  }
}
