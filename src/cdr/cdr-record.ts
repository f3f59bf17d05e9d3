import { createHash } from 'node:crypto';
import { describeDataCoding, hashMsisdn, maskMsisdn, messageStateToStatWord } from '../codec/index.ts';
import { messageStateOf } from '../domain/message-state.ts';
import type { SmsDocument } from '../domain/sms-document.ts';

/** How numbers appear in CDRs. */
export type NumberForm = 'mask' | 'hash' | 'clear';

export interface CdrRecordOptions {
  numbers: NumberForm;
  /** HMAC key for `hash` (else plain SHA-256). */
  hashKey?: string;
  /** Also one record per attempt in the message's history. */
  perAttempt: boolean;
}

/**
 * One line of the journal. `id` identifies the outcome (`<sms _id>:<finalAt ms>`, attempts add
 * `:a<n>`), so a consumer can drop the rare duplicate a crash may leave.
 */
export interface CdrRecord {
  kind: 'final' | 'attempt';
  id: string;
  messageId: string;
  direction: string;
  account: string;
  source: string;
  dest: string;
  route: string;
  connector: string;
  part: number;
  parts: number;
  encoding: string;
  dataCoding: number;
  arrivedAt: string;
  submittedAt: string;
  finalAt: string;
  attempts: number;
  status: string;
  stat: string;
  errorCode: string;
  error: string;
  /** For attempt records: when and what happened. */
  attemptAt: string;
  outcome: string;
}

/** Column order of the CSV form (and of the JSON keys). */
export const CDR_FIELDS: readonly (keyof CdrRecord)[] = Object.freeze([
  'kind',
  'id',
  'messageId',
  'direction',
  'account',
  'source',
  'dest',
  'route',
  'connector',
  'part',
  'parts',
  'encoding',
  'dataCoding',
  'arrivedAt',
  'submittedAt',
  'finalAt',
  'attempts',
  'status',
  'stat',
  'errorCode',
  'error',
  'attemptAt',
  'outcome',
] as const);

/** The fields the journal reads from `sms` (a projection: payloads stay in the database). */
export const CDR_PROJECTION = Object.freeze({
  _id: 1,
  messageId: 1,
  direction: 1,
  account: 1,
  source: 1,
  dest: 1,
  target: 1,
  route: 1,
  remote: 1,
  concat: 1,
  'payload.dataCoding': 1,
  arrivedAt: 1,
  finalAt: 1,
  attempts: 1,
  state: 1,
  finalStat: 1,
  error: 1,
  history: 1,
  cdrAt: 1,
});

type CdrSource = Pick<
  SmsDocument,
  | '_id'
  | 'messageId'
  | 'direction'
  | 'account'
  | 'source'
  | 'dest'
  | 'target'
  | 'remote'
  | 'concat'
  | 'arrivedAt'
  | 'attempts'
  | 'state'
  | 'error'
  | 'history'
> & {
  finalAt: Date;
  payload?: { dataCoding?: number };
  finalStat?: number;
  route?: unknown;
};

export function recordKeyOf(doc: { _id: { toHexString(): string }; finalAt: Date }): string {
  return `${doc._id.toHexString()}:${doc.finalAt.getTime()}`;
}

function showNumber(addr: string | undefined, options: CdrRecordOptions): string {
  if (!addr) return '';
  const digits = /^\+?\d+$/.test(addr);
  // Alphanumeric sender ids are names, not personal numbers: shown as they are.
  if (!digits || options.numbers === 'clear') return addr;
  if (options.numbers === 'mask') return maskMsisdn(addr);
  return options.hashKey
    ? hashMsisdn(addr, options.hashKey)
    : createHash('sha256').update(addr.replace(/^\+/, '')).digest('hex').slice(0, 16);
}

function routeOf(route: unknown): string {
  if (typeof route === 'string') return route;
  if (route && typeof route === 'object') {
    const r = route as { id?: unknown; name?: unknown; prefix?: unknown };
    return String(r.id ?? r.name ?? r.prefix ?? '');
  }
  return '';
}

function encodingOf(dataCoding: number | undefined): string {
  if (dataCoding === undefined) return '';
  try {
    return describeDataCoding(dataCoding).alphabet;
  } catch {
    return 'UNKNOWN';
  }
}

function statOf(doc: CdrSource): string {
  try {
    return messageStateToStatWord(doc.finalStat ?? messageStateOf(doc.state));
  } catch {
    return '';
  }
}

const iso = (d: Date | undefined) => (d instanceof Date ? d.toISOString() : '');

/** The records a final message yields: its final outcome, and with `perAttempt` one per recorded attempt before it. */
export function cdrRecordsOf(doc: CdrSource, options: CdrRecordOptions): CdrRecord[] {
  const lastConnector = [...(doc.history ?? [])].reverse().find((h) => h.connector)?.connector;
  const base: CdrRecord = {
    kind: 'final',
    id: recordKeyOf(doc),
    messageId: doc.messageId,
    direction: doc.direction ?? 'mt',
    account: doc.account ?? '',
    source: showNumber(doc.source?.addr, options),
    dest: showNumber(doc.dest?.addr, options),
    route: routeOf(doc.route),
    connector: doc.remote?.connector ?? lastConnector ?? (doc.target?.kind === 'esme' ? `esme:${doc.target.systemId}` : ''),
    part: doc.concat?.seq ?? 1,
    parts: doc.concat?.total ?? 1,
    encoding: encodingOf(doc.payload?.dataCoding),
    dataCoding: doc.payload?.dataCoding ?? 0,
    arrivedAt: iso(doc.arrivedAt),
    submittedAt: iso(doc.remote?.submittedAt),
    finalAt: iso(doc.finalAt),
    attempts: doc.attempts ?? 0,
    status: doc.state,
    stat: statOf(doc),
    errorCode:
      doc.error?.status !== undefined
        ? `0x${doc.error.status.toString(16).padStart(8, '0')}`
        : doc.error?.networkErrorCode !== undefined
          ? `nec:${doc.error.networkErrorCode}`
          : '',
    error: doc.error?.message ?? '',
    attemptAt: '',
    outcome: doc.state,
  };
  if (!options.perAttempt) return [base];
  const attempts = (doc.history ?? []).map((h, i): CdrRecord => ({
    ...base,
    kind: 'attempt',
    id: `${base.id}:a${i + 1}`,
    connector: h.connector ?? '',
    errorCode: h.status !== undefined ? `0x${h.status.toString(16).padStart(8, '0')}` : '',
    error: h.error ?? '',
    attemptAt: iso(h.at),
    outcome: h.outcome,
  }));
  return [...attempts, base];
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_HEADER = `${CDR_FIELDS.join(',')}\n`;

/** One line (with its newline) in the file format. */
export function formatRecord(record: CdrRecord, format: 'jsonl' | 'csv'): string {
  if (format === 'jsonl') return `${JSON.stringify(record)}\n`;
  return `${CDR_FIELDS.map((f) => csvCell(record[f])).join(',')}\n`;
}

/** The record id of a line written by formatRecord (for recovery after a crash); undefined for a header or a torn line. */
export function recordIdOfLine(line: string, format: 'jsonl' | 'csv'): string | undefined {
  if (format === 'jsonl') {
    try {
      return (JSON.parse(line) as CdrRecord).id;
    } catch {
      return undefined;
    }
  }
  const cells = line.split(',');
  return cells[0] === 'final' || cells[0] === 'attempt' ? cells[1] : undefined;
}
