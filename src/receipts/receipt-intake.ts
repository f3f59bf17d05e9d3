import type { Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { messageStateToStatWord } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import type { ShortMessage } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';
import type { RequestHandlers } from '../smpp/session.ts';
import { isReceipt, readInboundReceipt } from './inbound-receipt.ts';
import { OrphanReceipts } from './orphan-receipts.ts';
import type { ReceiptEmitter } from './receipt-emitter.ts';
import { ReceiptFinaliser, type ApplyResult } from './receipt-finaliser.ts';
import { remoteIdKey, type HasMessageIdForm } from './remote-ids.ts';

export interface ReceiptIntakeOptions {
  historyLimit: number;
}

export const DEFAULT_INTAKE_OPTIONS: Readonly<ReceiptIntakeOptions> = Object.freeze({ historyLimit: 20 });

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
  metrics: Metrics;
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
 * update (or the MO message, or the waiting receipt) is stored; a storage failure answers an error
 * so the peer resends. A receipt that cannot be applied yet never waits on the delivery path: it is
 * stored with the orphans and applied when its correlation and `submitted` state appear.
 */
export class ReceiptIntake {
  readonly #deps: ReceiptIntakeDeps;
  readonly #finaliser: ReceiptFinaliser;
  readonly orphans: OrphanReceipts;
  readonly stats = { applied: 0, duplicates: 0, waiting: 0, unreadable: 0, mo: 0 };

  constructor(deps: ReceiptIntakeDeps) {
    this.#deps = deps;
    const options = { ...DEFAULT_INTAKE_OPTIONS, ...deps.options };
    this.#finaliser = new ReceiptFinaliser(deps.db, deps.clock, { by: deps.by, historyLimit: options.historyLimit });
    this.orphans = new OrphanReceipts(deps.db, deps.clock, this.#finaliser, deps.logger, (result) =>
      this.#settled(result).then(() => undefined),
    );
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
    const keys = [...new Set(receipt.ids.map((id) => remoteIdKey(connector, id, 'receipt')))];
    const base = {
      connector: connector.name,
      keys,
      ids: receipt.ids,
      messageState: receipt.messageState,
      networkErrorCode: receipt.networkErrorCode,
      text: receipt.text,
      receivedAt: this.#deps.clock.now(),
    };
    if (keys.length === 0 || receipt.messageState === null) {
      // Nothing to match or apply: keep it for the operator, acknowledge so it is not resent forever.
      this.stats.unreadable++;
      this.#deps.metrics.receiptsUnmatchedTotal.inc({ connector: connector.name });
      await this.orphans.park({ ...base, reason: 'unreadable' });
      return undefined;
    }
    this.#deps.metrics.receiptsTotal.inc({ direction: 'from_downstream', stat: statOf(receipt.messageState) });
    const result = await this.#finaliser.apply({
      connector: connector.name,
      keys,
      messageState: receipt.messageState,
      networkErrorCode: receipt.networkErrorCode,
    });
    if (await this.#settled(result)) return undefined;
    this.stats.waiting++;
    this.#deps.logger.debug({ connector: connector.name, ids: receipt.ids, reason: result.kind }, 'receipt waits for its message');
    await this.orphans.park({ ...base, reason: result.kind === 'not-found' ? 'unknown-id' : 'not-ready' });
    return undefined;
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
}

function statOf(state: number): string {
  try {
    return messageStateToStatWord(state);
  } catch {
    return 'UNKNOWN';
  }
}
