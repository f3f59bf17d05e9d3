/**
 * The benchmarks' ESME: N sessions that each keep W submit_sm outstanding. Two client libraries:
 * `smpp` (the node-smpp package as ESMEs use it, the comparison the issue asks for) and `own`
 * (src/smpp, ~5x cheaper per PDU, so on a small machine the client leaves the CPU to the server).
 */
import smpp from 'smpp';
import { connectSmpp } from '../../src/smpp/client.ts';

export type ClientKind = 'smpp' | 'own';

export interface BenchSession {
  submit(dest: string, text: Buffer, done: (ok: boolean) => void): void;
  close(): Promise<void>;
}

export interface BindOptions {
  host?: string;
  port: number;
  systemId: string;
  password: string;
  window: number;
}

export function bindSession(kind: ClientKind, options: BindOptions): Promise<BenchSession> {
  return kind === 'smpp' ? bindLib(options) : bindOwn(options);
}

async function bindOwn(options: BindOptions): Promise<BenchSession> {
  const session = await connectSmpp({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    windowSize: options.window,
    responseTimeoutMs: 120_000,
  });
  session.on('error', () => {});
  await session.bind('transmitter', { systemId: options.systemId, password: options.password });
  return {
    submit(dest, text, done) {
      session.submitSm({ source: { ton: 5, npi: 0, addr: 'BENCH' }, dest: { ton: 1, npi: 1, addr: dest }, shortMessage: text }).then(
        () => done(true),
        () => done(false),
      );
    },
    async close() {
      await session.unbind().catch(() => {});
      session.destroy('bench over');
    },
  };
}

function bindLib(options: BindOptions): Promise<BenchSession> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: options.host ?? '127.0.0.1', port: options.port }, () => {
      session.send(new smpp.PDU('bind_transmitter', { system_id: options.systemId, password: options.password }), (resp) => {
        if (resp.command_status !== 0) return reject(new Error(`bind failed: status ${resp.command_status}`));
        resolve({
          submit(dest, text, done) {
            const pdu = new smpp.PDU('submit_sm', {
              source_addr: 'BENCH',
              source_addr_ton: 5,
              dest_addr_ton: 1,
              dest_addr_npi: 1,
              destination_addr: dest,
              short_message: text,
            });
            session.send(pdu, (r) => done(r.command_status === 0));
          },
          close: () =>
            new Promise<void>((done) => {
              const timer = setTimeout(() => session.destroy(), 2_000);
              session.send(new smpp.PDU('unbind', {}), () => {
                clearTimeout(timer);
                session.destroy();
                done();
              });
              session.once('close', () => {
                clearTimeout(timer);
                done();
              });
            }),
        });
      });
    });
    session.on('error', reject);
  });
}

export interface LoadResult {
  accepted: number;
  rejected: number;
  seconds: number;
  /** submit_sm -> submit_sm_resp, ms, sorted. */
  latencies: number[];
}

export interface LoadOptions {
  window: number;
  /** The next message to send, or undefined to stop this loop. */
  next(): { dest: string; text: Buffer; onAck?: () => void } | undefined;
  /** Paced: messages per second over all sessions (default: as fast as the window allows). */
  rate?: number;
}

/** Each session keeps `window` submits outstanding until `next()` runs dry. */
export async function drive(sessions: readonly BenchSession[], options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let accepted = 0;
  let rejected = 0;
  const started = performance.now();
  const loops = sessions.length * options.window;
  const interval = options.rate ? (loops * 1000) / options.rate : 0;
  await Promise.all(
    sessions.flatMap((session) =>
      Array.from(
        { length: options.window },
        (_, k) =>
          new Promise<void>((resolve) => {
            let due = started + (interval * k) / options.window;
            const sendOne = () => {
              if (interval > 0) {
                const wait = due - performance.now();
                if (wait > 0) return void setTimeout(sendOne, wait);
                due += interval;
              }
              const message = options.next();
              if (!message) return resolve();
              const t0 = performance.now();
              session.submit(message.dest, message.text, (ok) => {
                if (ok) {
                  accepted++;
                  latencies.push(performance.now() - t0);
                  message.onAck?.();
                } else rejected++;
                sendOne();
              });
            };
            sendOne();
          }),
      ),
    ),
  );
  return { accepted, rejected, seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}
