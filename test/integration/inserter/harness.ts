import smpp from 'smpp';
import type { Db } from 'mongodb';
import { AccountStore, type NewAccount } from '../../../src/accounts/index.ts';
import { type BindSlots, Inserter, type InserterDeps, type InserterOptions } from '../../../src/inserter/index.ts';
import { silentLogger, type Logger } from '../../../src/logging/index.ts';
import { ensureSchema, GroupCommitWriter, type GroupCommitOptions } from '../../../src/store/index.ts';
import { createRateLimiter, type RateLimiter } from '../../../src/throttle/index.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/index.ts';

export const CHEAP_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface RunningInserter {
  inserter: Inserter;
  writer: GroupCommitWriter;
  accounts: AccountStore;
  limiter: RateLimiter;
  port: number;
  /** What the inserter recorded (a fresh set unless the caller passed one). */
  metrics: Metrics;
  stop(): Promise<void>;
}

/** An in-process inserter on port 0 against `db`, with the accounts given. */
export async function startInserter(
  db: Db,
  options: {
    accounts?: NewAccount[];
    inserter?: InserterOptions;
    writer?: GroupCommitOptions;
    redisUrl?: string;
    keyPrefix?: string;
    logger?: Logger;
    bindSlots?: BindSlots;
    /** Default: a cheap scrypt cost so tests stay fast. */
    scryptCost?: { N: number; r: number; p: number };
    /** Intake policy and opt-out (src/policy). */
    deps?: Pick<InserterDeps, 'intakePolicy' | 'optOut'>;
    metrics?: Metrics;
  } = {},
): Promise<RunningInserter> {
  await ensureSchema(db);
  const accounts = new AccountStore(db, { scryptCost: options.scryptCost ?? CHEAP_SCRYPT });
  for (const account of options.accounts ?? []) {
    if (!(await accounts.get(account.systemId))) await accounts.add(account);
  }
  const writer = new GroupCommitWriter(db, { writeConcern: { w: 1 }, ...options.writer });
  const limiter = createRateLimiter({ redis: options.redisUrl, keyPrefix: options.keyPrefix ?? 'test:tps', logger: silentLogger });
  if (options.redisUrl) await limiter.ready();
  const metrics = options.metrics ?? createMetrics();
  const inserter = new Inserter(
    {
      db,
      accounts,
      writer,
      rateLimiter: limiter,
      logger: options.logger ?? silentLogger,
      metrics,
      ...(options.bindSlots ? { bindSlots: options.bindSlots } : {}),
      ...options.deps,
    },
    { host: '127.0.0.1', port: 0, ...options.inserter },
  );
  const { port } = await inserter.start();
  return {
    metrics,
    inserter,
    writer,
    accounts,
    limiter,
    port,
    async stop() {
      await inserter.shutdown(2_000);
      await writer.close();
      await limiter.close();
    },
  };
}

/** An ESME written with the plain `smpp` package, as an independent client would be. */
export class TestEsme {
  readonly session: smpp.Session;
  readonly received: smpp.PDU[] = [];
  closed = false;

  private constructor(session: smpp.Session) {
    this.session = session;
    session.on('error', () => {});
    session.on('close', () => {
      this.closed = true;
    });
    session.on('pdu', (pdu: smpp.PDU) => {
      this.received.push(pdu);
      // Answer what the SMSC asks of us (enquire_link, unbind, deliver_sm).
      if (!pdu.isResponse() && pdu.command !== 'unknown') session.send(pdu.response());
    });
  }

  /** `localAddress`: another loopback address (127.0.0.2, …) plays a client on another machine. */
  static connect(port: number, localAddress?: string): Promise<TestEsme> {
    return new Promise((resolve, reject) => {
      const session = smpp.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () =>
        resolve(new TestEsme(session)),
      );
      session.once('error', reject);
    });
  }

  static async bound(port: number, systemId: string, password: string, mode = 'bind_transceiver'): Promise<TestEsme> {
    const esme = await TestEsme.connect(port);
    const resp = await esme.request(mode, { system_id: systemId, password });
    if (resp.command_status !== 0) throw new Error(`bind failed: 0x${resp.command_status.toString(16)}`);
    return esme;
  }

  /** Sends a request and resolves with whatever answers its sequence number (response or generic_nack). */
  request(command: string, params: Record<string, unknown> = {}, timeoutMs = 5_000): Promise<smpp.PDU> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command}: no response in ${timeoutMs} ms`)), timeoutMs);
      const pdu = new smpp.PDU(command, params);
      const sent = this.session.send(pdu, (resp) => {
        clearTimeout(timer);
        resolve(resp);
      });
      if (!sent) {
        clearTimeout(timer);
        reject(new Error(`${command}: socket not writable`));
      }
    });
  }

  submit(params: Record<string, unknown>, timeoutMs?: number): Promise<smpp.PDU> {
    return this.request(
      'submit_sm',
      {
        source_addr: 'ACME',
        source_addr_ton: 5,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '447700900123',
        short_message: Buffer.from('hello'),
        ...params,
      },
      timeoutMs,
    );
  }

  writeRaw(bytes: Buffer): void {
    this.session.socket.write(bytes);
  }

  waitClosed(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not closed')), timeoutMs);
      this.session.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.session.destroy();
  }
}
