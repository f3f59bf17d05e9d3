import type { Collection, Db } from 'mongodb';
import { sleep, type Clock } from '../clock.ts';
import { messageStateToStatWord } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import { receiptsTotal, receiptsUnmatchedTotal } from '../metrics/metrics.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import type { ShortMessage } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';
import type { RequestHandlers } from '../smpp/session.ts';
import { isReceipt, readInboundReceipt, type InboundReceipt } from './inbound-receipt.ts';
import type { ReceiptEmitter } from './receipt-emitter.ts';
import { parkEarlyReceipt, ReceiptFinaliser, type ApplyResult } from './receipt-finaliser.ts';
import { ORPHAN_RECEIPTS } from './receipt-schema.ts';
import { remoteIdKey, type HasMessageIdForm } from './remote-ids.ts';

export interface ReceiptIntakeOptions {
  /** How long a receipt for an id we do not (yet) know is retried before it is recorded as orphaned. Default 5 s. */
  retryWindowMs: number;
  /** First pause between tries; doubles up to `retryMaxMs`. Defaults 25 ms and 500 ms. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Receipts being retried at once in this process; beyond it the downstream is told to resend later. Default 1,000. */
  maxRetrying: number;
  historyLimit: number;
}

export const DEFAULT_INTAKE_OPTIONS: Readonly<ReceiptIntakeOptions> = Object.freeze({
  retryWindowMs: 5000,
  retryBaseMs: 25,
  retryMaxMs: 500,
  maxRetrying: 1000,
  historyLimit: 20,
});

/** The connector a deliver_sm arrived on: its name and how it writes message ids. */
export type IntakeConnector = { name: string } & HasMessageIdForm;

/** Stores mobile-originated traffic (the MO component); returns the stored message id. */
export interface MoSink {
  store(connector: string, msg: ShortMessage): Promise<string>;
}

export interface ReceiptIntakeDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Names this process in message history. */
  by: string;
  /** Creates the ESME receipt right after a finalising write (the outbox poll is the fallback). */
  emitter?: ReceiptEmitter;
  mo?: MoSink;
  options?: Partial<ReceiptIntakeOptions>;
}

/**
 * deliver_sm / data_sm arriving on an outbound connector: receipts update their message (found
 * through `correlations`), anything else is MO traffic. The response goes out only after the
 * update (or the MO message) is stored; a storage failure answers an error so the peer resends.
 */
export class ReceiptIntake {
  readonly #deps: ReceiptIntakeDeps;
  readonly #options: ReceiptIntakeOptions;
  readonly #finaliser: ReceiptFinaliser;
  readonly #orphans: Collection;
  #retrying = 0;
  readonly stats = { applied: 0, duplicates: 0, retried: 0, orphaned: 0, parked: 0, mo: 0 };

  constructor(deps: ReceiptIntakeDeps) {
    this.#deps = deps;
    this.#options = { ...DEFAULT_INTAKE_OPTIONS, ...deps.options };
    this.#finaliser = new ReceiptFinaliser(deps.db, deps.clock, { by: deps.by, historyLimit: this.#options.historyLimit });
    this.#orphans = deps.db.collection(ORPHAN_RECEIPTS);
  }

  /** Request handlers for one connector's session (ConnectorPool `handlersFor`). */
  handlersFor(connector: IntakeConnector): Partial<RequestHandlers> {
    return {
      deliverSm: async (msg) => {
        await this.onMessage(connector, msg);
      },
      dataSm: async (msg) => ({ messageId: (await this.onMessage(connector, msg)) ?? '' }),
    };
  }

