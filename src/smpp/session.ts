import { EventEmitter } from 'node:events';
import type smpp from 'smpp';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { BindState } from './bind-state.ts';
import { CommandStatus, commandStatusName } from './command-status.ts';
import { CorkedWriter } from './corked-writer.ts';
import {
  BIND_COMMANDS,
  bindModeOf,
  bindRequestToWire,
  bindResponseFromWire,
  messageIdFromWire,
  querySmResultFromWire,
  querySmToWire,
  shortMessageToWire,
  type BindCredentials,
  type BindMode,
  type BindResponse,
  type QuerySmResult,
  type ShortMessageInput,
  type SmppAddress,
} from './domain.ts';
import { commandStatusOf, SmppClosedError, SmppError, SmppMalformedPduError } from './errors.ts';
import { PduFramer } from './framer.ts';
import { InboundFlow } from './inbound-flow.ts';
import { KeepAlive } from './keep-alive.ts';
import { decodePdu, encodePdu, genericNack, isResponseId, UNANSWERED_COMMANDS, type WirePdu } from './pdu.ts';
import { handlerFor, invokeHandler, type HandlerName, type RequestHandlersWith, type ResponseBody } from './request-handlers.ts';
import { nextSequenceNumber, RequestWindow, type SendRequestOptions } from './request-window.ts';

export type { HandlerName } from './request-handlers.ts';

export type SessionRole = 'server' | 'client';
export type SessionState = 'open' | 'closing' | 'closed';

export interface SmppSessionOptions {
  /** 'server': the peer is an ESME bound to us (bind rules apply); 'client': we bound to an SMSC. */
  role: SessionRole;
  id?: string;
  /** Largest command_length accepted; bigger is answered generic_nack and closed. Default 65536. */
  maxPduLength?: number;
  /** Response timeout for requests we send. Default 10 s. */
  responseTimeoutMs?: number;
  /** Requests we send that may await a response at once (submit/deliver/data/query/…). Default 10. */
  windowSize?: number;
  /** Unanswered inbound requests at which we stop reading the socket. Default 100. */
  maxInboundPending?: number;
  /** Send enquire_link after this long without receiving anything. 0 = never. Default 30 s. */
  enquireLinkIntervalMs?: number;
  /** Close the session after this long without receiving anything. 0 = never. Default 90 s. */
  inactivityTimeoutMs?: number;
  /** How long close() waits for unbind_resp and the socket to finish. Default 2 s. */
  closeTimeoutMs?: number;
  logger?: Logger;
}

export interface RequestContext {
  session: SmppSession;
  sequenceNumber: number;
  /** performance.now() when the PDU was decoded. */
  receivedAt: number;
}

/** What an inbound request's handler returns; throw an SmppError to answer with its status. */
export type RequestHandlers = RequestHandlersWith<RequestContext>;

export interface SendOptions {
  timeoutMs?: number;
}

export interface SessionEvents {
  close: [reason: string];
  bound: [mode: BindMode, systemId: string];
  unbind: [];
  outbind: [systemId: string, password: string];
  alertNotification: [pdu: WirePdu];
  malformed: [error: SmppMalformedPduError];
  error: [error: Error];
}

let sessionCounter = 0;

/**
 * One SMPP session over the `smpp` package's Session, either side. The library writes PDUs and
 * numbers our requests; we read the socket ourselves (its reader stops for good after one bad
 * PDU), frame and decode strictly, and guarantee: one response per request we receive, every
 * request we send settles (response, timeout or close), a bounded window outbound, reading
 * paused while too many inbound requests are unanswered, and enquire_link liveness.
 *
 * The parts, each in its own module: CorkedWriter (every write), RequestWindow (requests we send),
 * InboundFlow (when we read), KeepAlive (enquire_link), BindState (bind rules), request-handlers
 * (requests we receive, in domain terms). This class runs the session's life: reading, answering,
 * unbinding and closing.
 */
export class SmppSession extends EventEmitter<SessionEvents> {
  readonly id: string;
  readonly role: SessionRole;
  readonly lib: smpp.Session;

  #state: SessionState = 'open';
  readonly #log: Logger;
  readonly #framer: PduFramer;
  readonly #closeTimeoutMs: number;
  readonly #handlers: Partial<RequestHandlers> = {};
  readonly #writer: CorkedWriter;
  readonly #window: RequestWindow;
  readonly #flow: InboundFlow;
  readonly #keepAlive: KeepAlive;
  readonly #bind = new BindState();
  /** No more bytes are written (and none read). */
  #stopped = false;
  /** No more requests are read (after the peer's unbind); responses still go out. */
  #inputClosed = false;
  #draining = false;
  #closeReason = 'socket closed';
  readonly #closed: Promise<void>;
  #closePromise: Promise<void> | undefined;

