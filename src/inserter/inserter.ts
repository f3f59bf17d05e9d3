import type { Db } from 'mongodb';
import type { AccountStore } from '../accounts/account-store.ts';
import { limitsOf, type AccountLimits } from '../accounts/account.ts';
import type { Clock } from '../domain/clock.ts';
import { sleep, systemClock } from '../domain/clock.ts';
import { maskMsisdn } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { BindRequest, BindResponse, ShortMessage, SubmitMulti, SubmitMultiResult } from '../smpp/domain.ts';
import { CommandStatus, commandStatusName } from '../smpp/command-status.ts';
import { commandStatusOf, SmppError } from '../smpp/errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createSmppServer, type SmppServer } from '../smpp/server.ts';
import type { RequestContext, SmppSession } from '../smpp/session.ts';
import type { GroupCommitWriter } from '../store/group-commit.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { RateLimiter } from '../throttle/rate-limiter.ts';
import type { IntakeRouting } from '../routing/intake-routing.ts';
import { BacklogTracker } from './backlog.ts';
import { BindGuard, bindGuardKeys, type BindGuardOptions } from './bind-guard.ts';
import { isTrustedAddress } from '../accounts/account-store.ts';
import { createBindSlots, type BindSlots } from './bind-slots.ts';
import { MessageOps } from './message-ops.ts';
import { annotateWithHlr } from '../policy/hlr-annotate.ts';
import { applyIntakeDecision, IntakePolicy, type IntakeDecision } from '../policy/intake-policy.ts';
import {
  buildSmsDocuments,
  DEFAULT_SUBMIT_POLICY,
  prepareMessage,
  validateDestination,
  type SubmitCommand,
  type SubmitPolicy,
} from '../submission/submit-validation.ts';

export interface InserterOptions {
  /** Default '0.0.0.0'; port 0 picks a free one (read `inserter.port`). Default 2775. */
  host?: string;
  port?: number;
  /** Our system_id in bind responses. Default 'smsc'. */
  systemId?: string;
  policy?: Partial<SubmitPolicy>;
  /** Unanswered PDUs per session before we stop reading its socket (default 100). */
  windowSize?: number;
  /** Largest PDU accepted (default 65,536 octets: message_payload fits). */
  maxPduLength?: number;
  /** We send enquire_link after this much silence (default 30 s), and close after inactivityTimeoutMs (default 90 s). */
  enquireLinkIntervalMs?: number;
  inactivityTimeoutMs?: number;
  /** A connection that has not bound within this is closed (default 30 s). */
  bindTimeoutMs?: number;
  /** Connections at once (default 5,000). */
  maxConnections?: number;
  bindGuard?: BindGuardOptions;
  /** Account limits (TPS, sources, caps) are re-read this often while bound, so `account set` takes effect (default 10 s). */
  limitsRefreshMs?: number;
  /** How long shutdown waits for read PDUs to be stored and answered before unbinding (default 10 s). */
  shutdownGraceMs?: number;
  /** Also listen for SMPP over TLS on this port (0 picks a free one) with this certificate and key (PEM). */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
}

export interface InserterDeps {
  db: Db;
  accounts: AccountStore;
  writer: GroupCommitWriter;
  rateLimiter: RateLimiter;
  /** Concurrent binds per account; default: counted in this process only. */
  bindSlots?: BindSlots;
  clock?: Clock;
  logger?: Logger;
  /** Submits, binds, bound sessions and store latency of this inserter. */
  metrics: Metrics;
  /** Receives every ESME session (receipts and MO go out over receiver/transceiver binds; see src/esme-delivery). */
  esmeSessions?: { attach(session: SmppSession): void };
  /** Routes that act at intake (drop, auto-reply; see src/routing/intake-routing.ts). */
  routing?: Pick<IntakeRouting, 'apply'>;
  /** Contact policy and HLR lookups (src/policy); default: accept everything. */
  intakePolicy?: IntakePolicy;
  /** The opt-out flow for MO that peers send as deliver_sm (src/policy/opt-out.ts). */
  optOut?: { handle(msg: ShortMessage): Promise<unknown> };
}

interface Bound {
  limits: AccountLimits;
  mode: string;
  loadedAt: number;
  refreshing: boolean;
  /** submitsTotal{account, status: 'ok'}, looked up once per bind rather than once per message. */
  okCounter: { inc(): void };
}

const SUBMIT_MULTI_MAX_DESTS = 254;

