// Shared by the SMPP and sink integration tests: an independent ESME (the bare `smpp` package,
// not our adapter) and raw TCP sockets for bytes no well-behaved client would send.
import net from 'node:net';
import smpp from 'smpp';

export interface RawClient {
  session: smpp.Session;
  /** Every PDU received, in order. */
  received: smpp.PDU[];
  /** Sends a request and resolves with its response PDU (whatever its status). */
  call(command: string, options?: Record<string, unknown>): Promise<smpp.PDU>;
  close(): Promise<void>;
}

export function rawConnect(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: '127.0.0.1', port });
    const received: smpp.PDU[] = [];
    session.on('pdu', (pdu: smpp.PDU) => received.push(pdu));
    session.on('error', () => {});
    session.once('error', reject);
    session.on('connect', () => {
      session.off('error', reject);
      resolve({
        session,
        received,
        call(command, options = {}) {
          return new Promise((res, rej) => {
            const ok = session.send(new smpp.PDU(command, options), res);
            if (!ok) rej(new Error('not writable'));
          });
        },
        close() {
          return new Promise((res) => {
            if (session.socket.destroyed) return res();
            session.socket.once('close', () => res());
            session.socket.destroy();
          });
        },
      });
    });
  });
}

export interface RawSocket {
  socket: net.Socket;
  /** All bytes received so far. */
  bytes(): Buffer;
  /** Resolves when the peer has closed the connection. */
  closed: Promise<void>;
  write(buffer: Buffer): void;
  /** Waits until at least `n` bytes arrived (or rejects after timeoutMs). */
  waitBytes(n: number, timeoutMs?: number): Promise<Buffer>;
}

export function rawSocket(port: number): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let waiters: (() => void)[] = [];
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const current = waiters;
      waiters = [];
      for (const w of current) w();
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((res) => socket.once('close', () => res()));
    socket.once('connect', () => {
      const bytes = () => Buffer.concat(chunks);
      resolve({
        socket,
        bytes,
        closed,
        write: (buffer) => socket.write(buffer),
        waitBytes(n, timeoutMs = 2_000) {
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`only ${bytes().length} of ${n} bytes after ${timeoutMs} ms`)), timeoutMs);
            const check = () => {
              if (bytes().length >= n) {
                clearTimeout(timer);
                res(bytes());
              } else {
                waiters.push(check);
              }
            };
            check();
          });
        },
      });
    });
    socket.once('error', reject);
  });
}

export function header(commandLength: number, commandId: number, status: number, sequence: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(commandLength, 0);
  b.writeUInt32BE(commandId, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(sequence, 12);
  return b;
}

/** A full PDU: header with the right length around `body`. */
export function frame(commandId: number, sequence: number, body: Buffer = Buffer.alloc(0), status = 0): Buffer {
  return Buffer.concat([header(16 + body.length, commandId, status, sequence), body]);
}

export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
}

export function parseHeader(buffer: Buffer, at = 0): { length: number; id: number; status: number; seq: number } {
  return {
    length: buffer.readUInt32BE(at),
    id: buffer.readUInt32BE(at + 4),
    status: buffer.readUInt32BE(at + 8),
    seq: buffer.readUInt32BE(at + 12),
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
