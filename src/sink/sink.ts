import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../domain/clock.ts';
import { dataCodingFor, decodeText, encodeText, formatReceipt, parseInboundPart, resolveEncoding } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { CommandStatus, commandStatusName } from '../smpp/command-status.ts';
import type { BindMode, ShortMessage, SmppAddress, Tlvs } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';
import { createSmppServer, type SmppServer, type SmppServerTls } from '../smpp/server.ts';
import type { SmppSession } from '../smpp/session.ts';
import {
  matchRule,
  pickLatency,
  pickWeighted,
  ReceiptStat,
  resolveStatus,
  validateLatency,
  type DestinationRule,
  type LatencySpec,
  type OutcomeRef,
  type Random,
  type ReceiptStatName,
} from './outcomes.ts';

export interface SinkReceiptOptions {
  /** Send delivery receipts. Default false. */
  enabled: boolean;
  /** Delay between submit_sm_resp and the receipt. Default 0. */
  delayMs?: LatencySpec;
  /** Weights of receipt stats (default all DELIVRD). */
  stats?: Partial<Record<ReceiptStatName, number>>;
  /** 'requested' (default): only when registered_delivery asks; 'always': for every accepted message. */
  when?: 'requested' | 'always';
  /** How the receipt writes our message id (tests of id normalisation); default as returned. */
  idForm?: (messageId: string) => string;
  /**
   * Send the receipt as soon as the submit arrives, before its submit_sm_resp (which still waits
   * for the latency), as some operators do: the receipt overtakes the response. Default false.
   */
  beforeResponse?: boolean;
}

export interface SinkOptions {
  /** Default 2776; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Our system_id in bind responses. Default 'SINK'. */
  systemId?: string;
  /** Accepted credentials; any system_id/password when absent. */
  credentials?: { systemId: string; password: string }[];
  /** submit_sm / data_sm response latency. Default 0. */
  latencyMs?: LatencySpec;
  /** Weights of outcomes for destinations no rule matches. Default { ok: 1 }. */
  outcomes?: Partial<Record<string, number>>;
  /** Deterministic per-destination-prefix behaviour. */
  rules?: DestinationRule[];
  receipts?: SinkReceiptOptions;
  /** 'hex' (default) or 'decimal' message ids. */
  messageIdFormat?: 'hex' | 'decimal';
  /** Keep at most this many received messages in `received` (counters are always kept). Default unlimited. */
  recordLimit?: number;
  /** Called for every message received (the CLI prints them). */
  onMessage?: (message: ReceivedMessage) => void;
  /** Listen for SMPP over TLS with this certificate and key (PEM) instead of plain TCP; `clientCa`: demand client certificates it signed. */
  tls?: SmppServerTls;
  /** Programmatic override of a submit's status (tests: fail one part once); undefined = the usual rules. */
  decide?: (message: Pick<ReceivedMessage, 'index' | 'dest' | 'part' | 'bytes' | 'text'>) => number | undefined;
  /** Window for the deliver_sm we send (receipts, MO). Default 10. */
  windowSize?: number;
  enquireLinkIntervalMs?: number;
  inactivityTimeoutMs?: number;
  maxPduLength?: number;
  random?: Random;
  clock?: Clock;
  logger?: Logger;
}

export interface ReceivedMessage {
  /** 1-based arrival order across all sessions. */
  index: number;
  command: 'submit_sm' | 'data_sm';
  sessionId: string;
  systemId: string | null;
  source: SmppAddress;
  dest: SmppAddress;
  /** short_message octets (or message_payload when short_message is empty). */
  bytes: Buffer;
  /** Decoded text when data_coding is a text encoding we decode, else null. */
  text: string | null;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  tlvs: Tlvs;
  /** Concatenation info when the message is a part of a long one. */
  part: { form: string; reference: number; total: number; sequence: number } | null;
  arrivedAt: Date;
  /** What we answered: status and (when 0) the message id. */
  status: number;
  messageId: string | null;
}

export interface SentReceipt {
  messageId: string;
  stat: ReceiptStatName;
  sessionId: string;
  dest: string;
  sentAt: Date;
}

export interface SinkCounters {
  binds: number;
  bindFailures: number;
  submits: number;
  accepted: number;
  /** Answers with a non-zero status, by status name. */
  rejected: Record<string, number>;
  receiptsSent: number;
  receiptsFailed: number;
  receiptsQueued: number;
  moSent: number;
}

