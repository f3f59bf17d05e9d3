/**
 * JSON schemas of the API: they validate requests, shape responses and are the OpenAPI document's
 * components (`/api/v1/openapi.json`). Field names are camelCase throughout.
 */
import { ApiErrors } from './api-errors.ts';

const dateTime = { type: 'string', format: 'date-time' } as const;
const SMS_STATES = ['queued', 'locked', 'submitted', 'delivered', 'undeliverable', 'expired', 'rejected', 'cancelled'];

export const MessageIdParam = { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'The id POST returned (24 hex digits)' } as const;

export const ErrorResponse = {
  $id: 'ErrorResponse',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ApiErrors) },
        message: { type: 'string', description: 'For people; the same reason an SMPP submit would have been given' },
        smppStatus: { type: 'integer', description: 'The command_status an SMPP submit would have got' },
        smppStatusName: { type: 'string', example: 'ESME_RINVDSTADR' },
      },
    },
  },
} as const;

export const MessageRequest = {
  $id: 'MessageRequest',
  type: 'object',
  additionalProperties: false,
  required: ['to', 'from'],
  description: 'One message. Give exactly one of `text` and `data`.',
  properties: {
    to: {
      type: 'string',
      minLength: 1,
      maxLength: 21,
      description: "Destination: digits, optional '+' (8 or more digits or '+' = international)",
      example: '+447700900123',
    },
    from: {
      type: 'string',
      minLength: 1,
      maxLength: 21,
      description: 'Sender: a number or an alphanumeric sender id (at most 11 characters)',
      example: 'ACME',
    },
    text: { type: 'string', maxLength: 40000, description: 'Message text; split into parts when long' },
    data: { type: 'string', maxLength: 90000, description: 'Binary user data, base64 (with dataCoding)' },
    dataCoding: { type: 'integer', minimum: 0, maximum: 255, description: 'SMPP data_coding for `data` (default 4, 8-bit data)' },
    encoding: {
      type: 'string',
      enum: ['auto', 'gsm7', 'latin1', 'ucs2'],
      description: 'For `text`; auto (default) = GSM 03.38 when every character fits, else UCS-2',
    },
    validUntil: { ...dateTime, description: 'End of validity (default: DEFAULT_VALIDITY_HOURS after arrival or schedule)' },
    validitySeconds: { type: 'integer', minimum: 1, maximum: 100_000_000, description: 'Validity from now, instead of validUntil' },
    scheduledAt: { ...dateTime, description: 'Deliver no earlier than this' },
    priority: { type: 'integer', minimum: -1000, maximum: 1000, description: 'SMPP priority_flag 0..3 (higher first)' },
    registeredDelivery: {
      type: 'integer',
      minimum: -1000,
      maximum: 1000,
      description: 'SMPP registered_delivery: 1 = receipt on the final outcome, 2 = on failure',
    },
    callbackUrl: {
      type: 'string',
      pattern: '^https?://',
      maxLength: 2048,
      description:
        "Where this message's receipts are POSTed (else the account's callback URL, if any); implies registeredDelivery 1 unless given; the account needs a callback secret",
    },
    account: { type: 'string', minLength: 1, maxLength: 15, description: 'Admin token only: the account the message is submitted for' },
  },
} as const;

export const MessageBatch = {
  $id: 'MessageBatch',
  type: 'object',
  additionalProperties: false,
  required: ['messages'],
  description: 'Several messages in one request (at most API_MAX_BATCH, default 1,000), each checked and stored on its own.',
  properties: {
    messages: { type: 'array', minItems: 1, items: MessageRequest },
  },
} as const;

export const SubmitResult = {
  $id: 'SubmitResult',
  type: 'object',
  required: ['messageId', 'messageIds', 'parts'],
  properties: {
    messageId: { type: 'string', description: 'Id of the first part: use it for GET and DELETE' },
    messageIds: { type: 'array', items: { type: 'string' }, description: 'One id per stored part' },
    parts: { type: 'integer' },
  },
} as const;

