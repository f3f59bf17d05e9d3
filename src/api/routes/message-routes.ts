import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { ObjectId, type Filter } from 'mongodb';
import { limitsOf, type AccountLimits } from '../../accounts/account.ts';
import { MessageOps } from '../../inserter/message-ops.ts';
import { validateDestination } from '../../submission/submit-validation.ts';
import { loadMessageStory } from '../../ops/message-story.ts';
import { OpsError } from '../../ops/errors.ts';
import { CommandStatus } from '../../smpp/command-status.ts';
import { SmppError } from '../../smpp/errors.ts';
import { Collections } from '../../store/collections.ts';
import { SmsState, type SmsDocument } from '../../domain/sms-document.ts';
import type { Principal } from '../api-auth.ts';
import { ApiError, apiErrorOfSubmit, isRetryableApiError } from '../api-errors.ts';
import type { ApiContext } from '../api-server.ts';
import { IDEMPOTENCY_KEY_PATTERN, requestHashOf } from '../idempotency.ts';
import { addressOfText, type MessageRequest as MessageRequestBody } from '../message-request.ts';
import type { ItemOutcome } from '../message-submitter.ts';
import { messageDetailView, messageView } from '../message-view.ts';
import { errorResponses, MessageBatch, MessageIdParam, MessageRequest } from '../schemas.ts';

type PostBody = MessageRequestBody | { messages: MessageRequestBody[] };
interface Answer {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
}

const LIST_LIMIT_MAX = 500;

/**
 * One validator per body shape, picked by whether the body has `messages`: a schema with oneOf
 * would answer a single message missing `to` with three errors about the wrong shape.
 */
