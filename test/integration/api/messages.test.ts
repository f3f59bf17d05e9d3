import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitText } from '../../../src/codec/index.ts';
import { ContactListCache, ContactListStore, IntakePolicy } from '../../../src/policy/index.ts';
import { CommandStatus, commandStatusName } from '../../../src/smpp/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { SmsState, type SmsDocument } from '../../../src/domain/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from '../inserter/harness.ts';
import { startApi, type RunningApi } from './harness.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// Real HTTP against an in-process API server (and, for the rule comparison, a real SMPP inserter)
// on the test database; every assertion reads the HTTP answer and what the store holds.

const t = useTestDb('api_messages');
let api: RunningApi;
let inserter: RunningInserter;
const sms = () => t.db.collection<SmsDocument>(Collections.sms);

beforeAll(async () => {
  const accounts = [
    { systemId: 'acme', password: 'pw' },
    { systemId: 'other', password: 'pw2' },
    { systemId: 'strict', password: 'pw3', sourceAllow: ['ACME*'] },
    { systemId: 'slow', password: 'pw4', tps: 1 },
  ];
  api = await startApi(t.db, { accounts, server: { maxBatch: 1000, bodyLimitBytes: 512 * 1024 } });
  inserter = await startInserter(t.db);
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await inserter?.stop();
});

const post = (body: unknown, auth = 'acme:pw', headers: Record<string, string> = {}) =>
  api.call('POST', '/api/v1/messages', { auth, body, headers });