export const BatchResult = {
  $id: 'BatchResult',
  type: 'object',
  required: ['accepted', 'rejected', 'messages'],
  properties: {
    accepted: { type: 'integer' },
    rejected: { type: 'integer' },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index'],
        properties: {
          index: { type: 'integer', description: 'Position in the request' },
          messageId: { type: 'string' },
          messageIds: { type: 'array', items: { type: 'string' } },
          parts: { type: 'integer' },
          error: { $ref: 'ErrorResponse#/properties/error' },
        },
      },
    },
  },
} as const;

const messageProperties = {
  messageId: { type: 'string' },
  direction: { type: 'string', enum: ['mt', 'mo', 'receipt'] },
  account: { type: 'string' },
  state: { type: 'string', enum: SMS_STATES },
  from: { type: 'string' },
  to: { type: 'string' },
  destKey: { type: 'string', description: 'The normalised destination' },
  priority: { type: 'integer' },
  registeredDelivery: { type: 'integer' },
  arrivedAt: dateTime,
  scheduledAt: dateTime,
  validUntil: dateTime,
  nextAttemptAt: dateTime,
  finalAt: dateTime,
  attempts: { type: 'integer' },
  dataCoding: { type: 'integer' },
  text: { type: 'string', description: 'This part’s text, when it is text' },
  data: { type: 'string', description: 'This part’s user data (base64), when it is not text' },
  part: { type: 'object', properties: { seq: { type: 'integer' }, total: { type: 'integer' }, ref: { type: 'integer' } } },
  remote: { type: 'object', properties: { connector: { type: 'string' }, messageId: { type: 'string' }, submittedAt: dateTime } },
  error: {
    type: 'object',
    properties: { status: { type: 'integer' }, networkErrorCode: { type: 'integer' }, message: { type: 'string' } },
  },
  callbackUrl: { type: 'string' },
} as const;

export const Message = {
  $id: 'Message',
  type: 'object',
  required: ['messageId', 'state', 'account', 'arrivedAt'],
  properties: messageProperties,
} as const;

export const MessageDetail = {
  $id: 'MessageDetail',
  type: 'object',
  required: ['messageId', 'state', 'history', 'receipts', 'parts'],
  properties: {
    ...messageProperties,
    history: {
      type: 'array',
      description: 'Delivery attempts and receipts, oldest first (the timeline)',
      items: {
        type: 'object',
        properties: {
          at: dateTime,
          outcome: { type: 'string' },
          by: { type: 'string' },
          connector: { type: 'string' },
          status: { type: 'integer' },
          error: { type: 'string' },
        },
      },
    },
    parts: {
      type: 'array',
      description: 'The other parts of a long message',
      items: { type: 'object', properties: { messageId: { type: 'string' }, seq: { type: 'integer' }, state: { type: 'string' } } },
    },
    receipts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: {
            type: 'string',
            enum: ['downstream', 'esme', 'callback'],
            description:
              "downstream: the operator's receipt; esme: the receipt this SMSC made for the account's SMPP binds; callback: the one it POSTs to the account's URL",
          },
          at: dateTime,
          connector: { type: 'string' },
          stat: { type: 'string', description: 'DELIVRD, UNDELIV, EXPIRED, …' },
          state: {
            type: 'integer',
            description: 'SMPP message_state the downstream reported (per part of a message that left as several submits)',
          },
          err: { type: 'integer' },
          messageId: { type: 'string' },
          deliveryState: {
            type: 'string',
            description: 'For an esme or callback receipt: where it stands (queued, delivered, expired, …)',
          },
        },
      },
    },
  },
} as const;

export const MessageList = {
  $id: 'MessageList',
  type: 'object',
  required: ['messages', 'nextCursor'],
  properties: {
    messages: { type: 'array', items: { $ref: 'Message#' } },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
  },
} as const;

