import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdrRecord } from '../../../src/cdr/index.ts';
import { SmsState } from '../../../src/domain/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { S3_CREDENTIALS, startS3, type TestS3 } from '../../support/s3-server.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { until } from '../../support/until.ts';

// `smsc cdr journal` as a real process, killed (SIGKILL) while an upload is in flight: a proxy in
// front of the S3-compatible server holds the request. After a restart every record reaches
// the bucket, and none twice.

const t = useTestDb('cdr_restart_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'smsc-cdr-e2e-'));
let s3: TestS3;
let proxy: Server;
let proxyPort = 0;
let passThrough = false;
let putsSeen = 0;
const sockets = new Set<Socket>();
let journal: ReadyProcess | undefined;

function startJournal(): Promise<ReadyProcess> {
  return spawnUntilReady(process.execPath, [path.join(repoRoot, 'bin/smsc.mjs'), 'cdr', 'journal'], /cdr journal ready/, {
    cwd: repoRoot,
    // Starting a process takes a while on a loaded 2-core machine.
    timeoutMs: 60_000,
    env: {
      ...process.env,
      ...S3_CREDENTIALS,
      MONGODB_URI: t.uri,
      MONGODB_DB: t.dbName,
      SMSC_NODE_NAME: 'cdr-e2e',
      LOG_LEVEL: 'warn',
      CDR_DIR: dir,
      CDR_ROTATE_BYTES: '2048',
      CDR_ROTATE_SECONDS: '1',
      CDR_POLL_MS: '100',
      CDR_S3_BUCKET: 'cdr',
      CDR_S3_ENDPOINT: `http://127.0.0.1:${proxyPort}`,
    },
  });
}

function finals(count: number, from: number) {
  return Array.from({ length: count }, (_, i) =>
    makeSms({
      account: 'acme',
      state: SmsState.delivered,
      finalAt: new Date(Date.UTC(2026, 3, 1, 0, 0, 0, from + i)),
      attempts: 1,
      remote: { connector: 'op1', messageId: `r${from + i}`, submittedAt: new Date() },
    }),
  );
}

beforeAll(async () => {
  s3 = await startS3(['cdr']);
  // Holds every request (reading it, answering nothing) until passThrough is set; then forwards.
  proxy = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (passThrough) {
      const upstream = createConnection({ host: '127.0.0.1', port: s3.port });
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
      return;
    }
    client.on('data', (chunk) => {
      if (chunk.toString('latin1').startsWith('PUT /cdr/')) putsSeen++;
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as { port: number }).port;
}, 30_000);

afterAll(async () => {
  await journal?.stop();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('CDR journal restarted in the middle of an upload', () => {
  it('loses no record and repeats none', async () => {
    const first = finals(40, 0);
    await insertSms(t.db, first);
    journal = await startJournal();
    await until(() => putsSeen > 0, 20_000, 'an upload in flight');
    journal.child.kill('SIGKILL');
    await journal.stop();
    const left = readdirSync(dir);
    expect(left.some((n) => n.endsWith('.gz'))).toBe(true);

    // More outcomes while it is down; then the store is reachable again and the journal restarts.
    const second = finals(25, 1000);
    await insertSms(t.db, second);
    for (const socket of sockets) socket.destroy();
    passThrough = true;
    journal = await startJournal();
    const expected = [...first, ...second].map((d) => d.messageId).sort();
    await until(
      async () => new Set((await s3.lines('cdr')).map((l) => (JSON.parse(l) as CdrRecord).messageId)).size === expected.length,
      30_000,
      'every record in the bucket',
    );
    await journal.stop('SIGTERM');
    journal = undefined;
    const records = (await s3.lines('cdr')).map((l) => JSON.parse(l) as CdrRecord);
    expect(records.map((r) => r.messageId).sort()).toEqual(expected);
    expect(readdirSync(dir)).toEqual([]);
  }, 150_000);
});
