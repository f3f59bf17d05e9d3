import type { Db } from 'mongodb';
import { AccountStore, type NewAccount } from '../../../src/accounts/index.ts';
import { ApiServer, type ApiServerOptions } from '../../../src/api/index.ts';
import { systemClock, type Clock } from '../../../src/domain/index.ts';
import type { IntakePolicy } from '../../../src/policy/index.ts';
import { IntakeRouting, Router } from '../../../src/routing/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ensureSchema, GroupCommitWriter, type GroupCommitOptions } from '../../../src/store/index.ts';
import { createRateLimiter, type RateLimiter } from '../../../src/throttle/index.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/index.ts';

export const CHEAP_SCRYPT = { N: 1024, r: 8, p: 1 };
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RunningApi {
  server: ApiServer;
  writer: GroupCommitWriter;
  accounts: AccountStore;
  limiter: RateLimiter;
  url: string;
  /** fetch against the server: `path` is joined to its URL; `auth` is `user:password`, `admin`, or a raw header value. */
  call(
    method: string,
    path: string,
    options?: { auth?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** An in-process API server on 127.0.0.1:0 against `db` (real HTTP), with cheap scrypt for fast tests. */
export async function startApi(
  db: Db,
  options: {
    accounts?: NewAccount[];
    server?: ApiServerOptions;
    writer?: GroupCommitOptions;
    clock?: Clock;
    intakeRouting?: boolean;
    intakePolicy?: IntakePolicy;
    metrics?: Metrics;
  } = {},
): Promise<RunningApi> {
  const metrics = options.metrics ?? createMetrics();
  await ensureSchema(db);
  const accounts = new AccountStore(db, { scryptCost: CHEAP_SCRYPT });
  for (const account of options.accounts ?? []) {
    if (!(await accounts.get(account.systemId))) await accounts.add(account);
  }
  const writer = new GroupCommitWriter(db, { writeConcern: { w: 1 }, ...options.writer });
  const limiter = createRateLimiter({ keyPrefix: 'test:api:tps', logger: silentLogger });
  let routing: IntakeRouting | undefined;
  if (options.intakeRouting) {
    routing = new IntakeRouting(new Router(db, silentLogger, { refreshMs: 100 }), systemClock, silentLogger, metrics);
    await routing.start();
  }
  const server = new ApiServer(
    {
      db,
      accounts,
      writer,
      rateLimiter: limiter,
      logger: silentLogger,
      metrics,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(routing ? { routing } : {}),
      ...(options.intakePolicy ? { intakePolicy: options.intakePolicy } : {}),
    },
    { host: '127.0.0.1', port: 0, adminToken: ADMIN_TOKEN, ...options.server },
  );
  const { url } = await server.start();
  return {
    server,
    writer,
    accounts,
    limiter,
    url,
    call: (method, path, callOptions = {}) => call(url, method, path, callOptions),
    async stop() {
      await server.close();
      await writer.close();
      await limiter.close();
    },
  };
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth === 'admin') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  else if (options.auth?.includes(':')) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  else if (options.auth) headers.authorization = options.auth;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
