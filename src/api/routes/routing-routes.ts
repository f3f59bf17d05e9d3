import type { FastifyInstance } from 'fastify';
import { validateDestination } from '../../submission/submit-validation.ts';
import { connectorStatus, nodeStatus } from '../../ops/status.ts';
import { addRoute, listRoutes, removeRoutes, setRoute } from '../../routing/route-admin.ts';
import {
  INTAKE_KINDS,
  timeWindowFrom,
  type IntakeKindName,
  type RouteDocument,
  type TimeWindowInput,
} from '../../routing/route-document.ts';
import { Router } from '../../routing/router.ts';
import { Collections } from '../../store/collections.ts';
import { ApiError, apiErrorOfSubmit } from '../api-errors.ts';
import type { ApiContext } from '../api-server.ts';
import { addressOfText } from '../message-request.ts';
import { errorResponses } from '../schemas.ts';
import { asRequestError } from './account-routes.ts';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{24}$' } } } as const;
const common = { tags: ['routes'], security: [{ adminToken: [] }] };

/** Routes (admin token) and the simulator, which asks the delivery path's own router. */
export function registerRoutingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx;
  // No cache: the simulator answers for the routes as they are now (an edit shows at once).
  const router = new Router(db, ctx.logger, { refreshMs: 0 });

  app.get(
    '/api/v1/routes',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'List routes (longest prefix first)',
        response: { 200: { type: 'array', items: { $ref: 'Route#' } }, ...errorResponses(403) },
      },
    },
    async () => listRoutes(db),
  );

  app.post<{ Body: RouteInput }>(
    '/api/v1/routes',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Add a route',
        body: { $ref: 'RouteCreate#' },
        response: { 201: { $ref: 'Route#' }, ...errorResponses(403) },
      },
    },
    async (request, reply) => reply.code(201).send(await asRequestError(() => addRoute(db, routeOf(request.body), ctx.clock.now()))),
  );

  app.patch<{ Params: { id: string }; Body: RouteInput }>(
    '/api/v1/routes/:id',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Change a route',
        params: idParam,
        body: { $ref: 'RoutePatch#' },
        response: { 200: { $ref: 'Route#' }, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const found = (await listRoutes(db)).some((r) => r.id === request.params.id);
      if (!found) throw new ApiError('NOT_FOUND', `no route ${request.params.id}`);
      return asRequestError(() => setRoute(db, request.params.id, routeOf(request.body), ctx.clock.now()));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/routes/:id',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Remove a route',
        params: idParam,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const found = (await listRoutes(db)).some((r) => r.id === request.params.id);
      if (!found) throw new ApiError('NOT_FOUND', `no route ${request.params.id}`);
      await asRequestError(() => removeRoutes(db, { id: request.params.id }));
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { to: string; from?: string; account?: string; intake?: IntakeKindName; network?: string; at?: string } }>(
    '/api/v1/routes/simulate',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Where a message would go now, and why (the routing decision the deliverers make)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['to'],
          properties: {
            to: { type: 'string', minLength: 1, maxLength: 21, description: 'Destination' },
            from: {
              type: 'string',
              minLength: 1,
              maxLength: 21,
              description: 'Source address or sender id (routes may match on its prefix)',
            },
            account: { type: 'string', maxLength: 15, description: 'The submitting account (routes may be for one account)' },
            intake: { type: 'string', enum: [...INTAKE_KINDS], description: 'How the message arrives (default smpp)' },
            network: { type: 'string', maxLength: 32, description: "The destination's network as an HLR would report it" },
            at: { type: 'string', format: 'date-time', description: 'When (time windows); default now' },
          },
        },
        response: { 200: { $ref: 'RouteSimulation#' }, ...errorResponses(403) },
      },
    },
    async (request) => {
      const { to, from, account, intake, network } = request.body;
      let destKey: string;
      try {
        destKey = validateDestination(addressOfText(to, 'destination')).destKey;
      } catch (error) {
        throw apiErrorOfSubmit(error);
      }
      const at = request.body.at ? new Date(request.body.at) : ctx.clock.now();
      const [decision, nodes, connectorDocs] = await Promise.all([
        router.decide({
          to: destKey,
          ...(from ? { from } : {}),
          ...(account ? { account } : {}),
          intake: intake ?? 'smpp',
          ...(network ? { network } : {}),
          at,
        }),
        nodeStatus(db, ctx.clock.now()),
        db
          .collection(Collections.connectors)
          .find({}, { projection: { password: 0 } })
          .toArray(),
      ]);
      const connectorStates = connectorDocs.flatMap((doc) =>
        connectorStatus(doc, nodes).states.map((s) => ({ connector: String(doc.name), ...s })),
      );
      // The connector it would leave over now: the first of the decision's that a node reports bound.
      const bound = decision.connectors.find((name) => connectorStates.some((s) => s.connector === name && s.state === 'BOUND'));
      const connector = bound ?? decision.connectors[0] ?? null;
      const why = [...decision.why];
      if (decision.action === 'deliver') {
        why.push(
          bound
            ? `${bound} is ${bound === decision.connectors[0] ? 'the primary' : 'a backup'} and is bound`
            : `none of ${decision.connectors.join(', ')} is reported bound: the message would wait for ${connector}`,
        );
      }
      return {
        to,
        destKey,
        ...(account !== undefined ? { account } : {}),
        action: decision.action,
        route: decision.route ?? null,
        connectors: decision.connectors,
        connector,
        charged: decision.charged,
        ...(decision.replyText !== undefined ? { replyText: decision.replyText } : {}),
        reason: why.join('; '),
        why,
        candidates: decision.candidates,
        connectorStates,
      };
    },
  );
}

/** A route as the API takes it: conditions may be null (removed), the time window in words. */
type RouteInput = Omit<Partial<RouteDocument>, 'sourcePrefix' | 'account' | 'intake' | 'network' | 'timeWindow'> & {
  sourcePrefix?: string | null;
  account?: string | null;
  intake?: IntakeKindName | null;
  network?: string | null;
  timeWindow?: TimeWindowInput | null;
};

/** null removes a condition (undefined, which setRoute drops); the time window is parsed as the CLI does. */
function routeOf(input: RouteInput): Partial<RouteDocument> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'timeWindow') out.timeWindow = value === null ? undefined : timeWindowFrom(value as TimeWindowInput);
    else out[key] = value === null ? undefined : value;
  }
  return out as Partial<RouteDocument>;
}
