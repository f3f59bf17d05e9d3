/** MongoDB server error codes the stand-in answers with (names as in error_codes.yml). */
export const ErrorCode = Object.freeze({
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  CannotCreateIndex: 67,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  OperationFailed: 96,
  CappedPositionLost: 136,
  InvalidPipelineOperator: 168,
  NoSuchTransaction: 251,
  QueryFeatureNotAllowed: 224,
  DuplicateKey: 11000,
  Location40324: 40324,
} as const);

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeNumber = (typeof ErrorCode)[ErrorCodeName];

/**
 * Names of other server codes a reply can carry (a failCommand fail point answers with any code;
 * these are the ones drivers and tests use), as in MongoDB's error_codes.yml.
 */
const OTHER_NAMES: Readonly<Record<number, string>> = Object.freeze({
  6: 'HostUnreachable',
  7: 'HostNotFound',
  8: 'UnknownError',
  11: 'UserNotFound',
  18: 'AuthenticationFailed',
  24: 'LockTimeout',
  46: 'LockBusy',
  64: 'WriteConcernFailed',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  100: 'UnsatisfiableWriteConcern',
  112: 'WriteConflict',
  121: 'DocumentValidationFailure',
  133: 'FailedToSatisfyReadPreference',
  134: 'ReadConcernMajorityNotAvailableYet',
  175: 'QueryPlanKilled',
  189: 'PrimarySteppedDown',
  237: 'CursorKilled',
  262: 'ExceededTimeLimit',
  9001: 'SocketException',
  10107: 'NotWritablePrimary',
  11600: 'InterruptedAtShutdown',
  11601: 'Interrupted',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
});

const NAMES: ReadonlyMap<number, string> = new Map([
  ...Object.entries(OTHER_NAMES).map(([k, v]): [number, string] => [Number(k), v]),
  ...Object.entries(ErrorCode).map(([k, v]): [number, string] => [v, k]),
]);

export function codeNameOf(code: number): string {
  const name = NAMES.get(code);
  return name === undefined || name.startsWith('Location') ? `Location${code}` : name;
}

/** A command failure, answered as `{ok:0, errmsg, code, codeName, ...extra}`. */
export class CommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.codeName = codeNameOf(code);
    this.extra = extra;
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

export function badValue(message: string): CommandError {
  return new CommandError(ErrorCode.BadValue, message);
}

export function failedToParse(message: string): CommandError {
  return new CommandError(ErrorCode.FailedToParse, message);
}

/** Turns anything thrown while running a command (mingo errors included) into a CommandError. */
export function toCommandError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const undefinedVar = /^Use of undefined variable: (\S+)/.exec(message);
  if (undefinedVar !== null) {
    if (undefinedVar[1] === 'CLUSTER_TIME') return new CommandError(51144, "Builtin variable '$$CLUSTER_TIME' is not available");
    return new CommandError(17276, `Use of undefined variable: ${undefinedVar[1]}`);
  }
  if (/immutable field '_id'/.test(message)) return new CommandError(ErrorCode.ImmutableField, message);
  if (/would create a conflict/.test(message)) return new CommandError(ErrorCode.ConflictingUpdateOperators, message);
  if (/unregistered pipeline operator|Unrecognized pipeline stage/i.test(message)) {
    return new CommandError(ErrorCode.Location40324, message);
  }
  if (/unknown|not supported|invalid|must be|expected/i.test(message)) return new CommandError(ErrorCode.BadValue, message);
  return new CommandError(ErrorCode.InternalError, message);
}
