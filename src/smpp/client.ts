import type { ConnectionOptions } from 'node:tls';
import smpp from 'smpp';
import { SmppConnectError } from './errors.ts';
import { SmppSession, type SmppSessionOptions } from './session.ts';

export interface SmppConnectOptions extends Omit<SmppSessionOptions, 'role'> {
  host: string;
  port: number;
  /** Default 10 s (TCP connect and, with TLS, the handshake). */
  connectTimeoutMs?: number;
  /** SMPP over TLS: trust (`ca`), client certificate (`cert`, `key`), `rejectUnauthorized`, `servername`. */
  tls?: SmppClientTls;
}

export type SmppClientTls = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

/** Opens a TCP connection to an SMSC and wraps it; bind with `session.bind(mode, credentials)`. */
export function connectSmpp(options: SmppConnectOptions): Promise<SmppSession> {
  const { host, port, connectTimeoutMs = 10_000, tls, ...sessionOptions } = options;
  const lib = smpp.connect(tls ? { host, port, tls: true, ...tls } : { host, port });
  // Over TLS the session is usable once the handshake (and the peer's verification) succeeded.
  const ready = tls ? 'secureConnect' : 'connect';
  const session = new SmppSession(lib, { ...sessionOptions, role: 'client' });
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => {
      lastError = error;
    };
    const timer = setTimeout(() => {
      cleanup();
      session.destroy('connect timeout');
      reject(new SmppConnectError(`connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    const onConnect = () => {
      cleanup();
      resolve(session);
    };
    const onClose = () => {
      cleanup();
      reject(new SmppConnectError(`connect to ${host}:${port} failed: ${lastError?.message ?? 'closed'}`, lastError));
    };
    const cleanup = () => {
      clearTimeout(timer);
      lib.socket.off(ready, onConnect);
      lib.off('error', onError);
      session.off('close', onClose);
    };
    lib.socket.once(ready, onConnect);
    lib.on('error', onError);
    session.once('close', onClose);
  });
}