  constructor(lib: smpp.Session, options: SmppSessionOptions) {
    super();
    this.lib = lib;
    this.role = options.role;
    this.id = options.id ?? `${options.role === 'server' ? 's' : 'c'}${++sessionCounter}`;
    this.#log = (options.logger ?? silentLogger).child({ session: this.id });
    this.#framer = new PduFramer(options.maxPduLength ?? 65_536);
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
    const socket = lib.socket;
    this.#writer = new CorkedWriter(socket);
    this.#window = new RequestWindow(
      {
        // Kept in the library's counter, where its own sends would take theirs.
        nextSequence: () => (lib.sequence = nextSequenceNumber(lib.sequence)),
        write: (frame) => this.#writer.write(frame),
        closed: () => this.#state === 'closed',
      },
      { size: options.windowSize ?? 10, timeoutMs: options.responseTimeoutMs ?? 10_000 },
    );
    this.#flow = new InboundFlow(socket, options.maxInboundPending ?? 100, () => this.#stopped);
    this.#keepAlive = new KeepAlive({
      enquireLinkIntervalMs: options.enquireLinkIntervalMs ?? 30_000,
      inactivityTimeoutMs: options.inactivityTimeoutMs ?? 90_000,
      enquireLink: () => this.enquireLink(),
      mayEnquire: () => this.#state === 'open',
      onSilent: (idleMs) => {
        this.#log.info({ idleMs: Math.round(idleMs) }, 'peer silent past the inactivity timeout, closing');
        this.destroy('inactivity timeout');
      },
      onEnquireFailed: (error) => this.#log.debug({ err: error }, 'enquire_link failed'),
    });

    // Always listening: an 'error' with no listener would crash the process.
    lib.on('error', (error: Error) => {
      this.#log.debug({ err: error }, 'socket error');
      this.#closeReason = `socket error: ${error.message}`;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.#onClose());

    // Replace the library's reader (bound to 'readable' in its constructor) with ours.
    socket.removeAllListeners('readable');
    socket.on('data', (chunk: Buffer) => {
      if (this.#stopped || this.#inputClosed) return;
      this.#framer.push(chunk);
      this.#drain();
    });
    socket.setNoDelay(true);
    this.#keepAlive.start();
  }

  get remoteAddress(): string {
    return this.lib.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.lib.socket.remotePort ?? 0;
  }

  get state(): SessionState {
    return this.#state;
  }

  get bindMode(): BindMode | null {
    return this.#bind.mode;
  }

  get systemId(): string | null {
    return this.#bind.systemId;
  }

  /** Requests we sent that still await a response. */
  get outstanding(): number {
    return this.#window.outstanding;
  }

  /** Requests we received and have not answered yet. */
  get inboundPending(): number {
    return this.#flow.unanswered;
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  handle<K extends HandlerName>(name: K, handler: RequestHandlers[K]): this {
    this.#handlers[name] = handler;
    return this;
  }

  /**
   * Stop reading the socket (first step of a shutdown): no new request is dispatched, responses
   * to those already dispatched still go out. close() reads again (for unbind_resp) but then
   * refuses requests with ESME_RINVBNDSTS, so nothing is acknowledged without its handler.
   */
  pauseReading(): void {
    this.#flow.pause();
  }

  resumeReading(): void {
    this.#flow.resume();
    this.#drain();
  }

  // --- outbound requests -----------------------------------------------------------------------

  async bind(mode: BindMode, credentials: BindCredentials, options: SendOptions = {}): Promise<BindResponse> {
    const response = await this.#request(BIND_COMMANDS[mode], bindRequestToWire(credentials), {}, { ...options, windowed: false });
    this.#setBound(mode, credentials.systemId);
    return bindResponseFromWire(response);
  }

  async submitSm(msg: ShortMessageInput, options: SendOptions = {}): Promise<{ messageId: string }> {
    return { messageId: messageIdFromWire(await this.#sendShortMessage('submit_sm', msg, options)) };
  }

  async dataSm(msg: ShortMessageInput, options: SendOptions = {}): Promise<{ messageId: string }> {
    return { messageId: messageIdFromWire(await this.#sendShortMessage('data_sm', msg, options)) };
  }

  async deliverSm(msg: ShortMessageInput, options: SendOptions = {}): Promise<void> {
    await this.#sendShortMessage('deliver_sm', msg, options);
  }

  async querySm(query: { messageId: string; source?: Partial<SmppAddress> }, options: SendOptions = {}): Promise<QuerySmResult> {
    return querySmResultFromWire(await this.#request('query_sm', querySmToWire(query), {}, options));
  }

  async enquireLink(options: SendOptions = {}): Promise<void> {
    await this.#request('enquire_link', {}, {}, { ...options, windowed: false });
  }

  /** Sends unbind and waits for unbind_resp; the caller closes afterwards (close() does both). */
  async unbind(options: SendOptions = {}): Promise<void> {
    await this.#request('unbind', {}, {}, { ...options, windowed: false });
    this.#bind.unbound();
  }

  /**
   * Any request by spec name (params/TLVs in spec names). Settles with the response PDU, or
   * rejects with SmppError (non-zero status or generic_nack), SmppTimeoutError or SmppClosedError.
   */
  request(
    command: string,
    params: Record<string, unknown> = {},
    tlvs: Record<string, unknown> = {},
    options: SendOptions = {},
  ): Promise<WirePdu> {
    return this.#request(command, params, tlvs, options);
  }

  #sendShortMessage(command: string, msg: ShortMessageInput, options: SendOptions): Promise<WirePdu> {
    const { params, tlvs } = shortMessageToWire(msg);
    return this.#request(command, params, tlvs, options);
  }

  #request(command: string, params: Record<string, unknown>, tlvs: Record<string, unknown>, options: SendRequestOptions): Promise<WirePdu> {
    // unbind must still go out while closing; nothing else may start then.
    if (this.#state === 'closed' || (this.#state === 'closing' && command !== 'unbind')) {
      return Promise.reject(new SmppClosedError(`cannot send ${command}: session ${this.#state}`));
    }
    return this.#window.send(command, params, tlvs, options);
  }

  // --- inbound ---------------------------------------------------------------------------------

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#stopped && !this.#inputClosed && this.#flow.flowing && !this.#bind.deciding) {
        let frame: Buffer | null;
        try {
          frame = this.#framer.next();
        } catch (error) {
          this.#fatal(error as SmppMalformedPduError);
          return;
        }
        if (!frame) return;
        this.#keepAlive.received();
        let pdu: WirePdu;
        try {
          pdu = decodePdu(frame);
        } catch (error) {
          if (error instanceof SmppMalformedPduError) this.#fatal(error);
          else this.#fatal(new SmppMalformedPduError(CommandStatus.ESME_RSYSERR, String(error)));
          return;
        }
        if (!isResponseId(pdu.commandId)) this.#onRequest(pdu);
        else if (pdu.command === 'unknown') this.#log.debug({ commandId: pdu.commandId }, 'unknown response id, ignored');
        else if (!this.#window.settle(pdu)) {
          this.#log.debug({ command: pdu.command, seq: pdu.sequenceNumber }, 'response to no pending request, ignored');
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #onRequest(pdu: WirePdu): void {
    const { command, sequenceNumber } = pdu;
    if (command === 'unknown') {
      this.#writeRaw(genericNack(sequenceNumber, CommandStatus.ESME_RINVCMDID));
      return;
    }
    if (command === 'enquire_link') {
      this.#respond(pdu, 0);
      return;
    }
    if (command === 'unbind') {
      this.#onUnbind(pdu);
      return;
    }
    if (UNANSWERED_COMMANDS.has(command)) {
      if (command === 'outbind') this.emit('outbind', String(pdu.params.system_id ?? ''), String(pdu.params.password ?? ''));
      else this.emit('alertNotification', pdu);
      return;
    }
    if (this.#state !== 'open') {
      // Closing: the peer is told to go away rather than left without an answer.
      this.#respond(pdu, CommandStatus.ESME_RINVBNDSTS);
      return;
    }
    const refusal = this.role === 'server' ? this.#bind.refusalOf(command) : undefined;
    if (refusal) {
      if (refusal.genericNack) this.#writeRaw(genericNack(sequenceNumber, refusal.status));
      else this.#respond(pdu, refusal.status);
      return;
    }
    if (pdu.fieldError) {
      this.#respond(pdu, pdu.fieldError.commandStatus);
      return;
    }
    const handler = handlerFor(this.#handlers, command);
    if (!handler) {
      this.#respond(pdu, CommandStatus.ESME_RINVCMDID);
      return;
    }
    this.#dispatch(pdu, handler);
  }

  /** Runs a request's handler and answers with what it returns or the status of what it throws. */
  #dispatch(pdu: WirePdu, handler: RequestHandlers[HandlerName]): void {
    const { command, sequenceNumber } = pdu;
    const mode = bindModeOf(command);
    if (mode) this.#bind.startDeciding();
    this.#flow.dispatched();
    const ctx: RequestContext = { session: this, sequenceNumber, receivedAt: this.#keepAlive.lastReceivedAt };
    let result: Promise<ResponseBody | undefined>;
    try {
      result = Promise.resolve(invokeHandler(handler, pdu, mode, ctx));
    } catch (error) {
      result = Promise.reject(error);
    }
    result
      .then(
        (body) => {
          if (mode && this.#state === 'open') this.#setBound(mode, String(pdu.params.system_id ?? ''));
          this.#respond(pdu, 0, body);
        },
        (error: unknown) => {
          const status = commandStatusOf(error);
          if (status === CommandStatus.ESME_RSYSERR && !(error instanceof SmppError)) {
            this.#log.warn({ err: error, command }, 'request handler failed');
          }
          this.#respond(pdu, status || CommandStatus.ESME_RSYSERR);
        },
      )
      .finally(() => {
        if (this.#flow.answered()) this.#drain();
        if (mode) {
          this.#bind.doneDeciding();
          this.#drain();
        }
      });
  }

  #respond(request: WirePdu, status: number, body?: ResponseBody): void {
    if (this.#stopped) return;
    const command = `${request.command}_resp`;
    let frame: Buffer;
    try {
      frame = encodePdu({ command, sequenceNumber: request.sequenceNumber, commandStatus: status, params: body?.params, tlvs: body?.tlvs });
    } catch (error) {
      this.#log.error({ err: error, command }, 'could not encode response; answering ESME_RSYSERR');
      frame = encodePdu({ command, sequenceNumber: request.sequenceNumber, commandStatus: CommandStatus.ESME_RSYSERR });
    }
    this.#writer.write(frame);
  }

  #writeRaw(buffer: Buffer): void {
    if (!this.#stopped) this.#writer.write(buffer);
  }

  #setBound(mode: BindMode, systemId: string): void {
    this.#bind.bound(mode, systemId);
    this.emit('bound', mode, systemId);
  }

  // --- unbind and shutdown ---------------------------------------------------------------------

  /**
   * The peer's unbind: nothing more is read, requests already read are answered first (bounded
   * by closeTimeoutMs), then unbind_resp, then the socket ends.
   */
  #onUnbind(pdu: WirePdu): void {
    this.#inputClosed = true;
    this.#framer.clear();
    this.#state = this.#state === 'closed' ? 'closed' : 'closing';
    this.#closeReason = 'unbound by peer';
    this.emit('unbind');
    void this.#flow.waitIdle(this.#closeTimeoutMs).then(() => {
      this.#respond(pdu, 0);
      this.#bind.unbound();
      this.#stopped = true;
      this.lib.socket.end();
      this.#destroyLater();
    });
  }

  /** generic_nack with whatever header we could read, then close; other sessions are untouched. */
  #fatal(error: SmppMalformedPduError): void {
    if (this.#stopped) return;
    this.#log.warn({ err: error.message, status: commandStatusName(error.commandStatus) }, 'malformed PDU, closing session');
    this.#writeRaw(genericNack(error.sequenceNumber ?? 0, error.commandStatus));
    this.#stopped = true;
    this.#framer.clear();
    this.#closeReason = `malformed PDU: ${error.message}`;
    this.#state = this.#state === 'closed' ? 'closed' : 'closing';
    this.emit('malformed', error);
    this.lib.socket.end();
    this.#destroyLater();
  }

  #destroyLater(): void {
    const timer = setTimeout(() => this.lib.socket.destroy(), this.#closeTimeoutMs);
    timer.unref();
    void this.#closed.then(() => clearTimeout(timer));
  }

  /**
   * Graceful close: answer the requests already read (new ones get ESME_RINVBNDSTS), unbind
   * when bound (waiting up to closeTimeoutMs for unbind_resp), end the socket, destroy it if it
   * lingers. Idempotent; resolves when the socket is closed.
   */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    if (this.#state === 'closed') return this.#closed;
    this.#closePromise = (async () => {
      this.#state = 'closing';
      this.#closeReason = 'closed locally';
      await this.#flow.waitIdle(this.#closeTimeoutMs);
      // unbind_resp (and late responses) must be readable even if reading was paused for the
      // shutdown; requests read from here on are refused with ESME_RINVBNDSTS, not dispatched.
      if (this.#flow.paused) this.resumeReading();
      if (this.#bind.mode !== null && !this.#stopped) {
        try {
          await this.#request('unbind', {}, {}, { timeoutMs: this.#closeTimeoutMs, windowed: false });
        } catch (error) {
          this.#log.debug({ err: error }, 'unbind not acknowledged');
        }
        this.#bind.unbound();
      }
      this.#stopped = true;
      this.lib.socket.end();
      this.#destroyLater();
      await this.#closed;
    })();
    return this.#closePromise;
  }

  /** Immediate close; pending requests reject with SmppClosedError. */
  destroy(reason = 'destroyed'): void {
    this.#closeReason = reason;
    this.#stopped = true;
    this.lib.socket.destroy();
  }

  #onClose(): void {
    this.#state = 'closed';
    this.#stopped = true;
    this.#bind.unbound();
    this.#keepAlive.stop();
    this.#window.rejectAll(new SmppClosedError(`session closed before the response (${this.#closeReason})`));
    this.#log.debug({ reason: this.#closeReason }, 'session closed');
    this.emit('close', this.#closeReason);
  }
}
