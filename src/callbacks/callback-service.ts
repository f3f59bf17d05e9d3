import type { Db, Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions } from '../delivery/delivery-options.ts';
import type { RoundStats } from '../delivery/delivery-round.ts';
import { defaultOwner, DeliveryWorker } from '../delivery/delivery-worker.ts';
import type { Logger } from '../logging/logger.ts';
import { ReceiptEmitter } from '../receipts/receipt-emitter.ts';
import { ensureReceiptSchema } from '../receipts/receipt-schema.ts';
import type { ClockGuard } from '../store/server-clock.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import { CallbackAccounts } from '../accounts/callback-accounts.ts';
import { HTTP_EVENT_KEY } from '../accounts/callback-targets.ts';
import { HttpCallbackSender } from './http-callback-sender.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** The delivery protocol's tunables for callbacks, plus how long a receiver may take to answer. */
export interface CallbackDeliveryOptions extends DeliveryOptions {
  /** Longest wait for one POST's answer. Default 10 s. */
  timeoutMs: number;
}

/**
 * Callbacks are retried like ESME traffic (5 s doubling to 10 min) and given up only when the
 * event's validity ends (the round then expires it): the attempt limit is out of the way.
 */
export const DEFAULT_CALLBACK_OPTIONS: Readonly<CallbackDeliveryOptions> = Object.freeze({
  ...DEFAULT_DELIVERY_OPTIONS,
  backoffBaseMs: 5_000,
  backoffMaxMs: 600_000,
  maxAttempts: 1_000_000,
  timeoutMs: 10_000,
});

export interface CallbackServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  owner?: string;
  clockGuard?: ClockGuard;
}

export interface CallbackServiceOptions {
  delivery?: Partial<CallbackDeliveryOptions>;
  /** Destinations (account and subscriber) posted to at once. Default 8. */
  lanes?: number;
  /** Safety sweep. Default 5 s. */
  sweepMs?: number;
  /** Run the receipt outbox here too (default true): receipts of cancelled or expired messages. */
  runEmitter?: boolean;
  accountsRefreshMs?: number;
}

/**
 * HTTP callbacks: receipts and MO whose target is `http` are POSTed by the one delivery round
 * (DeliveryWorker: claim, destination lock, lease, fenced outcomes, backoff) through
 * HttpCallbackSender. Any number of processes may run it; they share the work like deliverers.
 */
export class CallbackService {
  readonly owner: string;
  readonly #worker: DeliveryWorker;
  readonly #emitter: ReceiptEmitter | undefined;
  readonly #deps: CallbackServiceDeps;
  #started = false;
  #closed: Promise<void> | undefined;

  constructor(deps: CallbackServiceDeps, options: CallbackServiceOptions = {}) {
    this.#deps = deps;
    this.owner = deps.owner ?? defaultOwner('callbacks');
    const delivery: CallbackDeliveryOptions = { ...DEFAULT_CALLBACK_OPTIONS, ...options.delivery };
    const accounts = new CallbackAccounts(deps.db, { refreshMs: options.accountsRefreshMs });
    this.#worker = new DeliveryWorker({
      db: deps.db,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      owner: this.owner,
      sender: new HttpCallbackSender(accounts, { timeoutMs: delivery.timeoutMs }),
      delivery,
      worker: { lanes: options.lanes ?? 8, sweepMs: options.sweepMs ?? 5_000 },
      claimFilter: { 'target.kind': 'http' } as Filter<SmsDocument>,
      wantsEvent: (event) => event.destKey?.startsWith(HTTP_EVENT_KEY) ?? false,
      clockGuard: deps.clockGuard,
    });
    if (options.runEmitter ?? true)
      this.#emitter = new ReceiptEmitter(deps.db, deps.clock, deps.logger.child({ component: 'receipt-outbox' }), deps.metrics);
  }

  /** What the round did (deliveries are `submitted`: a 2xx answer). */
  get stats(): RoundStats {
    return this.#worker.stats;
  }

  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    await ensureReceiptSchema(this.#deps.db);
    this.#emitter?.start();
    this.#worker.start();
  }

  wake(): void {
    this.#worker.wakeAll();
  }

  /** Stops claiming, lets POSTs in flight finish (bounded), stops the outbox. Idempotent. */
  close(graceMs = 5000): Promise<void> {
    this.#closed ??= (async () => {
      await this.#worker.close(graceMs);
      await this.#emitter?.close();
    })();
    return this.#closed;
  }
}
