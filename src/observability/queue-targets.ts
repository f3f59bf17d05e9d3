import type { Db } from 'mongodb';
import { pickRoute, type RouteDocument } from '../routing/route-document.ts';
import { Collections } from '../store/collections.ts';
import { SmsState } from '../domain/sms-document.ts';

/** Where queued messages are headed: an outbound connector (MT) or an ESME (receipts, MO). */
export interface TargetBacklog {
  kind: 'connector' | 'esme';
  /** Connector name or system_id; `none` when no route names one (yet). */
  target: string;
  messages: number;
  /** Of those, how many are past their nextAttemptAt. */
  due: number;
  /** The earliest nextAttemptAt among the due ones; null when none is due. */
  oldestDueAt: Date | null;
}

/** One row of the aggregation: queued messages that go the same way. */
export interface QueuedGroup {
  kind: string | null;
  /** target.systemId of ESME traffic ('' = MO not routed yet). */
  esme: string | null;
  /** The first of the connectors a message names itself (target.connectors), if any. */
  pinned: string | null;
  /** The destKey's digits, cut to the longest route prefix: all routing needs to see. */
  prefix: string;
  messages: number;
  due: number;
  oldestDueAt: Date | null;
}

export const NO_TARGET = 'none';

/**
 * Queued messages by target. One aggregation over the queued messages (the `{state, …}` indexes
 * find them; each is read once, so the cost grows with the backlog, not with the collection),
 * grouped by what routing looks at: the message's own target, else its destination cut to the
 * longest route prefix, so the rows stay few however many subscribers wait. Routing then happens
 * here, per row, as the deliverer's connector choice does it (longest prefix, then priority;
 * among routes that share traffic, the heaviest; the primary connector).
 */
export async function queuedByTarget(db: Db, now: Date, options: { maxTimeMS?: number } = {}): Promise<TargetBacklog[]> {
  const routes = await db
    .collection<RouteDocument>(Collections.routes)
    .find({ enabled: { $ne: false } }, { projection: { _id: 0, prefix: 1, connectors: 1, esme: 1, priority: 1, weight: 1, enabled: 1 } })
    .toArray();
  const longestPrefix = routes.reduce((n, r) => Math.max(n, typeof r.prefix === 'string' ? r.prefix.length : 0), 0);
  const isDue = { $lte: ['$nextAttemptAt', now] };
  const rows = await db
    .collection(Collections.sms)
    .aggregate<{ _id: Omit<QueuedGroup, 'messages' | 'due' | 'oldestDueAt'>; messages: number; due: number; oldestDueAt: Date | null }>(
      [
        { $match: { state: SmsState.queued } },
        {
          $group: {
            _id: {
              kind: '$target.kind',
              esme: '$target.systemId',
              pinned: { $arrayElemAt: [{ $ifNull: ['$target.connectors', []] }, 0] },
              prefix: {
                $cond: [
                  { $eq: ['$target.kind', 'esme'] },
                  '',
                  { $substrCP: [{ $ltrim: { input: { $ifNull: ['$destKey', ''] }, chars: '+' } }, 0, longestPrefix] },
                ],
              },
            },
            messages: { $sum: 1 },
            due: { $sum: { $cond: [isDue, 1, 0] } },
            // $min ignores nulls: the earliest due time among the due messages only.
            oldestDueAt: { $min: { $cond: [isDue, '$nextAttemptAt', null] } },
          },
        },
      ],
      options.maxTimeMS ? { maxTimeMS: options.maxTimeMS } : {},
    )
    .toArray();
  return sumByTarget(
    rows.map((row) => ({
      kind: row._id.kind ?? null,
      esme: row._id.esme ?? null,
      pinned: row._id.pinned ?? null,
      prefix: row._id.prefix ?? '',
      messages: row.messages,
      due: row.due,
      oldestDueAt: row.oldestDueAt instanceof Date ? row.oldestDueAt : null,
    })),
    routes,
  );
}

/** Attributes each group to its target and adds up groups that share one. */
export function sumByTarget(groups: readonly QueuedGroup[], routes: readonly RouteDocument[]): TargetBacklog[] {
  // Heaviest first: with a random() of 0, pickRoute answers the first of routes that share traffic.
  const ordered = [...routes].sort((a, b) => (b.weight ?? 1) - (a.weight ?? 1));
  const byTarget = new Map<string, TargetBacklog>();
  for (const group of groups) {
    const { kind, target } = targetOf(group, ordered);
    const key = `${kind}\u0000${target}`;
    const entry = byTarget.get(key) ?? { kind, target, messages: 0, due: 0, oldestDueAt: null };
    entry.messages += group.messages;
    entry.due += group.due;
    if (group.oldestDueAt && (!entry.oldestDueAt || group.oldestDueAt < entry.oldestDueAt)) entry.oldestDueAt = group.oldestDueAt;
    byTarget.set(key, entry);
  }
  return [...byTarget.values()];
}

function targetOf(group: QueuedGroup, routes: readonly RouteDocument[]): Pick<TargetBacklog, 'kind' | 'target'> {
  if (group.kind === 'esme') return { kind: 'esme', target: group.esme || NO_TARGET };
  if (group.pinned) return { kind: 'connector', target: group.pinned };
  const route = pickRoute(routes, group.prefix, () => 0);
  return { kind: 'connector', target: route?.connectors?.[0] ?? NO_TARGET };
}
