import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Clock } from '../clock.ts';
import { DestinationLocks } from '../delivery/destination-locks.ts';
import { LeaseRenewer } from '../delivery/lease-renewer.ts';
import { MessageLocks, type FencedUpdate } from '../delivery/message-locks.ts';
import type { Logger } from '../logging/logger.ts';
import { SmppError } from '../smpp/errors.ts';
import type { SmsDocument } from '../store/sms-document.ts';
import { deliverSmOf } from './esme-pdu.ts';
import { esmeRetryAt, esmeUpdateFor, type EsmeDecision, type EsmeDeliveryOptions } from './esme-outcomes.ts';
import type { EsmeSessions } from './esme-sessions.ts';

export interface EsmeRoundStats {
  claims: number;
  busyDestinations: number;
  batches: number;
  delivered: number;
  retried: number;
  expired: number;
  fencedOff: number;
}

export function emptyEsmeStats(): EsmeRoundStats {
  return { claims: 0, busyDestinations: 0, batches: 0, delivered: 0, retried: 0, expired: 0, fencedOff: 0 };
}

export interface EsmeRoundDeps {
  db: Db;
  clock: Clock;
  owner: string;
  logger: Logger;
  sessions: EsmeSessions;
  options: EsmeDeliveryOptions;
  /** Destinations this process's lanes hold right now (shared). */
  held: Set<string>;
}

/**
 * The delivery protocol (ARCHITECTURE.md) for traffic to ESMEs, with the same classes as the
 * deliverers: CAS-claim a due message among the system_ids bound here, take its destination
 * lock (`esme:<system_id>:<subscriber>`), batch up to 4, deliver in order as deliver_sm over one
 * bind, write fenced outcomes, release. Several inserters holding binds for one system_id
 * compete through the same locks, so each message goes out over exactly one of them.
 */
export class EsmeDeliveryRound {
  readonly #deps: EsmeRoundDeps;
  readonly destinations: DestinationLocks;

  constructor(deps: EsmeRoundDeps) {
    this.#deps = deps;
    this.destinations = new DestinationLocks(deps.db, deps.clock, { leaseMs: deps.options.leaseMs });
  }

  /** Message locks narrowed to ESMEs bound here now (the set changes with binds). */
  messagesFor(systemIds: string[]): MessageLocks {
    const { db, clock, options } = this.#deps;
    return new MessageLocks(db, clock, {
      leaseMs: options.leaseMs,
      historyLimit: options.historyLimit,
      claimFilter: { 'target.kind': 'esme', 'target.systemId': { $in: systemIds } },
    });
  }

  async run(stop: AbortSignal, stats: EsmeRoundStats): Promise<void> {
    const excluded = new Set<string>();
    while (!stop.aborted && (await this.step(excluded, stop, stats)) !== 'idle');
  }

  async step(excluded: Set<string>, stop: AbortSignal, stats: EsmeRoundStats): Promise<'idle' | 'busy' | 'batch'> {
    const { owner, held, sessions } = this.#deps;
    const systemIds = sessions.systemIds();
    if (systemIds.length === 0) return 'idle';
    const messages = this.messagesFor(systemIds);
    const token = randomBytes(12).toString('hex');
    const first = await messages.claimOne([...excluded, ...held], owner, token);
    if (!first?.lock) return 'idle';
    stats.claims++;
    const destKey = first.destKey;
    if (held.has(destKey)) {
      await messages.release([first._id], token);
      excluded.add(destKey);
      return 'busy';
    }
    held.add(destKey);
    try {
      if ((await this.destinations.acquire(destKey, owner, token)) === 'busy') {
        await messages.release([first._id], token);
        excluded.add(destKey);
        stats.busyDestinations++;
        return 'busy';
      }
      try {
        const batch = await messages.collectBatch(first, first.lock, this.#deps.options.batchSize);
        if (batch.length > 0) await this.#deliver(messages, batch, token, stop, stats);
      } finally {
        await this.destinations.release(destKey, owner, token);
      }
      return 'batch';
    } finally {
      held.delete(destKey);
    }
  }

  async #deliver(messages: MessageLocks, batch: SmsDocument[], token: string, stop: AbortSignal, stats: EsmeRoundStats): Promise<void> {
    const { clock, owner, options, logger, sessions } = this.#deps;
    const destKey = batch[0].destKey;
    stats.batches++;
    const lost = new AbortController();
    const renewer = new LeaseRenewer(this.destinations, messages, logger, {
      destKey,
      token,
      leaseMs: options.leaseMs,
      messageIds: () => batch.map((sms) => sms._id),
      onLost: (reason) => lost.abort(new Error(reason)),
    });
    renewer.start();
    const decisions: EsmeDecision[] = [];
    let holdUntil: Date | undefined;
    try {
      for (const sms of batch) {
        const now = clock.now();
        if (holdUntil) {
          decisions.push({ kind: 'deferred', until: holdUntil });
          continue;
        }
        if (stop.aborted || lost.signal.aborted) {
          decisions.push({ kind: 'released' });
          continue;
        }
        if (sms.validUntil.getTime() <= now.getTime()) {
          decisions.push({ kind: 'expired' });
          stats.expired++;
          continue;
        }
        const systemId = sms.target.kind === 'esme' ? sms.target.systemId : '';
        const session = sessions.pick(systemId);
        if (!session) {
          // Unbound meanwhile: it waits for the next bind without spending an attempt.
          decisions.push({ kind: 'released' });
          continue;
        }
        try {
          await session.deliverSm(deliverSmOf(sms), { timeoutMs: options.responseTimeoutMs });
          decisions.push({ kind: 'delivered', session: `esme:${session.id}` });
          stats.delivered++;
        } catch (error) {
          const status = error instanceof SmppError && error.code === 'SMPP_STATUS' ? error.commandStatus : undefined;
          holdUntil = esmeRetryAt(sms, clock.now(), options);
          decisions.push({ kind: 'retry', session: `esme:${session.id}`, ...(status !== undefined ? { status } : {}), error: error instanceof Error ? error.message : String(error), at: holdUntil });
          stats.retried++;
        }
      }
      const now = clock.now();
      const updates: FencedUpdate[] = batch.map((sms, i) => ({ id: sms._id, update: esmeUpdateFor(sms, decisions[i] ?? { kind: 'released' }, now, owner, options) }));
      const matched = await messages.applyFenced(token, updates);
      if (matched < updates.length) {
        stats.fencedOff += updates.length - matched;
        logger.warn({ lost: updates.length - matched }, 'lease lost on part of an ESME batch; its writes were fenced off');
      }
      if (holdUntil && !lost.signal.aborted) await messages.holdDestination(destKey, holdUntil);
    } finally {
      await renewer.close();
    }
  }
}
