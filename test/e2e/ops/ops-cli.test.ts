import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { Collections } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSms } from '../../integration/ops/sms-fixtures.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');
const t = useTestDb('e2e_ops');

async function smsc(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, MONGODB_URI: t.uri, MONGODB_DB: t.dbName, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// The lead registers these commands in src/cli/main.ts; until then there is nothing to run.
const registered = (await smsc(['status', '--help'], { MONGODB_URI: 'mongodb://127.0.0.1:1' })).code === 0;

describe.skipIf(!registered)('ops commands through the real CLI (node bin/smsc.mjs)', () => {
  const now = new Date();
  const failed = makeSms(now, { state: 'undeliverable', finalAt: now });
  const queued = makeSms(now, { nextAttemptAt: new Date(now.getTime() - 3_600_000) });

  beforeAll(async () => {
    await t.db.collection(Collections.sms).insertMany([failed, queued, makeSms(now, { state: 'delivered' })]);
  });

  it('status --json reads MONGODB_URI / MONGODB_DB from the environment and reports the queue', async () => {
    const result = await smsc(['status', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.queue.byState).toMatchObject({ queued: 1, undeliverable: 1, delivered: 1 });
    expect(report.oldestDue.messageId).toBe(queued.messageId);
  });

  it('flags win over the environment', async () => {
    const result = await smsc(['status', '--json', '--db', `${t.dbName}_other`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).queue.total).toBe(0);
  });

  it('message <id> prints the story; an unknown id is one sentence and exit code 1', async () => {
    const found = await smsc(['message', failed.messageId]);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain(`Message ${failed.messageId}`);
    expect(found.stdout).toMatch(/state\s+undeliverable/);
    const missing = new ObjectId().toHexString();
    const notFound = await smsc(['message', missing]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr.trim()).toBe(`smsc: No message with id ${missing}.`);
  });

  it('requeue --state undeliverable prints the count and the message is queued again', async () => {
    const result = await smsc(['requeue', '--state', 'undeliverable']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('Requeued 1 message(s).');
    expect((await t.db.collection(Collections.sms).findOne({ _id: failed._id }))?.state).toBe('queued');
    const none = await smsc(['requeue']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('Name exactly one of');
  });

  it('indexes creates the schema and lists it', async () => {
    const result = await smsc(['indexes']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('All expected indexes exist.');
  });

  it('a bad setting is one sentence naming its source', async () => {
    const result = await smsc(['status'], { MONGODB_DB: 'bad.name' });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toMatch(/^smsc: Invalid configuration: MONGODB_DB must be a database name/);
  });
});
