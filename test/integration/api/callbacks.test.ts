import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackAccounts, httpTargetFor } from '../../../src/accounts/index.ts';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyCallbackSignature, CallbackService } from '../../../src/callbacks/index.ts';
import { systemClock, SmsState, type SmsDocument } from '../../../src/domain/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { MoIntake } from '../../../src/mo/index.ts';
import { MoRoutes } from '../../../src/routing/index.ts';
import { buildReceiptDocument } from '../../../src/receipts/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { shortMessage } from '../../support/short-message.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startApi, type RunningApi } from './harness.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// Callbacks end to end in one process, over real HTTP both ways: messages POSTed to the API, their
// receipts (and MO) made by the receipt outbox, POSTed by the delivery round through the HTTP
// sender to a real receiver that fails as told, and checked by what that receiver got.

const t = useTestDb('api_callbacks');
const SECRET = 'hooks-secret-0123456789abcdef';
let api: RunningApi;
let callbacks: CallbackService;
const sms = () => t.db.collection<SmsDocument>(Collections.sms);

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver on port 0 that answers each POST with the next status of `script` (the last repeats). */
async function receiver(script: number[]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = script[Math.min(received.length - 1, script.length - 1)];
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the delivery path does when a downstream receipt finalises a message (receipt-finaliser). */
async function finalise(messageId: string, state: 'delivered' | 'undeliverable'): Promise<void> {
  await sms().updateOne({ messageId }, { $set: { state, finalAt: new Date(), receiptDue: true } as Record<string, unknown> });
}

beforeAll(async () => {
  api = await startApi(t.db, {
    accounts: [
      { systemId: 'hooks', password: 'pw' },
      { systemId: 'plain', password: 'pw' },
    ],
  });
  callbacks = new CallbackService(
    { db: t.db, clock: systemClock, logger: silentLogger, metrics: createMetrics() },
    { delivery: { backoffBaseMs: 200, backoffMaxMs: 400, leaseMs: 10_000, leaseGraceMs: 500 }, sweepMs: 300, accountsRefreshMs: 0 },
  );
  await callbacks.start();
}, 60_000);

afterAll(async () => {
  await callbacks?.close();
  await api?.stop();
});

describe('HTTP callbacks', () => {
  it('retries a receipt until the receiver answers 2xx (fails twice, then succeeds), each POST signed, with one event id', async () => {
    const target = await receiver([500, 503, 200]);
    try {
      const set = await api.call('PATCH', '/api/v1/accounts/hooks', {
        auth: 'admin',
        body: { callbackUrl: target.url, callbackSecret: SECRET },
      });
      expect(set.status).toBe(200);
      expect(set.json.callbackUrl).toBe(target.url);
      expect(set.text).not.toContain(SECRET);

      const sent = await api.call('POST', '/api/v1/messages', {
        auth: 'hooks:pw',
        body: { to: '+447700900301', from: 'ACME', text: 'tell me', registeredDelivery: 1 },
      });
      expect(sent.status).toBe(201);
      await finalise(sent.json.messageId, 'delivered');

      await until(() => target.received.length >= 3, 20_000, 'three POSTs');
      const callback = await until(
        () => sms().findOne({ 'receipt.messageId': sent.json.messageId, state: SmsState.delivered } as never),
        20_000,
        'the callback recorded as delivered',
      );
      expect(target.received).toHaveLength(3);
      const ids = new Set(target.received.map((r) => r.headers[EVENT_ID_HEADER]));
      expect(ids.size).toBe(1);
      for (const r of target.received) {
        expect(r.path).toBe('/events');
        expect(r.headers['content-type']).toBe('application/json');
        expect(verifyCallbackSignature(SECRET, r.body, r.headers[SIGNATURE_HEADER] as string)).toBe(true);
        expect(verifyCallbackSignature('another-secret-0123456789', r.body, r.headers[SIGNATURE_HEADER] as string)).toBe(false);
        expect(verifyCallbackSignature(SECRET, r.body.replace('DELIVRD', 'UNDELIV'), r.headers[SIGNATURE_HEADER] as string)).toBe(false);
      }
      const event = JSON.parse(target.received[2].body);
      expect(event).toMatchObject({
        eventId: [...ids][0],
        type: 'receipt',
        account: 'hooks',
        receipt: {
          messageId: sent.json.messageId,
          stat: 'DELIVRD',
          final: true,
          messageState: 2,
          err: 0,
          from: 'ACME',
          to: '447700900301',
        },
      });
      expect(event.receipt.text).toMatch(/^id:\S+ .*stat:DELIVRD/);
      // The delivery round recorded it: two failed attempts, then delivered, under a destination lock of its own.
      expect(callback.target).toEqual({ kind: 'http', account: 'hooks' });
      expect(callback.destKey).toBe('http:hooks:+447700900301');
      expect(callback.attempts).toBe(3);
      expect(callback.history.map((h) => h.outcome)).toEqual(['retry', 'retry', 'delivered']);
      expect(callback.history[0].error).toContain('HTTP 500');
      // Released once the outcome is stored (right after it, not with it).
      await until(
        async () => (await t.db.collection(Collections.locks).countDocuments({ _id: callback.destKey as never })) === 0,
        20_000,
        'the lock released',
      );
    } finally {
      await target.close();
    }
  });

  it("posts to the URL a message named, signed with its account's secret", async () => {
    const target = await receiver([204]);
    try {
      const refused = await api.call('POST', '/api/v1/messages', {
        auth: 'plain:pw',
        body: { to: '+447700900302', from: 'ACME', text: 'x', callbackUrl: target.url },
      });
      expect(refused.status).toBe(400);
      expect(refused.json.error.message).toContain('callback secret');
      await api.call('PATCH', '/api/v1/accounts/plain', { auth: 'admin', body: { callbackSecret: SECRET } });
      const sent = await api.call('POST', '/api/v1/messages', {
        auth: 'plain:pw',
        body: { to: '+447700900302', from: 'ACME', text: 'x', callbackUrl: target.url },
      });
      expect(sent.status).toBe(201);
      // A callback URL asks for the receipt by itself.
      expect((await sms().findOne({ messageId: sent.json.messageId }))!.registeredDelivery).toBe(1);
      await finalise(sent.json.messageId, 'undeliverable');
      await until(() => target.received.length >= 1, 20_000, 'the POST');
      const event = JSON.parse(target.received[0].body);
      expect(event).toMatchObject({ type: 'receipt', account: 'plain', receipt: { messageId: sent.json.messageId, stat: 'UNDELIV' } });
      expect(verifyCallbackSignature(SECRET, target.received[0].body, target.received[0].headers[SIGNATURE_HEADER] as string)).toBe(true);
      await until(
        () => sms().findOne({ 'receipt.messageId': sent.json.messageId, state: SmsState.delivered } as never),
        20_000,
        'recorded as delivered',
      );
    } finally {
      await target.close();
    }
  });

  it('gives up when the validity ends (the event expires)', async () => {
    const target = await receiver([500]);
    try {
      const message = (await sms().findOne({ account: 'hooks' }))!;
      const receipt = buildReceiptDocument(
        { ...message, _id: new ObjectId(), state: SmsState.delivered, finalAt: new Date() },
        { messageState: 2, final: true, kind: 'final' },
        { now: new Date(), validityMs: 1500 },
      );
      const http = (await httpTargetFor(new CallbackAccounts(t.db, { refreshMs: 0 }), 'hooks', message.destKey, target.url))!;
      await sms().insertOne({ ...receipt, target: http.target, destKey: http.destKey });
      callbacks.wake();
      const expired = await until(() => sms().findOne({ _id: receipt._id, state: SmsState.expired }), 20_000, 'expired');
      expect(target.received.length).toBeGreaterThanOrEqual(1);
      expect(expired.finalAt).toBeInstanceOf(Date);
      const count = target.received.length;
      await new Promise((r) => setTimeout(r, 800));
      expect(target.received.length).toBe(count);
    } finally {
      await target.close();
    }
  });

  it('posts MO for an account with callbacks instead of waiting for an SMPP bind', async () => {
    const target = await receiver([200]);
    try {
      await api.call('PATCH', '/api/v1/accounts/hooks', { auth: 'admin', body: { callbackUrl: target.url } });
      await t.db
        .collection(Collections.routes)
        .insertOne({ prefix: '5550', connectors: [], esme: 'hooks', priority: 0, weight: 1, enabled: true });
      const intake = new MoIntake({
        db: t.db,
        clock: systemClock,
        logger: silentLogger,
        routes: new MoRoutes(t.db, silentLogger, { refreshMs: 0 }),
        writeConcern: { w: 1 } as never,
      });
      const messageId = await intake.store(
        'op1',
        shortMessage({
          source: { ton: 1, npi: 1, addr: '447700900399' },
          dest: { ton: 0, npi: 1, addr: '5550' },
          shortMessage: Buffer.from('STOP'),
        }),
      );
      await until(() => target.received.length >= 1, 20_000, 'the MO POST');
      const event = JSON.parse(target.received[0].body);
      expect(event).toMatchObject({
        eventId: messageId,
        type: 'mo',
        account: 'hooks',
        mo: { messageId, from: '447700900399', to: '5550', text: 'STOP', dataCoding: 0 },
      });
      expect(verifyCallbackSignature(SECRET, target.received[0].body, target.received[0].headers[SIGNATURE_HEADER] as string)).toBe(true);
      const stored = await until(() => sms().findOne({ messageId, state: SmsState.delivered }), 20_000, 'the MO delivered');
      expect(stored.target).toEqual({ kind: 'http', account: 'hooks' });
    } finally {
      await target.close();
    }
  });

  it('keeps SMPP receipts for an account without callbacks', async () => {
    await api.call('POST', '/api/v1/accounts', { auth: 'admin', body: { systemId: 'smpponly', password: 'pw' } });
    const sent = await api.call('POST', '/api/v1/messages', {
      auth: 'smpponly:pw',
      body: { to: '+447700900303', from: 'ACME', text: 'x', registeredDelivery: 1 },
    });
    await finalise(sent.json.messageId, 'delivered');
    const receipt = await until(() => sms().findOne({ 'receipt.messageId': sent.json.messageId } as never), 20_000, 'the receipt');
    expect(receipt.target).toEqual({ kind: 'esme', systemId: 'smpponly' });
    expect(receipt.state).toBe('queued');
  });
});
