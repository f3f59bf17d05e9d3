import type { Db } from 'mongodb';

/** Collection names are part of the contract with operators (mongosh) and ops scripts. */
export const Collections = Object.freeze({
  sms: 'sms',
  locks: 'locks',
  events: 'events',
  accounts: 'accounts',
  routes: 'routes',
  connectors: 'connectors',
  correlations: 'correlations',
  nodes: 'nodes',
  /** Jobs one process of the deployment runs at a time (the queue sampler): `_id` = job name. */
  leases: 'leases',
  /** Answers to HTTP POSTs that carried an Idempotency-Key (TTL on `expiresAt`). */
  idempotencyKeys: 'idempotencyKeys',
} as const);

export type CollectionName = (typeof Collections)[keyof typeof Collections];

/** Capped: it only carries wake-ups, so losing old entries is harmless (a sweep finds the work). */
export const DEFAULT_EVENTS_SIZE_BYTES = 16 * 1024 * 1024;
/**
 * How long a correlation lives: a receipt may come until the message's validity ends (at most
 * 7 days after it is sent; `policy.maxValidityMs`) plus the grace before an unanswered message is
 * finalised, so a day on top of that.
 */
export const CORRELATION_TTL_SECONDS = 8 * 24 * 3600;

/** MongoDB's answer when an index exists under this name with other options (IndexOptionsConflict). */
const INDEX_OPTIONS_CONFLICT = 85;

interface IndexSpec {
  collection: CollectionName;
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Record<string, unknown>;
}

const INDEX_LIST: IndexSpec[] = [
  // The claim query: state 'queued', due, highest priority first, oldest due first.
  { collection: Collections.sms, key: { state: 1, priority: -1, nextAttemptAt: 1 }, name: 'claim' },
  { collection: Collections.sms, key: { state: 1, nextAttemptAt: 1 }, name: 'state_nextAttemptAt' },
  { collection: Collections.sms, key: { destKey: 1, state: 1, arrivedAt: 1 }, name: 'destKey_state_arrivedAt' },
  // Unique by construction (derived from _id); not a unique index, which would not survive sharding on destKey.
  { collection: Collections.sms, key: { messageId: 1 }, name: 'messageId' },
  { collection: Collections.sms, key: { validUntil: 1 }, name: 'validUntil' },
  // MO waiting for a route to an ESME: a handful of documents, swept every second by each
  // inserter; partial, so ordinary traffic pays nothing for it and the sweep reads only these.
  {
    collection: Collections.sms,
    key: { nextAttemptAt: 1 },
    name: 'unrouted_mo',
    partialFilterExpression: { state: 'queued', 'target.kind': 'esme', 'target.systemId': '' },
  },
  // The ESME delivery claim (receipts and MO for bound ESMEs) and its due timer: without it, each
  // claim walks every queued MT message in the claim index before finding the few for ESMEs.
  {
    collection: Collections.sms,
    key: { 'target.systemId': 1, priority: -1, nextAttemptAt: 1 },
    name: 'esme_claim',
    partialFilterExpression: { state: 'queued', 'target.kind': 'esme' },
  },
  // The HTTP callback claim (receipts and MO POSTed to accounts' URLs), like esme_claim.
  {
    collection: Collections.sms,
    key: { priority: -1, nextAttemptAt: 1 },
    name: 'http_claim',
    partialFilterExpression: { state: 'queued', 'target.kind': 'http' },
  },
  { collection: Collections.sms, key: { 'concat.groupId': 1 }, name: 'concat_groupId' },
  // The inserter's per-account backlog cap (ESME_RMSGQFUL) and query_sm / cancel_sm by account.
  { collection: Collections.sms, key: { account: 1, state: 1 }, name: 'account_state' },
  // The HTTP API's message listing for one account, newest first, paged by _id.
  { collection: Collections.sms, key: { account: 1, _id: -1 }, name: 'account_id' },
  { collection: Collections.locks, key: { leaseUntil: 1 }, name: 'leaseUntil' },
  { collection: Collections.accounts, key: { systemId: 1 }, name: 'systemId', unique: true },
  { collection: Collections.routes, key: { prefix: 1 }, name: 'prefix' },
  { collection: Collections.connectors, key: { name: 1 }, name: 'name', unique: true },
  { collection: Collections.correlations, key: { connector: 1, remoteId: 1 }, name: 'connector_remoteId', unique: true },
  { collection: Collections.correlations, key: { createdAt: 1 }, name: 'ttl_createdAt', expireAfterSeconds: CORRELATION_TTL_SECONDS },
  { collection: Collections.nodes, key: { expiresAt: 1 }, name: 'ttl_expiresAt', expireAfterSeconds: 0 },
  { collection: Collections.idempotencyKeys, key: { expiresAt: 1 }, name: 'ttl_expiresAt', expireAfterSeconds: 0 },
];
export const INDEXES: readonly IndexSpec[] = Object.freeze(INDEX_LIST);

/** Creates the capped `events` collection (when missing) and every index; safe to run repeatedly. */
export async function ensureSchema(db: Db, options: { eventsSizeBytes?: number } = {}): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  if (!existing.has(Collections.events)) {
    try {
      await db.createCollection(Collections.events, { capped: true, size: options.eventsSizeBytes ?? DEFAULT_EVENTS_SIZE_BYTES });
    } catch (error) {
      // Another process created it between our check and our create (NamespaceExists).
      if ((error as { code?: number }).code !== 48) throw error;
    }
  }
  const byCollection = new Map<CollectionName, IndexSpec[]>();
  for (const spec of INDEXES) byCollection.set(spec.collection, [...(byCollection.get(spec.collection) ?? []), spec]);
  for (const [collection, specs] of byCollection) {
    const describe = ({ key, name, unique, expireAfterSeconds, partialFilterExpression }: IndexSpec) => ({
      key,
      name,
      ...(partialFilterExpression ? { partialFilterExpression } : {}),
      ...(unique ? { unique } : {}),
      ...(expireAfterSeconds !== undefined ? { expireAfterSeconds } : {}),
    });
    try {
      await db.collection(collection).createIndexes(specs.map(describe));
    } catch (error) {
      if ((error as { code?: number }).code !== INDEX_OPTIONS_CONFLICT) throw error;
      // A TTL changed since the index was made (e.g. correlations 72 h -> 8 days): collMod changes it in place.
      for (const spec of specs) {
        if (spec.expireAfterSeconds !== undefined)
          await db.command({ collMod: collection, index: { name: spec.name, expireAfterSeconds: spec.expireAfterSeconds } });
        else await db.collection(collection).createIndexes([describe(spec)]);
      }
    }
  }
}
