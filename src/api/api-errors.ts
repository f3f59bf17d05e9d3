import { SmscError } from '../domain/errors.ts';
import { CommandStatus, commandStatusName } from '../smpp/command-status.ts';
import { commandStatusOf } from '../smpp/errors.ts';

/**
 * Every error code the HTTP API answers with, and its HTTP status. Clients match on `code`; the
 * README's table of API errors is checked against this one by a test.
 */
export const ApiErrors = Object.freeze({
  INVALID_JSON: { status: 400, doc: 'the body is not JSON (or is empty where JSON is required)' },
  INVALID_REQUEST: { status: 400, doc: 'a field is missing, unknown or of the wrong type (the message names it)' },
  MESSAGE_REJECTED: { status: 400, doc: 'the message breaks a submit rule; `smppStatusName` is what an SMPP submit would have got' },
  UNAUTHORIZED: { status: 401, doc: 'no credentials, an unknown system_id, a wrong password or a wrong admin token' },
  FORBIDDEN: { status: 403, doc: 'the account is disabled, or the endpoint needs the admin token' },
  MANAGEMENT_DISABLED: { status: 403, doc: 'no admin token is configured (API_ADMIN_TOKEN), so management is off' },
  NOT_FOUND: { status: 404, doc: 'no such message (or not one of this account), account, connector, route or path' },
  CONFLICT: { status: 409, doc: 'the account or connector already exists' },
  NOT_CANCELLABLE: { status: 409, doc: 'the message is no longer queued (a deliverer has it, or it is final)' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, doc: 'a request with this Idempotency-Key is still being stored; retry after Retry-After' },
  BODY_TOO_LARGE: { status: 413, doc: 'the body is over API_BODY_LIMIT_BYTES, or the batch over API_MAX_BATCH messages' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'the body is not application/json' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, doc: 'the Idempotency-Key was used before with a different body' },
  THROTTLED: { status: 429, doc: "over the account's TPS (ESME_RTHROTTLED)" },
  QUEUE_FULL: { status: 429, doc: "the account's stored backlog is at its cap, or the store's queue is full (ESME_RMSGQFUL)" },
  AUTH_LOCKED: { status: 429, doc: 'too many failed logins from this address or for this system_id (the SMPP bind lockout)' },
  INTERNAL: { status: 500, doc: 'a bug; the log has the details' },
  STORE_UNAVAILABLE: { status: 503, doc: 'not stored within the store timeout (ESME_RSYSERR): resubmit, with the same Idempotency-Key' },
  TRY_LATER: {
    status: 503,
    doc: 'a check the message needs could not be made now (an HLR lookup the policy defers on: ESME_RX_T_APPN); resubmit later',
  },
} as const);

export type ApiErrorCode = keyof typeof ApiErrors;

/** The JSON body of every error: `{error: {code, message, smppStatus?, smppStatusName?}}`. */
export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  smppStatus?: number;
  smppStatusName?: string;
}

export class ApiError extends SmscError {
  readonly apiCode: ApiErrorCode;
  readonly statusCode: number;
  readonly smppStatus: number | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { smppStatus?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(`API_${code}`, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.apiCode = code;
    this.statusCode = ApiErrors[code].status;
    this.smppStatus = options.smppStatus;
    this.headers = Object.freeze({ ...options.headers });
  }

  toBody(): ApiErrorBody {
    const body: ApiErrorBody = { code: this.apiCode, message: this.message };
    if (this.smppStatus !== undefined) {
      body.smppStatus = this.smppStatus;
      body.smppStatusName = commandStatusName(this.smppStatus);
    }
    return body;
  }
}

/**
 * A submit refused by the inserter's rules (or the store), as the API reports it: the SMPP status
 * and reason an SMPP submit would have got, under the HTTP status that tells a client what to do.
 */
export function apiErrorOfSubmit(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = commandStatusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (status) {
    case CommandStatus.ESME_RTHROTTLED:
      return new ApiError('THROTTLED', message, { smppStatus: status, headers: { 'retry-after': '1' } });
    case CommandStatus.ESME_RMSGQFUL:
      return new ApiError('QUEUE_FULL', message, { smppStatus: status, headers: { 'retry-after': '5' } });
    case CommandStatus.ESME_RX_T_APPN:
      return new ApiError('TRY_LATER', message, { smppStatus: status, headers: { 'retry-after': '30' } });
    case CommandStatus.ESME_RSYSERR:
      return new ApiError('STORE_UNAVAILABLE', 'not stored; resubmit (with the same Idempotency-Key)', {
        smppStatus: status,
        headers: { 'retry-after': '1' },
        cause: error,
      });
    default:
      return new ApiError('MESSAGE_REJECTED', message, { smppStatus: status });
  }
}

/** Errors a retry may cure: their answers are not kept under an Idempotency-Key. */
export function isRetryableApiError(code: ApiErrorCode): boolean {
  return code === 'THROTTLED' || code === 'QUEUE_FULL' || code === 'STORE_UNAVAILABLE' || code === 'TRY_LATER' || code === 'INTERNAL';
}
