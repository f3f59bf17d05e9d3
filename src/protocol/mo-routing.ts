import type { Collection, ObjectId } from 'mongodb';
import { SmsState, type SmsDocument, type SmsTarget } from '../domain/sms-document.ts';

/** Where an unrouted MO goes: an HTTP callback target, an ESME's binds, or nowhere yet (look again at `retryAt`). */
export type MoRoute =
  | { kind: 'http'; target: Extract<SmsTarget, { kind: 'http' }>; destKey: string }
  | { kind: 'esme'; systemId: string; destKey: string }
  | { kind: 'none'; retryAt: Date };

/**
 * Routes one MO message stored without an ESME.
 *
 * filter: {_id, state: 'queued', target.systemId: ''} (still unrouted)
 * update: routed -> {target.systemId, destKey: esme:<id>:<subscriber>} (or an http target and
 *         http:<id>:<subscriber>); no route -> look again after retryMs
 * returns: modifiedCount; 0 = another process routed it (or it expired) meanwhile.
 * safe:    a CAS on 'queued' and an empty systemId: of racing assigners one routes it, the
 *          others miss (a "no route" write that lands first only moves nextAttemptAt, and the
 *          routing one still applies after it). No deliverer claims it before: every claim
 *          filter names bound systemIds, never ''. A batch that read it under its old destKey
 *          cannot lock it after (the batch lock is fenced on destKey).
 */
export async function assignMoRoute(sms: Collection<SmsDocument>, id: ObjectId, route: MoRoute, now: Date): Promise<number> {
  const result = await sms.updateOne(
    { _id: id, state: SmsState.queued, 'target.systemId': '' },
    route.kind === 'http'
      ? { $set: { target: route.target, destKey: route.destKey, nextAttemptAt: now } }
      : route.kind === 'esme'
        ? { $set: { 'target.systemId': route.systemId, destKey: route.destKey, nextAttemptAt: now } }
        : { $set: { nextAttemptAt: route.retryAt } },
  );
  return result.modifiedCount;
}
