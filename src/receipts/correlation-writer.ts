import type { Collection, Db } from 'mongodb';
import { sleep } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { recordCorrelations, type CorrelationDocument } from '../protocol/correlations.ts';
import { Collections } from '../store/collections.ts';

interface Pending {
  doc: CorrelationDocument;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Stores each correlation as its submit_sm_resp arrives, grouped with the others that arrive while
 * a write is in flight (one command for every lane of the process). A failed write is retried
 * until it succeeds or the writer closes: the outcome write that makes the message `submitted`
 * waits for its correlations, so a receipt can always be matched.
 */
export class CorrelationWriter {
  readonly #correlations: Collection<CorrelationDocument>;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #queue: Pending[] = [];
  #flushing = false;

  constructor(db: Db, logger: Logger) {
    this.#correlations = db.collection<CorrelationDocument>(Collections.correlations);
    this.#logger = logger;
  }

  add(doc: CorrelationDocument): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ doc, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // After the poll phase: every response read in this turn has queued its correlation by then.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    let failures = 0;
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        const reused = await recordCorrelations(
          this.#correlations,
          group.map((p) => p.doc),
        );
        if (reused.length > 0)
          this.#logger.warn(
            { count: reused.length, connector: group[0].doc.connector },
            'a downstream reused message ids: receipts for them now go to the newest message',
          );
        failures = 0;
        for (const pending of group) pending.resolve();
      } catch (error) {
        failures++;
        if (this.#stop.signal.aborted) {
          for (const pending of group) pending.reject(error);
          continue;
        }
        this.#logger.warn({ err: error, failures }, 'correlation write failed; retrying');
        this.#queue = [...group, ...this.#queue];
        await sleep(Math.min(50 * 2 ** Math.min(failures - 1, 6), 2000), this.#stop.signal).catch(() => undefined);
      }
    }
    this.#flushing = false;
  }

  close(): void {
    this.#stop.abort(new Error('correlation writer closing'));
  }
}