export const Account = {
  $id: 'Account',
  type: 'object',
  description: 'An ESME account; the password (hash) is never returned',
  properties: {
    systemId: { type: 'string' },
    tps: { type: 'integer' },
    maxBinds: { type: 'integer' },
    sourceAllow: { type: 'array', items: { type: 'string' } },
    maxQueued: { type: 'integer' },
    peer: { type: 'boolean' },
    enabled: { type: 'boolean' },
    callbackUrl: { type: 'string', description: 'Receipts and MO for this account are POSTed here' },
    generatedCallbackSecret: {
      type: 'string',
      description: 'Only in the answer that set a callback URL without a secret: the secret the SMSC generated (shown once)',
    },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

const accountFields = {
  password: { type: 'string', minLength: 1, maxLength: 8 },
  tps: { type: 'integer', minimum: 0 },
  maxBinds: { type: 'integer', minimum: 1 },
  sourceAllow: { type: 'array', items: { type: 'string' } },
  maxQueued: { type: 'integer', minimum: 0 },
  peer: { type: 'boolean' },
  callbackUrl: {
    type: 'string',
    maxLength: 2048,
    description: "HTTP callbacks: receipts and MO for the account are POSTed here ('' removes it)",
  },
  callbackSecret: {
    type: 'string',
    minLength: 16,
    maxLength: 128,
    description: "Write only: the key of the callbacks' HMAC-SHA256 signature (generated when a URL is set without one)",
  },
} as const;

export const AccountCreate = {
  $id: 'AccountCreate',
  type: 'object',
  additionalProperties: false,
  required: ['systemId', 'password'],
  properties: { systemId: { type: 'string', minLength: 1, maxLength: 15 }, ...accountFields },
} as const;

export const AccountPatch = {
  $id: 'AccountPatch',
  type: 'object',
  additionalProperties: false,
  properties: { ...accountFields, enabled: { type: 'boolean' } },
} as const;

const connectorFields = {
  host: { type: 'string', minLength: 1 },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  systemId: { type: 'string', minLength: 1, maxLength: 15 },
  systemType: { type: 'string' },
  bind: { type: 'string', enum: ['transceiver', 'transmitter'] },
  tps: { type: 'number', minimum: 0 },
  window: { type: 'integer', minimum: 1, maximum: 1000 },
  long: { type: 'string', enum: ['sar', 'udh8', 'udh16', 'payload'] },
  enabled: { type: 'boolean' },
  responseTimeoutMs: { type: 'integer', minimum: 1 },
  enquireLinkMs: { type: 'integer', minimum: 0 },
} as const;

const connectorPassword = { type: 'string', maxLength: 8, description: 'Write only: never returned' } as const;

export const Connector = {
  $id: 'Connector',
  type: 'object',
  description: 'An outbound SMPP connector (no password), with the session state each live node reports',
  properties: {
    name: { type: 'string' },
    ...connectorFields,
    createdAt: dateTime,
    updatedAt: dateTime,
    states: { type: 'array', items: { type: 'object', properties: { node: { type: 'string' }, state: { type: 'string' } } } },
  },
} as const;

export const ConnectorCreate = {
  $id: 'ConnectorCreate',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'port', 'systemId', 'password'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, ...connectorFields, password: connectorPassword },
} as const;

export const ConnectorPatch = {
  $id: 'ConnectorPatch',
  type: 'object',
  additionalProperties: false,
  properties: { ...connectorFields, password: connectorPassword },
} as const;

const routeFields = {
  prefix: { type: 'string', pattern: '^[0-9]*$', maxLength: 20, description: 'Destination prefix (digits; empty = default route)' },
  connectors: { type: 'array', items: { type: 'string' }, description: 'Primary first, then backups (deliver routes)' },
  esme: { type: 'string', description: 'MO routes: the ESME that receives these destinations' },
  priority: { type: 'integer' },
  weight: { type: 'number', exclusiveMinimum: 0 },
  enabled: { type: 'boolean' },
  action: {
    type: 'string',
    enum: ['deliver', 'drop', 'auto-reply'],
    description: 'What the route does (default deliver); drop and auto-reply act at intake',
  },
  replyText: { type: 'string', maxLength: 480, description: 'auto-reply: the text sent back to the sender' },
  charged: { type: 'boolean', description: 'Ask the charging endpoint before each delivery' },
} as const;

/** Conditions: absent means any; in a PATCH, null removes one. */
const routeConditions = {
  sourcePrefix: { type: ['string', 'null'], minLength: 1, maxLength: 21, description: 'The source address starts with this' },
  account: { type: ['string', 'null'], minLength: 1, maxLength: 15, description: 'The submitting account' },
  intake: { type: ['string', 'null'], enum: ['smpp', 'http', null], description: 'How the message arrived' },
  network: { type: ['string', 'null'], minLength: 1, maxLength: 32, description: 'The network an HLR lookup reported (ported numbers)' },
} as const;

const timeWindowInput = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['window'],
  description: 'Local time of day (and days) at which the route applies',
  properties: {
    window: { type: 'string', description: 'HH:MM-HH:MM (past midnight is fine, e.g. 22:00-06:00)' },
    days: { type: 'string', description: 'mon-fri, sat,sun, …; absent = every day' },
    timeZone: { type: 'string', description: 'IANA zone (Europe/Berlin); absent = UTC' },
  },
} as const;