  /** Handles one inbound message; resolves once what it says is stored. Returns an MO message id. */
  async onMessage(connector: IntakeConnector, msg: ShortMessage): Promise<string | undefined> {
    if (!isReceipt(msg)) {
      if (!this.#deps.mo) throw new SmppError(CommandStatus.ESME_RX_R_APPN, 'this SMSC takes no MO traffic on this connector');
      const id = await this.#deps.mo.store(connector.name, msg);
      this.stats.mo++;
      return id;
    }
    const receipt = readInboundReceipt(msg);
    if (receipt.ids.length === 0 || receipt.messageState === null) {
      // Nothing to match or apply: keep it for the operator, acknowledge so it is not resent forever.
      await this.#recordOrphan(connector.name, receipt, 'unreadable');
      return undefined;
    }
    receiptsTotal.inc({ direction: 'from_downstream', stat: statOf(receipt.messageState) });
    await this.#applyWithRetry(connector, receipt);
    return undefined;
  }

  async #applyWithRetry(connector: IntakeConnector, receipt: InboundReceipt): Promise<void> {
    const { clock } = this.#deps;
    const keys = [...new Set(receipt.ids.map((id) => remoteIdKey(connector, id, 'receipt')))];
    const update = { connector: connector.name, keys, messageState: receipt.messageState!, networkErrorCode: receipt.networkErrorCode };
    const deadline = clock.now().getTime() + this.#options.retryWindowMs;
    let pause = this.#options.retryBaseMs;
    let counted = false;
    try {
      for (;;) {
        const result = await this.#finaliser.apply(update);
        if (await this.#settled(result)) return;
        if (clock.now().getTime() >= deadline) {
          if (result.kind === 'not-ready') {
            // Known message, still in a slow batch: park the receipt on it; it is applied once the state write lands.
            const early = { connector: connector.name, remoteId: result.remoteId, messageState: update.messageState, networkErrorCode: update.networkErrorCode, at: clock.now() };
            if (await parkEarlyReceipt(this.#deps.db, result.smsId, early)) {
              this.stats.parked++;
              return;
            }
            continue; // it became submitted or final just now: the next try settles it
          }
          await this.#recordOrphan(connector.name, receipt, 'unknown-id');
          return;
        }
        if (!counted) {
          // Kept (unanswered, so the peer resends it if we die) and retried: it may have overtaken our correlation write.
          if (this.#retrying >= this.#options.maxRetrying) throw new SmppError(CommandStatus.ESME_RX_T_APPN, 'too many unmatched receipts; resend later');
          this.#retrying++;
          counted = true;
          this.stats.retried++;
        }
        await sleep(Math.min(pause, Math.max(1, deadline - clock.now().getTime())));
        pause = Math.min(pause * 2, this.#options.retryMaxMs);
      }
    } finally {
      if (counted) this.#retrying--;
    }
  }

  async #settled(result: ApplyResult): Promise<boolean> {
    switch (result.kind) {
      case 'final':
        this.stats.applied++;
        if (this.#deps.emitter && result.doc.receiptDue) {
          await this.#deps.emitter.emitFor([result.doc]).catch((error: unknown) => {
            // The flag is stored with the state: the outbox poll creates the receipt instead.
            this.#deps.logger.warn({ err: error }, 'could not create the ESME receipt now; the outbox will');
          });
        }
        return true;
      case 'intermediate':
      case 'part':
        this.stats.applied++;
        return true;
      case 'duplicate':
        this.stats.duplicates++;
        return true;
      default:
        return false;
    }
  }

  async #recordOrphan(connector: string, receipt: InboundReceipt, reason: string): Promise<void> {
    this.stats.orphaned++;
    receiptsUnmatchedTotal.inc({ connector });
    this.#deps.logger.info({ connector, ids: receipt.ids, reason }, 'receipt orphaned');
    await this.#orphans.insertOne({
      connector,
      ids: receipt.ids,
      messageState: receipt.messageState,
      networkErrorCode: receipt.networkErrorCode,
      text: receipt.text,
      reason,
      receivedAt: this.#deps.clock.now(),
    });
  }
}

function statOf(state: number): string {
  try {
    return messageStateToStatWord(state);
  } catch {
    return 'UNKNOWN';
  }
}
