import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EJSON, normaliseParsed } from './bson-values.ts';
import { compareVersions, type RunOnRequirement } from './requirements.ts';

/** The newest unified-format schema this runner understands (files with a higher 1.x are refused). */
export const SUPPORTED_SCHEMA_VERSION = '1.12';

export interface CollectionData {
  collectionName: string;
  databaseName: string;
  documents: Record<string, unknown>[];
  createOptions?: Record<string, unknown>;
}

export interface Operation {
  name: string;
  object: string;
  arguments?: Record<string, unknown>;
  expectResult?: unknown;
  expectError?: Record<string, unknown>;
  saveResultAsEntity?: string;
  ignoreResultAndError?: boolean;
}

export interface ExpectedEventsForClient {
  client: string;
  eventType?: string;
  ignoreExtraEvents?: boolean;
  events: Record<string, Record<string, unknown>>[];
}

export interface TestCase {
  description: string;
  runOnRequirements?: RunOnRequirement[];
  skipReason?: string;
  operations: Operation[];
  expectEvents?: ExpectedEventsForClient[];
  outcome?: CollectionData[];
}

export interface TestFile {
  /** Path relative to the spec root, e.g. `crud/insertOne.json` or `crud/extended/hint.json`. */
  name: string;
  description: string;
  schemaVersion: string;
  runOnRequirements?: RunOnRequirement[];
  createEntities?: Record<string, Record<string, unknown>>[];
  initialData?: CollectionData[];
  tests: TestCase[];
}

export class SpecLoadError extends Error {
  readonly code = 'CONFORMANCE_LOAD';
}

/** Parses one test file (Extended JSON, canonical or relaxed). */
export function parseTestFile(text: string, name: string): TestFile {
  let raw: unknown;
  try {
    raw = normaliseParsed(EJSON.parse(text, { relaxed: false }));
  } catch (error) {
    throw new SpecLoadError(`${name}: not valid Extended JSON: ${(error as Error).message}`);
  }
  const file = raw as Partial<TestFile>;
  if (typeof file.schemaVersion !== 'string' || !Array.isArray(file.tests)) {
    throw new SpecLoadError(`${name}: missing schemaVersion or tests`);
  }
  return { ...(file as TestFile), name };
}

/** Undefined when this runner can process the schema version, else why not. */
export function schemaUnsupported(version: string): string | undefined {
  const [major] = version.split('.');
  const [supportedMajor] = SUPPORTED_SCHEMA_VERSION.split('.');
  if (major !== supportedMajor) return `schemaVersion ${version}: major version ${supportedMajor} supported`;
  if (compareVersions(version, SUPPORTED_SCHEMA_VERSION) > 0) {
    return `schemaVersion ${version} is newer than the supported ${SUPPORTED_SCHEMA_VERSION}`;
  }
  return undefined;
}

/** The `*.json` files directly in `dir`, sorted, named relative to `base`. */
export function listSpecFiles(dir: string, base: string): { path: string; name: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => ({ path: join(dir, f), name: relative(base, join(dir, f)) }));
}

export function loadTestFile(path: string, name: string): TestFile {
  return parseTestFile(readFileSync(path, 'utf8'), name);
}
