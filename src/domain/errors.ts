/**
 * The one base class of our errors. `code` is stable (scripts and tests match on it);
 * the message is for people.
 */
export class SmscError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad configuration or CLI input: shown to the operator as one sentence. */
export class ConfigError extends SmscError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/**
 * Codes of the store's write failures (StoreWriteError in src/store/group-commit.ts). Here, with
 * the other codes, so the SMPP and HTTP edges can answer each with its status without the store
 * knowing either protocol.
 */
export const StoreErrorCode = Object.freeze({
  WRITE_FAILED: 'STORE_WRITE_FAILED',
  WRITE_TIMEOUT: 'STORE_WRITE_TIMEOUT',
  /** Refused for lack of room (too many documents waiting for a batch): try again later. */
  QUEUE_FULL: 'STORE_QUEUE_FULL',
  CLOSED: 'STORE_CLOSED',
} as const);
export type StoreErrorCodeName = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];
