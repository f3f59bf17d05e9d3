import type { FastifyInstance } from 'fastify';
import { validateDestination } from '../../inserter/submit-validation.ts';
import { connectorStatus, nodeStatus } from '../../ops/status.ts';
import { addRoute, listRoutes, removeRoutes, updateRoute, type RouteView } from '../../routing/route-admin.ts';
import type { RouteDocument } from '../../routing/route-document.ts';
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

  app.get('/api/v1/routes', {
    config: { auth: 'admin' },
    schema: { ...common, summary: 'List routes (longest prefix first)', response: { 200: { type: 'array', items: { $ref: 'Route#' } }, ...errorResponses(403) } },
  }, async () => listRoutes(db));

  app.post<{ Body: Partial<RouteDocument> }>('/api/v1/routes', {
    config: { auth: 'admin' },
    schema: { ...common, summary: 'Add a route', body: { $ref: 'RouteCreate#' }, response: { 201: { $ref: 'Route#' }, ...errorResponses(403) } },
  }, async (request, reply) => reply.code(201).send(await asRequestError(() => addRoute(db, request.body, ctx.clock.now()))));

  app.patch<{ Params: { id: string }; Body: Partial<RouteDocument> }>('/api/v1/routes/:id', {
    config: { auth: 'admin' },
    schema: { ...common, summary: 'Change a route', params: idParam, body: { $ref: 'RoutePatch#' }, response: { 200: { $ref: 'Route#' }, ...errorResponses(403, 404) } },
  }, async (request) => {
    const route = await asRequestError(() => updateRoute(db, request.params.id, request.body, ctx.clock.now()));
    if (!route) throw new ApiError('NOT_FOUND', `no route ${request.params.id}`);
    return route;
  });

  app.delete<{ Params: { id: string } }>('/api/v1/routes/:id', {
    config: { auth: 'admin' },
    schema: { ...common, summary: 'Remove a route', params: idParam, response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses(403, 404) } },
  }, async (request, reply) => {
    const found = (await listRoutes(db)).some((r) => r.id === request.params.id);
    if (!found) throw new ApiError('NOT_FOUND', `no route ${request.params.id}`);
    await asRequestError(() => removeRoutes(db, { id: request.params.id }));
    return reply.code(204).send();
  });

  app.post<{ Body: { to: string; account?: string } }>('/api/v1/routes/simulate', {
    config: { auth: 'admin' },
    schema: {
      ...common,
      summary: 'Which connector a destination (and account) would use now, and why',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['to'],
        properties: {
          to: { type: 'string', minLength: 1, maxLength: 21 },
          account: { type: 'string', maxLength: 15, description: 'The submitting account (echoed; routes do not depend on the account yet)' },
        },
      },
      response: { 200: { $ref: 'RouteSimulation#' }, ...errorResponses(403) },
    },
  }, async (request) => {
    const { to, account } = request.body;
    let destKey: string;
    try {
      destKey = validateDestination(addressOfText(to, 'destination')).destKey;
    } catch (error) {
      throw apiErrorOfSubmit(error);
    }
    const [route, routes, nodes, connectorDocs] = await Promise.all([
      router.route(destKey),
      listRoutes(db),
      nodeStatus(db, ctx.clock.now()),
      db.collection(Collections.connectors).find({}, { projection: { password: 0 } }).toArray(),
    ]);
    const digits = destKey.startsWith('+') ? destKey.slice(1) : destKey;
    // Shown, not chosen: the choice above is the router's.
    const candidates = routes.filter((r) => r.enabled !== false && digits.startsWith(r.prefix));
    const picked = route ? candidates.find((c) => sameRoute(c, route)) ?? ({ ...route, id: '' } as RouteView) : null;
    const connectorStates = connectorDocs.flatMap((doc) => connectorStatus(doc, nodes).states.map((s) => ({ connector: String(doc.name), ...s })));
    let connector: string | null = null;
    let reason: string;
    if (!picked) {
      reason = candidates.length === 0 && routes.length > 0 ? `no enabled route matches ${destKey}; the message would be refused as undeliverable` : `no route for ${destKey}; the message would be refused as undeliverable`;
    } else if (picked.esme) {
      reason = `route prefix "${picked.prefix}" sends ${destKey} to the ESME ${picked.esme}`;
    } else {
      const bound = picked.connectors.find((name) => connectorStates.some((s) => s.connector === name && s.state === 'BOUND'));
      connector = bound ?? picked.connectors[0] ?? null;
      const why = `longest matching prefix "${picked.prefix}"${candidates.length > 1 ? ` among ${candidates.length} matching routes` : ''}, priority ${picked.priority}, weight ${picked.weight}`;
      reason = bound
        ? `${why}; ${bound} is ${bound === picked.connectors[0] ? 'the primary' : 'a backup'} and is bound`
        : `${why}; none of ${picked.connectors.join(', ')} is reported bound, so the message would wait for ${connector}`;
    }
    return {
      to,
      destKey,
      ...(account !== undefined ? { account } : {}),
      route: picked,
      connector,
      esme: picked?.esme ?? null,
      reason,
      candidates: candidates.sort((a, b) => b.prefix.length - a.prefix.length || b.priority - a.priority),
      connectorStates,
    };
  });
}

function sameRoute(view: RouteView, route: RouteDocument): boolean {
  return (
    view.prefix === route.prefix &&
    view.priority === route.priority &&
    view.weight === route.weight &&
    (view.esme ?? '') === (route.esme ?? '') &&
    view.connectors.join('\0') === route.connectors.join('\0')
  );
}
