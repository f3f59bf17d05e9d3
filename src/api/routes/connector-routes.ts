import type { FastifyInstance } from 'fastify';
import { addConnector, listConnectors, removeConnector, setConnector } from '../../connectors/connector-admin.ts';
import type { ConnectorDocument } from '../../connectors/connector-document.ts';
import { connectorStatus, nodeStatus } from '../../ops/status.ts';
import { Collections } from '../../store/collections.ts';
import { ApiError } from '../api-errors.ts';
import type { ApiContext } from '../api-server.ts';
import { errorResponses } from '../schemas.ts';
import { asRequestError } from './account-routes.ts';

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const common = { tags: ['connectors'], security: [{ adminToken: [] }] };

/** Outbound connectors (admin token), with the session state each live node reports; no password ever leaves. */
export function registerConnectorRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx;
  const exists = async (name: string) => (await db.collection(Collections.connectors).countDocuments({ name }, { limit: 1 })) > 0;

  app.get(
    '/api/v1/connectors',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'List connectors and their states',
        response: { 200: { type: 'array', items: { $ref: 'Connector#' } }, ...errorResponses(403) },
      },
    },
    async () => {
      const [connectors, nodes] = await Promise.all([listConnectors(db), nodeStatus(db, ctx.clock.now())]);
      return connectors.map((c) => ({ ...c, states: connectorStatus(c as unknown as Record<string, unknown>, nodes).states }));
    },
  );

  app.post<{ Body: Partial<ConnectorDocument> }>(
    '/api/v1/connectors',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Add a connector',
        body: { $ref: 'ConnectorCreate#' },
        response: { 201: { $ref: 'Connector#' }, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      if (await exists(String(request.body.name))) throw new ApiError('CONFLICT', `connector ${request.body.name} already exists`);
      const view = await asRequestError(() => addConnector(db, request.body, ctx.clock.now()));
      return reply.code(201).send({ ...view, states: [] });
    },
  );

  app.patch<{ Params: { name: string }; Body: Partial<ConnectorDocument> }>(
    '/api/v1/connectors/:name',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Change a connector',
        params: nameParam,
        body: { $ref: 'ConnectorPatch#' },
        response: { 200: { $ref: 'Connector#' }, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      if (!(await exists(request.params.name))) throw new ApiError('NOT_FOUND', `no connector ${request.params.name}`);
      return asRequestError(() => setConnector(db, request.params.name, request.body, ctx.clock.now()));
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/v1/connectors/:name',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Remove a connector',
        params: nameParam,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await exists(request.params.name))) throw new ApiError('NOT_FOUND', `no connector ${request.params.name}`);
      await asRequestError(() => removeConnector(db, request.params.name));
      return reply.code(204).send();
    },
  );
}
