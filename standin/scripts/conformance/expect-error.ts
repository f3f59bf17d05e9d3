import { MongoError, MongoServerError } from 'mongodb';
import { show } from './bson-values.ts';
import { RunnerError, UnsupportedError } from './entities.ts';
import { match, MatchError, type MatchOptions } from './matcher.ts';

/** The fields of an `expectError` this runner checks. */
const SUPPORTED_KEYS = new Set([
  'isError',
  'isClientError',
  'errorContains',
  'errorCode',
  'errorCodeName',
  'errorLabelsContain',
  'errorLabelsOmit',
  'errorResponse',
  'expectResult',
]);

/** An error that comes from the runner, not from the driver or server, never satisfies expectError. */
export function isRunnerError(error: unknown): boolean {
  return error instanceof RunnerError || error instanceof UnsupportedError || error instanceof MatchError;
}

function labelsOf(error: unknown): string[] {
  if (!(error instanceof MongoError)) return [];
  try {
    return [...error.errorLabels];
  } catch {
    return [];
  }
}

/** Throws MatchError when `error` does not satisfy `expected`. */
export function checkExpectedError(expected: Record<string, unknown>, error: unknown, options: MatchOptions = {}): void {
  const unknown = Object.keys(expected).filter((k) => !SUPPORTED_KEYS.has(k));
  if (unknown.length) throw new UnsupportedError(`expectError field(s) ${unknown.join(', ')}`);
  const err = error as Error & { code?: unknown; codeName?: unknown; errorResponse?: unknown; result?: unknown };
  const where = `error (${err?.name ?? typeof error}: ${err?.message ?? show(error)})`;

  if (expected.isClientError !== undefined) {
    // A reply from the server (including a bulk write or write concern error) is not a client error.
    const isClient = !(error instanceof MongoServerError);
    if (isClient !== expected.isClientError) {
      throw new MatchError('expectError.isClientError', `expected ${String(expected.isClientError)}, got ${where}`);
    }
  }
  if (typeof expected.errorContains === 'string') {
    if (
      !String(err?.message ?? '')
        .toLowerCase()
        .includes(expected.errorContains.toLowerCase())
    ) {
      throw new MatchError('expectError.errorContains', `expected the message to contain "${expected.errorContains}", got ${where}`);
    }
  }
  if (expected.errorCode !== undefined && err?.code !== expected.errorCode) {
    throw new MatchError('expectError.errorCode', `expected code ${String(expected.errorCode)}, got ${String(err?.code)} in ${where}`);
  }
  if (expected.errorCodeName !== undefined && err?.codeName !== expected.errorCodeName) {
    throw new MatchError(
      'expectError.errorCodeName',
      `expected ${String(expected.errorCodeName)}, got ${String(err?.codeName)} in ${where}`,
    );
  }
  const labels = labelsOf(error);
  for (const label of (expected.errorLabelsContain as string[] | undefined) ?? []) {
    if (!labels.includes(label))
      throw new MatchError('expectError.errorLabelsContain', `label ${label} missing from [${labels.join(', ')}]`);
  }
  for (const label of (expected.errorLabelsOmit as string[] | undefined) ?? []) {
    if (labels.includes(label)) throw new MatchError('expectError.errorLabelsOmit', `label ${label} present in [${labels.join(', ')}]`);
  }
  if (expected.errorResponse !== undefined) {
    if (err?.errorResponse === undefined) throw new MatchError('expectError.errorResponse', `no server response in ${where}`);
    match(expected.errorResponse, err.errorResponse, true, 'expectError.errorResponse', options);
  }
  if (expected.expectResult !== undefined) {
    // Only bulk write errors carry a partial result; anything else leaves it unset.
    match(expected.expectResult, err?.result, true, 'expectError.expectResult', options);
  }
}