function postBodyValidator(): (data: unknown) => { value?: unknown; error?: Error } {
  const ajv = new Ajv({ allErrors: false, strict: false });
  addFormats.default(ajv, ['date-time']);
  const single = ajv.compile(MessageRequest);
  const batch = ajv.compile(MessageBatch);
  const describe = (validate: ValidateFunction): Error => {
    const e = validate.errors?.[0] as ErrorObject;
    const where = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : 'body';
    let message = `${where} ${e.message}`;
    if (e.keyword === 'additionalProperties')
      message = `${where} has an unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'required')
      message = `${where === 'body' ? '' : `${where}: `}${(e.params as { missingProperty: string }).missingProperty} is required`;
    return new ApiError('INVALID_REQUEST', message);
  };
  return (data) => {
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      return { error: new ApiError('INVALID_REQUEST', 'the body must be a JSON object (one message, or {"messages": [...]})') };
    const validate = 'messages' in data ? batch : single;
    return validate(data) ? { value: data } : { error: describe(validate) };
  };
}

export function registerMessageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const validator = postBodyValidator();
  const ops = new MessageOps(ctx.db, ctx.writer.writeConcern);
  const sms = ctx.db.collection<SmsDocument>(Collections.sms);

  app.post<{ Body: PostBody; Headers: { 'idempotency-key'?: string } }>(
    '/api/v1/messages',
    {
      config: { auth: 'any' },
      validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? validator : (data: unknown) => ({ value: data })),
      schema: {
        summary: 'Submit one message or a batch',
        description:
          'Stores each message exactly as an SMPP submit would (same rules and reasons, store before answer, same group commit, same ' +
          'long-message splitting) and answers with its id(s). A batch answers 201 when every message was stored, 207 when some were ' +
          'refused (each item says why), and 429/503 when none was stored for a reason a retry may cure. With an Idempotency-Key a retried ' +
          'POST gets the first answer back instead of storing again (answers to THROTTLED, QUEUE_FULL and STORE_UNAVAILABLE are not kept).',
        tags: ['messages'],
        security: [{ basicAuth: [] }, { adminToken: [] }],
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', description: 'Printable ASCII, 1-255 characters; kept API_IDEMPOTENCY_HOURS' },
          },
        },
        body: { oneOf: [{ $ref: 'MessageRequest#' }, { $ref: 'MessageBatch#' }] },
        response: {
          201: { description: 'Stored', oneOf: [{ $ref: 'SubmitResult#' }, { $ref: 'BatchResult#' }] },
          207: { description: 'Batch: some stored, some refused', $ref: 'BatchResult#' },
          ...errorResponses(403, 404, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const items = 'messages' in body ? body.messages : [body];
      if (items.length > ctx.maxBatch)
        throw new ApiError('BODY_TOO_LARGE', `a batch holds at most ${ctx.maxBatch} messages, got ${items.length}`);
      const limits = await limitsFor(request.principal!, items, ctx);
      if (items.some((item) => item.callbackUrl !== undefined)) {
        // Callbacks are signed with the account's secret: without one they could not be.
        const account = await ctx.accounts.get(limits.systemId);
        if (!account?.callbackSecret) {
          throw new ApiError(
            'INVALID_REQUEST',
            'callbackUrl needs a callback secret on the account (PATCH /api/v1/accounts/{systemId} with callbackSecret, or smsc account set --callback-secret)',
          );
        }
      }
      const key = request.headers['idempotency-key'];
      if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key))
        throw new ApiError('INVALID_REQUEST', 'Idempotency-Key must be 1-255 printable ASCII characters');
      const answer = await answerPost(
        ctx,
        limits,
        items,
        'messages' in body,
        key === undefined ? undefined : { id: `${limits.systemId}:${key}`, hash: requestHashOf(body) },
      );
      return reply
        .code(answer.statusCode)
        .headers(answer.headers ?? {})
        .send(answer.body);
    },
  );

  app.get<{ Params: { messageId: string } }>(
    '/api/v1/messages/:messageId',
    {
      config: { auth: 'any' },
      schema: {
        summary: 'One message: state, history (the timeline), parts and receipts',
        tags: ['messages'],
        security: [{ basicAuth: [] }, { adminToken: [] }],
        params: { type: 'object', properties: { messageId: MessageIdParam }, required: ['messageId'] },
        response: { 200: { $ref: 'MessageDetail#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      let story;
      try {
        story = await loadMessageStory(ctx.db, request.params.messageId, ctx.clock);
      } catch (error) {
        if (error instanceof OpsError) throw notFound(request.params.messageId);
        throw error;
      }
      // Another account's message is as absent as one that never existed.
      if (!visibleTo(request.principal!, story.message.account)) throw notFound(request.params.messageId);
      return messageDetailView(story);
    },
  );

  app.get<{
    Querystring: { state?: string; to?: string; account?: string; since?: string; limit?: string; cursor?: string; direction?: string };
  }>(
    '/api/v1/messages',
    {
      config: { auth: 'any' },
      schema: {
        summary: 'List messages, newest first, with cursor paging',
        description: 'An account sees only its own messages; the admin sees all (or one account with `account`).',
        tags: ['messages'],
        security: [{ basicAuth: [] }, { adminToken: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: Object.values(SmsState) },
            to: { type: 'string', maxLength: 21, description: 'Destination (matched on the normalised form)' },
            account: { type: 'string', maxLength: 15 },
            direction: { type: 'string', enum: ['mt', 'mo', 'receipt'], description: 'Default mt (messages submitted by accounts)' },
            since: { type: 'string', format: 'date-time', description: 'Arrived at or after this' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: `Page size, 1-${LIST_LIMIT_MAX} (default 50)` },
            cursor: { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'nextCursor of the previous page' },
          },
        },
        response: { 200: { $ref: 'MessageList#' }, ...errorResponses(403) },
      },
    },
    async (request) => {
      const q = request.query;
      const principal = request.principal!;
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (limit < 1 || limit > LIST_LIMIT_MAX) throw new ApiError('INVALID_REQUEST', `limit must be 1-${LIST_LIMIT_MAX}`);
      const filter: Filter<SmsDocument> = { direction: (q.direction ?? 'mt') as SmsDocument['direction'] };
      if (principal.kind === 'account') {
        if (q.account !== undefined && q.account !== principal.limits.systemId)
          throw new ApiError('FORBIDDEN', 'an account lists only its own messages');
        filter.account = principal.limits.systemId;
      } else if (q.account !== undefined) filter.account = q.account;
      if (q.state) filter.state = q.state as SmsDocument['state'];
      if (q.to !== undefined) {
        try {
          filter.destKey = validateDestination(addressOfText(q.to, 'destination')).destKey;
        } catch (error) {
          throw apiErrorOfSubmit(error);
        }
      }
      const idRange: { $lt?: ObjectId; $gte?: ObjectId } = {};
      if (q.cursor) idRange.$lt = new ObjectId(q.cursor);
      if (q.since) {
        const since = new Date(q.since);
        // _id starts with its creation second: a range on _id uses the index; arrivedAt trims the edge.
        idRange.$gte = ObjectId.createFromTime(Math.floor(since.getTime() / 1000));
        filter.arrivedAt = { $gte: since };
      }
      if (idRange.$lt || idRange.$gte) filter._id = idRange;
      const docs = await sms
        .find(filter)
        .sort({ _id: -1 })
        .limit(limit + 1)
        .toArray();
      const page = docs.slice(0, limit);
      return { messages: page.map(messageView), nextCursor: docs.length > limit ? page[page.length - 1].messageId : null };
    },
  );

  app.delete<{ Params: { messageId: string } }>(
    '/api/v1/messages/:messageId',
    {
      config: { auth: 'any' },
      schema: {
        summary: 'Cancel a message that is still queued (cancel_sm)',
        description:
          'The same compare-and-swap as cancel_sm: queued -> cancelled, with the other queued parts of a long message. A message a deliverer has locked, or one already final, answers 409.',
        tags: ['messages'],
        security: [{ basicAuth: [] }, { adminToken: [] }],
        params: { type: 'object', properties: { messageId: MessageIdParam }, required: ['messageId'] },
        response: {
          200: { type: 'object', properties: { messageId: { type: 'string' }, state: { type: 'string' } } },
          ...errorResponses(404, 409),
        },
      },
    },
    async (request) => {
      const { messageId } = request.params;
      const principal = request.principal!;
      const found = await sms.findOne({ messageId, direction: 'mt' }, { projection: { account: 1, state: 1 } });
      if (!found || !visibleTo(principal, found.account)) throw notFound(messageId);
      try {
        await ops.cancel(
          { messageId, serviceType: '', source: { ton: 0, npi: 0, addr: '' }, dest: { ton: 0, npi: 0, addr: '' } },
          cancelLimits(found.account),
          ctx.clock.now(),
        );
      } catch (error) {
        if (error instanceof SmppError && error.commandStatus === CommandStatus.ESME_RCANCELFAIL) {
          const now = await sms.findOne({ messageId }, { projection: { state: 1 } });
          throw new ApiError('NOT_CANCELLABLE', `message is ${now?.state ?? 'gone'}, no longer queued`, {
            smppStatus: error.commandStatus,
          });
        }
        throw error;
      }
      return { messageId, state: SmsState.cancelled };
    },
  );
}

/** The account a POST stores for: the caller's own, or (admin token) the one every message names. */
async function limitsFor(principal: Principal, items: MessageRequestBody[], ctx: ApiContext): Promise<AccountLimits> {
  if (principal.kind === 'account') {
    const other = items.find((item) => item.account !== undefined && item.account !== principal.limits.systemId);
    if (other) throw new ApiError('FORBIDDEN', '`account` is for the admin token; an account submits as itself');
    return principal.limits;
  }
  const names = new Set(items.map((item) => item.account));
  if (names.has(undefined)) throw new ApiError('INVALID_REQUEST', 'with the admin token every message names its account');
  if (names.size > 1) throw new ApiError('INVALID_REQUEST', 'a batch is submitted for one account');
  const systemId = items[0].account as string;
  const account = await ctx.accounts.get(systemId);
  if (!account) throw new ApiError('NOT_FOUND', `no account ${systemId}`);
  if (account.enabled === false) throw new ApiError('FORBIDDEN', `account ${systemId} is disabled`);
  return limitsOf(account);
}

/** Stores the messages, under an Idempotency-Key when one was given. */
async function answerPost(
  ctx: ApiContext,
  limits: AccountLimits,
  items: MessageRequestBody[],
  isBatch: boolean,
  key: { id: string; hash: string } | undefined,
): Promise<Answer> {
  if (!key) return answerOf(await ctx.submitter.submit(limits, items), isBatch);
  for (let attempt = 0; attempt < 3; attempt++) {
    let token: string | null = null;
    let taken = false;
    let outcomes: ItemOutcome[] | undefined;
    try {
      outcomes = await ctx.submitter.submit(limits, items, {
        // Claimed once the ids are known and before anything is stored: the record names them.
        onPrepared: async (ids) => {
          token = await ctx.idempotency.claim(key.id, key.hash, ids);
          if (!token) {
            taken = true;
            throw new KeyTaken();
          }
        },
      });
    } catch (error) {
      if (!(error instanceof KeyTaken)) {
        if (token) await ctx.idempotency.release(key.id, token).catch(() => undefined);
        throw error;
      }
    }
    if (!taken && outcomes && token) return settle(ctx, key.id, token, answerOf(outcomes, isBatch));

    const existing = await ctx.idempotency.existing(key.id, key.hash);
    switch (existing.kind) {
      case 'replay':
        return { statusCode: existing.statusCode, body: existing.body, headers: { 'idempotent-replayed': 'true' } };
      case 'mismatch':
        throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different body');
      case 'in-progress':
        throw new ApiError('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still being stored', {
          headers: { 'retry-after': String(existing.retryAfterSeconds) },
        });
      case 'gone':
        continue; // Released (or expired) between our claim and our read: claim again.
      case 'taken-over': {
        // The first request died mid-way: store what it did not, under the ids it announced.
        try {
          const resumed = await ctx.submitter.submit(limits, items, { plannedIds: existing.plannedIds, resume: true });
          return await settle(ctx, key.id, existing.token, answerOf(resumed, isBatch));
        } catch (error) {
          await ctx.idempotency.release(key.id, existing.token).catch(() => undefined);
          throw error;
        }
      }
    }
  }
  throw new ApiError('IDEMPOTENCY_IN_PROGRESS', 'this Idempotency-Key is contended; retry', { headers: { 'retry-after': '1' } });
}

/** Keeps the answer under the key, unless it is one a retry may cure (then the key is freed). */
async function settle(ctx: ApiContext, id: string, token: string, answer: Answer): Promise<Answer> {
  const retryable = answer.statusCode === 429 || answer.statusCode >= 500;
  if (retryable) await ctx.idempotency.release(id, token);
  else await ctx.idempotency.complete(id, token, answer.statusCode, answer.body);
  return answer;
}

class KeyTaken extends Error {}

function answerOf(outcomes: ItemOutcome[], isBatch: boolean): Answer {
  if (!isBatch) {
    const outcome = outcomes[0];
    if (outcome.ok)
      return {
        statusCode: 201,
        body: { messageId: outcome.messageIds[0], messageIds: outcome.messageIds, parts: outcome.messageIds.length },
      };
    return { statusCode: outcome.error.statusCode, body: { error: outcome.error.toBody() }, headers: { ...outcome.error.headers } };
  }
  const accepted = outcomes.filter((o) => o.ok).length;
  const messages = outcomes.map((o, index) =>
    o.ok ? { index, messageId: o.messageIds[0], messageIds: o.messageIds, parts: o.messageIds.length } : { index, error: o.error.toBody() },
  );
  const body = { accepted, rejected: outcomes.length - accepted, messages };
  if (accepted === outcomes.length) return { statusCode: 201, body };
  // Nothing stored, and only for reasons a retry may cure: answer as for one message, so a client's
  // ordinary retry logic (429, 503, Retry-After) applies to the whole batch.
  if (accepted === 0 && outcomes.every((o) => !o.ok && isRetryableApiError(o.error.apiCode))) {
    const first = (outcomes[0] as Extract<ItemOutcome, { ok: false }>).error;
    return { statusCode: first.statusCode, body: { error: first.toBody() }, headers: { ...first.headers } };
  }
  return { statusCode: 207, body };
}

function visibleTo(principal: Principal, account: string): boolean {
  return principal.kind === 'admin' || principal.limits.systemId === account;
}

/** cancel_sm filters on the account; the message's own account is the one to name. */
function cancelLimits(account: string): AccountLimits {
  return { systemId: account, tps: 0, maxBinds: 1, sourceAllow: [], maxQueued: 0 };
}

function notFound(messageId: string): ApiError {
  return new ApiError('NOT_FOUND', `no message ${messageId}`);
}
