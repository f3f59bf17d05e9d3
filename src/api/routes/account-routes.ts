import type { FastifyInstance } from 'fastify';
import { viewOf, type AccountPatch, type NewAccount } from '../../accounts/account-store.ts';
import { ConfigError } from '../../domain/errors.ts';
import { ApiError } from '../api-errors.ts';
import type { ApiContext } from '../api-server.ts';
import { errorResponses } from '../schemas.ts';

const systemIdParam = {
  type: 'object',
  required: ['systemId'],
  properties: { systemId: { type: 'string', minLength: 1, maxLength: 15 } },
} as const;
const common = { tags: ['accounts'], security: [{ adminToken: [] }] };

/**
 * ESME accounts (admin token). Passwords and callback secrets are write-only: no answer carries one
 * or a hash, except a callback secret the SMSC generated, shown once in the answer that made it.
 */
export function registerAccountRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const accounts = ctx.accounts;

  app.get(
    '/api/v1/accounts',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'List accounts',
        response: { 200: { type: 'array', items: { $ref: 'Account#' } }, ...errorResponses(403) },
      },
    },
    async () => accounts.list(),
  );

  app.get<{ Params: { systemId: string } }>(
    '/api/v1/accounts/:systemId',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'One account',
        params: systemIdParam,
        response: { 200: { $ref: 'Account#' }, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const account = await accounts.get(request.params.systemId);
      if (!account) throw new ApiError('NOT_FOUND', `no account ${request.params.systemId}`);
      return viewOf(account);
    },
  );

  app.post<{ Body: NewAccount }>(
    '/api/v1/accounts',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Create an account',
        body: { $ref: 'AccountCreate#' },
        response: { 201: { $ref: 'Account#' }, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      if (await accounts.get(request.body.systemId)) throw new ApiError('CONFLICT', `account ${request.body.systemId} already exists`);
      const view = await asRequestError(() => accounts.add(request.body));
      return reply.code(201).send(view);
    },
  );

  app.patch<{ Params: { systemId: string }; Body: AccountPatch }>(
    '/api/v1/accounts/:systemId',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Change an account (password, limits, enabled)',
        params: systemIdParam,
        body: { $ref: 'AccountPatch#' },
        response: { 200: { $ref: 'Account#' }, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const view = await asRequestError(() => accounts.set(request.params.systemId, request.body));
      if (!view) throw new ApiError('NOT_FOUND', `no account ${request.params.systemId}`);
      return view;
    },
  );

  app.delete<{ Params: { systemId: string } }>(
    '/api/v1/accounts/:systemId',
    {
      config: { auth: 'admin' },
      schema: {
        ...common,
        summary: 'Remove an account',
        params: systemIdParam,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await accounts.remove(request.params.systemId))) throw new ApiError('NOT_FOUND', `no account ${request.params.systemId}`);
      return reply.code(204).send();
    },
  );
}

/** The admin modules' validation errors (one sentence each) become 400 INVALID_REQUEST. */
export async function asRequestError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ConfigError) throw new ApiError('INVALID_REQUEST', error.message);
    throw error;
  }
}
