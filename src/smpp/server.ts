import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { SmppSession, type SmppSessionOptions } from './session.ts';

export interface SmppServerOptions extends Omit<SmppSessionOptions, 'role' | 'id' | 'logger'> {
  /** 0 picks a free port (tests); read it back from `server.port`. Default 2775. */
  port?: number;
  /** Default '0.0.0.0'. */
  host?: string;
  /** Connections beyond this are refused by the kernel-level accept. Default unlimited. */
  maxConnections?: number;
  /** How long close() waits for sessions to unbind before destroying them. Default 5 s. */
  closeGraceMs?: number;
  logger?: Logger;
  /** SMPP over TLS: the server's certificate chain and private key (PEM). Plain TCP when absent. */
  tls?: SmppServerTls;
}

export interface SmppServerTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** Handshakes not finished within this are dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Ask every client for a certificate signed by this CA (PEM) and refuse those without one. */
  clientCa?: string | Buffer;
}

export interface SmppServer {
  readonly port: number;
  readonly host: string;
  readonly tls: boolean;
  readonly sessions: ReadonlySet<SmppSession>;
  /** Refuse new connections; sessions already open carry on. */
  stopAccepting(): void;
  /** Stop accepting, unbind and close every session (destroying stragglers after the grace). */
  close(): Promise<void>;
}

/**
 * An SMPP server on the `smpp` package's Server (a net.Server). `onSession` runs synchronously
 * for each new connection, before any byte is read: register handlers there.
 */
export function createSmppServer(options: SmppServerOptions, onSession: (session: SmppSession) => void): Promise<SmppServer> {
  const log = options.logger ?? silentLogger;
  const sessions = new Set<SmppSession>();
  const { port = 2775, host = '0.0.0.0', maxConnections, closeGraceMs = 5_000, logger, tls, ...sessionOptions } = options;
  // With a key and a certificate the package builds a tls.Server; sessions start after the handshake.
  const serverOptions = tls
    ? {
        cert: tls.cert,
        key: tls.key,
        handshakeTimeout: tls.handshakeTimeoutMs ?? 10_000,
        ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
      }
    : {};
  const server = smpp.createServer(serverOptions, (lib) => {
    const session = new SmppSession(lib, { ...sessionOptions, role: 'server', logger: logger ?? silentLogger });
    sessions.add(session);
    session.once('close', (reason) => {
      sessions.delete(session);
      log.debug({ session: session.id, reason }, 'session closed');
    });
    log.debug({ session: session.id, remote: session.remoteAddress }, 'session opened');
    try {
      onSession(session);
    } catch (error) {
      log.error({ err: error }, 'onSession failed; dropping the connection');
      session.destroy('onSession failed');
    }
  });
  if (maxConnections !== undefined) server.maxConnections = maxConnections;
  // A failed handshake (wrong protocol, untrusted client, timeout) concerns that client only.
  if (tls) server.on('tlsClientError', (error: Error) => log.debug({ err: error.message }, 'TLS handshake failed'));

  let accepting = true;
  let closing: Promise<void> | undefined;
  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    server.close();
  };

  return new Promise((resolve, reject) => {
    const onListenError = (error: Error) => reject(error);
    server.once('error', onListenError);
    server.listen(port, host, () => {
      server.off('error', onListenError);
      server.on('error', (error: Error) => log.error({ err: error }, 'server error'));
      const address = server.address() as AddressInfo;
      log.info({ port: address.port, host, tls: Boolean(tls) }, 'SMPP server listening');
      resolve({
        port: address.port,
        host,
        tls: Boolean(tls),
        sessions,
        stopAccepting,
        close() {
          closing ??= (async () => {
            stopAccepting();
            const all = [...sessions];
            const grace = setTimeout(() => {
              for (const s of all) s.destroy('server close grace expired');
            }, closeGraceMs);
            grace.unref();
            await Promise.all(all.map((s) => s.close()));
            clearTimeout(grace);
          })();
          return closing;
        },
      });
    });
  });
}
