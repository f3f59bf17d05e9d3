import { EventEmitter } from 'node:events';
import { sleep, type Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { connectSmpp } from '../smpp/client.ts';
import { CommandStatus, commandStatusName } from '../smpp/command-status.ts';
import { SmppError } from '../smpp/errors.ts';
import type { RequestHandlers, SmppSession } from '../smpp/session.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { RateLimiter } from '../throttle/rate-limiter.ts';
import { remoteIdKey } from '../receipts/remote-ids.ts';
import type { SubmitContext, SubmitOutcome } from '../domain/submit-outcome.ts';
import { reconnectDelayMs, tlsOptionsOf, type ConnectorDocument } from './connector-document.ts';
import { toOutboundPdus } from './outbound-form.ts';
import { isPermanentStatus } from './status-class.ts';

export const ConnectorState = Object.freeze({
  DISCONNECTED: 'DISCONNECTED',
  CONNECTING: 'CONNECTING',
  BOUND: 'BOUND',
  UNBOUND: 'UNBOUND',
} as const);
export type ConnectorStateName = (typeof ConnectorState)[keyof typeof ConnectorState];

export interface OutboundConnectorOptions {
  /** Multiplies the reconnect schedule (5, 10, 20, 40, then 60 s); tests pass e.g. 0.01. */
  backoffScale?: number;
  /** Pause after ESME_RTHROTTLED; doubles on repeats up to 16x. Default 1 s. */
  throttlePauseMs?: number;
  /** Handlers for requests the downstream sends us (deliver_sm receipts, MO). */
  handlers?: Partial<RequestHandlers>;
  clock: Clock;
  logger: Logger;
  /** Binds, bound sessions and the state gauge of this connector. */
  metrics: Metrics;
  limiter?: RateLimiter;
}

interface ConnectorEvents {
  state: [state: ConnectorStateName];
}

/**
 * One outbound SMPP client session from a `connectors` entry: DISCONNECTED -> CONNECTING ->
 * BOUND -> UNBOUND (-> DISCONNECTED, reconnect after backoff; reset on a successful bind).
 */
export class OutboundConnector extends EventEmitter<ConnectorEvents> {
  readonly config: ConnectorDocument;
  #state: ConnectorStateName = ConnectorState.DISCONNECTED;
  #session: SmppSession | undefined;
  readonly #options: OutboundConnectorOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #failures = 0;
  #throttledUntil = 0;
  #throttleStreak = 0;
  /** For bind mode transmitter: whether the paired receiver session is bound. */
  receiverBound = false;
  /** Times (ms) each connection attempt started: the reconnect schedule, for tests and status. */
  readonly attempts: number[] = [];
  readonly log: Logger;

  constructor(config: ConnectorDocument, options: OutboundConnectorOptions) {
    super();
    this.config = config;
    this.#options = options;
    this.log = options.logger.child({ connector: config.name });
  }

  get name(): string {
    return this.config.name;
  }

  get state(): ConnectorStateName {
    return this.#state;
  }

  get bound(): boolean {
    return this.#state === ConnectorState.BOUND && this.#session?.state === 'open';
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  #setState(state: ConnectorStateName): void {
    if (this.#state === state) return;
    if (state === ConnectorState.BOUND) this.#options.metrics.boundSessions.inc({ side: 'connector', mode: this.config.bind });
    if (this.#state === ConnectorState.BOUND) this.#options.metrics.boundSessions.dec({ side: 'connector', mode: this.config.bind });
    this.#state = state;
    this.#options.metrics.setConnectorState(this.config.name, state);
    this.emit('state', state);
  }

  /** Connects, installs the handlers for what the downstream sends us, and binds in `mode`. */
  async #openSession(mode: 'transceiver' | 'transmitter' | 'receiver'): Promise<{ session: SmppSession; closed: Promise<string> }> {
    const session = await connectSmpp({
      host: this.config.host,
      port: this.config.port,
      tls: tlsOptionsOf(this.config),
      windowSize: this.config.window,
      responseTimeoutMs: this.config.responseTimeoutMs ?? 10_000,
      enquireLinkIntervalMs: this.config.enquireLinkMs ?? 30_000,
      inactivityTimeoutMs: 3 * (this.config.enquireLinkMs ?? 30_000),
      logger: this.log,
      id: `connector:${this.config.name}:${mode}`,
    });
    session.on('error', (error) => this.log.debug({ err: error }, 'session error'));
    for (const [name, handler] of Object.entries(this.#options.handlers ?? {})) {
      session.handle(name as keyof RequestHandlers, handler as never);
    }
    if (!this.#options.handlers?.deliverSm) {
      // Receipts are handled by the receipts component when wired in; acknowledge meanwhile.
      session.handle('deliverSm', () => undefined);
    }
    const closed = new Promise<string>((resolve) => session.once('close', resolve));
    try {
      await session.bind(mode, {
        systemId: this.config.systemId,
        password: this.config.password,
        systemType: this.config.systemType ?? '',
      });
    } catch (error) {
      this.#options.metrics.bindsTotal.inc({ side: 'connector', mode, result: error instanceof SmppError ? error.statusName : 'error' });
      session.destroy('bind failed');
      throw error;
    }
    this.#options.metrics.bindsTotal.inc({ side: 'connector', mode, result: 'ok' });
    return { session, closed };
  }

  #stopped(): Promise<string> {
    const signal = this.#stop.signal;
    return new Promise<string>((resolve) => {
      if (signal.aborted) resolve('stopping');
      else signal.addEventListener('abort', () => resolve('stopping'), { once: true });
    });
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    // A transmitter bind gets a receiver session beside it, so receipts still come back (TX+RX pair).
    const receiver = this.config.bind === 'transmitter' ? this.#runReceiver() : Promise.resolve();
    while (!signal.aborted) {
      this.#setState(ConnectorState.CONNECTING);
      this.attempts.push(Date.now());
      try {
        const { session, closed } = await this.#openSession(this.config.bind);
        if (signal.aborted) {
          await session.close();
          break;
        }
        this.#session = session;
        this.#failures = 0;
        this.#setState(ConnectorState.BOUND);
        this.log.info({ host: this.config.host, port: this.config.port }, 'connector bound');
        const reason = await Promise.race([closed, this.#stopped()]);
        this.#session = undefined;
        this.#setState(ConnectorState.UNBOUND);
        if (signal.aborted) {
          await session.close().catch(() => {});
          break;
        }
        this.log.warn({ reason }, 'connector session lost');
      } catch (error) {
        this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'connector could not bind');
      }
      this.#setState(ConnectorState.DISCONNECTED);
      this.#failures++;
      await sleep(reconnectDelayMs(this.#failures, this.#options.backoffScale ?? 1), signal).catch(() => {});
    }
    this.#setState(ConnectorState.DISCONNECTED);
    await receiver;
  }

  /** The receiver half of a TX+RX pair: same reconnect schedule, its own failure count. */
  async #runReceiver(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const { session, closed } = await this.#openSession('receiver');
        this.receiverBound = true;
        failures = 0;
        await Promise.race([closed, this.#stopped()]);
        this.receiverBound = false;
        if (signal.aborted) {
          await session.close().catch(() => {});
          break;
        }
      } catch (error) {
        this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'connector receiver could not bind');
      }
      failures++;
      await sleep(reconnectDelayMs(failures, this.#options.backoffScale ?? 1), signal).catch(() => {});
    }
    this.receiverBound = false;
  }

  /**
   * Sends one stored message (one or more submit_sm) and classifies the answer. Parts an earlier
   * attempt got accepted are skipped; each part goes out only when the round says its lease is
   * safe for as long as the answer may take, and its remote id is reported as soon as it is known.
   */
  async submit(sms: SmsDocument, context: SubmitContext): Promise<SubmitOutcome> {
    const name = this.config.name;
    const session = this.#session;
    if (!session || !this.bound) return { kind: 'temporary', connector: name, error: 'connector not bound' };
    let pdus;
    try {
      pdus = toOutboundPdus(sms, this.config.long, this.#options.clock.now());
    } catch (error) {
      return {
        kind: 'permanent',
        connector: name,
        error: `cannot encode for ${this.config.long}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const ids: string[] = [];
    const responseTimeoutMs = this.config.responseTimeoutMs ?? 10_000;
    try {
      for (const pdu of pdus.slice(context.skipParts)) {
        await this.#pace(context.signal);
        const timeoutMs = await context.beforePart(responseTimeoutMs);
        if (timeoutMs === false) {
          return { kind: 'temporary', connector: name, error: 'stopped: the lease is no longer safe to send under', acceptedParts: ids };
        }
        const response = await session.submitSm(pdu, { timeoutMs });
        // Kept in the comparable form receipts are looked up by (the connector's messageIdForm).
        const id = remoteIdKey(this.config, response.messageId, 'submit');
        ids.push(id);
        context.onPartAccepted(id);
      }
      this.#throttleStreak = 0;
      if (ids.length === 0) return { kind: 'temporary', connector: name, error: 'nothing left to send' };
      return { kind: 'accepted', connector: name, remoteId: ids[0], ...(ids.length > 1 ? { otherRemoteIds: ids.slice(1) } : {}) };
    } catch (error) {
      const acceptedParts = ids.length > 0 ? { acceptedParts: ids } : {};
      if (error instanceof SmppError && error.code === 'SMPP_STATUS') {
        const status = error.commandStatus;
        if (status === CommandStatus.ESME_RTHROTTLED) this.#throttled();
        const error_ = commandStatusName(status);
        return isPermanentStatus(status)
          ? { kind: 'permanent', connector: name, status, error: error_, ...acceptedParts }
          : { kind: 'temporary', connector: name, status, error: error_, ...acceptedParts };
      }
      return { kind: 'temporary', connector: name, error: error instanceof Error ? error.message : String(error), ...acceptedParts };
    }
  }

  /** The TPS cap (shared through Redis by every replica) and the pause after ESME_RTHROTTLED. */
  async #pace(signal: AbortSignal): Promise<void> {
    for (;;) {
      const pause = this.#throttledUntil - Date.now();
      if (pause > 0) await sleep(pause, signal);
      if (!this.#options.limiter || this.config.tps <= 0) return;
      if (await this.#options.limiter.tryAcquire(this.config.name, this.config.tps)) return;
      // Budget for this second is spent: wait for the next window.
      await sleep(1000 - (Date.now() % 1000) + 1, signal);
    }
  }

  #throttled(): void {
    this.#throttleStreak = Math.min(this.#throttleStreak + 1, 5);
    const pause = (this.#options.throttlePauseMs ?? 1000) * 2 ** (this.#throttleStreak - 1);
    this.#throttledUntil = Math.max(this.#throttledUntil, Date.now() + pause);
    this.log.info({ pauseMs: pause }, 'downstream throttled us; slowing down');
  }

  /** Unbinds and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort(new Error('connector closing'));
    await this.#loop;
  }
}
