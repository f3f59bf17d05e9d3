import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MongoError, type Db } from 'mongodb';
import type { AccountStore } from '../accounts/account-store.ts';
import { systemClock, type Clock } from '../domain/clock.ts';
import type { BindGuardOptions } from '../inserter/bind-guard.ts';
import type { SubmitPolicy } from '../submission/submit-validation.ts';
import type { IntakePolicy } from '../policy/intake-policy.ts';
import type { IntakeRouting } from '../routing/intake-routing.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { GroupCommitWriter } from '../store/group-commit.ts';
import type { RateLimiter } from '../throttle/rate-limiter.ts';
import { ApiAuth, type Principal } from './api-auth.ts';
import { ApiError } from './api-errors.ts';
import { IdempotencyStore } from './idempotency.ts';
import { MessageSubmitter } from './message-submitter.ts';
import { registerAccountRoutes } from './routes/account-routes.ts';
import { registerConnectorRoutes } from './routes/connector-routes.ts';
import { registerMessageRoutes } from './routes/message-routes.ts';
import { registerPanelRoutes } from './routes/panel-routes.ts';
import { registerRoutingRoutes } from './routes/routing-routes.ts';
import { registerStatusRoutes } from './routes/status-routes.ts';
import { SHARED_SCHEMAS } from './schemas.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** Who may call a route: an ESME account or the admin (`any`), only the admin, or anyone (`none`). */
export type RouteAuth = 'any' | 'admin' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

export interface ApiServerDeps {
  db: Db;
  accounts: AccountStore;
  writer: GroupCommitWriter;
  rateLimiter: RateLimiter;
  clock?: Clock;
  logger?: Logger;
  metrics: Metrics;
  /** Routes that act at intake (drop, auto-reply), as for SMPP submits. */
  routing?: Pick<IntakeRouting, 'apply'>;
  /** Contact policy and HLR lookups, as for SMPP submits (src/policy). */
  intakePolicy?: IntakePolicy;
}

export interface ApiServerOptions {
  /** Default '0.0.0.0'; port 0 picks a free one. */
  host?: string;
  port?: number;
  /** Bearer token for management and the control panel; unset = management refused. */
  adminToken?: string;
  /** PEM certificate and key: HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest body (default 1 MiB). */
  bodyLimitBytes?: number;
  /** Most messages per batch POST (default 1,000). */
  maxBatch?: number;
  /** How long an Idempotency-Key answer is kept (default 24 h). */
  idempotencyTtlMs?: number;
  policy?: Partial<SubmitPolicy>;
  guard?: BindGuardOptions;
  /** How long a verified login is trusted before the account is read again (default 10 s). */
  authRecheckMs?: number;
}

/** What route modules receive. */
export interface ApiContext {
  db: Db;
  accounts: AccountStore;
  submitter: MessageSubmitter;
  idempotency: IdempotencyStore;
  writer: GroupCommitWriter;
  clock: Clock;
  logger: Logger;
  maxBatch: number;
}

/**
 * The HTTP API and the control panel on fastify: JSON-schema validation, the OpenAPI document and
 * its interactive page, authentication, and one error shape for every failure. Shares the store,
 * the codec and the inserter's rules; owns no connection (the process entry point does).
 */
export class ApiServer {
  readonly app: FastifyInstance;
  readonly #options: ApiServerOptions;
  readonly #log: Logger;
  #started: { host: string; port: number; url: string } | undefined;
  #closing: Promise<void> | undefined;

