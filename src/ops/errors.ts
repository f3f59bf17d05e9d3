import { SmscError } from '../domain/errors.ts';

export const OpsErrorCode = Object.freeze({
  messageNotFound: 'MESSAGE_NOT_FOUND',
  badSelector: 'REQUEUE_BAD_SELECTOR',
  notRequeueable: 'REQUEUE_NOT_ALLOWED',
  submitInvalid: 'SUBMIT_INVALID',
  submitFailed: 'SUBMIT_FAILED',
  receiptTimeout: 'RECEIPT_TIMEOUT',
} as const);
export type OpsErrorCodeName = (typeof OpsErrorCode)[keyof typeof OpsErrorCode];

/** Operator-facing failures of the management commands; the message is the one sentence printed. */
export class OpsError extends SmscError {
  constructor(code: OpsErrorCodeName, message: string) {
    super(code, message);
  }
}
