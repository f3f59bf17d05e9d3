import type { Db, Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { defaultOwner, DeliveryWorker } from '../delivery/delivery-worker.ts';
import type { RoundStats } from '../delivery/delivery-round.ts';
import type { Logger } from '../logging/logger.ts';
import { MoAssigner } from '../mo/mo-assigner.ts';
import { MoRoutes } from '../routing/mo-routes.ts';
import { ESME_EVENT_KEY, ReceiptEmitter, type ReceiptEmitterOptions } from '../receipts/receipt-emitter.ts';
import { pullForwardEsmeTraffic } from '../protocol/esme-bind.ts';
import { ensureReceiptSchema } from '../receipts/receipt-schema.ts';
import type { SmppSession } from '../smpp/session.ts';
import { Collections } from '../store/collections.ts';
import type { ClockGuard } from '../store/server-clock.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import { DEFAULT_ESME_DELIVERY_OPTIONS, type EsmeDeliveryOptions } from './esme-outcomes.ts';
import { EsmeSender } from './esme-sender.ts';
import { EsmeSessions } from './esme-sessions.ts';
import type { Metrics } from '../metrics/metrics.ts';

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
  metrics: Metrics;
  owner?: string;
  clockGuard?: ClockGuard;
}

/**
 * Everything an inserter does for traffic towards ESMEs: tracks its receiver/transceiver binds,
 * delivers receipts and MO over them with the one delivery round (DeliveryWorker + EsmeSender),
 * runs the receipt outbox and routes unrouted MO. Messages for ESMEs bound nowhere wait; a bind
 * here pulls them forward at once (their order per destination is kept by the round).
 */
export class EsmeDeliveryService {
  readonly sessions = new EsmeSessions();
  readonly owner: string;
  readonly emitter: ReceiptEmitter;
  readonly #deps: EsmeDeliveryServiceDeps;
  readonly #options: Required<Pick<EsmeDeliveryServiceOptions, 'sweepMs' | 'runEmitter'>>;
  readonly #worker: DeliveryWorker;
  readonly #assigner: MoAssigner;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(deps: EsmeDeliveryServiceDeps, options: EsmeDeliveryServiceOptions = {}) {
    this.#deps = deps;
    this.owner = deps.owner ?? defaultOwner('esme-delivery');
    this.#options = { sweepMs: options.sweepMs ?? 1000, runEmitter: options.runEmitter ?? true };
    const delivery: EsmeDeliveryOptions = { ...DEFAULT_ESME_DELIVERY_OPTIONS, ...options.delivery };
    this.#worker = new DeliveryWorker({
      db: deps.db,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      owner: this.owner,
      sender: new EsmeSender(this.sessions, { responseTimeoutMs: delivery.responseTimeoutMs }),
      delivery,
      worker: { lanes: options.lanes ?? 4, sweepMs: this.#options.sweepMs, tailEvents: options.tailEvents ?? true },
      claimFilter: () => this.#claimFilter(),
      wantsEvent: (event) => event.destKey?.startsWith(ESME_EVENT_KEY) ?? false,
      clockGuard: deps.clockGuard,
    });
    this.emitter = new ReceiptEmitter(
      deps.db,
      deps.clock,
      deps.logger.child({ component: 'receipt-outbox' }),
      deps.metrics,
      options.emitter,
    );
    this.#assigner = new MoAssigner(
      deps.db,
      deps.clock,
      new MoRoutes(deps.db, deps.logger, { refreshMs: options.routesRefreshMs }),
      deps.logger,
      { retryMs: options.moRetryMs },
    );
    this.sessions.on('bound', (systemId) => void this.#onBound(systemId));
  }

  /** What the round did (deliveries are `submitted`: an ESME's deliver_sm_resp). */
  get stats(): RoundStats & { delivered: number } {
    return Object.assign(this.#worker.stats, { delivered: this.#worker.stats.submitted });
  }

  /** Receipts and MO for the system_ids bound here now; none while nothing is bound. */
  #claimFilter(): Filter<SmsDocument> | null {
    const systemIds = this.sessions.systemIds();
    return systemIds.length === 0 ? null : ({ 'target.kind': 'esme', 'target.systemId': { $in: systemIds } } as Filter<SmsDocument>);
  }

  async start(): Promise<void> {
    if (this.#sweepTimer || this.#closed) return;
    await ensureReceiptSchema(this.#deps.db);
    if (this.#options.runEmitter) this.emitter.start();
    this.#worker.start();
    this.#sweepTimer = setInterval(() => void this.#routeMo(), this.#options.sweepMs);
  }

  /** Hands a new ESME session to the service (the inserter calls this for every connection). */
  attach(session: SmppSession): void {
    this.sessions.attach(session);
  }

  wake(): void {
    this.#worker.wakeAll();
  }

  async #onBound(systemId: string): Promise<void> {
    const now = this.#deps.clock.now();
    try {
      // The write and why it is safe: `pullForwardEsmeTraffic` (src/protocol/esme-bind.ts).
      await pullForwardEsmeTraffic(this.#deps.db.collection<SmsDocument>(Collections.sms), systemId, now);
    } catch (error) {
      this.#deps.logger.warn({ err: error, systemId }, 'could not pull waiting ESME traffic forward');
    }
    this.wake();
  }

  async #routeMo(): Promise<void> {
    try {
      if ((await this.#assigner.runOnce()) > 0) this.wake();
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'MO routing pass failed');
    }
  }

  /** Stops claiming, lets in-flight batches finish (bounded), stops the outbox and the tail. Idempotent. */
  close(graceMs = 5000): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#sweepTimer);
      await this.#worker.close(graceMs);
      await this.emitter.close();
    })();
    return this.#closed;
  }
}
