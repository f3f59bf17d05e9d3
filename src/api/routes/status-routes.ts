import type { FastifyInstance } from 'fastify';
import { ObjectId } from 'mongodb';
import { collectStatus, nodeStatus, queueDepthByState } from '../../ops/status.ts';
import { Collections } from '../../store/collections.ts';
import { SmsState, type SmsDocument } from '../../domain/sms-document.ts';
import type { ApiContext } from '../api-server.ts';
import { errorResponses } from '../schemas.ts';

const common = { tags: ['status'], security: [{ adminToken: [] }] };
const ARRIVALS_WINDOW_S = 10;
const dateTime = { type: 'string', format: 'date-time' } as const;

/** Status for operators and the panel (admin token): the `smsc status` report, nodes, queue depth. */
export function registerStatusRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx;
  const sms = db.collection<SmsDocument>(Collections.sms);

  app.get(
    '/api/v1/status',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'What `smsc status --json` prints: queue, locks, oldest due message, nodes, connectors',
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses(403) },
      },
    },
    async () => collectStatus(db, ctx.clock),
  );

  app.get(
    '/api/v1/nodes',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Running processes and their heartbeats',
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                kind: { type: 'string' },
                host: { type: 'string' },
                pid: { type: 'integer' },
                startedAt: dateTime,
                lastSeenAt: dateTime,
                live: { type: 'boolean', description: 'False once its heartbeats stopped' },
                info: { type: 'object', additionalProperties: true },
              },
            },
          },
          ...errorResponses(403),
        },
      },
    },
    async () => nodeStatus(db, ctx.clock.now()),
  );

  app.get(
    '/api/v1/queue',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Queue depth by state and by connector, and the arrival rate',
        response: {
          200: {
            type: 'object',
            properties: {
              at: dateTime,
              byState: { type: 'object', additionalProperties: { type: 'integer' } },
              due: { type: 'integer', description: 'Queued and due now' },
              backlog: { type: 'integer', description: 'Queued, locked and submitted (awaiting a receipt)' },
              arrivalsPerSecond: { type: 'number', description: `Messages stored per second over the last ${ARRIVALS_WINDOW_S} s` },
              byConnector: {
                type: 'array',
                description:
                  'Unfinished messages by the connector they left over (submitted) or are pinned to; null = chosen by route at delivery',
                items: {
                  type: 'object',
                  properties: { connector: { type: ['string', 'null'] }, state: { type: 'string' }, count: { type: 'integer' } },
                },
              },
            },
          },
          ...errorResponses(403),
        },
      },
    },
    async () => {
      const now = ctx.clock.now();
      const unfinished = [SmsState.queued, SmsState.locked, SmsState.submitted];
      const [byState, due, arrivals, byConnector] = await Promise.all([
        queueDepthByState(db),
        sms.countDocuments({ state: SmsState.queued, nextAttemptAt: { $lte: now } }),
        // _id begins with its creation second: a count on the _id index, however large `sms` is.
        sms.countDocuments({ _id: { $gte: ObjectId.createFromTime(Math.floor(now.getTime() / 1000) - ARRIVALS_WINDOW_S) } }),
        sms
          .aggregate<{ _id: { connector: string | null; state: string }; n: number }>(
            [
              { $match: { state: { $in: unfinished } } },
              {
                $group: {
                  _id: {
                    connector: { $ifNull: ['$remote.connector', { $ifNull: [{ $arrayElemAt: ['$target.connectors', 0] }, null] }] },
                    state: '$state',
                  },
                  n: { $sum: 1 },
                },
              },
            ],
            { maxTimeMS: 5_000 },
          )
          .toArray(),
      ]);
      return {
        at: now,
        byState,
        due,
        backlog: unfinished.reduce((sum, state) => sum + (byState[state] ?? 0), 0),
        arrivalsPerSecond: arrivals / ARRIVALS_WINDOW_S,
        byConnector: byConnector
          .map((row) => ({ connector: row._id.connector ?? null, state: row._id.state, count: row.n }))
          .sort((a, b) => String(a.connector).localeCompare(String(b.connector)) || a.state.localeCompare(b.state)),
      };
    },
  );
}
