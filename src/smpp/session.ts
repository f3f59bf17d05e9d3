import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type smpp from 'smpp';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { CommandStatus, commandStatusName } from './command-status.ts';
import {
  BIND_COMMANDS,
  bindModeOf,
  bindRequestFromWire,
  bindRequestToWire,
  cancelSmFromWire,
  querySmFromWire,
  querySmResultFromWire,
  querySmResultToWire,
  replaceSmFromWire,
  shortMessageFromWire,
  shortMessageToWire,
  submitMultiFromWire,
  submitMultiResultToWire,
  type BindMode,
  type BindRequest,
  type BindResponse,
  type CancelSm,
  type QuerySm,
  type QuerySmResult,
  type ReplaceSm,
  type ShortMessage,
  type ShortMessageInput,
  type SubmitMulti,
  type SubmitMultiResult,
} from './domain.ts';
import { commandStatusOf, SmppClosedError, SmppError, SmppMalformedPduError, SmppTimeoutError } from './errors.ts';
import { PduFramer } from './framer.ts';
import { decodePdu, encodePdu, genericNack, isResponseId, MAX_SEQUENCE_NUMBER, UNANSWERED_COMMANDS, type WirePdu } from './pdu.ts';

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

type Awaitable<T> = T | Promise<T>;

/** What an inbound request's handler returns; throw an SmppError to answer with its status. */
export interface RequestHandlers {
  bind: (req: BindRequest, ctx: RequestContext) => Awaitable<BindResponse>;
  submitSm: (req: ShortMessage, ctx: RequestContext) => Awaitable<{ messageId: string }>;
  dataSm: (req: ShortMessage, ctx: RequestContext) => Awaitable<{ messageId: string }>;
  deliverSm: (req: ShortMessage, ctx: RequestContext) => Awaitable<void | { messageId?: string }>;
  querySm: (req: QuerySm, ctx: RequestContext) => Awaitable<QuerySmResult>;
  cancelSm: (req: CancelSm, ctx: RequestContext) => Awaitable<void>;
  replaceSm: (req: ReplaceSm, ctx: RequestContext) => Awaitable<void>;
  submitMulti: (req: SubmitMulti, ctx: RequestContext) => Awaitable<SubmitMultiResult>;
}

export type HandlerName = keyof RequestHandlers;

const HANDLER_BY_COMMAND: Readonly<Record<string, HandlerName>> = Object.freeze({
  bind_transmitter: 'bind',
  bind_receiver: 'bind',
  bind_transceiver: 'bind',
  submit_sm: 'submitSm',
  data_sm: 'dataSm',
  deliver_sm: 'deliverSm',
  query_sm: 'querySm',
  cancel_sm: 'cancelSm',
  replace_sm: 'replaceSm',
  submit_multi: 'submitMulti',
});

// What an ESME may send in each bind state (SMPP 3.4 section 2.3). deliver_sm is allowed from
// transmitters and transceivers because peer SMSCs bound to us deliver MO traffic with it.
const RECEIVER_MAY_SEND = new Set(['data_sm']);

interface ResponseBody {
  params?: Record<string, unknown>;
  tlvs?: Record<string, unknown>;
}

export interface SendOptions {
  timeoutMs?: number;
}

class OutboundRequest {
  sequence = 0;
  queued = false;
  timer!: NodeJS.Timeout;
  resolve!: (pdu: WirePdu) => void;
  reject!: (error: Error) => void;

  constructor(
    readonly command: string,
    readonly params: Record<string, unknown>,
    readonly tlvs: Record<string, unknown>,
    readonly windowed: boolean,
    readonly timeoutMs: number,
  ) {}
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
 */
export class SmppSession extends EventEmitter<SessionEvents> {
  readonly id: string;
  readonly role: SessionRole;
  readonly lib: smpp.Session;

