import { MongoServerError, type MongoClient } from 'mongodb';
import { show } from './bson-values.ts';
import { createEntities, EntityMap, RunnerError, UnsupportedError } from './entities.ts';
import { matchEvents } from './events.ts';
import { checkExpectedError, isRunnerError } from './expect-error.ts';
import { knownSkipReason } from './known-skips.ts';
import { schemaUnsupported, type CollectionData, type TestCase, type TestFile } from './loader.ts';
import { MatchError, matchExactly, matchResult, type MatchOptions } from './matcher.ts';
import { runOperation, unsupportedOperation, type OperationContext } from './operations.ts';
import { requirementsUnmet, type ServerInfo } from './requirements.ts';

export type TestStatus = 'pass' | 'fail' | 'skip';

export interface TestOutcome {
  file: string;
  test: string;
  status: TestStatus;
  /** Skip reason or failure detail. */
  detail?: string;
}

export interface RunnerContext {
  uri: string;
  internal: MongoClient;
  server: ServerInfo;
  /** Upper bound for one test, so a hung server cannot stall the whole run. */
  testTimeoutMs: number;
}

const MAJORITY = { w: 'majority' } as const;

/** Ends server sessions left behind; 11601 (Interrupted) and 13 (Unauthorized) are expected and ignored. */
export async function killAllSessions(internal: MongoClient): Promise<string | undefined> {
  try {
    await internal.db('admin').command({ killAllSessions: [] });
    return undefined;
  } catch (error) {
    if (error instanceof MongoServerError && (error.code === 11601 || error.code === 13)) return undefined;
    return `killAllSessions failed: ${(error as Error).message}`;
  }
}

async function setUpInitialData(internal: MongoClient, data: CollectionData[]): Promise<void> {
  for (const c of data) {
    const db = internal.db(c.databaseName);
    await db
      .collection(c.collectionName)
      .drop({ writeConcern: MAJORITY })
      .catch((error: unknown) => {
        if (!(error instanceof MongoServerError && error.code === 26)) throw error;
      });
    if (c.createOptions || c.documents.length === 0) {
      await db.createCollection(c.collectionName, { ...(c.createOptions ?? {}), writeConcern: MAJORITY });
    }
    if (c.documents.length > 0) {
      await db.collection(c.collectionName).insertMany(structuredCloneDocs(c.documents), { writeConcern: MAJORITY });
    }
  }
}

function structuredCloneDocs(documents: Record<string, unknown>[]): Record<string, unknown>[] {
  // insertMany adds _id to documents without one; keep the parsed file untouched for the next test.
  return documents.map((d) => ({ ...d }));
}

async function checkOutcome(internal: MongoClient, outcome: CollectionData[]): Promise<void> {
  for (const c of outcome) {
    const actual = await internal
      .db(c.databaseName)
      .collection(c.collectionName, { readConcern: { level: 'local' }, readPreference: 'primary' })
      .find({}, { sort: { _id: 1 } })
      .toArray();
    try {
      matchExactly(c.documents, actual);
    } catch (error) {
      if (error instanceof MatchError) {
        throw new MatchError(`outcome ${c.databaseName}.${c.collectionName}${error.path ? `[${error.path}]` : ''}`, error.detail);
      }
      throw error;
    }
  }
}

/** Why the test cannot run in this runner, found before anything is sent. */
function unsupportedReason(file: TestFile, test: TestCase): string | undefined {
  const kinds = new Map<string, string>();
  for (const def of file.createEntities ?? []) {
    const [type] = Object.keys(def);
    kinds.set(String(def[type].id), type);
  }
  for (const op of test.operations) {
    const reason = unsupportedOperation(op, (id) => kinds.get(id));
    if (reason) return `runner does not support ${reason}`;
  }
  for (const e of test.expectEvents ?? []) {
    if (e.eventType && e.eventType !== 'command') return `runner does not support ${e.eventType} events`;
  }
  return undefined;
}

