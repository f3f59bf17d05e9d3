import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Db } from 'mongodb';
import { ConfigError } from '../domain/errors.ts';
import { Collections } from '../store/collections.ts';
import { SmsDirection, type SmsDocument } from '../domain/sms-document.ts';
import { CDR_PROJECTION, cdrRecordsOf, CSV_HEADER, formatRecord, type CdrRecordOptions } from './cdr-record.ts';

/**
 * `--since` / `--until`: an ISO 8601 time (`2026-03-01`, `2026-03-01T12:00:00Z`), milliseconds
 * since the epoch, or a duration ago (`90m`, `24h`, `7d`).
 */
export function parseCdrTime(text: string, now: Date, flag: string): Date {
  const ago = /^(\d+)([smhd])$/.exec(text.trim());
  if (ago) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(ago[1]) * unit);
  }
  if (/^\d{10,}$/.test(text.trim())) return new Date(Number(text.trim()));
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new ConfigError(
      `${flag} must be an ISO time (2026-03-01T12:00:00Z), epoch milliseconds or a duration ago (24h), got ${JSON.stringify(text)}.`,
    );
  return new Date(ms);
}

export interface CdrExportOptions {
  since: Date;
  until: Date;
  format: 'jsonl' | 'csv';
  record: CdrRecordOptions;
}

/** The records of every message that became final in [since, until), in finalAt order, as file lines. */
async function* exportLines(db: Db, options: CdrExportOptions): AsyncGenerator<string> {
  if (options.format === 'csv') yield CSV_HEADER;
  // Read-only, by the journal's index (cdr_finalAt).
  const cursor = db
    .collection<SmsDocument>(Collections.sms)
    .find(
      { finalAt: { $gte: options.since, $lt: options.until }, direction: { $ne: SmsDirection.receipt } },
      { projection: CDR_PROJECTION, sort: { finalAt: 1, _id: 1 } },
    );
  for await (const doc of cursor) {
    for (const record of cdrRecordsOf(doc as SmsDocument & { finalAt: Date }, options.record)) yield formatRecord(record, options.format);
  }
}

/** Writes the range to `out` (a stream), plain; resolves with the number of lines of records. */
export async function exportToStream(db: Db, options: CdrExportOptions, out: Writable): Promise<number> {
  let records = 0;
  const counted = async function* () {
    for await (const line of exportLines(db, options)) {
      if (line !== CSV_HEADER) records++;
      yield line;
    }
  };
  await pipeline(Readable.from(counted()), out, { end: out !== process.stdout });
  return records;
}

/**
 * Writes the range as a compressed file in `dir`, named like the journal's files
 * (`cdr-export-<since>-<until>-<random>.<format>.gz`), synced before it is given its name, so
 * the uploader can take it like any closed journal file.
 */
export async function exportToDir(db: Db, options: CdrExportOptions, dir: string): Promise<{ file: string; records: number }> {
  await mkdir(dir, { recursive: true });
  const stamp = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  const file = path.join(
    dir,
    `cdr-export-${stamp(options.since)}-${stamp(options.until)}-${randomBytes(3).toString('hex')}.${options.format}.gz`,
  );
  const tmp = `${file}.tmp`;
  const gzip = createGzip();
  const done = pipeline(gzip, createWriteStream(tmp));
  const records = await exportToStream(db, options, gzip);
  await done;
  const handle = await open(tmp, 'r');
  await handle.sync();
  await handle.close();
  await rename(tmp, file);
  return { file, records };
}
