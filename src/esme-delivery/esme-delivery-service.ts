import type { Db } from 'mongodb';
import type { Clock } from '../clock.ts';
import { defaultOwner } from '../delivery/delivery-worker.ts';
import { EventTail } from '../delivery/event-tail.ts';
import { Wakeup } from '../delivery/wakeup.ts';
import type { Logger } from '../logging/logger.ts';
import { MoAssigner } from '../mo/mo-assigner.ts';
import { MoRoutes } from '../mo/mo-routes.ts';
import { ESME_EVENT_KEY, ReceiptEmitter, type ReceiptEmitterOptions } from '../receipts/receipt-emitter.ts';
import { applyParkedReceipts, ReceiptFinaliser } from '../receipts/receipt-finaliser.ts';
import { ensureReceiptSchema } from '../receipts/receipt-schema.ts';
import type { SmppSession } from '../smpp/session.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type SmsDocument } from '../store/sms-document.ts';
import { EsmeDeliveryRound, emptyEsmeStats, type EsmeRoundStats } from './esme-delivery-round.ts';
import { DEFAULT_ESME_DELIVERY_OPTIONS, type EsmeDeliveryOptions } from './esme-outcomes.ts';
import { EsmeSessions } from './esme-sessions.ts';

export interface EsmeDeliveryServiceOptions {
  delivery?: Partial<EsmeDeliveryOptions>;
  /** Destinations delivered to at once. Default 4. */
  lanes?: number;
  /** Safety sweep: looks for work, routes unrouted MO. Default 1 s. */
  sweepMs?: number;
  emitter?: Partial<ReceiptEmitterOptions>;
  /** Run the receipt outbox here (default true). */
  runEmitter?: boolean;
  /** Tail `events` (default true). */
  tailEvents?: boolean;
  routesRefreshMs?: number;
  /** Unrouted MO is looked at again this often (routes may be added). Default 30 s. */
  moRetryMs?: number;
}

export interface EsmeDeliveryServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  owner?: string;
}

/**
 * Everything an inserter does for traffic towards ESMEs: tracks its receiver/transceiver binds,
 * delivers receipts and MO over them (EsmeDeliveryRound), runs the receipt outbox and routes
 * unrouted MO. Messages for ESMEs bound nowhere wait; a bind here pulls them forward at once.
 */
export class EsmeDeliveryService {
  readonly sessions = new EsmeSessions();
  readonly owner: string;
  readonly stats: EsmeRoundStats = emptyEsmeStats();
  readonly emitter: ReceiptEmitter;
  readonly #deps: EsmeDeliveryServiceDeps;
  readonly #options: Required<Pick<EsmeDeliveryServiceOptions, 'lanes' | 'sweepMs' | 'runEmitter' | 'tailEvents'>>;
  readonly #delivery: EsmeDeliveryOptions;
  readonly #round: EsmeDeliveryRound;
  readonly #assigner: MoAssigner;
  readonly #finaliser: ReceiptFinaliser;
  readonly #wakeup = new Wakeup();
  readonly #stop = new AbortController();
  #tail: EventTail | undefined;
  #lanes: Promise<void>[] = [];
  #sweepTimer: NodeJS.Timeout | undefined;
  #dueTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(deps: EsmeDeliveryServiceDeps, options: EsmeDeliveryServiceOptions = {}) {
    this.#deps = deps;
    this.owner = deps.owner ?? defaultOwner('esme-delivery');
    this.#options = { lanes: options.lanes ?? 4, sweepMs: options.sweepMs ?? 1000, runEmitter: options.runEmitter ?? true, tailEvents: options.tailEvents ?? true };
    this.#delivery = { ...DEFAULT_ESME_DELIVERY_OPTIONS, ...options.delivery };
    this.#round = new EsmeDeliveryRound({ db: deps.db, clock: deps.clock, owner: this.owner, logger: deps.logger, sessions: this.sessions, options: this.#delivery, held: new Set() });
    this.emitter = new ReceiptEmitter(deps.db, deps.clock, deps.logger.child({ component: 'receipt-outbox' }), options.emitter);
    this.#assigner = new MoAssigner(deps.db, deps.clock, new MoRoutes(deps.db, deps.logger, { refreshMs: options.routesRefreshMs }), deps.logger, { retryMs: options.moRetryMs });
    this.#finaliser = new ReceiptFinaliser(deps.db, deps.clock, { by: this.owner });
    this.sessions.on('bound', (systemId) => void this.#onBound(systemId));
  }