export const Route = {
  $id: 'Route',
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...routeFields,
    sourcePrefix: { type: 'string' },
    account: { type: 'string' },
    intake: { type: 'string' },
    network: { type: 'string' },
    timeWindow: {
      type: 'object',
      description: 'As stored: minutes after midnight, days 0 (Sunday) to 6, zone',
      properties: {
        from: { type: 'integer' },
        to: { type: 'integer' },
        days: { type: 'array', items: { type: 'integer' } },
        timeZone: { type: 'string' },
      },
    },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const RouteCreate = {
  $id: 'RouteCreate',
  type: 'object',
  additionalProperties: false,
  required: ['prefix'],
  properties: { ...routeFields, ...routeConditions, timeWindow: timeWindowInput },
} as const;

export const RoutePatch = {
  $id: 'RoutePatch',
  type: 'object',
  additionalProperties: false,
  properties: { ...routeFields, ...routeConditions, timeWindow: timeWindowInput },
} as const;

export const RouteSimulation = {
  $id: 'RouteSimulation',
  type: 'object',
  required: ['to', 'destKey', 'action', 'route', 'reason'],
  properties: {
    to: { type: 'string' },
    destKey: { type: 'string', description: 'The destination as routes see it' },
    account: { type: 'string' },
    action: {
      type: 'string',
      enum: ['deliver', 'drop', 'auto-reply', 'none'],
      description: 'none = no route matches (the message would be undeliverable)',
    },
    route: { anyOf: [{ $ref: 'Route#' }, { type: 'null' }], description: 'The route the router chose' },
    connectors: { type: 'array', items: { type: 'string' }, description: 'deliver: in failover order' },
    connector: {
      type: ['string', 'null'],
      description: 'The connector it would leave over now: the first of `connectors` a node reports BOUND, else the primary',
    },
    charged: { type: 'boolean' },
    replyText: { type: 'string' },
    reason: { type: 'string', description: 'Why, in sentences joined by "; "' },
    why: { type: 'array', items: { type: 'string' } },
    candidates: {
      type: 'array',
      description: 'Every route considered, the chosen one first',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, route: { type: 'string' }, matched: { type: 'boolean' }, reason: { type: 'string' } },
      },
    },
    connectorStates: {
      type: 'array',
      items: { type: 'object', properties: { connector: { type: 'string' }, node: { type: 'string' }, state: { type: 'string' } } },
    },
  },
} as const;

export const SHARED_SCHEMAS = [
  ErrorResponse,
  MessageRequest,
  MessageBatch,
  SubmitResult,
  BatchResult,
  Message,
  MessageDetail,
  MessageList,
  Account,
  AccountCreate,
  AccountPatch,
  Connector,
  ConnectorCreate,
  ConnectorPatch,
  Route,
  RouteCreate,
  RoutePatch,
  RouteSimulation,
];

/** Error answers every authenticated route may give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of [400, 401, ...statuses]) {
    out[status] = {
      description: Object.entries(ApiErrors)
        .filter(([, e]) => e.status === status)
        .map(([code]) => code)
        .join(', '),
      $ref: 'ErrorResponse#',
    };
  }
  return out;
}
