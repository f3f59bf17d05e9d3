import smpp from 'smpp';
import { SmppConnectError } from './errors.ts';
import { SmppSession, type SmppSessionOptions } from './session.ts';

export interface SmppConnectOptions extends Omit<SmppSessionOptions, 'role'> {
  host: string;
  port: number;
  /** Default 10 s. */
  connectTimeoutMs?: number;
}

/** Opens a TCP connection to an SMSC and wraps it; bind with `session.bind(mode, credentials)`. */
export function connectSmpp(options: SmppConnectOptions): Promise<SmppSession> {
  const { host, port, connectTimeoutMs = 10_000, ...sessionOptions } = options;
  const lib = smpp.connect({ host, port });
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
      lib.socket.off('connect', onConnect);
      lib.off('error', onError);
      session.off('close', onClose);
    };
    lib.socket.once('connect', onConnect);
    lib.on('error', onError);
    session.once('close', onClose);
  });
}
