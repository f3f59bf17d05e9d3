import { redactUri } from '../store/mongo-client.ts';

/** Where and how long to ask (the `charging` config slice). */
export interface ChargingClientOptions {
  /** http(s) URL the request is POSTed to. */
  url: string;
  /** Longest wait for an answer; past it the message is retried later. */
  timeoutMs: number;
}

/** What the charging endpoint is told about one message. */
export interface ChargeRequest {
  messageId: string;
  account: string;
  from: string;
  to: string;
  route?: string;
  connector: string;
  /** Part n of total, when the message is one part of a long message. */
  part?: { seq: number; total: number };
  dataCoding: number;
  at: string;
}

export type ChargeAnswer =
  | { kind: 'accepted'; reference?: string }
  /** A negative answer: the message is not delivered. */
  | { kind: 'refused'; reason: string }
  /** No usable answer (timeout, network, 5xx, not JSON): ask again on the next attempt. */
  | { kind: 'unavailable'; reason: string };

const REFUSING_STATUSES = new Set([402, 403]);

/**
 * Asks an HTTP JSON charging endpoint whether a message may be delivered:
 * `POST url` with the ChargeRequest as JSON. A 2xx answer `{"allowed": true, "reference"?: "…"}`
 * accepts; `{"allowed": false, "reason"?: "…"}` or HTTP 402/403 refuses. Anything else (other
 * statuses, a body without a boolean `allowed`, a timeout or a network error) is no answer.
 */
export class ChargingClient {
  readonly #options: ChargingClientOptions;

  constructor(options: ChargingClientOptions) {
    this.#options = options;
  }

  /** The URL without credentials, for logs. */
  get target(): string {
    return redactUri(this.#options.url);
  }

  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeAnswer> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.#options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (timeout.aborted) return { kind: 'unavailable', reason: `no answer within ${this.#options.timeoutMs} ms` };
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { kind: 'unavailable', reason: cause?.code ?? cause?.message ?? (error as Error).message };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    const answer = body as { allowed?: unknown; reason?: unknown; reference?: unknown } | undefined;
    const reason = typeof answer?.reason === 'string' && answer.reason !== '' ? answer.reason.slice(0, 200) : undefined;
    if (REFUSING_STATUSES.has(response.status)) return { kind: 'refused', reason: reason ?? `HTTP ${response.status}` };
    if (!response.ok) return { kind: 'unavailable', reason: `HTTP ${response.status}` };
    if (answer?.allowed === true) {
      return typeof answer.reference === 'string' ? { kind: 'accepted', reference: answer.reference.slice(0, 100) } : { kind: 'accepted' };
    }
    if (answer?.allowed === false) return { kind: 'refused', reason: reason ?? 'refused' };
    return { kind: 'unavailable', reason: 'the answer has no boolean "allowed"' };
  }
}
