import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SmscError, type SmsDocument } from '../../../src/domain/index.ts';
import { runMessage } from '../../../src/cli/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSms } from './sms-fixtures.ts';

const t = useTestDb('ops_message');
const NOW = new Date(Date.UTC(2026, 2, 1, 10, 0, 0));
const clock = new ManualClock(NOW);
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

async function message(id: string, json: boolean): Promise<string> {
  const out: string[] = [];
  await runMessage({ mongodbUri: t.uri, db: t.dbName, messageId: id, json }, { print: (s) => out.push(s), clock, env: {} });
  return out.join('\n');
}

describe('smsc message against a store in known states', () => {
  const groupId = 'acme:ACME:447700900001:7:2';
  let delivered: SmsDocument;
  let part2: SmsDocument;
  let queued: SmsDocument;
  let earlier: SmsDocument;

  beforeAll(async () => {
    delivered = makeSms(NOW, {
      state: 'delivered',
      attempts: 2,
      concat: { groupId, ref: 7, total: 2, seq: 1 },
      remote: { connector: 'op1', messageId: 'R-1001', submittedAt: minutes(-2) },
      finalAt: minutes(-1),
      history: [
        { at: minutes(-5), by: 'deliverer-a', outcome: 'retry', connector: 'op1', status: 0x58, error: 'throttled' },
        { at: minutes(-2), by: 'deliverer-b', outcome: 'submitted', connector: 'op1', status: 0 },
      ],
    });
    part2 = makeSms(NOW, { state: 'submitted', concat: { groupId, ref: 7, total: 2, seq: 2 } });
    earlier = makeSms(NOW, { destKey: '447700900050', dest: { ton: 1, npi: 1, addr: '447700900050' }, arrivedAt: minutes(-20) });
    queued = makeSms(NOW, {
      destKey: '447700900050',
      dest: { ton: 1, npi: 1, addr: '447700900050' },
      arrivedAt: minutes(-10),
      nextAttemptAt: minutes(15),
      attempts: 1,
      error: { status: 0x45, message: 'submit failed' },
      history: [{ at: minutes(-9), by: 'deliverer-a', outcome: 'retry', connector: 'op2', status: 0x45, error: 'submit failed' }],
    });
    const receipt = makeSms(NOW, {
      direction: 'receipt',
      state: 'queued',
      target: { kind: 'esme', systemId: 'acme' },
      arrivedAt: minutes(-1),
      receipt: { smsId: delivered._id, messageId: delivered.messageId },
    } as Partial<SmsDocument>);
    await t.db.collection(Collections.sms).insertMany([delivered, part2, earlier, queued, receipt]);
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op1', remoteId: 'R-1001', smsId: delivered._id, createdAt: minutes(-2) });
    await t.db
      .collection<{ _id: string; [key: string]: unknown }>(Collections.locks)
      .insertOne({ _id: '447700900050', owner: 'w9', token: 'z', at: minutes(-1), leaseUntil: minutes(-0.5) });
  });

  it('--json gives the stored document with its parts, downstream ids, receipts', async () => {
    const story = JSON.parse(await message(delivered.messageId, true));
    expect(story.message.messageId).toBe(delivered.messageId);
    expect(story.message._id).toBe(delivered._id.toHexString());
    expect(story.message.state).toBe('delivered');
    expect(story.message.payload.shortMessage).toBe(Buffer.from('hello').toString('hex'));
    expect(story.message.history.map((h: any) => h.outcome)).toEqual(['retry', 'submitted']);
    expect(story.message.history[0].at).toBe(minutes(-5).toISOString());
    expect(story.parts).toEqual([{ messageId: part2.messageId, seq: 2, state: 'submitted' }]);
    expect(story.correlations).toEqual([{ connector: 'op1', remoteId: 'R-1001', createdAt: minutes(-2).toISOString() }]);
    expect(story.receipts).toHaveLength(1);
    expect(story.receipts[0].target).toEqual({ kind: 'esme', systemId: 'acme' });
    expect(story.destinationLock).toBeNull();
    expect(story.aheadInQueue).toBe(0);
  });

  it('tells the story in text: states, attempts, history, downstream id, receipts', async () => {
    const text = await message(delivered.messageId, false);
    expect(text).toContain(`Message ${delivered.messageId}  (mt from account acme)`);
    expect(text).toMatch(/state\s+delivered/);
    expect(text).toMatch(/attempts\s+2/);
    expect(text).toContain('downstream    op1 accepted it as R-1001');
    expect(text).toContain('long message  part 1 of 2 (ref 7)');
    expect(text).toMatch(/retry\s+by deliverer-a {2}via op1 {2}status 0x00000058 {2}throttled/);
    expect(text).toContain('op1 R-1001');
    expect(text).toContain('Receipts to the ESME (1)');
  });

  it('says where a waiting message stands: next attempt, what is ahead, a stuck destination lock', async () => {
    const text = await message(queued.messageId, false);
    expect(text).toContain('state         queued (waiting, 1 earlier message(s) to the same destination first)');
    expect(text).toContain(`next attempt  ${minutes(15).toISOString()} (in 15m00s)`);
    expect(text).toContain('last error    status 0x00000045 submit failed');
    expect(text).toMatch(/destination {3}locked by w9, lease until .* \(EXPIRED\)/);
    expect(text).toContain('Receipts to the ESME (0)');
  });

  it('finds a message by its _id hex too', async () => {
    const legacy = makeSms(NOW, { messageId: 'legacy-42' });
    await t.db.collection(Collections.sms).insertOne(legacy);
    expect(JSON.parse(await message('legacy-42', true)).message._id).toBe(legacy._id.toHexString());
    expect(JSON.parse(await message(legacy._id.toHexString(), true)).message.messageId).toBe('legacy-42');
  });

  it('an unknown id is a MESSAGE_NOT_FOUND error with one sentence', async () => {
    const missing = new ObjectId().toHexString();
    const error = await message(missing, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmscError);
    expect((error as SmscError).code).toBe('MESSAGE_NOT_FOUND');
    expect((error as Error).message).toBe(`No message with id ${missing}.`);
    await expect(message('bad id with spaces', false)).rejects.toThrow('is not a message id');
  });
});