  constructor(deps: ApiServerDeps, options: ApiServerOptions = {}) {
    this.#options = options;
    this.#log = (deps.logger ?? silentLogger).child({ component: 'api' });
    const clock = deps.clock ?? systemClock;
    const auth = new ApiAuth(
      { accounts: deps.accounts, clock, logger: this.#log },
      { adminToken: options.adminToken, guard: options.guard, recheckMs: options.authRecheckMs },
    );
    const context: ApiContext = {
      db: deps.db,
      accounts: deps.accounts,
      writer: deps.writer,
      submitter: new MessageSubmitter(
        {
          db: deps.db,
          writer: deps.writer,
          rateLimiter: deps.rateLimiter,
          clock,
          logger: this.#log,
          metrics: deps.metrics,
          routing: deps.routing,
          intakePolicy: deps.intakePolicy,
        },
        options.policy,
      ),
      idempotency: new IdempotencyStore(deps.db, clock, { ttlMs: options.idempotencyTtlMs, writeConcern: deps.writer.writeConcern }),
      clock,
      logger: this.#log,
      maxBatch: options.maxBatch ?? 1000,
    };
    this.app = Fastify({
      loggerInstance: this.#log,
      // Every request logged would cost more than storing its message; errors are logged below.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: options.bodyLimitBytes ?? 1_048_576,
      ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
      // Idle keep-alive connections must not hold up a shutdown.
      forceCloseConnections: 'idle',
    }) as unknown as FastifyInstance;
    this.app.decorateRequest('principal', undefined);
    for (const schema of SHARED_SCHEMAS) this.app.addSchema(schema);
    this.app.setErrorHandler((error, request, reply) => this.#onError(error as FastifyError, request, reply));
    this.app.setNotFoundHandler((request, reply) => {
      void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
    });
    this.app.addHook('onRequest', async (request) => {
      const mode = request.routeOptions.config?.auth ?? 'none';
      if (mode === 'none') return;
      const principal = await auth.authenticate(request.headers.authorization, request.ip);
      if (mode === 'admin' && principal.kind !== 'admin')
        throw new ApiError('FORBIDDEN', 'this endpoint needs the admin token (Authorization: Bearer …)');
      request.principal = principal;
    });
    this.#registerDocs();
    void this.app.register(async (api) => {
      registerMessageRoutes(api, context);
      registerAccountRoutes(api, context);
      registerConnectorRoutes(api, context);
      registerRoutingRoutes(api, context);
      registerStatusRoutes(api, context);
      registerPanelRoutes(api);
    });
  }

  async start(): Promise<{ host: string; port: number; url: string }> {
    if (this.#started) return this.#started;
    const host = this.#options.host ?? '0.0.0.0';
    await this.app.listen({ host, port: this.#options.port ?? 8080 });
    const port = (this.app.server.address() as AddressInfo).port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.#started = { host, port, url: `${this.#options.tls ? 'https' : 'http'}://${shownHost}:${port}` };
    return this.#started;
  }

  /** Stops accepting, lets requests in flight finish (their stores included), closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.app.close();
    return this.#closing;
  }

  #registerDocs(): void {
    void this.app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'smsc HTTP API',
          version: '1',
          description:
            'Submit, track and cancel SMS over HTTP with the same rules as SMPP submits, and manage the SMSC. ' +
            'ESME accounts authenticate with HTTP Basic (system_id:password); management needs the admin token (Bearer). ' +
            'Every error is `{"error": {"code", "message", "smppStatus"?, "smppStatusName"?}}`.',
        },
        components: {
          securitySchemes: {
            basicAuth: { type: 'http', scheme: 'basic', description: 'An ESME account: system_id and password' },
            adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (API_ADMIN_TOKEN)' },
          },
        },
      },
      // Components keep their own names ("Message", not "def-5") so clients generate readable types.
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    void this.app.register(swaggerUi, { routePrefix: '/api/v1/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
    this.app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => this.app.swagger());
  }

  #onError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    let apiError: ApiError;
    if (error instanceof ApiError) apiError = error;
    else if (error.validation)
      apiError = new ApiError(
        'INVALID_REQUEST',
        `${error.validationContext ?? 'request'}${error.message.replace(/^(body|querystring|params|headers)/, '')}`,
      );
    else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError)
      apiError = new ApiError('INVALID_JSON', `the body is not valid JSON (${error.message})`);
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      apiError = new ApiError('BODY_TOO_LARGE', `the body is larger than ${this.#options.bodyLimitBytes ?? 1_048_576} bytes`);
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      apiError = new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    else if (error instanceof MongoError) {
      this.#log.warn({ err: error.message, method: request.method, url: request.url.split('?')[0] }, 'API request failed on the store');
      apiError = new ApiError('STORE_UNAVAILABLE', 'the store did not answer; retry', { headers: { 'retry-after': '1' } });
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500)
      apiError = new ApiError('INVALID_REQUEST', error.message);
    else {
      this.#log.error({ err: error, method: request.method, url: request.url.split('?')[0] }, 'API request failed');
      apiError = new ApiError('INTERNAL', 'internal error; the log has the details');
    }
    void reply.code(apiError.statusCode).headers(apiError.headers).send({ error: apiError.toBody() });
  }
}