export interface MoInput {
  from: string;
  to: string;
  text?: string;
  bytes?: Buffer;
  dataCoding?: number;
  /** Deliver to a session bound with this system_id; any receiver/transceiver when absent. */
  systemId?: string;
  esmClass?: number;
  tlvs?: Tlvs;
}

interface PendingReceipt {
  systemId: string | null;
  msg: ShortMessageToSend;
}

type ShortMessageToSend = Parameters<SmppSession['deliverSm']>[0];

const RECEIVING_MODES: ReadonlySet<BindMode> = new Set(['receiver', 'transceiver']);

/**
 * The downstream simulator: an SMPP server that plays the operator. Programmatic API for tests
 * and benchmarks; `smsc sink` wraps it for the command line.
 */
function zeroCounters(): SinkCounters {
  return {
    binds: 0,
    bindFailures: 0,
    submits: 0,
    accepted: 0,
    rejected: {},
    receiptsSent: 0,
    receiptsFailed: 0,
    receiptsQueued: 0,
    moSent: 0,
  };
}

export class Sink {
  readonly received: ReceivedMessage[] = [];
  readonly receiptsSent: SentReceipt[] = [];
  readonly counters: SinkCounters = zeroCounters();
  /** Highest number of submits in flight at once for any single destination. */
  maxConcurrentPerDestination = 0;
  /** Destinations that ever had two submits in flight at once. */
  readonly overlappingDestinations = new Set<string>();