function refusedAsError(decision: IntakeDecision): IntakeDecision {
  if (decision.verdict === 'refuse') throw new SmppError(decision.status, decision.message);
  return decision;
}

/**
 * The SMPP server ESMEs bind to. Every message is stored (group commit, configured write
 * concern) before its response goes out; anything that is not acknowledged by the store is
 * answered with an error so the ESME resubmits.
 */
export class Inserter {
  readonly #options: InserterOptions;
  readonly #metrics: Metrics;
  readonly #policy: SubmitPolicy;
  readonly #accounts: AccountStore;
  readonly #writer: GroupCommitWriter;
  readonly #limiter: RateLimiter;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #esmeSessions: InserterDeps['esmeSessions'];
  readonly #routing: InserterDeps['routing'];
  readonly #ops: MessageOps;
  readonly #backlog: BacklogTracker;
  readonly #guard: BindGuard;
  readonly #bound = new WeakMap<SmppSession, Bound>();
  readonly #slots: BindSlots;
  readonly #intake: IntakePolicy;
  readonly #optOut: InserterDeps['optOut'];
  readonly #db: Db;
  #server: SmppServer | undefined;
  #tlsServer: SmppServer | undefined;
  #shuttingDown: Promise<void> | undefined;
  #intakeStopped = false;
  readonly stats = { submitted: 0, rejected: 0, throttled: 0 };

  constructor(deps: InserterDeps, options: InserterOptions = {}) {
    this.#options = options;
    this.#metrics = deps.metrics;
    this.#policy = { ...DEFAULT_SUBMIT_POLICY, ...options.policy };
    this.#accounts = deps.accounts;
    this.#writer = deps.writer;
    this.#limiter = deps.rateLimiter;
    this.#clock = deps.clock ?? systemClock;
    this.#log = (deps.logger ?? silentLogger).child({ component: 'inserter' });
    this.#esmeSessions = deps.esmeSessions;
    this.#routing = deps.routing;
    this.#ops = new MessageOps(deps.db, deps.writer.writeConcern);
    this.#backlog = new BacklogTracker(deps.db, this.#log, this.#clock);
    this.#guard = new BindGuard(options.bindGuard, this.#clock);
    this.#slots = deps.bindSlots ?? createBindSlots({ logger: this.#log });
    this.#intake = deps.intakePolicy ?? new IntakePolicy({ metrics: deps.metrics });
    this.#optOut = deps.optOut;
    this.#db = deps.db;
  }

