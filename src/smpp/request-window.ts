import { CommandStatus, commandStatusName } from './command-status.ts';
import { SmppClosedError, SmppError, SmppTimeoutError } from './errors.ts';
import { encodePdu, MAX_SEQUENCE_NUMBER, type WirePdu } from './pdu.ts';

/** SMPP 3.4 5.1.4: sequence numbers run 0x00000001..0x7FFFFFFF, then wrap to 1. */
export function nextSequenceNumber(current: number): number {
  return current >= MAX_SEQUENCE_NUMBER || current < 0 ? 1 : current + 1;
}

/** What the window needs from its session to put a request on the wire. */
export interface RequestTransport {
  /** Takes the next sequence number. */
  nextSequence(): number;
  /** Queues one frame; false when the socket takes no more writes. */
  write(frame: Buffer): boolean;
  /** True once the session is closed: nothing more is sent. */
  closed(): boolean;
}

export interface RequestWindowOptions {
  /** Windowed requests that may await a response at once. */
  size: number;
  /** Default time a request may wait for a window slot and its response together. */
  timeoutMs: number;
}

export interface SendRequestOptions {
  timeoutMs?: number;
  /** False for the session's own control PDUs (bind, enquire_link, unbind), which never wait for a slot. Default true. */
  windowed?: boolean;
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

/**
 * The requests we send and their responses: numbers each request, holds at most `size` windowed
 * ones on the wire (the rest queue in order), matches each response to its request by sequence
 * number, and settles every request exactly once: its response, a timeout (covering the wait for a
 * slot too) or the session's close.
 */
export class RequestWindow {
  readonly #transport: RequestTransport;
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, OutboundRequest>();
  readonly #waiting: OutboundRequest[] = [];
  #used = 0;

  constructor(transport: RequestTransport, options: RequestWindowOptions) {
    this.#transport = transport;
    this.#size = Math.max(1, options.size);
    this.#timeoutMs = options.timeoutMs;
  }

  /** Requests written that still await a response. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /**
   * Settles with the response PDU, or rejects with SmppError (non-zero status, generic_nack or
   * the wrong response), SmppTimeoutError, or SmppClosedError (not writable, or closed meanwhile).
   */
  send(
    command: string,
    params: Record<string, unknown>,
    tlvs: Record<string, unknown>,
    options: SendRequestOptions = {},
  ): Promise<WirePdu> {
    const req = new OutboundRequest(command, params, tlvs, options.windowed ?? true, options.timeoutMs ?? this.#timeoutMs);
    const promise = new Promise<WirePdu>((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
    });
    req.timer = setTimeout(this.#onTimeout, req.timeoutMs, req);
    if (!req.windowed || this.#used < this.#size) {
      if (req.windowed) this.#used++;
      this.#dispatch(req);
    } else {
      req.queued = true;
      this.#waiting.push(req);
    }
    return promise;
  }

  /** Settles the request this response answers; false when none awaits it (late or unsolicited). */
  settle(pdu: WirePdu): boolean {
    const pending = this.#pending.get(pdu.sequenceNumber);
    if (!pending) return false;
    this.#pending.delete(pdu.sequenceNumber);
    clearTimeout(pending.timer);
    if (pending.windowed) this.#release();
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
    return true;
  }

  /** The session closed: every request written or waiting for a slot rejects with `error`. */
  rejectAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    for (const waiter of this.#waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.queued = false;
      waiter.reject(error);
    }
  }

  readonly #onTimeout = (req: OutboundRequest): void => {
    if (req.queued) {
      const at = this.#waiting.indexOf(req);
      if (at >= 0) this.#waiting.splice(at, 1);
      req.queued = false;
      req.reject(new SmppTimeoutError(`${req.command}: no window slot within ${req.timeoutMs} ms`));
      return;
    }
    if (this.#pending.get(req.sequence) === req) {
      this.#pending.delete(req.sequence);
      if (req.windowed) this.#release();
      req.reject(new SmppTimeoutError(`${req.command}: no response within ${req.timeoutMs} ms`));
    }
  };

  /** Writes a request that holds its window slot (if windowed). */
  #dispatch(req: OutboundRequest): void {
    req.queued = false;
    let failure: Error | undefined;
    if (this.#transport.closed()) {
      failure = new SmppClosedError(`cannot send ${req.command}: session closed`);
    } else {
      try {
        req.sequence = this.#transport.nextSequence();
        const frame = encodePdu({ command: req.command, sequenceNumber: req.sequence, params: req.params, tlvs: req.tlvs });
        if (!this.#transport.write(frame)) failure = new SmppClosedError(`cannot send ${req.command}: socket not writable`);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (failure) {
      clearTimeout(req.timer);
      if (req.windowed) this.#release();
      req.reject(failure);
      return;
    }
    this.#pending.set(req.sequence, req);
  }

  /** A windowed request settled: its slot goes to the first one waiting. */
  #release(): void {
    this.#used--;
    const next = this.#waiting.shift();
    if (next) {
      this.#used++;
      this.#dispatch(next);
    }
  }
}
