import { SmscError } from '../domain/errors.ts';
import { HlrStatus, type HlrResult } from './hlr-result.ts';

/** How the provider's JSON answer maps onto an HlrResult (all from the configuration). */
export interface HlrFieldMapping {
  /** Dotted path of the field saying whether the number is reachable. */
  statusField: string;
  /** Values of that field (compared as lower-case strings) meaning reachable… */
  reachableValues: readonly string[];
  /** …and meaning "no such number"; any other value is unreachable. */
  invalidValues: readonly string[];
  networkField: string;
  portedField: string;
}

export const DEFAULT_FIELD_MAPPING: Readonly<HlrFieldMapping> = Object.freeze({
  statusField: 'status',
  reachableValues: ['reachable'],
  invalidValues: ['invalid'],
  networkField: 'network',
  portedField: 'ported',
});

export interface HlrClientOptions {
  /** `{msisdn}` is replaced by the number; without it, `msisdn=<number>` is added to the query. */
  url: string;
  timeoutMs: number;
  /** HTTP Basic credentials, or a bearer token. Never logged. */
  username?: string;
  password?: string;
  token?: string;
  mapping?: Partial<HlrFieldMapping>;
}

export const HlrErrorCode = Object.freeze({ TIMEOUT: 'HLR_TIMEOUT', FAILED: 'HLR_FAILED' } as const);

export class HlrError extends SmscError {
  constructor(code: (typeof HlrErrorCode)[keyof typeof HlrErrorCode], message: string) {
    super(code, message);
  }
}

/** Comma-separated config values → lower-case list. */
export function valueList(text: string): string[] {
  return text
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');
}

/**
 * Client for an HLR provider's HTTP JSON API (GET, one number per request, keep-alive through
 * Node's fetch). Rejects with HlrError HLR_TIMEOUT after `timeoutMs`, HLR_FAILED on an HTTP
 * error, a network error or an answer the mapping cannot read.
 */
export class HlrHttpClient {
  readonly #options: HlrClientOptions;
  readonly #mapping: HlrFieldMapping;
  readonly #headers: Record<string, string>;

  constructor(options: HlrClientOptions) {
    this.#options = options;
    this.#mapping = { ...DEFAULT_FIELD_MAPPING, ...options.mapping };
    this.#headers = { accept: 'application/json' };
    if (options.token) this.#headers.authorization = `Bearer ${options.token}`;
    else if (options.username !== undefined) {
      this.#headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  urlFor(msisdn: string): string {
    const url = this.#options.url;
    if (url.includes('{msisdn}')) return url.replaceAll('{msisdn}', encodeURIComponent(msisdn));
    return `${url}${url.includes('?') ? '&' : '?'}msisdn=${encodeURIComponent(msisdn)}`;
  }

  async lookup(msisdn: string): Promise<HlrResult> {
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(this.urlFor(msisdn), { headers: this.#headers, signal: AbortSignal.timeout(this.#options.timeoutMs) });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new HlrError(HlrErrorCode.TIMEOUT, `no HLR answer within ${this.#options.timeoutMs} ms`);
      throw new HlrError(HlrErrorCode.FAILED, `HLR request failed: ${(error as Error).message}`);
    }
    if (!response.ok) throw new HlrError(HlrErrorCode.FAILED, `HLR answered HTTP ${response.status}`);
    return this.read(body);
  }

  /** Maps a provider answer; exported for tests of the mapping. */
  read(body: unknown): HlrResult {
    const m = this.#mapping;
    const raw = pick(body, m.statusField);
    if (raw === undefined || raw === null || typeof raw === 'object')
      throw new HlrError(HlrErrorCode.FAILED, `HLR answer has no usable "${m.statusField}"`);
    const value = String(raw).toLowerCase();
    const status = m.reachableValues.includes(value)
      ? HlrStatus.reachable
      : m.invalidValues.includes(value)
        ? HlrStatus.invalid
        : HlrStatus.unreachable;
    const result: HlrResult = { status };
    const network = pick(body, m.networkField);
    if ((typeof network === 'string' && network !== '') || typeof network === 'number') result.network = String(network);
    const ported = pick(body, m.portedField);
    if (ported !== undefined && ported !== null)
      result.ported = ported === true || ['true', '1', 'yes'].includes(String(ported).toLowerCase());
    return result;
  }
}

function pick(body: unknown, path: string): unknown {
  let node = body;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
