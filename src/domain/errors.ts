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
