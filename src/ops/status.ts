import type { Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { NodeDocument } from '../nodes/heartbeat.ts';
import { LeaseNames, SingletonLease } from '../nodes/singleton-lease.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type LockDocument, type SmsDocument, type SmsStateName } from '../domain/sms-document.ts';

export interface QueueStatus {
  /** Every state, zero included, so scripts need no defaults. */
  byState: Record<SmsStateName, number>;
  /** States not in SmsState (should be none; shown so nothing is hidden). */
  otherStates: Record<string, number>;
  total: number;
  /** `queued` and nextAttemptAt <= now: work a deliverer should be doing. */
  due: number;
  /** `queued` with nextAttemptAt in the future (retry backoff, scheduled delivery). */
  waiting: number;
}

export interface DestinationLockInfo {
  destKey: string;
  owner: string;
  at: Date;
  leaseUntil: Date;
  expired: boolean;
}

export interface LockStatus {
  /** Destination locks (`locks` collection). */
  destinations: { held: number; expired: number; oldest: DestinationLockInfo[] };
  /** Messages in state `locked`, and those whose lease ran out (cleanup releases them). */
  messages: { held: number; expired: number };
}

export interface OldestDue {
  messageId: string;
  destKey: string;
  account: string;
  nextAttemptAt: Date;
  arrivedAt: Date;
  attempts: number;
  /** How long it has been due. */
  overdueSeconds: number;
}

export interface NodeStatus {
  name: string;
  kind: string;
  host: string;
  pid: number;
  startedAt: Date;
  lastSeenAt: Date;
  /** False when its beats stopped (the TTL monitor has not removed it yet). */
  live: boolean;
  info?: Record<string, unknown>;
  /** What its /healthz said at its last beat (processes that report one). */
  health?: NonNullable<NodeDocument['health']>;
}

export interface ConnectorStatus {
  name: string;
  host?: string;
  port?: number;
  systemId?: string;
  enabled?: boolean;
  /** Session state per live node that reports one (`nodes.info.connectors[name]`). */
  states: { node: string; state: string }[];
}

export interface StatusReport {
  at: Date;
  queue: QueueStatus;
  locks: LockStatus;
  oldestDue: OldestDue | null;
  nodes: NodeStatus[];
  connectors: ConnectorStatus[];
  /** The process that publishes the smsc_queue_* metrics (holder of the `queue-sampler` lease), or null: nobody does. */
  queueSampler: { owner: string; since: Date; leaseUntil: Date } | null;
}

const OLDEST_LOCKS_SHOWN = 10;

/** Read-only snapshot for `smsc status`; every query uses one of the schema's indexes or a small collection. */
export async function collectStatus(db: Db, clock: Clock): Promise<StatusReport> {
  const now = clock.now();
  const [queue, locks, oldestDue, nodes, connectors, sampler] = await Promise.all([
    queueStatus(db, now),
    lockStatus(db, now),
    oldestDueMessage(db, now),
    nodeStatus(db, now),
    db.collection(Collections.connectors).find({}).sort({ name: 1 }).toArray(),
    SingletonLease.holder(db, LeaseNames.queueSampler, now),
  ]);
  return {
    at: now,
    queue,
    locks,
    oldestDue,
    nodes,
    connectors: connectors.map((c) => connectorStatus(c, nodes)),
    queueSampler: sampler ? { owner: sampler.owner, since: sampler.since, leaseUntil: sampler.leaseUntil } : null,
  };
}

/**
 * Message counts by state (also the queue depth gauge's source). One count per state rather than
 * a $group: each is a COUNT_SCAN on the {state, nextAttemptAt} index, cheap however large `sms`
 * grows, where a $group would read every document.
 */
export async function queueDepthByState(db: Db): Promise<Record<string, number>> {
  const sms = db.collection<SmsDocument>(Collections.sms);
  const states = Object.values(SmsState);
  const [known, other] = await Promise.all([
    Promise.all(states.map((state) => sms.countDocuments({ state }))),
    sms.countDocuments({ state: { $nin: states } }),
  ]);
  const out: Record<string, number> = Object.fromEntries(states.map((state, i) => [state, known[i]]));
  if (other > 0) {
    // Rare (a bug or a hand edit): name the odd states so the operator can find them.
    const rows = await sms
      .aggregate<{ _id: unknown; n: number }>([{ $match: { state: { $nin: states } } }, { $group: { _id: '$state', n: { $sum: 1 } } }])
      .toArray();
    for (const row of rows) out[String(row._id)] = row.n;
  }
  return out;
}

async function queueStatus(db: Db, now: Date): Promise<QueueStatus> {
  const sms = db.collection<SmsDocument>(Collections.sms);
  const [counts, due] = await Promise.all([
    queueDepthByState(db),
    sms.countDocuments({ state: SmsState.queued, nextAttemptAt: { $lte: now } }),
  ]);
  const byState = Object.fromEntries(Object.values(SmsState).map((s) => [s, 0])) as Record<SmsStateName, number>;
  const otherStates: Record<string, number> = {};
  let total = 0;
  for (const [state, n] of Object.entries(counts)) {
    total += n;
    if (state in byState) byState[state as SmsStateName] = n;
    else otherStates[state] = n;
  }
  return { byState, otherStates, total, due, waiting: byState.queued - due };
}

async function lockStatus(db: Db, now: Date): Promise<LockStatus> {
  const locks = db.collection<LockDocument>(Collections.locks);
  const sms = db.collection<SmsDocument>(Collections.sms);
  const [held, expired, oldest, messagesHeld, messagesExpired] = await Promise.all([
    locks.countDocuments({}),
    locks.countDocuments({ leaseUntil: { $lt: now } }),
    locks.find({}).sort({ leaseUntil: 1 }).limit(OLDEST_LOCKS_SHOWN).toArray(),
    sms.countDocuments({ state: SmsState.locked }),
    sms.countDocuments({ state: SmsState.locked, 'lock.leaseUntil': { $lt: now } }),
  ]);
  return {
    destinations: {
      held,
      expired,
      oldest: oldest.map((l) => ({ destKey: l._id, owner: l.owner, at: l.at, leaseUntil: l.leaseUntil, expired: l.leaseUntil < now })),
    },
    messages: { held: messagesHeld, expired: messagesExpired },
  };
}

export async function oldestDueMessage(db: Db, now: Date): Promise<OldestDue | null> {
  // Same shape as the claim query without priority: the message that has waited longest past its due time.
  const doc = await db
    .collection<SmsDocument>(Collections.sms)
    .find({ state: SmsState.queued, nextAttemptAt: { $lte: now } })
    .sort({ nextAttemptAt: 1 })
    .limit(1)
    .project<Pick<SmsDocument, 'messageId' | 'destKey' | 'account' | 'nextAttemptAt' | 'arrivedAt' | 'attempts'>>({
      messageId: 1,
      destKey: 1,
      account: 1,
      nextAttemptAt: 1,
      arrivedAt: 1,
      attempts: 1,
    })
    .next();
  if (!doc) return null;
  return {
    messageId: doc.messageId,
    destKey: doc.destKey,
    account: doc.account,
    nextAttemptAt: doc.nextAttemptAt,
    arrivedAt: doc.arrivedAt,
    attempts: doc.attempts ?? 0,
    overdueSeconds: Math.max(0, Math.round((now.getTime() - doc.nextAttemptAt.getTime()) / 1000)),
  };
}

export async function nodeStatus(db: Db, now: Date): Promise<NodeStatus[]> {
  const docs = await db.collection<NodeDocument>(Collections.nodes).find({}).sort({ kind: 1, _id: 1 }).toArray();
  return docs.map((n) => ({
    name: n._id,
    kind: n.kind,
    host: n.host,
    pid: n.pid,
    startedAt: n.startedAt,
    lastSeenAt: n.lastSeenAt,
    live: n.expiresAt instanceof Date && n.expiresAt > now,
    ...(n.info ? { info: n.info } : {}),
    ...(n.health ? { health: n.health } : {}),
  }));
}

export function connectorStatus(doc: Record<string, unknown>, nodes: NodeStatus[]): ConnectorStatus {
  const name = String(doc.name);
  const states: { node: string; state: string }[] = [];
  for (const node of nodes) {
    if (!node.live) continue;
    const reported = (node.info?.connectors as Record<string, unknown> | undefined)?.[name];
    if (typeof reported === 'string') states.push({ node: node.name, state: reported });
    else if (reported && typeof reported === 'object' && typeof (reported as { state?: unknown }).state === 'string') {
      states.push({ node: node.name, state: (reported as { state: string }).state });
    }
  }
  return {
    name,
    ...(typeof doc.host === 'string' ? { host: doc.host } : {}),
    ...(typeof doc.port === 'number' ? { port: doc.port } : {}),
    ...(typeof doc.systemId === 'string' ? { systemId: doc.systemId } : {}),
    ...(typeof doc.enabled === 'boolean' ? { enabled: doc.enabled } : {}),
    states,
  };
}

/** The human-readable form of `smsc status`. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  const q = report.queue;
  lines.push(`smsc status at ${report.at.toISOString()}`);
  lines.push('');
  lines.push(`Queue (${q.total} messages)`);
  for (const [state, n] of Object.entries(q.byState)) {
    const extra = state === SmsState.queued && n > 0 ? `  (${q.due} due now, ${q.waiting} waiting)` : '';
    lines.push(`  ${state.padEnd(14)}${String(n).padStart(8)}${extra}`);
  }
  for (const [state, n] of Object.entries(q.otherStates)) lines.push(`  ${state.padEnd(14)}${String(n).padStart(8)}  (unknown state)`);
  lines.push('');
  const d = report.locks.destinations;
  const m = report.locks.messages;
  lines.push(`Locks`);
  lines.push(`  destinations  ${d.held} held, ${d.expired} expired`);
  lines.push(`  messages      ${m.held} locked, ${m.expired} with an expired lease`);
  for (const l of d.oldest) {
    lines.push(`    ${l.destKey}  owner ${l.owner}  lease until ${l.leaseUntil.toISOString()}${l.expired ? '  EXPIRED' : ''}`);
  }
  lines.push('');
  const o = report.oldestDue;
  lines.push(
    o
      ? `Oldest due: ${o.messageId} to ${o.destKey} from ${o.account}, due ${o.nextAttemptAt.toISOString()} (${formatDuration(o.overdueSeconds)} ago), ${o.attempts} attempt(s)`
      : 'Oldest due: none (nothing is waiting to be delivered)',
  );
  lines.push('');
  const live = report.nodes.filter((n) => n.live);
  lines.push(`Processes (${live.length} live${report.nodes.length > live.length ? `, ${report.nodes.length - live.length} stale` : ''})`);
  if (report.nodes.length === 0) lines.push('  none reporting');
  for (const n of report.nodes) {
    const age = Math.round((report.at.getTime() - n.lastSeenAt.getTime()) / 1000);
    lines.push(
      `  ${n.kind.padEnd(10)} ${n.name}  pid ${n.pid} on ${n.host}  up since ${n.startedAt.toISOString()}  seen ${formatDuration(age)} ago${n.live ? '' : '  STALE'}${clockText(n)}${healthText(n)}`,
    );
    if (n.kind === 'up') for (const line of upChildrenLines(n)) lines.push(line);
  }
  lines.push(
    report.queueSampler
      ? `Queue metrics sampled by ${report.queueSampler.owner} (since ${report.queueSampler.since.toISOString()})`
      : 'Queue metrics: no process samples them (smsc_queue_* are not published)',
  );
  lines.push('');
  lines.push(`Connectors (${report.connectors.length})`);
  if (report.connectors.length === 0) lines.push('  none configured');
  for (const c of report.connectors) {
    const where = c.host ? ` ${c.host}:${c.port ?? '?'}` : '';
    const states = c.states.length > 0 ? c.states.map((s) => `${s.state} on ${s.node}`).join(', ') : 'no live session reported';
    lines.push(`  ${c.name}${where}${c.enabled === false ? ' (disabled)' : ''}: ${states}`);
  }
  return lines.join('\n');
}

/** `  ok`, or `  UNAVAILABLE: <reason>; <reason>` as of the process's last beat. */
/** The node's clock offset from MongoDB's, as its last heartbeat reported it (deliverers, inserters, api). */
function clockText(node: NodeStatus): string {
  const clock = node.info?.clock as { offsetMs?: unknown; ok?: unknown } | undefined;
  if (!clock || typeof clock.offsetMs !== 'number') return '';
  const offset = `${clock.offsetMs >= 0 ? '+' : ''}${clock.offsetMs} ms`;
  return clock.ok === false ? `  CLOCK OFF BY ${offset} (not delivering)` : `  clock ${offset}`;
}

function healthText(node: NodeStatus): string {
  if (!node.health) return '';
  if (node.health.status === 'ok') return '  ok';
  return `  UNAVAILABLE: ${node.health.problems.map((p) => `${p.check}: ${p.reason}`).join('; ')}`;
}

/** The processes an `smsc up` started (its heartbeat's `info.children`), one line each. */
function upChildrenLines(node: NodeStatus): string[] {
  const children = node.info?.children;
  if (!Array.isArray(children)) return [];
  return children.map((c: { name?: unknown; state?: unknown; pid?: unknown; restarts?: unknown; lastExit?: { exit?: unknown } }) => {
    const restarts =
      typeof c.restarts === 'number' && c.restarts > 0 ? `, restarted ${c.restarts}x (last: ${String(c.lastExit?.exit ?? '?')})` : '';
    const pid = typeof c.pid === 'number' ? `pid ${c.pid}` : 'no pid';
    return `      ${String(c.name).padEnd(13)} ${String(c.state).padEnd(10)} ${pid}${restarts}`;
  });
}

export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}
