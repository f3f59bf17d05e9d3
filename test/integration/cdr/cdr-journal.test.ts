import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CdrFileWriter, CdrJournal, ensureCdrSchema, CDR_STATE, type CdrRecord } from '../../../src/cdr/index.ts';
import { buildCdrJournal } from '../../../src/app/index.ts';
import { runCdrExport, type CdrArgs } from '../../../src/cli/index.ts';
import { ManualClock, SmsState, type SmsDocument } from '../../../src/domain/index.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { freePort } from '../../support/free-port.ts';
import { useTestDb } from '../../support/mongo.ts';
import { S3_CREDENTIALS, startS3, type TestS3 } from '../../support/s3-server.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// One metric set for the journals this file builds.
const metrics = createMetrics();

Object.assign(process.env, S3_CREDENTIALS);

const t = useTestDb('cdr_journal');
const dirs: string[] = [];
let s3: TestS3;
let seq = 0;

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smsc-cdr-'));
  dirs.push(dir);
  return dir;
}

/** A message finalised at `finalAt` by a deliverer (one attempt over op1). */
function finalSms(finalAt: Date, overrides: Partial<SmsDocument> = {}): SmsDocument {
  const n = String(++seq).padStart(4, '0');
  return makeSms({
    account: 'acme',
    dest: { ton: 1, npi: 1, addr: `49151234${n}` },
    destKey: `+49151234${n}`,
    state: SmsState.delivered,
    finalAt,
    attempts: 1,
    remote: { connector: 'op1', messageId: `r${n}`, submittedAt: new Date(finalAt.getTime() - 500) },
    history: [{ at: new Date(finalAt.getTime() - 500), by: 'deliverer-1', outcome: 'submitted', connector: 'op1' }],
    ...overrides,
  });
}

function configWith(env: Record<string, string>) {
  return loadConfig({ env: { CDR_POLL_MS: '50', ...env } });
}

/** Every line of every file in `dir` (gzipped or open), without CSV headers. */
function linesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.gz') || n.endsWith('.open'))
    .flatMap((n) => {
      const raw = readFileSync(path.join(dir, n));
      return (n.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n');
    })
    .filter((l) => l !== '' && !l.startsWith('kind,'));
}

beforeAll(async () => {
  await ensureCdrSchema(t.db);
  s3 = await startS3(['cdr']);
});

beforeEach(async () => {
  // Each test journals its own messages: start from an empty store and a fresh high-water mark.
  await t.db.collection(Collections.sms).deleteMany({});
  await t.db.collection(CDR_STATE).deleteMany({});
});