  #state: SessionState = 'open';
  #bindMode: BindMode | null = null;
  #systemId: string | null = null;
  readonly #log: Logger;
  readonly #framer: PduFramer;
  readonly #responseTimeoutMs: number;
  readonly #windowSize: number;
  readonly #maxInboundPending: number;
  readonly #enquireLinkIntervalMs: number;
  readonly #inactivityTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #handlers: Partial<RequestHandlers> = {};
  readonly #pending = new Map<number, OutboundRequest>();
  readonly #windowWaiters: OutboundRequest[] = [];
  #windowUsed = 0;
  #inboundPending = 0;
  #backpressured = false;
  #readingPaused = false;
  /** No more bytes are written (and none read). */
  #stopped = false;
  /** No more requests are read (after the peer's unbind); responses still go out. */
  #inputClosed = false;
  #idleWaiters: (() => void)[] = [];
  #draining = false;
  #lastReceivedAt = performance.now();
  #enquireInFlight = false;
  #bindInProgress = false;
  #corked = false;
  #ticker: NodeJS.Timeout | undefined;
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
    this.#responseTimeoutMs = options.responseTimeoutMs ?? 10_000;
    this.#windowSize = Math.max(1, options.windowSize ?? 10);
    this.#maxInboundPending = Math.max(1, options.maxInboundPending ?? 100);
    this.#enquireLinkIntervalMs = options.enquireLinkIntervalMs ?? 30_000;
    this.#inactivityTimeoutMs = options.inactivityTimeoutMs ?? 90_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
    const socket = lib.socket;

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
    this.#startTicker();
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
    return this.#bindMode;
  }

  get systemId(): string | null {
    return this.#systemId;
  }

  /** Requests we sent that still await a response. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Requests we received and have not answered yet. */
  get inboundPending(): number {
    return this.#inboundPending;
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
    this.#readingPaused = true;
    this.lib.socket.pause();
  }

  resumeReading(): void {
    this.#readingPaused = false;
    if (!this.#backpressured && !this.#stopped) this.lib.socket.resume();
    this.#drain();
  }

  // --- outbound requests -----------------------------------------------------------------------

  async bind(
    mode: BindMode,
    credentials: {
      systemId: string;
      password: string;
      systemType?: string;
      interfaceVersion?: number;
      addrTon?: number;
      addrNpi?: number;
      addressRange?: string;
    },
    options: SendOptions = {},
  ): Promise<BindResponse> {
    const response = await this.#request(
      BIND_COMMANDS[mode],
      bindRequestToWire({
        systemId: credentials.systemId,
        password: credentials.password,
        systemType: credentials.systemType ?? '',
        interfaceVersion: credentials.interfaceVersion ?? 0x34,
        addrTon: credentials.addrTon ?? 0,
        addrNpi: credentials.addrNpi ?? 0,
        addressRange: credentials.addressRange ?? '',
      }),
      {},
      { ...options, windowed: false },
    );
    this.#setBound(mode, credentials.systemId);
    const version = response.tlvs.sc_interface_version;
    return {
      systemId: typeof response.params.system_id === 'string' ? response.params.system_id : '',
      ...(typeof version === 'number' ? { scInterfaceVersion: version } : {}),
    };
  }

  async submitSm(msg: ShortMessageInput, options: SendOptions = {}): Promise<{ messageId: string }> {
    const { params, tlvs } = shortMessageToWire(msg);
    const response = await this.#request('submit_sm', params, tlvs, options);
    return { messageId: typeof response.params.message_id === 'string' ? response.params.message_id : '' };
  }

  async dataSm(msg: ShortMessageInput, options: SendOptions = {}): Promise<{ messageId: string }> {
    const { params, tlvs } = shortMessageToWire(msg);
    const response = await this.#request('data_sm', params, tlvs, options);
    return { messageId: typeof response.params.message_id === 'string' ? response.params.message_id : '' };
  }

  async deliverSm(msg: ShortMessageInput, options: SendOptions = {}): Promise<void> {
    const { params, tlvs } = shortMessageToWire(msg);
    await this.#request('deliver_sm', params, tlvs, options);
  }

