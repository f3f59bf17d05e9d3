import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HlrStatus, type HlrStatusName } from './hlr-result.ts';

export interface HlrSimOptions {
  port?: number;
  host?: string;
  /** Numbers starting with one of these are reachable; when none is given, every number not otherwise listed is. */
  reachable?: string[];
  /** Numbers starting with one of these do not exist. */
  invalid?: string[];
  /** Numbers starting with one of these get HTTP 500. */
  fail?: string[];
  /** Prefix → network name reported (longest prefix wins); others get none. */
  networks?: Record<string, string>;
  /** Numbers starting with one of these are reported as ported. */
  ported?: string[];
  /** Delay before every answer. */
  latencyMs?: number;
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401). */
  token?: string;
}

export interface HlrSimAnswer {
  msisdn: string;
  status: HlrStatusName;
  network?: string;
  ported: boolean;
}

const longest = (prefixes: readonly string[], n: string) => prefixes.filter((p) => n.startsWith(p)).sort((a, b) => b.length - a.length)[0];

/** What the simulator says about `msisdn` (a pure function of the options; tests use it as the oracle). */
export function simulatedAnswer(options: HlrSimOptions, msisdn: string): HlrSimAnswer | 'fail' {
  const n = msisdn.replace(/^\+/, '');
  if (longest(options.fail ?? [], n) !== undefined) return 'fail';
  let status: HlrStatusName;
  if (longest(options.invalid ?? [], n) !== undefined) status = HlrStatus.invalid;
  else if (!options.reachable?.length || longest(options.reachable, n) !== undefined) status = HlrStatus.reachable;
  else status = HlrStatus.unreachable;
  const networkPrefix = longest(Object.keys(options.networks ?? {}), n);
  return {
    msisdn: n,
    status,
    ...(networkPrefix !== undefined ? { network: options.networks![networkPrefix] } : {}),
    ported: longest(options.ported ?? [], n) !== undefined,
  };
}

/**
 * `smsc hlr-sim`: an HLR provider for tests and demos. `GET /lookup?msisdn=N` (or `/lookup/N`)
 * answers `{msisdn, status: reachable|unreachable|invalid, network?, ported}`; `GET /stats`
 * answers `{requests}`. Its answers match the default field mapping of the HLR client.
 */
export class HlrSim {
  readonly #options: HlrSimOptions;
  readonly #server: Server;
  requests = 0;

  constructor(options: HlrSimOptions = {}) {
    this.#options = options;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 5_000;
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => resolve());
    });
    return { host: this.#options.host ?? '127.0.0.1', port: this.port };
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The URL to give `hlr.url`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/lookup?msisdn={msisdn}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'GET only' });
    if (url.pathname === '/stats') return send(200, { requests: this.requests });
    const fromPath = /^\/lookup\/([^/]+)$/.exec(url.pathname)?.[1];
    if (url.pathname !== '/lookup' && fromPath === undefined) return send(404, { error: 'not found' });
    this.requests++;
    if (this.#options.token !== undefined && req.headers.authorization !== `Bearer ${this.#options.token}`)
      return send(401, { error: 'unauthorised' });
    const msisdn = decodeURIComponent(fromPath ?? url.searchParams.get('msisdn') ?? '');
    if (!/^\+?\d{3,20}$/.test(msisdn)) return send(400, { error: 'msisdn must be 3 to 20 digits' });
    if (this.#options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.#options.latencyMs));
    if (res.destroyed) return;
    const answer = simulatedAnswer(this.#options, msisdn);
    if (answer === 'fail') return send(500, { error: 'simulated failure' });
    send(200, answer);
  }
}
