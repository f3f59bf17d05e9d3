import { describe, it, expect } from 'vitest';
import { Double, Long, MongoBulkWriteError, MongoInvalidArgumentError, MongoServerError } from 'mongodb';
import { deepClone, normaliseParsed } from '../../scripts/conformance/bson-values.ts';
import { matchEvents, type RecordedEvent } from '../../scripts/conformance/events.ts';
import { checkExpectedError } from '../../scripts/conformance/expect-error.ts';
import { knownSkipReason } from '../../scripts/conformance/known-skips.ts';
import { parseTestFile, schemaUnsupported } from '../../scripts/conformance/loader.ts';
import { MatchError } from '../../scripts/conformance/matcher.ts';
import { compareVersions, requirementsUnmet, type ServerInfo } from '../../scripts/conformance/requirements.ts';

const server: ServerInfo = {
  version: '7.0.12',
  topology: 'single',
  serverless: false,
  auth: false,
  getParameters: async () => ({ ok: 1, featureCompatibilityVersion: { version: '7.0' } }),
};

describe('versions and runOnRequirements', () => {
  it('compares versions component by component', () => {
    expect(compareVersions('7.0.12', '7.0.2')).toBe(1);
    expect(compareVersions('4.4', '4.4.0')).toBe(0);
    expect(compareVersions('4.2.99', '7.0')).toBe(-1);
    expect(compareVersions('7.0.0-rc1', '7.0')).toBe(0);
  });

  it('admits a file with no requirements and with one matching entry', async () => {
    expect(await requirementsUnmet(undefined, server)).toBeUndefined();
    expect(await requirementsUnmet([{ minServerVersion: '8.0' }, { maxServerVersion: '7.0.99' }], server)).toBeUndefined();
  });

  it('treats min and max as inclusive bounds', async () => {
    expect(await requirementsUnmet([{ minServerVersion: '7.0.12', maxServerVersion: '7.0.12' }], server)).toBeUndefined();
    expect(await requirementsUnmet([{ maxServerVersion: '4.4.13' }], server)).toMatch(/maxServerVersion 4.4.13/);
    expect(await requirementsUnmet([{ minServerVersion: '8.0' }], server)).toMatch(/minServerVersion 8.0/);
  });

  it('maps a standalone to the "single" topology', async () => {
    expect(await requirementsUnmet([{ topologies: ['single', 'replicaset'] }], server)).toBeUndefined();
    expect(await requirementsUnmet([{ topologies: ['sharded'] }], server)).toMatch(/topology single/);
  });

  it('checks serverless and server parameters', async () => {
    expect(await requirementsUnmet([{ serverless: 'forbid' }], server)).toBeUndefined();
    expect(await requirementsUnmet([{ serverless: 'require' }], server)).toMatch(/serverless/);
    expect(await requirementsUnmet([{ serverParameters: { featureCompatibilityVersion: { version: '7.0' } } }], server)).toBeUndefined();
    expect(await requirementsUnmet([{ serverParameters: { featureCompatibilityVersion: { version: '8.0' } } }], server)).toMatch(
      /serverParameters/,
    );
  });
});

describe('loading test files', () => {
  it('keeps explicit doubles and longs and turns int32 into numbers', () => {
    const file = parseTestFile(
      '{"description":"d","schemaVersion":"1.0","tests":[{"description":"t","operations":[{"name":"find","object":"c","arguments":{"batchSize":2,"filter":{"a":{"$numberDouble":"1.0"},"b":{"$numberLong":"3"},"c":1.5}}}]}]}',
      'crud/x.json',
    );
    const args = file.tests[0].operations[0].arguments as Record<string, any>;
    expect(args.batchSize).toBe(2);
    expect(args.filter.a).toBeInstanceOf(Double);
    expect(args.filter.b).toBeInstanceOf(Long);
    expect(args.filter.c).toBe(1.5);
  });

  it('refuses another major schema version and newer minor versions', () => {
    expect(schemaUnsupported('1.0')).toBeUndefined();
    expect(schemaUnsupported('1.12')).toBeUndefined();
    expect(schemaUnsupported('2.0')).toMatch(/major/);
    expect(schemaUnsupported('1.99')).toMatch(/newer/);
  });

  it('rejects a file without tests', () => {
    expect(() => parseTestFile('{"description":"d"}', 'x.json')).toThrow(/missing schemaVersion or tests/);
  });

  it('deep-clones documents so the driver cannot change the parsed file', () => {
    const original = normaliseParsed({ docs: [{ x: 1 }] }) as { docs: Record<string, unknown>[] };
    const copy = deepClone(original);
    copy.docs[0]._id = 5;
    expect(original.docs[0]).toEqual({ x: 1 });
  });
});