  #options: SinkOptions;
  #server: SmppServer | undefined;
  readonly #inFlight = new Map<string, number>();
  readonly #pendingReceipts: PendingReceipt[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #idPrefix = randomBytes(2).toString('hex');
  #nextId = 0;
  #index = 0;
  #log: Logger;
  #closing: Promise<void> | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(options: SinkOptions = {}) {
    Sink.validate(options);
    this.#options = { ...options };
    this.#log = options.logger ?? silentLogger;
  }

  static validate(options: SinkOptions): void {
    if (options.latencyMs !== undefined) validateLatency(options.latencyMs, 'latencyMs');
    if (options.receipts?.delayMs !== undefined) validateLatency(options.receipts.delayMs, 'receipts.delayMs');
    for (const [name, weight] of Object.entries(options.outcomes ?? {})) {
      resolveStatus(name as OutcomeRef);
      if (weight === undefined || !Number.isFinite(weight) || weight < 0) throw new RangeError(`outcome weight ${name} must be >= 0`);
    }
    for (const rule of options.rules ?? []) {
      if (rule.status !== undefined) resolveStatus(rule.status);
      if (rule.stat !== undefined && !(rule.stat in ReceiptStat)) throw new RangeError(`unknown receipt stat ${rule.stat}`);
      if (rule.latencyMs !== undefined) validateLatency(rule.latencyMs, `latency of rule ${rule.prefix}`);
    }
    for (const stat of Object.keys(options.receipts?.stats ?? {})) {
      if (!(stat in ReceiptStat)) throw new RangeError(`unknown receipt stat ${stat}`);
    }
  }

  get port(): number {
    if (!this.#server) throw new Error('sink not started');
    return this.#server.port;
  }

  get sessions(): ReadonlySet<SmppSession> {
    return this.#server?.sessions ?? new Set();
  }

  /** Submits currently waiting for their response, by destination. */
  get inFlight(): ReadonlyMap<string, number> {
    return this.#inFlight;
  }

  async start(): Promise<this> {
    const o = this.#options;
    this.#server = await createSmppServer(
      {
        port: o.port ?? 2776,
        host: o.host ?? '127.0.0.1',
        windowSize: o.windowSize ?? 10,
        enquireLinkIntervalMs: o.enquireLinkIntervalMs,
        inactivityTimeoutMs: o.inactivityTimeoutMs,
        maxPduLength: o.maxPduLength,
        maxInboundPending: 1_000,
        logger: this.#log,
        ...(o.tls ? { tls: o.tls } : {}),
      },
      (session) => this.#onSession(session),
    );
    return this;
  }

  /** Changes behaviour on the fly (rules, outcomes, latency, receipts); validated like the constructor. */
  configure(changes: Partial<Pick<SinkOptions, 'latencyMs' | 'outcomes' | 'rules' | 'receipts' | 'credentials'>>): void {
    const next = { ...this.#options, ...changes };
    Sink.validate(next);
    this.#options = next;
  }

  /** Forget recorded messages, receipts and counters (not the configuration). */
  reset(): void {
    this.received.length = 0;
    this.receiptsSent.length = 0;
    Object.assign(this.counters, zeroCounters());
    this.maxConcurrentPerDestination = 0;
    this.overlappingDestinations.clear();
  }

  /** Resolves once at least `count` messages were received (since start or the last reset). */
  waitForMessages(count: number, timeoutMs = 10_000): Promise<void> {
    return this.#waitUntil(() => this.counters.submits >= count, timeoutMs, `${count} messages`);
  }

  /** Resolves once at least `count` receipts were sent. */
  waitForReceipts(count: number, timeoutMs = 10_000): Promise<void> {
    return this.#waitUntil(() => this.counters.receiptsSent >= count, timeoutMs, `${count} receipts`);
  }

  #waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`sink: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }

  /** Sends a mobile-originated deliver_sm to a bound ESME; resolves when it answered. */
  async sendMo(mo: MoInput): Promise<void> {
    const session = this.#receivingSession(mo.systemId ?? null);
    if (!session)
      throw new SmppError(CommandStatus.ESME_RINVBNDSTS, `no receiver/transceiver bound${mo.systemId ? ` as ${mo.systemId}` : ''}`);
    let bytes = mo.bytes ?? Buffer.alloc(0);
    let dataCoding = mo.dataCoding ?? 0;
    if (mo.text !== undefined && !mo.bytes) {
      const encoding = resolveEncoding(mo.text);
      bytes = encodeText(mo.text, encoding);
      dataCoding = mo.dataCoding ?? dataCodingFor(encoding);
    }
    const long = bytes.length > 254;
    await session.deliverSm({
      source: { ton: 1, npi: 1, addr: mo.from },
      dest: { ton: 1, npi: 1, addr: mo.to },
      esmClass: mo.esmClass ?? 0,
      dataCoding,
      shortMessage: long ? Buffer.alloc(0) : bytes,
      tlvs: { ...(mo.tlvs ?? {}), ...(long ? { messagePayload: bytes } : {}) },
    });
    this.counters.moSent++;
  }

  /** Sends a receipt for one of our message ids now (tests: receipts that overtake, odd stats). */
  async sendReceipt(messageId: string, stat: ReceiptStatName = 'DELIVRD', systemId?: string): Promise<void> {
    const original = this.received.find((m) => m.messageId === messageId);
    const session = this.#receivingSession(systemId ?? original?.systemId ?? null);
    if (!session) throw new SmppError(CommandStatus.ESME_RINVBNDSTS, 'no receiver/transceiver bound for the receipt');
    const msg = this.#receiptPdu(messageId, stat, original);
    await session.deliverSm(msg);
    this.#recordReceipt(messageId, stat, session, msg);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      await this.#server?.close();
    })();
    return this.#closing;
  }

  // --- sessions ------------------------------------------------------------------------------

  #onSession(session: SmppSession): void {
    session.handle('bind', (req) => {
      const creds = this.#options.credentials;
      if (creds && creds.length > 0) {
        const match = creds.find((c) => c.systemId === req.systemId);
        if (!match) {
          this.counters.bindFailures++;
          throw new SmppError(CommandStatus.ESME_RINVSYSID);
        }
        if (match.password !== req.password) {
          this.counters.bindFailures++;
          throw new SmppError(CommandStatus.ESME_RINVPASWD);
        }
      }
      this.counters.binds++;
      return { systemId: this.#options.systemId ?? 'SINK', scInterfaceVersion: 0x34 };
    });
    session.handle('submitSm', (msg) => this.#onSubmit('submit_sm', msg, session));
    session.handle('dataSm', (msg) => this.#onSubmit('data_sm', msg, session));
    session.handle('deliverSm', () => undefined);
    session.on('bound', (mode, systemId) => {
      if (RECEIVING_MODES.has(mode)) this.#flushReceipts(systemId);
    });
  }

  async #onSubmit(command: 'submit_sm' | 'data_sm', msg: ShortMessage, session: SmppSession): Promise<{ messageId: string }> {
    const clock = this.#options.clock ?? systemClock;
    const random = this.#options.random ?? Math.random;
    const dest = msg.dest.addr;
    const arrivedAt = clock.now();
    this.counters.submits++;

    const inFlight = (this.#inFlight.get(dest) ?? 0) + 1;
    this.#inFlight.set(dest, inFlight);
    if (inFlight > this.maxConcurrentPerDestination) this.maxConcurrentPerDestination = inFlight;
    if (inFlight > 1) this.overlappingDestinations.add(dest);

    const rule = matchRule(this.#options.rules ?? [], dest);
    const decided = this.#options.decide?.({ index: this.#index + 1, dest: msg.dest, ...describeBody(msg), bytes: msg.shortMessage });
    const status =
      decided !== undefined
        ? decided
        : rule?.status !== undefined
          ? resolveStatus(rule.status)
          : resolveStatus(pickWeighted(this.#options.outcomes ?? { ok: 1 }, random, 'ok') as OutcomeRef);
    const latency = pickLatency(rule?.latencyMs ?? this.#options.latencyMs ?? 0, random);
    const messageId = status === 0 ? this.#newMessageId() : null;

    const record: ReceivedMessage = {
      index: ++this.#index,
      command,
      sessionId: session.id,
      systemId: session.systemId,
      source: msg.source,
      dest: msg.dest,
      bytes: msg.shortMessage.length > 0 || !msg.tlvs.messagePayload ? msg.shortMessage : msg.tlvs.messagePayload,
      ...describeBody(msg),
      dataCoding: msg.dataCoding,
      esmClass: msg.esmClass,
      registeredDelivery: msg.registeredDelivery,
      tlvs: msg.tlvs,
      arrivedAt,
      status,
      messageId,
    };
    const limit = this.#options.recordLimit ?? Infinity;
    if (this.received.length < limit) this.received.push(record);
    this.#options.onMessage?.(record);
    const early = this.#options.receipts?.beforeResponse === true;
    if (early && status === 0) this.#scheduleReceipt(record, rule, session);

    try {
      if (latency > 0) await this.#sleep(latency);
    } finally {
      const left = (this.#inFlight.get(dest) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(dest);
      else this.#inFlight.set(dest, left);
    }

    if (status !== 0) {
      const name = commandStatusName(status);
      this.counters.rejected[name] = (this.counters.rejected[name] ?? 0) + 1;
      this.#notify();
      throw new SmppError(status);
    }
    this.counters.accepted++;
    this.#notify();
    if (!early) this.#scheduleReceipt(record, rule, session);
    return { messageId: messageId! };
  }

  #newMessageId(): string {
    const n = ++this.#nextId;
    return this.#options.messageIdFormat === 'decimal' ? String(n) : `${this.#idPrefix}${n.toString(16).padStart(8, '0')}`;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.add(t);
    });
  }

  // --- receipts ------------------------------------------------------------------------------

  #scheduleReceipt(record: ReceivedMessage, rule: DestinationRule | undefined, session: SmppSession): void {
    const receipts = this.#options.receipts;
    if (!receipts?.enabled || !record.messageId) return;
    const asked = record.registeredDelivery & 0x03;
    if ((receipts.when ?? 'requested') === 'requested' && asked === 0) return;
    const random = this.#options.random ?? Math.random;
    const stat: ReceiptStatName = rule?.stat ?? pickWeighted(receipts.stats ?? { DELIVRD: 1 }, random, 'DELIVRD');
    // registered_delivery 2 asks for failure receipts only.
    if ((receipts.when ?? 'requested') === 'requested' && asked === 2 && stat === 'DELIVRD') return;
    const delay = pickLatency(receipts.delayMs ?? 0, random);
    const msg = this.#receiptPdu(record.messageId, stat, record);
    const run = () => void this.#deliverReceipt({ systemId: record.systemId, msg }, record.messageId!, stat, session);
    if (delay === 0) {
      setImmediate(run);
    } else {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        run();
      }, delay);
      this.#timers.add(t);
    }
  }

  #receiptPdu(messageId: string, stat: ReceiptStatName, original: ReceivedMessage | undefined): ShortMessageToSend {
    const clock = this.#options.clock ?? systemClock;
    const now = clock.now();
    const id = this.#options.receipts?.idForm ? this.#options.receipts.idForm(messageId) : messageId;
    const delivered = stat === 'DELIVRD';
    const text = formatReceipt({
      id,
      sub: 1,
      dlvrd: delivered ? 1 : 0,
      submitDate: original?.arrivedAt ?? now,
      doneDate: now,
      stat,
      err: delivered ? 0 : 1,
      text: original?.text ?? '',
    });
    return {
      // A receipt travels back: from the original destination to the original source.
      source: original?.dest ?? { ton: 1, npi: 1, addr: '' },
      dest: original?.source ?? { ton: 0, npi: 0, addr: '' },
      esmClass: 0x04,
      dataCoding: 0,
      shortMessage: Buffer.from(text, 'latin1'),
      tlvs: {
        receiptedMessageId: id,
        messageState: ReceiptStat[stat],
        // GSM network error type (3) and the error code, as operators send it.
        networkErrorCode: Buffer.from([3, 0, delivered ? 0 : 1]),
      },
    };
  }

  async #deliverReceipt(pending: PendingReceipt, messageId: string, stat: ReceiptStatName, preferred?: SmppSession): Promise<void> {
    const session =
      preferred && preferred.state === 'open' && preferred.bindMode && RECEIVING_MODES.has(preferred.bindMode)
        ? preferred
        : this.#receivingSession(pending.systemId);
    if (!session) {
      // Like a real SMSC: keep it until the ESME binds a receiver again.
      this.#pendingReceipts.push(pending);
      this.counters.receiptsQueued++;
      return;
    }
    try {
      await session.deliverSm(pending.msg);
      this.#recordReceipt(messageId, stat, session, pending.msg);
    } catch (error) {
      this.counters.receiptsFailed++;
      this.#log.debug({ err: error, messageId }, 'receipt not acknowledged; queued again');
      this.#pendingReceipts.push(pending);
      this.counters.receiptsQueued++;
    }
  }

  #recordReceipt(messageId: string, stat: ReceiptStatName, session: SmppSession, msg: ShortMessageToSend): void {
    this.counters.receiptsSent++;
    this.receiptsSent.push({
      messageId,
      stat,
      sessionId: session.id,
      dest: msg.dest.addr,
      sentAt: (this.#options.clock ?? systemClock).now(),
    });
    this.#notify();
  }

  #flushReceipts(systemId: string): void {
    const ready = this.#pendingReceipts.filter((p) => p.systemId === systemId || p.systemId === null);
    if (ready.length === 0) return;
    for (const p of ready) {
      this.#pendingReceipts.splice(this.#pendingReceipts.indexOf(p), 1);
      this.counters.receiptsQueued--;
      const id = p.msg.tlvs?.receiptedMessageId ?? '';
      const stat = (Object.entries(ReceiptStat).find(([, v]) => v === p.msg.tlvs?.messageState)?.[0] ?? 'UNKNOWN') as ReceiptStatName;
      setImmediate(() => void this.#deliverReceipt(p, String(id), stat));
    }
  }

  #receivingSession(systemId: string | null): SmppSession | undefined {
    for (const s of this.sessions) {
      if (s.state !== 'open' || !s.bindMode || !RECEIVING_MODES.has(s.bindMode)) continue;
      if (systemId === null || s.systemId === systemId) return s;
    }
    return undefined;
  }
}

function describeBody(msg: ShortMessage): { text: string | null; part: ReceivedMessage['part'] } {
  try {
    const part = parseInboundPart({
      shortMessage: msg.shortMessage,
      esmClass: msg.esmClass,
      messagePayload: msg.tlvs.messagePayload ?? null,
      sarMsgRefNum: msg.tlvs.sarMsgRefNum ?? null,
      sarTotalSegments: msg.tlvs.sarTotalSegments ?? null,
      sarSegmentSeqnum: msg.tlvs.sarSegmentSeqnum ?? null,
    });
    let text: string | null = null;
    try {
      text = decodeText(part.payload, msg.dataCoding);
    } catch {
      text = null; // binary or an encoding we do not decode: the bytes are recorded anyway
    }
    const concatenated = part.form === 'udh8' || part.form === 'udh16' || part.form === 'sar';
    return { text, part: concatenated ? { form: part.form, reference: part.reference, total: part.total, sequence: part.sequence } : null };
  } catch {
    return { text: null, part: null };
  }
}

/** Starts a sink listening (port 0 for a free one); `sink.port` tells which. */
export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  return new Sink(options).start();
}