  async start(): Promise<void> {
    if (this.#lanes.length > 0 || this.#stop.signal.aborted) return;
    await ensureReceiptSchema(this.#deps.db);
    if (this.#options.runEmitter) this.emitter.start();
    if (this.#options.tailEvents) {
      this.#tail = new EventTail(
        this.#deps.db,
        this.#deps.clock,
        this.#deps.logger,
        { onEvent: (event) => event.destKey?.startsWith(ESME_EVENT_KEY) && this.wake(), onReopen: () => this.wake() },
        { owner: this.owner },
      );
      this.#tail.start();
    }
    this.#sweepTimer = setInterval(() => void this.#sweep(), this.#options.sweepMs);
    for (let i = 0; i < this.#options.lanes; i++) this.#lanes.push(this.#lane(i));
  }

  /** Hands a new ESME session to the service (the inserter calls this for every connection). */
  attach(session: SmppSession): void {
    this.sessions.attach(session);
  }

  wake(): void {
    this.#wakeup.wake();
  }

  async #onBound(systemId: string): Promise<void> {
    const now = this.#deps.clock.now();
    try {
      // filter: {target: esme systemId, state: 'queued', nextAttemptAt > now} (backing off after failed deliveries)
      // update: {$set: {nextAttemptAt: now}} — a new bind is a new chance for all of them
      // returns: modifiedCount; 0 = nothing was backing off.
      await this.#deps.db
        .collection<SmsDocument>(Collections.sms)
        .updateMany({ 'target.kind': 'esme', 'target.systemId': systemId, state: SmsState.queued, nextAttemptAt: { $gt: now } }, { $set: { nextAttemptAt: now } });
    } catch (error) {
      this.#deps.logger.warn({ err: error, systemId }, 'could not pull waiting ESME traffic forward');
    }
    this.wake();
  }

  async #sweep(): Promise<void> {
    try {
      await this.#assigner.runOnce();
      await applyParkedReceipts(this.#deps.db, this.#finaliser);
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'MO routing / parked receipts pass failed');
    }
    this.wake();
  }

  async #lane(index: number): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const seen = this.#wakeup.generation;
      try {
        await this.#round.run(signal, this.stats);
      } catch (error) {
        if (signal.aborted) break;
        this.#deps.logger.warn({ err: error, lane: index }, 'ESME delivery round failed');
        await this.#wakeup.wait(this.#wakeup.generation, 500, signal);
        continue;
      }
      if (signal.aborted) break;
      if (index === 0) void this.#armDueTimer();
      await this.#wakeup.wait(seen, this.#options.sweepMs, signal);
    }
  }

  /** Wakes the lanes when the earliest backing-off message for a bound ESME falls due. */
  async #armDueTimer(): Promise<void> {
    const systemIds = this.sessions.systemIds();
    if (systemIds.length === 0 || this.#stop.signal.aborted) return;
    try {
      const due = await this.#round.messagesFor(systemIds).earliestDue();
      if (!due || this.#stop.signal.aborted) return;
      const delay = Math.max(50, due.getTime() - this.#deps.clock.now().getTime());
      if (delay >= this.#options.sweepMs) return;
      clearTimeout(this.#dueTimer);
      this.#dueTimer = setTimeout(() => this.wake(), delay);
    } catch (error) {
      this.#deps.logger.debug({ err: error }, 'earliest-due query failed');
    }
  }

  /** Stops claiming, lets in-flight batches finish (bounded), stops the outbox and the tail. Idempotent. */
  close(graceMs = 5000): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort(new Error('closing'));
      clearInterval(this.#sweepTimer);
      clearTimeout(this.#dueTimer);
      this.wake();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(this.#lanes), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      await this.emitter.close();
      await this.#tail?.close();
    })();
    return this.#closed;
  }
}
