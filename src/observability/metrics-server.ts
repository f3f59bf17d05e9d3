import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { SmscError } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { healthJson, processHealth, type HealthReport } from '../nodes/health.ts';

export interface MetricsServerOptions {
  /** 0 = no server (the returned handle's close() is then a no-op). */
  port: number;
  host?: string;
  /** What `/metrics` serves: the process's registry, or one made per scrape (`smsc up` merges its children's). */
  registry: Registry | (() => Promise<Registry>);
  /** What `/healthz` answers: 200 when ok, else 503 with the reasons. Default: this process's health. */
  health?: () => HealthReport | Promise<HealthReport>;
  logger?: Logger;
}

export interface MetricsServer {
  /** The bound port, or undefined when metrics are off. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text) and `GET /healthz` (JSON: `{"status":"ok"}` with 200, or
 * `{"status":"unavailable","problems":[{check, reason, since}]}` with 503); resolves once listening.
 * A port in use is one clear error, not a stack trace.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  if (options.port === 0) return { port: undefined, close: async () => {} };
  const given = options.registry;
  const registryNow = typeof given === 'function' ? given : async () => given;
  const healthNow = options.health ?? (() => processHealth.report());
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/healthz') {
      Promise.resolve()
        .then(healthNow)
        .then(
          (report) => {
            res
              .writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
              .end(`${JSON.stringify(healthJson(report))}\n`);
          },
          (error: unknown) => {
            options.logger?.error({ err: error }, 'health check failed');
            res
              .writeHead(503, { 'content-type': 'application/json' })
              .end(`${JSON.stringify({ status: 'unavailable', problems: [{ check: 'healthz', reason: 'health check failed' }] })}\n`);
          },
        );
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    registryNow()
      .then(async (registry) => ({ body: await registry.metrics(), contentType: registry.contentType }))
      .then(
        ({ body, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (error: unknown) => {
          options.logger?.error({ err: error }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
  });
  // Keep-alive scrapers would otherwise hold close() open until their sockets time out.
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new SmscError('PORT_IN_USE', `Metrics port ${options.port} on ${host} is in use (--metrics-port / METRICS_PORT).`, {
              cause: error,
            })
          : error,
      );
    };
    server.once('error', failed);
    server.listen(options.port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.logger?.info({ port }, 'metrics server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