  async querySm(
    query: { messageId: string; source?: { ton?: number; npi?: number; addr?: string } },
    options: SendOptions = {},
  ): Promise<QuerySmResult> {
    const response = await this.#request(
      'query_sm',
      {
        message_id: query.messageId,
        source_addr_ton: query.source?.ton ?? 0,
        source_addr_npi: query.source?.npi ?? 0,
        source_addr: query.source?.addr ?? '',
      },
      {},
      options,
    );
    return querySmResultFromWire(response);
  }

  async enquireLink(options: SendOptions = {}): Promise<void> {
    await this.#request('enquire_link', {}, {}, { ...options, windowed: false });
  }

  /** Sends unbind and waits for unbind_resp; the caller closes afterwards (close() does both). */
  async unbind(options: SendOptions = {}): Promise<void> {
    await this.#request('unbind', {}, {}, { ...options, windowed: false });
    this.#bindMode = null;
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

  #request(
    command: string,
    params: Record<string, unknown>,
    tlvs: Record<string, unknown>,
    options: SendOptions & { windowed?: boolean },
  ): Promise<WirePdu> {
    // unbind must still go out while closing; nothing else may start then.
    if (this.#state === 'closed' || (this.#state === 'closing' && command !== 'unbind')) {
      return Promise.reject(new SmppClosedError(`cannot send ${command}: session ${this.#state}`));
    }
    const req = new OutboundRequest(command, params, tlvs, options.windowed ?? true, options.timeoutMs ?? this.#responseTimeoutMs);
    const promise = new Promise<WirePdu>((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
    });
    // The timeout covers the wait for a window slot as well as for the response.
    req.timer = setTimeout(this.#onRequestTimeout, req.timeoutMs, req);
    if (!req.windowed || this.#windowUsed < this.#windowSize) {
      if (req.windowed) this.#windowUsed++;
      this.#dispatch(req);
    } else {
      req.queued = true;
      this.#windowWaiters.push(req);
    }
    return promise;
  }

  readonly #onRequestTimeout = (req: OutboundRequest): void => {
    if (req.queued) {
      const at = this.#windowWaiters.indexOf(req);
      if (at >= 0) this.#windowWaiters.splice(at, 1);
      req.queued = false;
      req.reject(new SmppTimeoutError(`${req.command}: no window slot within ${req.timeoutMs} ms`));
      return;
    }
    if (this.#pending.get(req.sequence) === req) {
      this.#pending.delete(req.sequence);
      if (req.windowed) this.#releaseWindow();
      req.reject(new SmppTimeoutError(`${req.command}: no response within ${req.timeoutMs} ms`));
    }
  };

  /** Writes a request that holds its window slot (if windowed). */
  #dispatch(req: OutboundRequest): void {
    req.queued = false;
    let failure: Error | undefined;
    if (this.#state === 'closed') {
      failure = new SmppClosedError(`cannot send ${req.command}: session closed`);
    } else {
      try {
        req.sequence = this.#nextSequence();
        const frame = encodePdu({ command: req.command, sequenceNumber: req.sequence, params: req.params, tlvs: req.tlvs });
        if (!this.#write(frame)) failure = new SmppClosedError(`cannot send ${req.command}: socket not writable`);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (failure) {
      clearTimeout(req.timer);
      if (req.windowed) this.#releaseWindow();
      req.reject(failure);
      return;
    }
    this.#pending.set(req.sequence, req);
  }

  #releaseWindow(): void {
    this.#windowUsed--;
    const next = this.#windowWaiters.shift();
    if (next) {
      this.#windowUsed++;
      this.#dispatch(next);
    }
  }

  #onResponse(pdu: WirePdu): void {
    const pending = this.#pending.get(pdu.sequenceNumber);
    if (!pending) {
      this.#log.debug({ command: pdu.command, seq: pdu.sequenceNumber }, 'response to no pending request, ignored');
      return;
    }
    this.#pending.delete(pdu.sequenceNumber);
    clearTimeout(pending.timer);
    if (pending.windowed) this.#releaseWindow();
    if (pdu.command === 'generic_nack' || pdu.commandStatus !== 0) {
      const what = pdu.command === 'generic_nack' ? 'generic_nack' : pdu.command;
      pending.reject(
        new SmppError(
          pdu.commandStatus || CommandStatus.ESME_RUNKNOWNERR,
          `${pending.command}: ${what} ${commandStatusName(pdu.commandStatus)}`,
        ),
      );
    } else if (pdu.command !== `${pending.command}_resp`) {
      pending.reject(new SmppError(CommandStatus.ESME_RINVCMDID, `${pending.command}: answered with ${pdu.command}`));
    } else {
      pending.resolve(pdu);
    }
  }

  // --- inbound ---------------------------------------------------------------------------------

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      // While a bind is being decided nothing else is dispatched, so a PDU pipelined right
      // behind the bind is judged by the bind's outcome, not rejected as "not bound".
      while (!this.#stopped && !this.#inputClosed && !this.#backpressured && !this.#readingPaused && !this.#bindInProgress) {
        let frame: Buffer | null;
        try {
          frame = this.#framer.next();
        } catch (error) {
          this.#fatal(error as SmppMalformedPduError);
          return;
        }
        if (!frame) return;
        this.#lastReceivedAt = performance.now();
        let pdu: WirePdu;
        try {
          pdu = decodePdu(frame);
        } catch (error) {
          if (error instanceof SmppMalformedPduError) this.#fatal(error);
          else this.#fatal(new SmppMalformedPduError(CommandStatus.ESME_RSYSERR, String(error)));
          return;
        }
        if (isResponseId(pdu.commandId)) {
          if (pdu.command === 'unknown') this.#log.debug({ commandId: pdu.commandId }, 'unknown response id, ignored');
          else this.#onResponse(pdu);
        } else {
          this.#onRequest(pdu);
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
    const mode = bindModeOf(command);
    if (this.role === 'server') {
      if (mode && (this.#bindMode || this.#bindInProgress)) {
        this.#respond(pdu, CommandStatus.ESME_RALYBND);
        return;
      }
      if (!mode && !this.#bindMode) {
        this.#writeRaw(genericNack(sequenceNumber, CommandStatus.ESME_RINVBNDSTS));
        return;
      }
      if (!mode && this.#bindMode === 'receiver' && !RECEIVER_MAY_SEND.has(command)) {
        this.#respond(pdu, CommandStatus.ESME_RINVBNDSTS);
        return;
      }
    }
    if (pdu.fieldError) {
      this.#respond(pdu, pdu.fieldError.commandStatus);
      return;
    }
    const handlerName = HANDLER_BY_COMMAND[command];
    const handler = handlerName ? this.#handlers[handlerName] : undefined;
    if (!handler) {
      this.#respond(pdu, CommandStatus.ESME_RINVCMDID);
      return;
    }
    if (mode) this.#bindInProgress = true;
    this.#inboundPending++;
    if (this.#inboundPending >= this.#maxInboundPending && !this.#backpressured) {
      this.#backpressured = true;
      this.lib.socket.pause();
    }
    const ctx: RequestContext = { session: this, sequenceNumber, receivedAt: this.#lastReceivedAt };
    let result: Promise<ResponseBody | undefined>;
    try {
      result = Promise.resolve(this.#invoke(command, mode, handler, pdu, ctx));
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
        this.#inboundPending--;
        if (this.#inboundPending === 0 && this.#idleWaiters.length > 0) {
          for (const wake of this.#idleWaiters.splice(0)) wake();
        }
        if (this.#backpressured && this.#inboundPending <= this.#maxInboundPending >> 1) {
          this.#backpressured = false;
          if (!this.#readingPaused && !this.#stopped) this.lib.socket.resume();
          this.#drain();
        }
        if (mode) {
          this.#bindInProgress = false;
          this.#drain();
        }
      });
  }

  #invoke(
    command: string,
    mode: BindMode | undefined,
    handler: RequestHandlers[HandlerName],
    pdu: WirePdu,
    ctx: RequestContext,
  ): Awaitable<ResponseBody | undefined> {
    if (mode) {
      const run = handler as RequestHandlers['bind'];
      return Promise.resolve(run(bindRequestFromWire(pdu, mode), ctx)).then((r) => ({
        params: { system_id: r.systemId },
        tlvs: r.scInterfaceVersion !== undefined ? { sc_interface_version: r.scInterfaceVersion } : undefined,
      }));
    }
    switch (command) {
      case 'submit_sm':
      case 'data_sm':
        return Promise.resolve((handler as RequestHandlers['submitSm'])(shortMessageFromWire(pdu), ctx)).then((r) => ({
          params: { message_id: r.messageId },
        }));
      case 'deliver_sm':
        // deliver_sm_resp's message_id is "unused, set to NULL" in SMPP 3.4.
        return Promise.resolve((handler as RequestHandlers['deliverSm'])(shortMessageFromWire(pdu), ctx)).then((r) => ({
          params: { message_id: r?.messageId ?? '' },
        }));
      case 'query_sm':
        return Promise.resolve((handler as RequestHandlers['querySm'])(querySmFromWire(pdu), ctx)).then((r) => ({
          params: querySmResultToWire(r),
        }));
      case 'cancel_sm':
        return Promise.resolve((handler as RequestHandlers['cancelSm'])(cancelSmFromWire(pdu), ctx)).then(() => undefined);
      case 'replace_sm':
        return Promise.resolve((handler as RequestHandlers['replaceSm'])(replaceSmFromWire(pdu), ctx)).then(() => undefined);
      case 'submit_multi':
        return Promise.resolve((handler as RequestHandlers['submitMulti'])(submitMultiFromWire(pdu), ctx)).then((r) => ({
          params: submitMultiResultToWire(r),
        }));
      default:
        throw new SmppError(CommandStatus.ESME_RINVCMDID);
    }
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
    this.#write(frame);
  }

  /** SMPP 3.4 5.1.4: 0x00000001..0x7FFFFFFF, then wrap (kept in the library's counter). */
  #nextSequence(): number {
    const next = this.lib.sequence >= MAX_SEQUENCE_NUMBER || this.lib.sequence < 0 ? 1 : this.lib.sequence + 1;
    this.lib.sequence = next;
    return next;
  }

  /**
   * Writes are corked until the next tick, so the responses to a burst of requests leave in one
   * syscall instead of one each (that was the largest cost per message after encoding).
   */
  #write(frame: Buffer): boolean {
    const socket = this.lib.socket;
    if (!socket.writable) return false;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    socket.write(frame);
    return true;
  }

  #writeRaw(buffer: Buffer): void {
    if (!this.#stopped) this.#write(buffer);
  }

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
    void this.#waitInboundIdle(this.#closeTimeoutMs).then(() => {
      this.#respond(pdu, 0);
      this.#bindMode = null;
      this.#stopped = true;
      this.lib.socket.end();
      this.#destroyLater();
    });
  }

  /** Resolves when every request read so far has been answered, or after timeoutMs. */
  #waitInboundIdle(timeoutMs: number): Promise<void> {
    if (this.#inboundPending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
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

  #setBound(mode: BindMode, systemId: string): void {
    this.#bindMode = mode;
    this.#systemId = systemId;
    this.emit('bound', mode, systemId);
  }

  // --- liveness and shutdown -------------------------------------------------------------------

  #startTicker(): void {
    const periods = [this.#enquireLinkIntervalMs, this.#inactivityTimeoutMs].filter((p) => p > 0);
    if (periods.length === 0) return;
    const tick = Math.max(5, Math.min(1_000, Math.floor(Math.min(...periods) / 4)));
    this.#ticker = setInterval(() => this.#checkLiveness(), tick);
    this.#ticker.unref();
  }

  #checkLiveness(): void {
    if (this.#state === 'closed') return;
    const idle = performance.now() - this.#lastReceivedAt;
    if (this.#inactivityTimeoutMs > 0 && idle >= this.#inactivityTimeoutMs) {
      this.#log.info({ idleMs: Math.round(idle) }, 'peer silent past the inactivity timeout, closing');
      this.destroy('inactivity timeout');
      return;
    }
    if (this.#enquireLinkIntervalMs > 0 && idle >= this.#enquireLinkIntervalMs && !this.#enquireInFlight && this.#state === 'open') {
      this.#enquireInFlight = true;
      this.enquireLink()
        .catch((error: unknown) => this.#log.debug({ err: error }, 'enquire_link failed'))
        .finally(() => {
          this.#enquireInFlight = false;
        });
    }
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
      await this.#waitInboundIdle(this.#closeTimeoutMs);
      // unbind_resp (and late responses) must be readable even if reading was paused for the
      // shutdown; requests read from here on are refused with ESME_RINVBNDSTS, not dispatched.
      if (this.#readingPaused) {
        this.#readingPaused = false;
        if (!this.#backpressured && !this.#stopped) this.lib.socket.resume();
        this.#drain();
      }
      const wasBound = this.#bindMode !== null && !this.#stopped;
      if (wasBound) {
        try {
          await this.#request('unbind', {}, {}, { timeoutMs: this.#closeTimeoutMs, windowed: false });
        } catch (error) {
          this.#log.debug({ err: error }, 'unbind not acknowledged');
        }
        this.#bindMode = null;
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
    this.#bindMode = null;
    if (this.#ticker) clearInterval(this.#ticker);
    const error = new SmppClosedError(`session closed before the response (${this.#closeReason})`);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    for (const waiter of this.#windowWaiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.queued = false;
      waiter.reject(error);
    }
    this.#log.debug({ reason: this.#closeReason }, 'session closed');
    this.emit('close', this.#closeReason);
  }
}