afterAll(async () => {
  await s3?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('CDR journal', () => {
  it('writes one record per final outcome with masked numbers, once, and again after a new final outcome', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
    const { journal } = buildCdrJournal(configWith({ CDR_DIR: dir }), t.db, { clock, logger: silentLogger, metrics });
    const at = new Date(Date.UTC(2026, 2, 1, 11, 59));
    const docs = [
      finalSms(at),
      finalSms(at, {
        state: SmsState.undeliverable,
        error: { status: 0x0b, message: 'invalid destination' },
        concat: { groupId: 'g', ref: 7, total: 2, seq: 2 },
        payload: { dataCoding: 8, esmClass: 0x40, shortMessage: new (await import('mongodb')).Binary(Buffer.alloc(4)) },
      }),
      finalSms(at),
    ];
    const queued = makeSms({ account: 'acme' });
    const receiptToEsme = finalSms(at, { direction: 'receipt' });
    await insertSms(t.db, [...docs, queued, receiptToEsme]);

    expect(await journal.runOnce()).toMatchObject({ leader: true, written: 3 });
    expect(await journal.runOnce()).toMatchObject({ written: 0 });
    const records = linesIn(dir).map((l) => JSON.parse(l) as CdrRecord);
    expect(records.map((r) => r.messageId).sort()).toEqual(docs.map((d) => d.messageId).sort());
    const failed = records.find((r) => r.messageId === docs[1].messageId)!;
    expect(failed).toMatchObject({
      kind: 'final',
      account: 'acme',
      connector: 'op1',
      part: 2,
      parts: 2,
      encoding: 'UCS2',
      attempts: 1,
      status: 'undeliverable',
      stat: 'UNDELIV',
      errorCode: '0x0000000b',
      error: 'invalid destination',
      finalAt: at.toISOString(),
    });
    expect(failed.dest).toMatch(/^4915\*+\d\d$/);
    expect(failed.dest).not.toContain(docs[1].dest.addr.slice(4, -2));
    // Journaled messages carry the mark; a requeued message finalised again is journaled again.
    expect(await t.db.collection(Collections.sms).countDocuments({ cdrAt: { $exists: true } })).toBe(3);
    const later = new Date(at.getTime() + 60_000);
    await t.db.collection(Collections.sms).updateOne({ _id: docs[0]._id }, { $set: { finalAt: later, attempts: 2 } });
    expect(await journal.runOnce()).toMatchObject({ written: 1 });
    expect(linesIn(dir)).toHaveLength(4);
    await journal.close();
  });

  it('rotates by size: every closed file is compressed, and all records are in them', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 2));
    const { journal } = buildCdrJournal(configWith({ CDR_DIR: dir, CDR_ROTATE_BYTES: '2048' }), t.db, {
      clock,
      logger: silentLogger,
      metrics,
    });
    const docs = Array.from({ length: 40 }, (_, i) => finalSms(new Date(Date.UTC(2026, 2, 1, 23, 0, i))));
    await insertSms(t.db, docs);
    await journal.runOnce();
    const closed = readdirSync(dir).filter((n) => n.endsWith('.jsonl.gz'));
    expect(closed.length).toBeGreaterThanOrEqual(3);
    // Closed between two lines: no file is over the size (a record here is far smaller than it).
    for (const name of closed) expect(gunzipSync(readFileSync(path.join(dir, name))).length).toBeLessThanOrEqual(2048);
    expect(
      linesIn(dir)
        .map((l) => (JSON.parse(l) as CdrRecord).messageId)
        .sort(),
    ).toEqual(docs.map((d) => d.messageId).sort());
    await journal.close();
  });

  it('rotates by time: the open file closes once it is rotateSeconds old', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 3));
    const { journal } = buildCdrJournal(configWith({ CDR_DIR: dir, CDR_ROTATE_SECONDS: '60', CDR_FORMAT: 'csv' }), t.db, {
      clock,
      logger: silentLogger,
      metrics,
    });
    await insertSms(t.db, [finalSms(new Date(Date.UTC(2026, 2, 2, 23, 59)))]);
    await journal.runOnce();
    expect(readdirSync(dir).filter((n) => n.endsWith('.csv.open'))).toHaveLength(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.gz'))).toHaveLength(0);
    clock.advance(59_000);
    await journal.runOnce();
    expect(readdirSync(dir).filter((n) => n.endsWith('.gz'))).toHaveLength(0);
    clock.advance(1_000);
    await journal.runOnce();
    expect(readdirSync(dir).filter((n) => n.endsWith('.open'))).toHaveLength(0);
    const [closed] = readdirSync(dir).filter((n) => n.endsWith('.csv.gz'));
    const text = gunzipSync(readFileSync(path.join(dir, closed))).toString('utf8');
    expect(text.split('\n')[0]).toMatch(/^kind,id,messageId,/);
    expect(text.split('\n')).toHaveLength(3); // header, one record, final newline
    await journal.close();
  });

  it('uploads closed files to the S3-compatible store and deletes each only after the upload is confirmed', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 4));
    // First the store is down (nothing listens on the port yet).
    const port = await freePort();
    const config = configWith({
      CDR_DIR: dir,
      CDR_ROTATE_BYTES: '1024',
      CDR_S3_BUCKET: 'cdr',
      CDR_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      CDR_S3_PREFIX: 'upload-test/',
    });
    const { journal, uploader } = buildCdrJournal(config, t.db, { clock, logger: silentLogger, metrics });
    await insertSms(
      t.db,
      Array.from({ length: 30 }, (_, i) => finalSms(new Date(Date.UTC(2026, 2, 3, 23, 0, i)))),
    );
    await journal.runOnce();
    const waiting = readdirSync(dir)
      .filter((n) => n.endsWith('.gz'))
      .sort();
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    expect(journal.stats.uploadFailures).toBe(1);
    // Keep a copy of each, to compare with what the store holds later.
    const copies = tempDir();
    for (const name of waiting) copyFileSync(path.join(dir, name), path.join(copies, name));
    clock.advance(5_000);
    await journal.runOnce();
    expect(
      readdirSync(dir)
        .filter((n) => n.endsWith('.gz'))
        .sort(),
    ).toEqual(waiting);

    // The store comes up: every file is uploaded, byte for byte, then removed.
    const store = await startS3(['cdr'], port);
    try {
      clock.advance(60_000);
      await journal.runOnce();
      expect(readdirSync(dir).filter((n) => n.endsWith('.gz'))).toEqual([]);
      expect(await store.keys('cdr', 'upload-test/')).toEqual(waiting.map((n) => `upload-test/${n}`));
      for (const name of waiting)
        expect((await store.get('cdr', `upload-test/${name}`)).equals(readFileSync(path.join(copies, name)))).toBe(true);
      // A clean stop closes the open file; with it uploaded, every record is in the bucket, once.
      await journal.close();
      expect(await journal.uploadPending(true)).toBe(1);
      const ids = (await store.lines('cdr', 'upload-test/')).map((l) => (JSON.parse(l) as CdrRecord).id);
      expect(new Set(ids).size).toBe(30);
      expect(ids).toHaveLength(30);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      uploader?.close();
      await journal.close();
      await store.stop();
    }
  });

  it('keeps a file whose upload the store does not confirm (PUT answered, object not there)', async () => {
    // A store that acknowledges every PUT and loses the object.
    const lossy = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.method === 'PUT' ? 200 : 404, req.method === 'PUT' ? { ETag: '"00000000000000000000000000000000"' } : {});
        res.end();
      });
    });
    await new Promise<void>((resolve) => lossy.listen(0, '127.0.0.1', resolve));
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 5));
    const config = configWith({
      CDR_DIR: dir,
      CDR_S3_BUCKET: 'cdr',
      CDR_S3_ENDPOINT: `http://127.0.0.1:${(lossy.address() as AddressInfo).port}`,
    });
    const { journal, uploader } = buildCdrJournal(config, t.db, { clock, logger: silentLogger, metrics });
    try {
      await insertSms(t.db, [finalSms(new Date(Date.UTC(2026, 2, 4, 23)))]);
      await journal.runOnce();
      await journal.close();
      const [file] = readdirSync(dir).filter((n) => n.endsWith('.gz'));
      expect(await journal.uploadPending(true)).toBe(0);
      expect(existsSync(path.join(dir, file))).toBe(true);
    } finally {
      uploader?.close();
      lossy.closeAllConnections();
      await new Promise((resolve) => lossy.close(resolve));
    }
  });

  it('a journal restarted after a crash marks what its open file holds instead of writing it again', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 6));
    const config = configWith({ CDR_DIR: dir });
    const docs = Array.from({ length: 5 }, (_, i) => finalSms(new Date(Date.UTC(2026, 2, 5, 23, 0, i))));
    await insertSms(t.db, docs);
    const first = buildCdrJournal(config, t.db, { clock, logger: silentLogger, metrics, owner: 'first' }).journal;
    await first.runOnce();
    // The crash: records on disk, marks lost, a torn line at the end.
    await t.db.collection(Collections.sms).updateMany({}, { $unset: { cdrAt: '' } });
    const [open] = readdirSync(dir).filter((n) => n.endsWith('.open'));
    const { appendFileSync } = await import('node:fs');
    appendFileSync(path.join(dir, open), '{"kind":"final","id":"torn');
    await t.db.collection(CDR_STATE).updateOne({}, { $set: { leaseUntil: new Date(0) } });
    const second = buildCdrJournal(config, t.db, { clock, logger: silentLogger, metrics, owner: 'second' }).journal;
    expect(await second.runOnce()).toMatchObject({ leader: true, written: 0 });
    expect(second.stats.recoveredMarks).toBe(5);
    const ids = linesIn(dir).map((l) => (JSON.parse(l) as CdrRecord).id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    await second.close();
  });

  it('only one journal writes at a time (lease); another takes over when it stops', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 2, 7));
    const config = configWith({ CDR_DIR: dir });
    const a = buildCdrJournal(config, t.db, { clock, logger: silentLogger, metrics, owner: 'a' }).journal;
    const b = buildCdrJournal(config, t.db, { clock, logger: silentLogger, metrics, owner: 'b' }).journal;
    await insertSms(t.db, [finalSms(new Date(Date.UTC(2026, 2, 6, 23)))]);
    expect((await a.runOnce()).leader).toBe(true);
    expect((await b.runOnce()).leader).toBe(false);
    await a.close();
    await insertSms(t.db, [finalSms(new Date(Date.UTC(2026, 2, 6, 23, 1)))]);
    expect(await b.runOnce()).toMatchObject({ leader: true, written: 1 });
    await b.close();
    expect(linesIn(dir)).toHaveLength(2);
  });

  it('a pass through a backlog longer than the lease renews it before every batch: no second journal leads meanwhile', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 8));
    /** A real file writer that lets time pass after each batch it writes (20 s: a slow disk, a big backlog). */
    class SlowFiles extends CdrFileWriter {
      afterAppend: (() => Promise<void>) | undefined;
      override async append(lines: readonly string[]): Promise<void> {
        await super.append(lines);
        await this.afterAppend?.();
      }
    }
    const journal = (owner: string) => {
      const dir = tempDir();
      const files = new SlowFiles({
        dir,
        format: 'jsonl',
        rotateBytes: 1 << 20,
        rotateSeconds: 3600,
        node: owner,
        clock,
        logger: silentLogger,
      });
      const options = { format: 'jsonl' as const, record: { numbers: 'mask' as const, perAttempt: false }, pollMs: 50, lagMs: 60_000 };
      return {
        dir,
        files,
        journal: new CdrJournal({ db: t.db, files, clock, logger: silentLogger, metrics }, { ...options, batchSize: 2, owner }),
      };
    };
    const a = journal('a');
    const b = journal('b');
    const docs = Array.from({ length: 8 }, (_, i) => finalSms(new Date(Date.UTC(2026, 2, 7, 23, 0, i))));
    await insertSms(t.db, docs);
    // Four batches of two, 20 s each: the pass lasts 80 s against a 30 s lease. After each batch the
    // other journal tries to lead.
    const tries: boolean[] = [];
    a.files.afterAppend = async () => {
      clock.advance(20_000);
      tries.push((await b.journal.runOnce()).leader);
    };
    expect(await a.journal.runOnce()).toMatchObject({ leader: true, written: 8 });
    expect(tries).toEqual([false, false, false, false]);
    await a.journal.close();
    await b.journal.close();
    const ids = [...linesIn(a.dir), ...linesIn(b.dir)].map((l) => (JSON.parse(l) as CdrRecord).messageId);
    expect(ids.sort()).toEqual(docs.map((d) => d.messageId).sort());
  });

  it('smsc cdr export --since/--until re-exports a range to the bucket', async () => {
    const dir = tempDir();
    await insertSms(t.db, [
      finalSms(new Date(Date.UTC(2026, 1, 28, 23, 59))),
      finalSms(new Date(Date.UTC(2026, 2, 1, 0, 0))),
      finalSms(new Date(Date.UTC(2026, 2, 1, 12, 0))),
      finalSms(new Date(Date.UTC(2026, 2, 2, 0, 0))),
    ]);
    const out: string[] = [];
    const env = {
      MONGODB_URI: t.uri,
      MONGODB_DB: t.dbName,
      CDR_DIR: dir,
      CDR_S3_BUCKET: 'cdr',
      CDR_S3_ENDPOINT: s3.endpoint,
      CDR_S3_PREFIX: 'exports/',
      CDR_NUMBERS: 'hash',
      CDR_HASH_KEY: 'k3y',
    };
    const result = await runCdrExport({ action: 'export', since: '2026-03-01', until: '2026-03-02' } as CdrArgs, {
      env,
      print: (l) => out.push(l),
    });
    expect(result).toMatchObject({ records: 2, uploaded: true });
    expect(out.at(-1)).toMatch(/^exported 2 records .* to s3:\/\/cdr\/exports\/cdr-export-20260301T000000Z-20260302T000000Z-/);
    const lines = (await s3.lines('cdr', 'exports/')).map((l) => JSON.parse(l) as CdrRecord);
    expect(lines.map((r) => r.finalAt)).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-01T12:00:00.000Z']);
    expect(lines[0].dest).toMatch(/^[0-9a-f]{16}$/);
    expect(readdirSync(dir).filter((n) => n.endsWith('.gz'))).toEqual([]);
    // The journal's marks are not touched by an export.
    expect(await t.db.collection(Collections.sms).countDocuments({ cdrAt: { $exists: true } })).toBe(0);
    await expect(runCdrExport({ action: 'export', since: 'yesterday-ish' } as CdrArgs, { env })).rejects.toThrow(
      /--since must be an ISO time/,
    );
    void ObjectId;
  });
});