describe('POST /api/v1/messages', () => {
  it('stores one message before answering 201 with its id and part count', async () => {
    const res = await post({ to: '+447700900123', from: 'ACME', text: 'hello', registeredDelivery: 1, priority: 2 });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ messageId: expect.stringMatching(/^[0-9a-f]{24}$/), messageIds: [res.json.messageId], parts: 1 });
    const doc = await sms().findOne({ messageId: res.json.messageId });
    expect(doc).toMatchObject({
      account: 'acme',
      state: 'queued',
      direction: 'mt',
      destKey: '+447700900123',
      dest: { ton: 1, npi: 1, addr: '447700900123' },
      source: { ton: 5, npi: 0, addr: 'ACME' },
      registeredDelivery: 1,
      priority: 2,
      target: { kind: 'connector' },
    });
    expect(Buffer.from(doc!.payload.shortMessage.buffer).toString('latin1')).toBe('hello');
  });

  it('splits a long text like the codec does (UDH-linked parts), and UCS-2 when a character needs it', async () => {
    const text = 'x'.repeat(400);
    const res = await post({ to: '447700900124', from: '12345', text });
    expect(res.status).toBe(201);
    const expected = splitText(text, { strategy: 'udh8', reference: 1 }).parts.length;
    expect(res.json.parts).toBe(expected);
    const docs = await sms()
      .find({ messageId: { $in: res.json.messageIds } })
      .sort({ 'concat.seq': 1 })
      .toArray();
    expect(docs.map((d) => d.concat?.seq)).toEqual([1, 2, 3]);
    expect(new Set(docs.map((d) => d.concat?.groupId)).size).toBe(1);
    expect(docs.every((d) => (d.payload.esmClass & 0x40) !== 0)).toBe(true);

    const ucs = await post({ to: '447700900124', from: '12345', text: 'Привет, мир' });
    expect(ucs.status).toBe(201);
    expect((await sms().findOne({ messageId: ucs.json.messageId }))!.payload.dataCoding).toBe(8);
    const got = await api.call('GET', `/api/v1/messages/${ucs.json.messageId}`, { auth: 'acme:pw' });
    expect(got.json.text).toBe('Привет, мир');
  });

  it('stores binary data with its data_coding', async () => {
    const res = await post({ to: '447700900125', from: '12345', data: Buffer.from([1, 2, 3, 255]).toString('base64'), dataCoding: 4 });
    expect(res.status).toBe(201);
    const doc = await sms().findOne({ messageId: res.json.messageId });
    expect(doc!.payload.dataCoding).toBe(4);
    expect([...Buffer.from(doc!.payload.shortMessage.buffer)]).toEqual([1, 2, 3, 255]);
  });

  it('refuses with the same SMPP status as an SMPP submit of the same message', async () => {
    const esme = await TestEsme.bound(inserter.port, 'strict', 'pw3');
    try {
      const past = new Date(Date.now() - 3600_000);
      const cases: { http: Record<string, unknown>; smpp: Record<string, unknown>; status: number }[] = [
        {
          http: { to: 'not-a-number', from: 'ACME1', text: 'x' },
          smpp: { destination_addr: 'not-a-number', source_addr: 'ACME1' },
          status: CommandStatus.ESME_RINVDSTADR,
        },
        { http: { to: '447700900123', from: 'OTHER', text: 'x' }, smpp: { source_addr: 'OTHER' }, status: CommandStatus.ESME_RINVSRCADR },
        {
          http: { to: '447700900123', from: 'ACME1', text: 'x', priority: 7 },
          smpp: { source_addr: 'ACME1', priority_flag: 7 },
          status: CommandStatus.ESME_RINVPRTFLG,
        },
        {
          http: { to: '447700900123', from: 'ACME1', text: 'x', registeredDelivery: 3 },
          smpp: { source_addr: 'ACME1', registered_delivery: 3 },
          status: CommandStatus.ESME_RINVREGDLVFLG,
        },
        {
          http: { to: '447700900123', from: 'ACME1', text: 'x', validUntil: past.toISOString() },
          smpp: { source_addr: 'ACME1', validity_period: past },
          status: CommandStatus.ESME_RINVEXPIRY,
        },
        {
          http: { to: '447700900123', from: 'ACME1', text: 'x', scheduledAt: '2099-01-01T00:00:00Z' },
          smpp: { source_addr: 'ACME1', schedule_delivery_time: new Date('2099-01-01T00:00:00Z') },
          status: CommandStatus.ESME_RINVSCHED,
        },
      ];
      for (const c of cases) {
        const viaSmpp = await esme.submit(c.smpp);
        const viaHttp = await post(c.http, 'strict:pw3');
        expect(viaSmpp.command_status, JSON.stringify(c.http)).toBe(c.status);
        expect(viaHttp.status, JSON.stringify(c.http)).toBe(400);
        expect(viaHttp.json.error).toMatchObject({
          code: 'MESSAGE_REJECTED',
          smppStatus: c.status,
          smppStatusName: commandStatusName(c.status),
        });
        expect(viaHttp.json.error.message.length).toBeGreaterThan(5);
      }
    } finally {
      await esme.request('unbind').catch(() => undefined);
    }
    expect(await sms().countDocuments({ account: 'strict' })).toBe(0);
  });

  it('answers bad input with a precise 4xx and stores nothing', async () => {
    const before = await sms().countDocuments();
    const missing = await post({ from: 'ACME', text: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toEqual({ code: 'INVALID_REQUEST', message: 'to is required' });
    const unknown = await post({ to: '447700900123', from: 'ACME', text: 'x', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain('"colour"');
    const wrongType = await post({ to: '447700900123', from: 'ACME', text: 5 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.message).toContain('text must be string');
    const bothPayloads = await post({ to: '447700900123', from: 'ACME', text: 'x', data: 'AQ==' });
    expect(bothPayloads.json.error).toMatchObject({ code: 'MESSAGE_REJECTED', smppStatusName: 'ESME_RINVMSGLEN' });
    const badJson = await api.call('POST', '/api/v1/messages', {
      auth: 'acme:pw',
      rawBody: '{"to": "4477',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error.code).toBe('INVALID_JSON');
    const empty = await api.call('POST', '/api/v1/messages', {
      auth: 'acme:pw',
      rawBody: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe('INVALID_JSON');
    const arrayBody = await post([{ to: '447700900123' }]);
    expect(arrayBody.status).toBe(400);
    const notJson = await api.call('POST', '/api/v1/messages', {
      auth: 'acme:pw',
      rawBody: 'to=4477',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(notJson.status).toBe(415);
    expect(notJson.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await post({ to: '447700900123', from: 'ACME', text: 'x'.repeat(40000), padding: 'y'.repeat(600 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('BODY_TOO_LARGE');
    const badDate = await post({ to: '447700900123', from: 'ACME', text: 'x', validUntil: 'tomorrow' });
    expect(badDate.status).toBe(400);
    expect(await sms().countDocuments()).toBe(before);
  });

  it('checks credentials: none, a wrong password, an unknown account', async () => {
    const none = await api.call('POST', '/api/v1/messages', { body: { to: '447700900123', from: 'ACME', text: 'x' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    expect((await post({ to: '447700900123', from: 'ACME', text: 'x' }, 'acme:wrong')).status).toBe(401);
    const unknown = await post({ to: '447700900123', from: 'ACME', text: 'x' }, 'nobody:pw');
    expect(unknown.status).toBe(401);
    expect(unknown.json.error.code).toBe('UNAUTHORIZED');
  });

  it('stores a batch of 1,000 in one request', async () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({
      to: `44790${String(i).padStart(6, '0')}`,
      from: 'ACME',
      text: `batch ${i}`,
    }));
    const res = await post({ messages });
    expect(res.status).toBe(201);
    expect(res.json.accepted).toBe(1000);
    expect(res.json.rejected).toBe(0);
    expect(res.json.messages.map((m: { index: number }) => m.index)).toEqual(messages.map((_, i) => i));
    const ids = res.json.messages.map((m: { messageId: string }) => m.messageId);
    expect(new Set(ids).size).toBe(1000);
    expect(await sms().countDocuments({ messageId: { $in: ids } })).toBe(1000);
    const tooMany = await post({ messages: [...messages, ...messages.slice(0, 1)] });
    expect(tooMany.status).toBe(413);
  });

  it('answers a batch with some refusals 207, each item saying why', async () => {
    const res = await post({
      messages: [
        { to: '447700900130', from: 'ACME', text: 'ok' },
        { to: 'bad', from: 'ACME', text: 'no' },
        { to: '447700900131', from: 'ACME', text: 'ok' },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.json).toMatchObject({ accepted: 2, rejected: 1 });
    expect(res.json.messages[1]).toMatchObject({ index: 1, error: { code: 'MESSAGE_REJECTED', smppStatusName: 'ESME_RINVDSTADR' } });
    expect(res.json.messages[1].messageId).toBeUndefined();
    expect(await sms().countDocuments({ messageId: { $in: [res.json.messages[0].messageId, res.json.messages[2].messageId] } })).toBe(2);
  });

  it("applies the account's TPS like the inserter does (ESME_RTHROTTLED)", async () => {
    const res = await post({ messages: [1, 2, 3].map((i) => ({ to: `44770090014${i}`, from: 'ACME', text: 'x' })) }, 'slow:pw4');
    expect(res.status).toBe(207);
    expect(res.json.accepted).toBeGreaterThanOrEqual(1);
    const throttled = res.json.messages.filter((m: { error?: { code: string } }) => m.error);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    expect(throttled[0].error).toMatchObject({ code: 'THROTTLED', smppStatusName: 'ESME_RTHROTTLED' });
  });

  it('lets the admin submit for a named account, and only then', async () => {
    expect((await post({ to: '447700900150', from: 'ACME', text: 'x' }, 'admin')).status).toBe(400);
    const ok = await post({ to: '447700900150', from: 'ACME', text: 'x', account: 'other' }, 'admin');
    expect(ok.status).toBe(201);
    expect((await sms().findOne({ messageId: ok.json.messageId }))!.account).toBe('other');
    expect((await post({ to: '447700900150', from: 'ACME', text: 'x', account: 'other' })).status).toBe(403);
  });
});

describe('routes that act at intake', () => {
  it('drops or auto-replies to HTTP submits as for SMPP ones, and routes may name the HTTP intake', async () => {
    await t.db.collection(Collections.routes).insertMany([
      { prefix: '4479001', connectors: [], intake: 'http', action: 'drop', priority: 0, weight: 1, enabled: true },
      { prefix: '4479002', connectors: [], action: 'auto-reply', replyText: 'We are closed', priority: 0, weight: 1, enabled: true },
    ]);
    const routed = await startApi(t.db, { intakeRouting: true });
    try {
      const dropped = await routed.call('POST', '/api/v1/messages', {
        auth: 'acme:pw',
        body: { to: '+447900100001', from: 'ACME', text: 'x', registeredDelivery: 1 },
      });
      expect(dropped.status).toBe(201);
      expect(await sms().findOne({ messageId: dropped.json.messageId })).toMatchObject({
        state: 'rejected',
        intake: 'http',
        routing: { action: 'drop' },
      });
      const replied = await routed.call('POST', '/api/v1/messages', {
        auth: 'acme:pw',
        body: { to: '+447900200001', from: '447700900999', text: 'hi' },
      });
      expect(replied.status).toBe(201);
      expect(replied.json.parts).toBe(1);
      expect((await sms().findOne({ messageId: replied.json.messageId }))!.state).toBe('delivered');
      const reply = await sms().findOne({ direction: 'mo', 'routing.action': 'auto-reply', 'dest.addr': '447700900999' } as never);
      expect(reply).toMatchObject({ target: { kind: 'esme', systemId: 'acme' } });
      // A route for the HTTP intake leaves the same message over SMPP alone (routes say which).
      const plain = await routed.call('POST', '/api/v1/messages', {
        auth: 'acme:pw',
        body: { to: '+447900300001', from: 'ACME', text: 'x' },
      });
      expect((await sms().findOne({ messageId: plain.json.messageId }))!.state).toBe('queued');
    } finally {
      await routed.stop();
    }
  });
});

describe('the intake policy', () => {
  it('refuses a blocklisted destination as an SMPP submit would be (ESME_RINVDSTADR), and stores nothing', async () => {
    await ContactListStore.ensureSchema(t.db);
    await new ContactListStore(t.db).add({ list: 'block', account: '', match: 'number', value: '447700900555' });
    const lists = new ContactListCache(t.db, { refreshMs: 100 });
    await lists.start();
    const guarded = await startApi(t.db, { intakePolicy: new IntakePolicy({ contactLists: lists, metrics: createMetrics() }) });
    try {
      const refused = await guarded.call('POST', '/api/v1/messages', {
        auth: 'acme:pw',
        body: { to: '+447700900555', from: 'ACME', text: 'x' },
      });
      expect(refused.status).toBe(400);
      expect(refused.json.error).toMatchObject({ code: 'MESSAGE_REJECTED', smppStatusName: 'ESME_RINVDSTADR' });
      expect(refused.json.error.message).toContain('blocklist');
      expect(await sms().countDocuments({ destKey: '+447700900555' })).toBe(0);
      const other = await guarded.call('POST', '/api/v1/messages', {
        auth: 'acme:pw',
        body: { to: '+447700900556', from: 'ACME', text: 'x' },
      });
      expect(other.status).toBe(201);
    } finally {
      await guarded.stop();
      lists.close();
    }
  });
});

describe('Idempotency-Key', () => {
  it('returns the first answer to a retried POST instead of storing twice', async () => {
    const body = { to: '447700900160', from: 'ACME', text: 'once' };
    const first = await post(body, 'acme:pw', { 'idempotency-key': 'order-1' });
    const again = await post(body, 'acme:pw', { 'idempotency-key': 'order-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await sms().countDocuments({ destKey: '+447700900160' })).toBe(1);
    // Another account's key of the same name is its own.
    const theirs = await post(body, 'other:pw2', { 'idempotency-key': 'order-1' });
    expect(theirs.json.messageId).not.toBe(first.json.messageId);
    const reused = await post({ ...body, text: 'different' }, 'acme:pw', { 'idempotency-key': 'order-1' });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('stores once when the same key arrives twice at the same time', async () => {
    const body = { messages: [{ to: '447700900161', from: 'ACME', text: 'race' }] };
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(body, 'acme:pw', { 'idempotency-key': 'race-1' })));
    expect(await sms().countDocuments({ destKey: '+447700900161' })).toBe(1);
    const stored = answers.filter((a) => a.status === 201);
    expect(stored.length).toBeGreaterThanOrEqual(1);
    for (const a of stored) expect(a.json).toEqual(stored[0].json);
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status).toBe(409);
      expect(a.json.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('finishes the work of a request that died, under the ids it had announced', async () => {
    const body = {
      messages: [
        { to: '447700900162', from: 'ACME', text: 'one' },
        { to: '447700900163', from: 'ACME', text: 'two' },
      ],
    };
    const planned = [[new ObjectId().toHexString()], [new ObjectId().toHexString()]];
    const { requestHashOf } = await import('../../../src/api/index.ts');
    const long = new Date(Date.now() - 3600_000);
    await t.db.collection(Collections.idempotencyKeys).insertOne({
      _id: 'acme:died-1' as unknown as ObjectId,
      requestHash: requestHashOf(body),
      state: 'pending',
      token: 'dead',
      plannedIds: planned,
      createdAt: long,
      heldSince: long,
      expiresAt: new Date(Date.now() + 3600_000),
    });
    // The dead request had stored the first message.
    const first = await post({ to: '447700900162', from: 'ACME', text: 'one' });
    const doc = await sms().findOne({ messageId: first.json.messageId });
    await sms().deleteOne({ messageId: first.json.messageId });
    await sms().insertOne({ ...doc!, _id: new ObjectId(planned[0][0]), messageId: planned[0][0] });

    const res = await post(body, 'acme:pw', { 'idempotency-key': 'died-1' });
    expect(res.status).toBe(201);
    expect(res.json.messages.map((m: { messageId: string }) => m.messageId)).toEqual([planned[0][0], planned[1][0]]);
    expect(await sms().countDocuments({ destKey: '+447700900162' })).toBe(1);
    expect(await sms().countDocuments({ destKey: '+447700900163' })).toBe(1);
    const replay = await post(body, 'acme:pw', { 'idempotency-key': 'died-1' });
    expect(replay.json).toEqual(res.json);
  });

  it('does not keep an answer a retry may cure: a store failure frees the key', async () => {
    const broken = await startApi(t.db);
    await broken.writer.close();
    const body = { to: '447700900164', from: 'ACME', text: 'retry me' };
    const failed = await broken.call('POST', '/api/v1/messages', { auth: 'acme:pw', body, headers: { 'idempotency-key': 'retry-1' } });
    await broken.stop();
    expect(failed.status).toBe(503);
    expect(failed.json.error).toMatchObject({ code: 'STORE_UNAVAILABLE', smppStatusName: 'ESME_RSYSERR' });
    expect(failed.headers.get('retry-after')).toBe('1');
    const retried = await post(body, 'acme:pw', { 'idempotency-key': 'retry-1' });
    expect(retried.status).toBe(201);
    expect(await sms().countDocuments({ destKey: '+447700900164' })).toBe(1);
  });
});

describe('GET /api/v1/messages', () => {
  it("shows a message with its state, timeline and receipts, and another account's as 404", async () => {
    const res = await post({ to: '447700900170', from: 'ACME', text: 'story', registeredDelivery: 1 });
    const at = new Date();
    await sms().updateOne(
      { messageId: res.json.messageId },
      {
        $set: {
          state: SmsState.delivered,
          finalAt: at,
          history: [
            { at: new Date(at.getTime() - 1000), by: 'worker-1', outcome: 'submitted', connector: 'sink' },
            { at, by: 'worker-1', outcome: 'receipt DELIVRD', connector: 'sink' },
          ],
        } as Record<string, unknown>,
      },
    );
    const got = await api.call('GET', `/api/v1/messages/${res.json.messageId}`, { auth: 'acme:pw' });
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({
      messageId: res.json.messageId,
      state: 'delivered',
      text: 'story',
      history: [
        { outcome: 'submitted', connector: 'sink', by: 'worker-1' },
        { outcome: 'receipt DELIVRD', connector: 'sink', at: at.toISOString() },
      ],
      receipts: [{ kind: 'downstream', stat: 'DELIVRD', connector: 'sink', at: at.toISOString() }],
      parts: [],
    });
    expect((await api.call('GET', `/api/v1/messages/${res.json.messageId}`, { auth: 'other:pw2' })).status).toBe(404);
    expect((await api.call('GET', `/api/v1/messages/${res.json.messageId}`, { auth: 'admin' })).status).toBe(200);
    expect((await api.call('GET', `/api/v1/messages/${new ObjectId().toHexString()}`, { auth: 'acme:pw' })).status).toBe(404);
    expect((await api.call('GET', '/api/v1/messages/nonsense', { auth: 'acme:pw' })).status).toBe(400);
  });

  it("lists only the caller's messages, newest first, with cursor paging and filters", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await post({ to: '447700900180', from: 'ACME', text: `page ${i}` }, 'other:pw2')).json.messageId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.call('GET', `/api/v1/messages?to=%2B447700900180&limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
        auth: 'other:pw2',
      });
      expect(page.status).toBe(200);
      expect(page.json.messages.length).toBeLessThanOrEqual(3);
      seen.push(...page.json.messages.map((m: { messageId: string }) => m.messageId));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const mine = await api.call('GET', '/api/v1/messages?limit=500', { auth: 'acme:pw' });
    expect(mine.json.messages.every((m: { account: string }) => m.account === 'acme')).toBe(true);
    expect((await api.call('GET', '/api/v1/messages?account=other', { auth: 'acme:pw' })).status).toBe(403);
    const cancelledOnly = await api.call('GET', '/api/v1/messages?state=delivered', { auth: 'acme:pw' });
    expect(cancelledOnly.json.messages.every((m: { state: string }) => m.state === 'delivered')).toBe(true);
    const future = await api.call('GET', `/api/v1/messages?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, {
      auth: 'acme:pw',
    });
    expect(future.json.messages).toEqual([]);
    expect((await api.call('GET', '/api/v1/messages?limit=0', { auth: 'acme:pw' })).status).toBe(400);
    expect((await api.call('GET', '/api/v1/messages?colour=red', { auth: 'acme:pw' })).status).toBe(400);
    const adminView = await api.call('GET', '/api/v1/messages?account=other&limit=2', { auth: 'admin' });
    expect(adminView.json.messages.map((m: { account: string }) => m.account)).toEqual(['other', 'other']);
  });
});

describe('DELETE /api/v1/messages/{id}', () => {
  it('cancels a queued message (and the other parts of a long one), then answers 409', async () => {
    const res = await post({ to: '447700900190', from: 'ACME', text: 'y'.repeat(300), registeredDelivery: 1 });
    const del = await api.call('DELETE', `/api/v1/messages/${res.json.messageId}`, { auth: 'acme:pw' });
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ messageId: res.json.messageId, state: 'cancelled' });
    const docs = await sms()
      .find({ messageId: { $in: res.json.messageIds } })
      .toArray();
    expect(docs.map((d) => d.state)).toEqual(['cancelled', 'cancelled']);
    expect(docs.every((d) => (d as unknown as { receiptDue?: boolean }).receiptDue === true)).toBe(true);
    const again = await api.call('DELETE', `/api/v1/messages/${res.json.messageId}`, { auth: 'acme:pw' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'NOT_CANCELLABLE', smppStatusName: 'ESME_RCANCELFAIL' });
  });

  it("answers 404 for another account's message and leaves it alone", async () => {
    const res = await post({ to: '447700900191', from: 'ACME', text: 'mine' });
    expect((await api.call('DELETE', `/api/v1/messages/${res.json.messageId}`, { auth: 'other:pw2' })).status).toBe(404);
    expect((await sms().findOne({ messageId: res.json.messageId }))!.state).toBe('queued');
  });

  it('races parallel cancels: exactly one wins', async () => {
    const res = await post({ to: '447700900192', from: 'ACME', text: 'race' });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api.call('DELETE', `/api/v1/messages/${res.json.messageId}`, { auth: 'acme:pw' })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(5);
  });

  it("races a cancel against a deliverer's claim: one of them wins, never both", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await post({ to: `4477009002${String(i).padStart(2, '0')}`, from: 'ACME', text: 'race' });
      // The claim of the delivery protocol: CAS queued -> locked.
      const claim = sms().findOneAndUpdate(
        { _id: new ObjectId(res.json.messageId), state: SmsState.queued },
        {
          $set: { state: SmsState.locked, lock: { owner: 'w', token: `t${i}`, at: new Date(), leaseUntil: new Date(Date.now() + 30_000) } },
        },
      );
      const [claimed, cancel] = await Promise.all([
        claim,
        api.call('DELETE', `/api/v1/messages/${res.json.messageId}`, { auth: 'acme:pw' }),
      ]);
      const final = await sms().findOne({ messageId: res.json.messageId });
      if (claimed) {
        expect(cancel.status).toBe(409);
        expect(final!.state).toBe('locked');
        outcomes.push('claim');
      } else {
        expect(cancel.status).toBe(200);
        expect(final!.state).toBe('cancelled');
        outcomes.push('cancel');
      }
    }
    expect(outcomes).toHaveLength(10);
  });
});