function describeError(error: unknown): string {
  if (error instanceof MatchError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${code !== undefined ? ` (${String(code)})` : ''}: ${error.message}`;
  }
  return show(error);
}

async function executeTest(file: TestFile, test: TestCase, ctx: RunnerContext, entities: EntityMap): Promise<void> {
  if (file.initialData) await setUpInitialData(ctx.internal, file.initialData);
  await createEntities(file.createEntities ?? [], ctx.uri, entities);
  const opCtx: OperationContext = { entities, internal: ctx.internal, failPoints: [] };
  const matchOptions: MatchOptions = { entities: (name) => entities.value(name) };
  try {
    for (const [i, op] of test.operations.entries()) {
      const label = `operations[${i}] ${op.name}`;
      let outcome: { ok: true; result: unknown; iterable: boolean } | { ok: false; error: unknown };
      try {
        const r = await runOperation(op, opCtx);
        outcome = { ok: true, result: r.result, iterable: r.iterable };
      } catch (error) {
        if (isRunnerError(error)) throw error;
        outcome = { ok: false, error };
      }
      if (op.ignoreResultAndError) continue;
      if (op.expectError) {
        if (outcome.ok) throw new MatchError(label, `expected an error, got result ${show(outcome.result)}`);
        try {
          checkExpectedError(op.expectError, outcome.error, matchOptions);
        } catch (error) {
          if (error instanceof MatchError) throw new MatchError(`${label} ${error.path}`, error.detail);
          throw error;
        }
        continue;
      }
      if (!outcome.ok) throw new MatchError(label, `unexpected error ${describeError(outcome.error)}`);
      if (op.expectResult !== undefined) {
        try {
          matchResult(op.expectResult, outcome.result, outcome.iterable, matchOptions);
        } catch (error) {
          if (error instanceof MatchError) throw new MatchError(`${label} result${error.path ? `.${error.path}` : ''}`, error.detail);
          throw error;
        }
      }
      if (op.saveResultAsEntity) entities.set(op.saveResultAsEntity, { kind: 'value', value: outcome.result });
    }
  } finally {
    for (const [, c] of entities.clients()) c.recorder?.stop();
    for (const fp of opCtx.failPoints) {
      await ctx.internal
        .db('admin')
        .command({ configureFailPoint: fp.name, mode: 'off' })
        .catch(() => undefined);
    }
  }
  for (const expected of test.expectEvents ?? []) {
    const client = entities.get(expected.client, 'client');
    if (!client.recorder) throw new RunnerError(`expectEvents for ${expected.client}, which observes no events`);
    matchEvents(expected, client.recorder.events, matchOptions);
  }
  if (test.outcome) await checkOutcome(ctx.internal, test.outcome);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RunnerError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one test, always cleaning up; never throws. */
export async function runTest(file: TestFile, test: TestCase, ctx: RunnerContext): Promise<TestOutcome> {
  const base = { file: file.name, test: test.description };
  const schema = schemaUnsupported(file.schemaVersion);
  if (schema) return { ...base, status: 'fail', detail: schema };
  if (test.skipReason) return { ...base, status: 'skip', detail: test.skipReason };
  const known = knownSkipReason(file.name, test.description);
  if (known) return { ...base, status: 'skip', detail: known };
  const fileReq = await requirementsUnmet(file.runOnRequirements, ctx.server);
  if (fileReq) return { ...base, status: 'skip', detail: `file ${fileReq}` };
  const testReq = await requirementsUnmet(test.runOnRequirements, ctx.server);
  if (testReq) return { ...base, status: 'skip', detail: testReq };
  const unsupported = unsupportedReason(file, test);
  if (unsupported) return { ...base, status: 'skip', detail: unsupported };

  const entities = new EntityMap();
  let result: TestOutcome;
  try {
    await withTimeout(executeTest(file, test, ctx, entities), ctx.testTimeoutMs, 'test');
    result = { ...base, status: 'pass' };
  } catch (error) {
    if (error instanceof UnsupportedError) result = { ...base, status: 'skip', detail: error.message };
    else result = { ...base, status: 'fail', detail: describeError(error) };
  }
  const problems = await withTimeout(entities.close(), 10_000, 'closing entities').catch((e: Error) => [e.message]);
  if (result.status === 'fail') {
    const killed = await killAllSessions(ctx.internal);
    if (killed) problems.push(killed);
  }
  if (problems.length && result.status === 'fail') result.detail = `${result.detail}\n(clean-up: ${problems.join('; ')})`;
  return result;
}

/** Runs every test of a file in order. */
export async function runFile(file: TestFile, ctx: RunnerContext, onResult: (r: TestOutcome) => void): Promise<void> {
  for (const test of file.tests) onResult(await runTest(file, test, ctx));
}