describe('known skips', () => {
  it('skips the create-null-ids insert tests with the documented reason', () => {
    expect(knownSkipReason('crud/extended/create-null-ids.json', 'inserting _id with type null via insertOne')).toMatch(
      /maybeAddIdToDocuments/,
    );
    expect(knownSkipReason('crud/extended/create-null-ids.json', 'inserting _id with type null via bulkWrite')).toBeDefined();
    expect(knownSkipReason('crud/extended/create-null-ids.json', 'inserting _id with type null via updateOne')).toBeUndefined();
    expect(knownSkipReason('crud/insertOne.json', 'via insertOne')).toBeUndefined();
  });

  it('skips only the bypassDocumentValidation: false tests the driver cannot send', () => {
    const file = 'crud/extended/bypassDocumentValidation.json';
    expect(knownSkipReason(file, 'Aggregate with $out passes bypassDocumentValidation: false')).toMatch(/only when it is true/);
    expect(knownSkipReason(file, 'InsertMany passes bypassDocumentValidation: false')).toBeDefined();
    expect(knownSkipReason(file, 'InsertOne passes bypassDocumentValidation: false')).toBeUndefined();
    expect(knownSkipReason(file, 'UpdateOne passes bypassDocumentValidation: false')).toBeUndefined();
  });
});

describe('expectError', () => {
  const serverError = new MongoServerError({ ok: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error' });

  it('tells client errors from server errors', () => {
    expect(() => checkExpectedError({ isClientError: true }, new MongoInvalidArgumentError('bad update'))).not.toThrow();
    expect(() => checkExpectedError({ isClientError: false }, serverError)).not.toThrow();
    expect(() => checkExpectedError({ isClientError: true }, serverError)).toThrow(MatchError);
  });

  it('checks code, code name, message and server response', () => {
    expect(() =>
      checkExpectedError({ errorCode: 11000, errorCodeName: 'DuplicateKey', errorContains: 'DUPLICATE KEY' }, serverError),
    ).not.toThrow();
    expect(() => checkExpectedError({ errorCode: 11001 }, serverError)).toThrow(/expected code 11001/);
    expect(() => checkExpectedError({ errorResponse: { code: 11000 } }, serverError)).not.toThrow();
    expect(() => checkExpectedError({ errorResponse: { code: 2 } }, serverError)).toThrow(MatchError);
  });

  it('matches the partial result of a bulk write error', () => {
    const partial = { insertedCount: 2, deletedCount: 0, upsertedIds: {} };
    const error = new MongoBulkWriteError({ message: 'E11000 duplicate key error', code: 11000, writeErrors: [] }, partial as never);
    expect(() => checkExpectedError({ isError: true, expectResult: { insertedCount: 2, upsertedIds: {} } }, error)).not.toThrow();
    expect(() => checkExpectedError({ expectResult: { insertedCount: 3 } }, error)).toThrow(MatchError);
  });
});

describe('expectEvents', () => {
  const started = (command: Record<string, unknown>): RecordedEvent => ({
    type: 'commandStartedEvent',
    commandName: Object.keys(command)[0],
    databaseName: 'db',
    command: { ...command, lsid: { id: 1 }, $db: 'db' },
  });

  it('matches commands as root-level documents, in order', () => {
    const expected = {
      client: 'client0',
      events: [
        { commandStartedEvent: { command: { find: 'coll', batchSize: 2 }, commandName: 'find', databaseName: 'db' } },
        { commandStartedEvent: { command: { getMore: { $$type: ['int', 'long'] }, collection: 'coll' } } },
      ],
    };
    const actual = [started({ find: 'coll', batchSize: 2, filter: {} }), started({ getMore: Long.fromNumber(9), collection: 'coll' })];
    expect(() => matchEvents(expected, actual, {})).not.toThrow();
    expect(() => matchEvents(expected, [actual[1], actual[0]], {})).toThrow(MatchError);
  });

  it('fails when events are missing or extra unless extras are ignored', () => {
    const expected = { client: 'client0', events: [{ commandStartedEvent: { commandName: 'find' } }] };
    const two = [started({ find: 'coll' }), started({ killCursors: 'coll' })];
    expect(() => matchEvents(expected, two, {})).toThrow(/expected 1 event/);
    expect(() => matchEvents({ ...expected, ignoreExtraEvents: true }, two, {})).not.toThrow();
    expect(() => matchEvents({ client: 'client0', events: [] }, [], {})).not.toThrow();
    expect(() => matchEvents(expected, [], {})).toThrow(/got 0/);
  });
});