  get port(): number {
    if (!this.#server) throw new Error('inserter not started');
    return this.#server.port;
  }

  /** The SMPP over TLS port, when the inserter listens for TLS. */
  get tlsPort(): number | undefined {
    return this.#tlsServer?.port;
  }

  get sessionCount(): number {
    return (this.#server?.sessions.size ?? 0) + (this.#tlsServer?.sessions.size ?? 0);
  }

  #servers(): SmppServer[] {
    return [this.#server, this.#tlsServer].filter((s): s is SmppServer => s !== undefined);
  }

  async start(): Promise<{ host: string; port: number; tlsPort?: number }> {
    if (this.#server)
      return { host: this.#server.host, port: this.#server.port, ...(this.#tlsServer ? { tlsPort: this.#tlsServer.port } : {}) };
    const options = {
      host: this.#options.host ?? '0.0.0.0',
      maxConnections: this.#options.maxConnections ?? 5_000,
      maxInboundPending: this.#options.windowSize ?? 100,
      maxPduLength: this.#options.maxPduLength ?? 65_536,
      enquireLinkIntervalMs: this.#options.enquireLinkIntervalMs ?? 30_000,
      inactivityTimeoutMs: this.#options.inactivityTimeoutMs ?? 90_000,
      logger: this.#log,
    };
    const tls = this.#options.tls;
    // Both listeners or neither: a TLS port that cannot be opened is a start-up error like the plain one.
    const server = await createSmppServer({ ...options, port: this.#options.port ?? 2775 }, (session) => this.#onSession(session));
    try {
      if (tls)
        this.#tlsServer = await createSmppServer({ ...options, port: tls.port, tls: { cert: tls.cert, key: tls.key } }, (session) =>
          this.#onSession(session),
        );
    } catch (error) {
      await server.close();
      throw error;
    }
    this.#server = server;
    return { host: server.host, port: server.port, ...(this.#tlsServer ? { tlsPort: this.#tlsServer.port } : {}) };
  }

  /**
   * Graceful stop: refuse new connections and binds, stop reading, let everything already read be
   * stored and answered (bounded by the grace period), unbind every session, close. Idempotent.
   */
  /** First step of a shutdown, usable on its own: refuse new connections and stop reading PDUs. */
  stopIntake(): void {
    this.#intakeStopped = true;
    for (const server of this.#servers()) {
      server.stopAccepting();
      for (const session of server.sessions) session.pauseReading();
    }
  }

  shutdown(graceMs = this.#options.shutdownGraceMs ?? 10_000): Promise<void> {
    this.#shuttingDown ??= (async () => {
      const servers = this.#servers();
      if (servers.length === 0) return;
      const sessions = () => servers.flatMap((server) => [...server.sessions]);
      // The grace is measured by timers started now, not by reading a clock: an injected test
      // clock that never moves must not stretch a shutdown. They are cancelled once the races
      // are decided: left running they would keep the stopped process alive until they fired.
      const bound = new AbortController();
      const window = (ms: number) => sleep(ms, bound.signal).catch(() => {});
      // Answer what was read: wait for in-flight handlers (their stores) within most of the grace.
      let answering = true;
      const answerWindow = window(graceMs - Math.min(2_000, graceMs / 4)).then(() => {
        answering = false;
      });
      const graceWindow = window(graceMs);
      this.stopIntake();
      while (answering && sessions().some((s) => s.inboundPending > 0)) await sleep(5);
      await Promise.race([this.#writer.drain(), answerWindow]);
      await Promise.race([Promise.all(servers.map((server) => server.close())), Promise.all([graceWindow, window(100)])]);
      bound.abort();
      for (const session of sessions()) session.destroy('shutdown grace expired');
      await this.#slots.close();
      this.#log.info('inserter stopped');
    })();
    return this.#shuttingDown;
  }

  #onSession(session: SmppSession): void {
    if (this.#shuttingDown || this.#intakeStopped) {
      session.destroy('shutting down');
      return;
    }
    session.on('error', () => {});
    this.#esmeSessions?.attach(session);
    // An unbound connection holds a slot and some memory: it gets a while to bind, then goes.
    const bindTimer = setTimeout(() => {
      if (!this.#bound.has(session)) session.destroy('no bind within the bind timeout');
    }, this.#options.bindTimeoutMs ?? 30_000);
    bindTimer.unref();
    session.once('close', () => clearTimeout(bindTimer));
    session
      .handle('bind', (req, ctx) => this.#bind(req, ctx))
      .handle('submitSm', (req, ctx) => this.#submit(req, 'submit_sm', ctx))
      .handle('dataSm', (req, ctx) => this.#submit(req, 'data_sm', ctx))
      .handle('deliverSm', async (req, ctx) => {
        // Only peer SMSCs inject MO traffic; from an ordinary ESME a deliver_sm is out of place.
        if (!this.#limitsOf(ctx).peer)
          throw new SmppError(CommandStatus.ESME_RINVBNDSTS, 'deliver_sm is accepted from peer SMSC accounts only');
        await this.#optOut?.handle(req);
        await this.#submit(req, 'deliver_sm', ctx);
        return { messageId: '' };
      })
      .handle('submitMulti', (req, ctx) => this.#submitMulti(req, ctx))
      .handle('querySm', (req, ctx) => this.#ops.query(req, this.#limitsOf(ctx)))
      .handle('cancelSm', (req, ctx) => this.#ops.cancel(req, this.#limitsOf(ctx), this.#clock.now()))
      .handle('replaceSm', (req, ctx) => this.#ops.replace(req, this.#limitsOf(ctx), this.#clock.now(), this.#policy));
    session.once('close', () => {
      const bound = this.#bound.get(session);
      if (!bound) return;
      this.#bound.delete(session);
      this.#metrics.boundSessions.dec({ side: 'esme', mode: bound.mode });
      this.#slots.release(bound.limits.systemId, session.id);
    });
  }

  #limitsOf(ctx: RequestContext): AccountLimits {
    return this.#boundOf(ctx).limits;
  }

  #boundOf(ctx: RequestContext): Bound {
    const bound = this.#bound.get(ctx.session);
    // The session layer only lets bound sessions through; this is a second lock on the door.
    if (!bound) throw new SmppError(CommandStatus.ESME_RINVBNDSTS, 'not bound');
    if (this.#clock.monotonic() - bound.loadedAt >= (this.#options.limitsRefreshMs ?? 10_000) && !bound.refreshing)
      void this.#refreshLimits(ctx.session, bound);
    return bound;
  }

  /** Re-reads the account; a removed or disabled account loses its sessions (unbind, then close). */
  async #refreshLimits(session: SmppSession, bound: Bound): Promise<void> {
    bound.refreshing = true;
    try {
      const account = await this.#accounts.get(bound.limits.systemId);
      bound.loadedAt = this.#clock.monotonic();
      if (!account || account.enabled === false) {
        this.#log.warn({ session: session.id, systemId: bound.limits.systemId }, 'account removed or disabled; closing its session');
        void session.close();
        return;
      }
      bound.limits = limitsOf(account);
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'could not refresh account limits; keeping the previous ones');
    } finally {
      bound.refreshing = false;
    }
  }

  async #bind(req: BindRequest, ctx: RequestContext): Promise<BindResponse> {
    const session = ctx.session;
    const keys = bindGuardKeys(session.remoteAddress, req.systemId);
    const log = this.#log.child({ session: session.id, remote: session.remoteAddress, systemId: req.systemId, mode: req.mode });
    if (this.#shuttingDown || this.#intakeStopped) throw new SmppError(CommandStatus.ESME_RBINDFAIL, 'shutting down');
    const result = (status: number) =>
      this.#metrics.bindsTotal.inc({ side: 'esme', mode: req.mode, result: status ? commandStatusName(status) : 'ok' });
    const verdict = this.#guard.check(keys);
    // A password-check slot is claimed on arrival, before anything is awaited, so a burst of
    // parallel binds from one address cannot all get checked before the first failures count.
    const claimed = this.#guard.begin(keys);
    let outcome;
    let trusted = false;
    try {
      // Read once, for the password check and for the account's trusted addresses, whose binds
      // are never refused or slowed down (nor their failures counted).
      const account = await this.#accounts.get(req.systemId);
      trusted = isTrustedAddress(account?.trustedAddresses, session.remoteAddress);
      if ((!claimed || verdict.refuse || verdict.delayMs > 0) && !trusted) {
        if (verdict.refuse) {
          log.warn('bind refused: too many failed binds recently from this address');
          result(CommandStatus.ESME_RBINDFAIL);
          throw new SmppError(CommandStatus.ESME_RBINDFAIL, 'too many failed binds');
        }
        if (!claimed) {
          log.warn('bind refused: too many binds being checked at once for this address');
          result(CommandStatus.ESME_RBINDFAIL);
          throw new SmppError(CommandStatus.ESME_RBINDFAIL, 'too many concurrent binds');
        }
        await sleep(verdict.delayMs);
      }
      outcome = await this.#accounts.authenticate(req.systemId, req.password, account);
    } finally {
      if (claimed) this.#guard.end(keys);
    }

    const fail = (status: number, reason: string): never => {
      result(status);
      if (!trusted) {
        const refused = this.#guard.recordFailure(keys);
        if (refused.length > 0) log.warn({ keys: refused }, 'repeated bind failures: refusing binds for a while');
      }
      log.warn({ reason }, 'bind failed');
      throw new SmppError(status, reason);
    };
    if (!outcome.ok) {
      if (outcome.reason === 'unknown-system-id') fail(CommandStatus.ESME_RINVSYSID, 'unknown system_id');
      if (outcome.reason === 'wrong-password') fail(CommandStatus.ESME_RINVPASWD, 'wrong password');
      fail(CommandStatus.ESME_RBINDFAIL, 'account disabled');
    }
    if (outcome.ok !== true) throw new SmppError(CommandStatus.ESME_RBINDFAIL);
    if (this.#shuttingDown || session.state !== 'open') throw new SmppError(CommandStatus.ESME_RBINDFAIL, 'shutting down');
    const limits = limitsOf(outcome.account);
    if (!(await this.#slots.acquire(limits.systemId, session.id, limits.maxBinds))) {
      result(CommandStatus.ESME_RBINDFAIL);
      log.warn({ maxBinds: limits.maxBinds }, 'bind refused: account at its maximum number of binds');
      throw new SmppError(CommandStatus.ESME_RBINDFAIL, 'too many binds for this account');
    }
    if (session.state !== 'open') {
      // Closed while we were counting: give the slot back (the close handler saw no bind).
      this.#slots.release(limits.systemId, session.id);
      throw new SmppError(CommandStatus.ESME_RBINDFAIL, 'session closed');
    }
    this.#guard.recordSuccess(keys);
    this.#bound.set(session, {
      limits,
      mode: req.mode,
      loadedAt: this.#clock.monotonic(),
      refreshing: false,
      okCounter: this.#metrics.submitsTotal.labels(limits.systemId, 'ok'),
    });
    result(0);
    this.#metrics.boundSessions.inc({ side: 'esme', mode: req.mode });
    log.info('bound');
    // SMPP 3.4 5.3.2.25: an ESME that announced an older version gets no optional parameters.
    return { systemId: this.#options.systemId ?? 'smsc', ...(req.interfaceVersion >= 0x34 ? { scInterfaceVersion: 0x34 } : {}) };
  }

  /** Undefined (nothing to wait for) when the account has neither a TPS limit nor a backlog cap: the common case costs no promise. */
  #admit(limits: AccountLimits, adding: number): Promise<void> | undefined {
    if (!(limits.tps > 0) && !(limits.maxQueued > 0)) return undefined;
    return this.#admitLimited(limits, adding);
  }

  async #admitLimited(limits: AccountLimits, adding: number): Promise<void> {
    if (limits.tps > 0 && !(await this.#limiter.tryAcquire(limits.systemId, limits.tps))) {
      this.stats.throttled++;
      throw new SmppError(CommandStatus.ESME_RTHROTTLED, 'account TPS exceeded');
    }
    if (await this.#backlog.isFull(limits.systemId, limits.maxQueued, adding)) {
      throw new SmppError(CommandStatus.ESME_RMSGQFUL, 'account backlog at its cap');
    }
  }

  async #store(limits: AccountLimits, docs: SmsDocument[]): Promise<PromiseSettledResult<void>[]> {
    const results = await this.#writer.writeAll(docs);
    const stored = results.filter((r) => r.status === 'fulfilled').length;
    if (stored > 0) this.#backlog.added(limits.systemId, stored);
    return results;
  }

  /**
   * A message stored only in part is answered as failed, so the parts that were stored are taken
   * back first; the ESME's resubmission then stores it whole, once. Best effort: a part that cannot
   * be taken back (already locked by a deliverer, or the store is down) is logged.
   */
  async #withdrawStored(docs: SmsDocument[], results: PromiseSettledResult<void>[]): Promise<void> {
    const stored = docs.filter((_, i) => results[i].status === 'fulfilled').map((doc) => doc._id);
    if (stored.length === 0) return;
    try {
      const left = await this.#ops.withdraw(stored);
      if (left > 0)
        this.#log.warn(
          { parts: docs.length, stored: stored.length, left },
          'a message stored in part could not be fully taken back; its resubmission may duplicate parts',
        );
    } catch (error) {
      this.#log.error(
        { err: (error as Error).message, parts: docs.length, stored: stored.length },
        'could not take back the stored parts of a message that failed',
      );
    }
  }

  /** One document (the usual submit): no allSettled, no result arrays. Rejects with the store's error. */
  async #storeOne(limits: AccountLimits, doc: SmsDocument): Promise<void> {
    await this.#writer.write(doc);
    this.#backlog.added(limits.systemId, 1);
  }

  async #submit(req: ShortMessage, command: SubmitCommand, ctx: RequestContext): Promise<{ messageId: string }> {
    const bound = this.#boundOf(ctx);
    const limits = bound.limits;
    try {
      const now = this.#clock.now();
      const prepared = prepareMessage(req, command, limits, now, this.#policy);
      const destination = validateDestination(req.dest, this.#policy);
      const admitted = this.#admit(limits, prepared.parts.length);
      if (admitted) await admitted;
      let decision = command === 'deliver_sm' ? undefined : this.#decide(limits, destination.destKey);
      if (decision instanceof Promise) decision = await decision;
      let docs = buildSmsDocuments(prepared, destination);
      if (decision) applyIntakeDecision(docs, decision, now);
      // A route that drops or auto-replies makes the documents final before they are stored
      // (not those the intake policy already made final).
      const routed = decision?.verdict === 'delivered' ? undefined : this.#routing?.apply(docs, 'smpp');
      if (routed) docs = routed;
      else if (req.replaceIfPresent === 1 && docs.length === 1 && !docs[0].concat && decision?.verdict !== 'delivered') {
        const replaced = await this.#ops.replaceIfPresent(docs[0]);
        if (replaced) {
          this.stats.submitted++;
          bound.okCounter.inc();
          return { messageId: replaced };
        }
      }
      if (docs.length === 1) {
        await this.#storeOne(limits, docs[0]);
      } else {
        const results = await this.#store(limits, docs);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) await this.#withdrawStored(docs, results);
        if (failed) throw failed.reason;
      }
      this.stats.submitted++;
      bound.okCounter.inc();
      this.#metrics.storeLatencySeconds.observe((performance.now() - ctx.receivedAt) / 1000);
      if (decision && this.#intake.needsLookupAfterStore(decision)) void annotateWithHlr(this.#intake, this.#db, docs, this.#log);
      return { messageId: docs[0].messageId };
    } catch (error) {
      this.#noteRejection(error, command, req, ctx, limits);
      throw error;
    }
  }

  async #submitMulti(req: SubmitMulti, ctx: RequestContext): Promise<SubmitMultiResult> {
    const limits = this.#limitsOf(ctx);
    try {
      if (req.dests.length === 0 || req.dests.length > SUBMIT_MULTI_MAX_DESTS) {
        throw new SmppError(CommandStatus.ESME_RINVNUMDESTS, `number_of_dests ${req.dests.length} is not 1..${SUBMIT_MULTI_MAX_DESTS}`);
      }
      const now = this.#clock.now();
      const prepared = prepareMessage(req, 'submit_multi', limits, now, this.#policy);
      const unsuccessful: SubmitMultiResult['unsuccessful'] = [];
      const batches: { dest: { ton: number; npi: number; addr: string }; docs: SmsDocument[] }[] = [];
      for (const dest of req.dests) {
        if (dest.kind === 'list') {
          // No distribution lists are defined on this SMSC.
          unsuccessful.push({ dest: { ton: 0, npi: 0, addr: dest.name }, status: CommandStatus.ESME_RINVDLNAME });
          continue;
        }
        try {
          const destination = validateDestination(dest.address, this.#policy);
          const decision = await this.#decide(limits, destination.destKey);
          const docs = buildSmsDocuments(prepared, destination);
          applyIntakeDecision(docs, decision, now);
          batches.push({
            dest: dest.address,
            docs: (decision.verdict === 'delivered' ? undefined : this.#routing?.apply(docs, 'smpp')) ?? docs,
          });
        } catch (error) {
          unsuccessful.push({ dest: dest.address, status: commandStatusOf(error) });
        }
      }
      if (batches.length === 0) throw new SmppError(unsuccessful[0]?.status ?? CommandStatus.ESME_RINVDSTADR, 'no valid destination');
      await this.#admit(
        limits,
        batches.reduce((n, b) => n + b.docs.length, 0),
      );
      const results = await this.#store(
        limits,
        batches.flatMap((b) => b.docs),
      );
      let i = 0;
      let firstStored: string | undefined;
      for (const batch of batches) {
        const mine = results.slice(i, i + batch.docs.length);
        i += batch.docs.length;
        const failed = mine.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) {
          await this.#withdrawStored(batch.docs, mine);
          unsuccessful.push({ dest: batch.dest, status: commandStatusOf(failed.reason) });
        } else firstStored ??= batch.docs[0].messageId;
      }
      if (!firstStored) throw new SmppError(unsuccessful[0].status, 'no destination could be stored');
      this.stats.submitted++;
      this.#metrics.submitsTotal.inc({ account: limits.systemId, status: 'ok' });
      this.#metrics.storeLatencySeconds.observe((performance.now() - ctx.receivedAt) / 1000);
      return { messageId: firstStored, unsuccessful };
    } catch (error) {
      this.#noteRejection(error, 'submit_multi', undefined, ctx, limits);
      throw error;
    }
  }

  /** The intake policy's verdict; a refusal is thrown as its SMPP status. Synchronous unless an HLR lookup is needed. */
  #decide(limits: AccountLimits, destKey: string): IntakeDecision | Promise<IntakeDecision> {
    const decision = this.#intake.check({ account: limits.systemId, registeredOnly: limits.registeredOnly, destKey, intake: 'smpp' });
    if (decision instanceof Promise) return decision.then(refusedAsError);
    return refusedAsError(decision);
  }

  #noteRejection(error: unknown, command: string, req: ShortMessage | undefined, ctx: RequestContext, limits: AccountLimits): void {
    this.stats.rejected++;
    const status = commandStatusOf(error);
    this.#metrics.submitsTotal.inc({ account: limits.systemId, status: commandStatusName(status) });
    if (status === CommandStatus.ESME_RTHROTTLED) return;
    this.#log.debug(
      {
        session: ctx.session.id,
        command,
        status,
        reason: (error as Error).message,
        ...(req ? { dest: maskMsisdn(req.dest.addr) } : {}),
      },
      'submit rejected',
    );
  }
}
