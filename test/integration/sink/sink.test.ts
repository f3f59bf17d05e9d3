import { afterEach, describe, expect, it } from 'vitest';
import { parseReceipt } from '../../../src/codec/index.ts';
import { startSink, type Sink, type SinkOptions } from '../../../src/sink/index.ts';
import { connectSmpp, CommandStatus, type BindMode, type ShortMessage, SmppError, type SmppSession } from '../../../src/smpp/index.ts';
import { until } from '../../support/until.ts';
import { rawConnect } from '../smpp/helpers.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sink(options: SinkOptions = {}): Promise<Sink> {
  const s = await startSink({ port: 0, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function esme(
  s: Sink,
  mode: BindMode = 'transceiver',
  systemId = 'deliverer',
): Promise<{ session: SmppSession; inbox: ShortMessage[] }> {
  const session = await connectSmpp({ host: '127.0.0.1', port: s.port, windowSize: 50 });
  cleanups.push(() => session.close());
  const inbox: ShortMessage[] = [];
  session.handle('deliverSm', (m) => {
    inbox.push(m);
  });
  await session.bind(mode, { systemId, password: 'pw' });
  return { session, inbox };
}

const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (e: unknown) => (e instanceof SmppError ? e.commandStatus : -1),
  );

describe('sink: answers', () => {
  it('returns distinct message ids and records what it received', async () => {
    const s = await sink();
    const { session } = await esme(s);
    const a = await session.submitSm({
      source: { ton: 5, npi: 0, addr: 'ACME' },
      dest: { ton: 1, npi: 1, addr: '4477001' },
      shortMessage: Buffer.from('hello'),
      registeredDelivery: 0,
    });
    const b = await session.submitSm({
      dest: { addr: '4477002' },
      dataCoding: 8,
      shortMessage: Buffer.from('00e9', 'hex'),
      tlvs: { userMessageReference: 5 },
    });
    expect(a.messageId).not.toBe(b.messageId);
    expect(s.received).toHaveLength(2);
    const [first, second] = s.received;
    expect(first).toMatchObject({
      index: 1,
      command: 'submit_sm',
      systemId: 'deliverer',
      text: 'hello',
      dataCoding: 0,
      status: 0,
      messageId: a.messageId,
    });
    expect(first.source).toEqual({ ton: 5, npi: 0, addr: 'ACME' });
    expect(first.dest).toEqual({ ton: 1, npi: 1, addr: '4477001' });
    expect(first.arrivedAt).toBeInstanceOf(Date);
    expect(second.text).toBe('é');
    expect(second.bytes).toEqual(Buffer.from('00e9', 'hex'));
    expect(second.tlvs.userMessageReference).toBe(5);
    expect(second.sessionId).toBe(first.sessionId);
    expect(s.counters).toMatchObject({ submits: 2, accepted: 2, binds: 1 });
  });

  it('answers data_sm on the same path', async () => {
    const s = await sink();
    const { session } = await esme(s);
    const r = await session.dataSm({ dest: { addr: '123' }, tlvs: { messagePayload: Buffer.from('payload text') } });
    expect(r.messageId).toMatch(/^[0-9a-f]+$/);
    expect(s.received[0]).toMatchObject({ command: 'data_sm', text: 'payload text' });
  });

  it('applies the configured latency (fixed and random range)', async () => {
    const s = await sink({ latencyMs: 120 });
    const { session } = await esme(s);
    let t = Date.now();
    await session.submitSm({ dest: { addr: '1' } });
    expect(Date.now() - t).toBeGreaterThanOrEqual(110);
    s.configure({ latencyMs: { min: 30, max: 60 } });
    for (let i = 0; i < 5; i++) {
      t = Date.now();
      await session.submitSm({ dest: { addr: '1' } });
      const took = Date.now() - t;
      expect(took).toBeGreaterThanOrEqual(25);
      expect(took).toBeLessThan(400);
    }
  });

  it('fails destinations deterministically by prefix rule (longest prefix wins)', async () => {
    const s = await sink({
      rules: [
        { prefix: '999', status: 'invalidDest' },
        { prefix: '9998', status: 'ok' },
        { prefix: '888', status: 'throttled' },
        { prefix: '777', status: 'ESME_RMSGQFUL' },
        { prefix: '666', status: 'systemError' },
      ],
    });
    const { session } = await esme(s);
    const submit = (addr: string) => statusOf(session.submitSm({ dest: { addr } }));
    expect(await submit('9991')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await submit('99981')).toBe(0);
    expect(await submit('8881')).toBe(CommandStatus.ESME_RTHROTTLED);
    expect(await submit('7771')).toBe(CommandStatus.ESME_RMSGQFUL);
    expect(await submit('6661')).toBe(CommandStatus.ESME_RSYSERR);
    expect(await submit('5551')).toBe(0);
    expect(s.counters.rejected).toEqual({ ESME_RINVDSTADR: 1, ESME_RTHROTTLED: 1, ESME_RMSGQFUL: 1, ESME_RSYSERR: 1 });
    expect(s.received.find((m) => m.dest.addr === '8881')).toMatchObject({ status: CommandStatus.ESME_RTHROTTLED, messageId: null });
  });

  it('mixes statuses by weight (injected randomness)', async () => {
    const draws = [0.1, 0.6, 0.9, 0.3];
    let i = 0;
    const s = await sink({ outcomes: { ok: 2, throttled: 1, invalidDest: 1 }, random: () => draws[i++ % draws.length] });
    const { session } = await esme(s);
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push(await statusOf(session.submitSm({ dest: { addr: String(n) } })));
    // total weight 4: [0,2) ok, [2,3) throttled, [3,4) invalidDest
    expect(statuses).toEqual([0, CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RINVDSTADR, 0]);
  });

  it('accepts only configured credentials when given', async () => {
    const s = await sink({ credentials: [{ systemId: 'conn1', password: 'right' }] });
    const session = await connectSmpp({ host: '127.0.0.1', port: s.port });
    cleanups.push(() => session.close());
    expect(await statusOf(session.bind('transceiver', { systemId: 'conn1', password: 'wrong' }))).toBe(CommandStatus.ESME_RINVPASWD);
    expect(await statusOf(session.bind('transceiver', { systemId: 'nobody', password: 'right' }))).toBe(CommandStatus.ESME_RINVSYSID);
    expect(await statusOf(session.bind('transceiver', { systemId: 'conn1', password: 'right' }))).toBe(0);
    expect(s.counters.bindFailures).toBe(2);
  });
});

describe('sink: delivery receipts', () => {
  it('sends a receipt with the standard text and TLVs after the configured delay, when asked for', async () => {
    const s = await sink({ receipts: { enabled: true, delayMs: 150 }, rules: [{ prefix: '44', stat: 'UNDELIV' }] });
    const { session, inbox } = await esme(s);
    const t = Date.now();
    const ok = await session.submitSm({
      source: { addr: '100' },
      dest: { addr: '3310' },
      registeredDelivery: 1,
      shortMessage: Buffer.from('a message text longer than twenty'),
    });
    const bad = await session.submitSm({ dest: { addr: '4410' }, registeredDelivery: 1 });
    await session.submitSm({ dest: { addr: '3311' }, registeredDelivery: 0 });
    await until(() => inbox.length === 2, 2_000, 'two receipts');
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    const byId = new Map(inbox.map((m) => [m.tlvs.receiptedMessageId, m]));
    const good = byId.get(ok.messageId)!;
    expect(good.esmClass).toBe(0x04);
    expect(good.source.addr).toBe('3310');
    expect(good.dest.addr).toBe('100');
    expect(good.tlvs.messageState).toBe(2);
    const parsed = parseReceipt(good.shortMessage.toString('latin1'));
    expect(parsed).toMatchObject({ id: ok.messageId, stat: 'DELIVRD', dlvrd: 1, sub: 1, text: 'a message text longe' });
    const failed = byId.get(bad.messageId)!;
    expect(failed.tlvs.messageState).toBe(5);
    expect(parseReceipt(failed.shortMessage.toString('latin1')).stat).toBe('UNDELIV');
    await new Promise((r) => setTimeout(r, 250));
    expect(inbox).toHaveLength(2); // registered_delivery 0: no receipt
    expect(s.receiptsSent.map((r) => r.stat).sort()).toEqual(['DELIVRD', 'UNDELIV']);
  });

  it('sends failure receipts only, when registered_delivery is 2', async () => {
    const s = await sink({ receipts: { enabled: true }, rules: [{ prefix: '5', stat: 'REJECTD' }] });
    const { session, inbox } = await esme(s);
    await session.submitSm({ dest: { addr: '1' }, registeredDelivery: 2 });
    const rejected = await session.submitSm({ dest: { addr: '5' }, registeredDelivery: 2 });
    await until(() => inbox.length === 1, 5_000, 'one message in the inbox');
    await new Promise((r) => setTimeout(r, 100));
    expect(inbox.map((m) => m.tlvs.receiptedMessageId)).toEqual([rejected.messageId]);
  });

  it('sends receipts to a separate receiver bind and queues them while none is bound', async () => {
    const s = await sink({ receipts: { enabled: true } });
    const tx = await esme(s, 'transmitter', 'conn');
    const { messageId } = await tx.session.submitSm({ dest: { addr: '1' }, registeredDelivery: 1 });
    await until(() => s.counters.receiptsQueued === 1, 5_000, 'one receipt queued');
    const rx = await esme(s, 'receiver', 'conn');
    await until(() => rx.inbox.length === 1, 5_000, 'one receipt on the receiver');
    expect(rx.inbox[0].tlvs.receiptedMessageId).toBe(messageId);
    expect(tx.inbox).toHaveLength(0);
    expect(s.counters.receiptsQueued).toBe(0);
  });

  it('can write the receipt id in another form (id normalisation tests)', async () => {
    const s = await sink({ messageIdFormat: 'decimal', receipts: { enabled: true, when: 'always', idForm: (id) => id.padStart(10, '0') } });
    const { session, inbox } = await esme(s);
    const { messageId } = await session.submitSm({ dest: { addr: '1' } });
    expect(messageId).toBe('1');
    await until(() => inbox.length === 1, 5_000, 'one message in the inbox');
    expect(inbox[0].tlvs.receiptedMessageId).toBe('0000000001');
  });
});

describe('sink: MO and concurrency', () => {
  it('sends an MO deliver_sm on demand, text encoded GSM-7 or UCS-2', async () => {
    const s = await sink();
    const { inbox } = await esme(s, 'transceiver', 'esme-a');
    await s.sendMo({ from: '447700900001', to: '1234', text: 'Hello @ £5' });
    await s.sendMo({ from: '447700900001', to: '1234', text: 'Привет', systemId: 'esme-a' });
    expect(inbox).toHaveLength(2);
    expect(inbox[0]).toMatchObject({ esmClass: 0, dataCoding: 0 });
    expect(inbox[0].source.addr).toBe('447700900001');
    expect(inbox[0].dest.addr).toBe('1234');
    expect(inbox[0].shortMessage).toEqual(Buffer.from([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x00, 0x20, 0x01, 0x35]));
    expect(inbox[1].dataCoding).toBe(8);
    expect(inbox[1].shortMessage.swap16().toString('utf16le')).toBe('Привет');
    expect(s.counters.moSent).toBe(2);
    await expect(s.sendMo({ from: '1', to: '2', text: 'x', systemId: 'nobody' })).rejects.toBeInstanceOf(SmppError);
  });

  it('tracks in-flight submits per destination', async () => {
    const s = await sink({ latencyMs: 100 });
    const a = await esme(s, 'transceiver', 'w1');
    const b = await esme(s, 'transceiver', 'w2');
    // Sequential to one destination: never more than one at a time.
    await a.session.submitSm({ dest: { addr: '111' } });
    await b.session.submitSm({ dest: { addr: '111' } });
    expect(s.maxConcurrentPerDestination).toBe(1);
    // Two workers at once to different destinations: still one per destination.
    await Promise.all([a.session.submitSm({ dest: { addr: '222' } }), b.session.submitSm({ dest: { addr: '333' } })]);
    expect(s.maxConcurrentPerDestination).toBe(1);
    expect(s.overlappingDestinations.size).toBe(0);
    // Two at once to the same destination: seen.
    const both = Promise.all([a.session.submitSm({ dest: { addr: '444' } }), b.session.submitSm({ dest: { addr: '444' } })]);
    await until(() => s.inFlight.get('444') === 2, 1_000, 'two in flight');
    await both;
    expect(s.maxConcurrentPerDestination).toBe(2);
    expect([...s.overlappingDestinations]).toEqual(['444']);
    expect(s.inFlight.size).toBe(0);
  });

  it('serves an independent ESME (bare smpp package) too', async () => {
    const s = await sink();
    const c = await rawConnect(s.port);
    cleanups.push(() => c.close());
    expect((await c.call('bind_transmitter', { system_id: 'x', password: 'y' })).system_id).toBe('SINK');
    const r = await c.call('submit_sm', { destination_addr: '12', short_message: Buffer.from('hi') });
    expect(r.command_status).toBe(0);
    expect(r.message_id).toBe(s.received[0].messageId);
  });

  it('rejects invalid configuration with a precise error', async () => {
    await expect(startSink({ port: 0, latencyMs: -1 })).rejects.toThrow(/latencyMs/);
    await expect(startSink({ port: 0, outcomes: { bogus: 1 } })).rejects.toThrow(/bogus/);
    await expect(startSink({ port: 0, rules: [{ prefix: '1', stat: 'NOPE' as never }] })).rejects.toThrow(/NOPE/);
  });
});
