import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/errors.ts';
import { CONFIG_FIELDS, CONFIG_FILE_ENV, type FieldKind } from './fields.ts';
import type { SmscConfig } from './types.ts';

/** Every problem found, so an operator fixes them all in one go. */
export class ConfigValidationError extends ConfigError {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}.`);
    this.problems = Object.freeze([...problems]);
  }
}

export interface LoadConfigOptions {
  /** yargs' parsed argv (or any object keyed by camelCase flag names); `config` names a file. */
  flags?: Readonly<Record<string, unknown>>;
  /** The process environment; pass `process.env` at the process edge, `{}` in tests. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves a relative config file path. */
  cwd?: string;
  readFile?: (file: string) => string;
}

interface Candidate {
  raw: unknown;
  source: string;
}

/** Flags over environment over config file over defaults; validated, then frozen. */
export function loadConfig(options: LoadConfigOptions = {}): SmscConfig {
  const flags = options.flags ?? {};
  const env = options.env ?? {};
  const problems: string[] = [];
  const chosen = new Map<string, Candidate>();

  const fileFlag = nonEmpty(flags.config);
  const fileEnv = nonEmpty(env[CONFIG_FILE_ENV]);
  const file = fileFlag ?? fileEnv;
  if (file !== undefined) {
    const fileSource = fileFlag !== undefined ? '--config' : CONFIG_FILE_ENV;
    const fileValues = readConfigFile(file, fileSource, options, problems);
    for (const [fieldPath, raw] of fileValues) chosen.set(fieldPath, { raw, source: `${path.basename(file)}: ${fieldPath}` });
  }
  for (const field of CONFIG_FIELDS) {
    const fromEnv = field.env ? nonEmpty(env[field.env]) : undefined;
    if (fromEnv !== undefined) chosen.set(field.path, { raw: fromEnv, source: field.env! });
    const fromFlag = field.flag ? flags[camelCase(field.flag)] : undefined;
    if (fromFlag !== undefined && fromFlag !== '') chosen.set(field.path, { raw: fromFlag, source: `--${field.flag}` });
  }

  const result: Record<string, Record<string, unknown>> = {};
  const sources: Record<string, string> = {};
  for (const field of CONFIG_FIELDS) {
    const candidate = chosen.get(field.path);
    if (!candidate) {
      setPath(result, field.path, field.default);
      continue;
    }
    const checked = convert(field.kind, candidate.raw);
    if ('problem' in checked) {
      problems.push(
        field.kind.type === 'secret'
          ? `${candidate.source} ${checked.problem}`
          : `${candidate.source} ${checked.problem}, got ${show(candidate.raw)}`,
      );
      setPath(result, field.path, field.default);
    } else {
      setPath(result, field.path, checked.value);
      sources[field.path] = candidate.source;
    }
  }

  const deliverer = result.deliverer as { retryBaseMs: number; retryMaxMs: number };
  if (deliverer.retryBaseMs > deliverer.retryMaxMs) {
    problems.push(`deliverer.retryBaseMs (${deliverer.retryBaseMs}) must not exceed deliverer.retryMaxMs (${deliverer.retryMaxMs})`);
  }
  const up = result.up as { restartBaseMs: number; restartMaxMs: number };
  if (up.restartBaseMs > up.restartMaxMs) {
    problems.push(`up.restartBaseMs (${up.restartBaseMs}) must not exceed up.restartMaxMs (${up.restartMaxMs})`);
  }
  const metrics = result.metrics as { queueSampleMs: number };
  if (metrics.queueSampleMs > 0 && metrics.queueSampleMs < 1000) {
    problems.push(`metrics.queueSampleMs (${metrics.queueSampleMs}) must be 0 (off) or at least 1000`);
  }
  const inserter = result.inserter as { smppTlsPort?: number; tlsCert?: string; tlsKey?: string };
  if ((inserter.tlsCert === undefined) !== (inserter.tlsKey === undefined)) {
    problems.push('inserter.tlsCert (--tls-cert) and inserter.tlsKey (--tls-key) go together');
  } else if (inserter.smppTlsPort !== undefined && inserter.tlsCert === undefined) {
    problems.push('inserter.smppTlsPort (--smpp-tls-port) needs inserter.tlsCert and inserter.tlsKey (--tls-cert, --tls-key)');
  }
  const api = result.api as { tlsCert?: string; tlsKey?: string };
  if ((api.tlsCert === undefined) !== (api.tlsKey === undefined))
    problems.push('api.tlsCert and api.tlsKey (API_TLS_CERT, API_TLS_KEY) go together');
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return deepFreeze({ ...result, sources } as unknown as SmscConfig);
}

/** Reads a JSON file shaped like the config (`{"mongo": {"uri": …}, "inserter": {…}}`); unknown keys are problems. */
function readConfigFile(file: string, source: string, options: LoadConfigOptions, problems: string[]): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const resolved = path.resolve(options.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = (options.readFile ?? ((f: string) => readFileSync(f, 'utf8')))(resolved);
  } catch (error) {
    const code = (error as { code?: string }).code;
    problems.push(`${source} names ${file}, which cannot be read (${code ?? (error as Error).message})`);
    return values;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problems.push(`${file} is not valid JSON (${(error as Error).message})`);
    return values;
  }
  if (!isPlainObject(parsed)) {
    problems.push(`${file} must hold a JSON object`);
    return values;
  }
  const known = new Set(CONFIG_FIELDS.map((f) => f.path));
  const slices = new Set(CONFIG_FIELDS.map((f) => f.path.split('.')[0]));
  for (const [slice, body] of Object.entries(parsed)) {
    if (slice === '$schema' || slice === 'comment') continue;
    if (!slices.has(slice)) {
      problems.push(`${file}: unknown section "${slice}" (known: ${[...slices].join(', ')})`);
      continue;
    }
    if (!isPlainObject(body)) {
      problems.push(`${file}: "${slice}" must be an object`);
      continue;
    }
    readSection(file, slice, body, known, values, problems);
  }
  return values;
}

/** One section of the file; nested objects are groups of settings (`cdr.s3.bucket` is `{"cdr": {"s3": {"bucket": …}}}`). */
function readSection(
  file: string,
  prefix: string,
  body: Record<string, unknown>,
  known: ReadonlySet<string>,
  values: Map<string, unknown>,
  problems: string[],
): void {
  for (const [key, raw] of Object.entries(body)) {
    const fieldPath = `${prefix}.${key}`;
    if (known.has(fieldPath)) {
      if (raw !== null && raw !== undefined) values.set(fieldPath, raw);
    } else if (isPlainObject(raw) && [...known].some((k) => k.startsWith(`${fieldPath}.`))) {
      readSection(file, fieldPath, raw, known, values, problems);
    } else {
      problems.push(`${file}: unknown setting "${fieldPath}"`);
    }
  }
}

/** Sets `a.b.c` in a plain object tree, creating the groups on the way. */
function setPath(root: Record<string, unknown>, fieldPath: string, value: unknown): void {
  const keys = fieldPath.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
}

type Checked = { value: unknown } | { problem: string };

/** Raw values arrive as strings (env, some flags) or JSON values (file); both are accepted. */
function convert(kind: FieldKind, raw: unknown): Checked {
  switch (kind.type) {
    case 'string': {
      if (typeof raw !== 'string') return { problem: 'must be a string' };
      if (kind.nonEmpty && raw.trim() === '') return { problem: 'must not be empty' };
      return { value: raw };
    }
    case 'mongoUri': {
      if (typeof raw !== 'string' || !/^mongodb(\+srv)?:\/\/[^\s]+$/.test(raw)) {
        return { problem: 'must be a MongoDB connection string (mongodb://… or mongodb+srv://…)' };
      }
      return { value: raw };
    }
    case 'redisUrl': {
      if (typeof raw !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(raw)) return { problem: 'must be a Redis URL (redis://… or rediss://…)' };
      return { value: raw };
    }
    case 'httpUrl': {
      if (typeof raw !== 'string' || !/^https?:\/\/[^\s/]+[^\s]*$/.test(raw)) return { problem: 'must be an http:// or https:// URL' };
      return { value: raw };
    }
    case 'dbName': {
      if (typeof raw !== 'string' || raw === '') return { problem: 'must be a database name' };
      if (/[/\\. "$\0]/.test(raw) || raw.length > 63) {
        return { problem: 'must be a database name without / \\ . " $ spaces, at most 63 characters' };
      }
      return { value: raw };
    }
    case 'port': {
      const n = toInteger(raw);
      if (n === undefined || n < 0 || n > 65535) return { problem: 'must be a port number (0-65535)' };
      return { value: n };
    }
    case 'int': {
      const n = toInteger(raw);
      if (n === undefined || n < kind.min || n > kind.max) return { problem: `must be an integer from ${kind.min} to ${kind.max}` };
      return { value: n };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if (['true', '1', 'yes', 'on'].includes(text)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(text)) return { value: false };
      return { problem: 'must be true or false' };
    }
    case 'enum': {
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      if (text === undefined || !kind.values.includes(text)) return { problem: `must be one of ${kind.values.join(', ')}` };
      return { value: text };
    }
    case 'secret': {
      if (typeof raw !== 'string') return { problem: 'must be a string' };
      if (raw.length < kind.minLength || /\s/.test(raw))
        return { problem: `must be at least ${kind.minLength} characters without spaces (the value is not shown)` };
      return { value: raw };
    }
    case 'digits': {
      const text =
        typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
      if (kind.none && (text === 'none' || text === '')) return { value: '' };
      const shape = `${kind.minLength === kind.maxLength ? kind.minLength : `${kind.minLength}-${kind.maxLength}`} digits${kind.noLeadingZero ? ' not starting with 0' : ''}${kind.none ? ', or none' : ''}`;
      if (text === undefined || !/^\d+$/.test(text) || text.length < kind.minLength || text.length > kind.maxLength)
        return { problem: `must be ${shape}` };
      if (kind.noLeadingZero && text.startsWith('0')) return { problem: `must be ${shape}` };
      return { value: text };
    }
    case 'writeConcern': {
      if (raw === 'majority') return { value: 'majority' };
      const n = toInteger(raw);
      if (n === undefined || n < 0 || n > 50) return { problem: 'must be "majority" or a number of members' };
      return { value: n };
    }
  }
}

function toInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) return Number.parseInt(raw, 10);
  return undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(raw: unknown): string {
  // A mistyped connection string may still carry a password.
  const text = (typeof raw === 'number' || raw === undefined ? String(raw) : JSON.stringify(raw)).replace(/\/\/[^/@\s]*@/g, '//***@');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
