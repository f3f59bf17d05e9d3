import smpp from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSmppAbsolute } from '../../../src/codec/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';

const t = useTestDb('inserter_submit');
let run: RunningInserter;
let esme: TestEsme;

const sms = () => t.db.collection<SmsDocument>('sms');
const bytes = (doc: SmsDocument | null) => Buffer.from(doc!.payload.shortMessage.buffer);

beforeAll(async () => {
  run = await startInserter(t.db, {
    accounts: [
      { systemId: 'acme', password: 'pw', sourceAllow: ['ACME', '4470*'] },
      { systemId: 'peer', password: 'pw', peer: true },
      { systemId: 'small', password: 'pw', maxQueued: 2 },
    ],
  });
  esme = await TestEsme.bound(run.port, 'acme', 'pw');
});

afterAll(async () => {
  esme?.close();
  await run.stop();
});

describe('submit_sm', () => {
  it('stores the message, then answers with message_id = the stored document id', async () => {
    const resp = await esme.submit({ short_message: Buffer.from('stored first'), registered_delivery: 1 });
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toMatch(/^[0-9a-f]{24}$/);
    const doc = await sms().findOne({ messageId: resp.message_id as string });
    expect(doc).toMatchObject({ state: 'queued', account: 'acme', destKey: '+447700900123', registeredDelivery: 1, direction: 'mt' });
    expect(doc!._id.toHexString()).toBe(resp.message_id);
    expect(bytes(doc).toString()).toBe('stored first');
  });

  const invalid: [string, Record<string, unknown>, number][] = [
    ['no destination', { destination_addr: '' }, CommandStatus.ESME_RINVDSTADR],
    ['implausible destination', { destination_addr: '44ab77' }, CommandStatus.ESME_RINVDSTADR],
    ['source not allowed', { source_addr: 'EVIL' }, CommandStatus.ESME_RINVSRCADR],
    ['unsupported data_coding', { data_coding: 0x06 }, CommandStatus.ESME_RINVDCS],
    ['short_message and message_payload', { message_payload: Buffer.from('also') }, CommandStatus.ESME_RINVMSGLEN],
    ['esm_class receipt in a submit', { esm_class: 0x04 }, CommandStatus.ESME_RINVESMCLASS],
    ['registered_delivery reserved', { registered_delivery: 0x03 }, CommandStatus.ESME_RINVREGDLVFLG],
    ['validity malformed', { validity_period: '991301000000000+' }, CommandStatus.ESME_RINVEXPIRY],
    ['validity in the past', { validity_period: formatSmppAbsolute(new Date(Date.now() - 3600_000)) }, CommandStatus.ESME_RINVEXPIRY],
    ['validity too far', { validity_period: '010000000000000R' }, CommandStatus.ESME_RINVEXPIRY],
    ['schedule in the past', { schedule_delivery_time: formatSmppAbsolute(new Date(Date.now() - 3600_000)) }, CommandStatus.ESME_RINVSCHED],
    ['schedule malformed', { schedule_delivery_time: '260101120000000Z' }, CommandStatus.ESME_RINVSCHED],
    ['schedule too far', { schedule_delivery_time: '010000000000000R' }, CommandStatus.ESME_RINVSCHED],
  ];
  for (const [name, params, status] of invalid) {
    it(`${name} -> 0x${status.toString(16)} and nothing stored`, async () => {
      const before = await sms().countDocuments();
      const resp = await esme.submit(params);
      expect(resp.command).toBe('submit_sm_resp');
      expect(resp.command_status).toBe(status);
      expect(await sms().countDocuments()).toBe(before);
    });
  }

  it('an sm_length running past the PDU -> generic_nack ESME_RINVMSGLEN, session closed, others unaffected', async () => {
    const other = await TestEsme.bound(run.port, 'acme', 'pw');
    const pdu = new smpp.PDU('submit_sm', {
      destination_addr: '447700900123',
      source_addr: 'ACME',
      short_message: Buffer.from('abc'),
      sequence_number: 77,
    });
    const buf = pdu.toBuffer();
    buf[buf.length - 4] = 200; // sm_length says 200, 3 octets follow
    const answer = new Promise<smpp.PDU>((resolve) => other.session.on('pdu', (p) => p.sequence_number === 77 && resolve(p)));
    other.writeRaw(buf);
    const nack = await answer;
    expect(nack.command).toBe('generic_nack');
    expect(nack.command_status).toBe(CommandStatus.ESME_RINVMSGLEN);
    await other.waitClosed();
    expect((await esme.submit({})).command_status).toBe(0);
  });

  it('a 3-part UDH message is stored as three linked documents', async () => {
    const ids: string[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const udh = Buffer.from([0x05, 0x00, 0x03, 0x7b, 0x03, seq]);
      const resp = await esme.submit({ esm_class: 0x40, short_message: Buffer.concat([udh, Buffer.from(`part ${seq} `.repeat(10))]) });
      expect(resp.command_status).toBe(0);
      ids.push(resp.message_id as string);
    }
    const docs = await sms()
      .find({ messageId: { $in: ids } })
      .sort({ 'concat.seq': 1 })
      .toArray();
    expect(docs.map((d) => d.concat?.seq)).toEqual([1, 2, 3]);
    expect(new Set(docs.map((d) => d.concat?.groupId)).size).toBe(1);
    expect(docs[0].concat).toMatchObject({ ref: 0x7b, total: 3 });
  });

  it('a 2-part SAR message is stored as two linked documents, SAR TLVs kept', async () => {
    const ids: string[] = [];
    for (let seq = 1; seq <= 2; seq++) {
      const resp = await esme.submit({
        short_message: Buffer.from(`sar ${seq}`),
        sar_msg_ref_num: 0x1234,
        sar_total_segments: 2,
        sar_segment_seqnum: seq,
      });
      expect(resp.command_status).toBe(0);
      ids.push(resp.message_id as string);
    }
    const docs = await sms()
      .find({ messageId: { $in: ids } })
      .sort({ 'concat.seq': 1 })
      .toArray();
    expect(docs.map((d) => d.concat)).toEqual([
      { groupId: 'acme:ACME:+447700900123:4660:2', ref: 0x1234, total: 2, seq: 1 },
      { groupId: 'acme:ACME:+447700900123:4660:2', ref: 0x1234, total: 2, seq: 2 },
    ]);
    expect(docs[1].payload.tlvs).toMatchObject({ sarMsgRefNum: 0x1234, sarTotalSegments: 2, sarSegmentSeqnum: 2 });
  });

  it('a long message_payload is stored as linked parts; message_id names the first', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(8); // 360 characters
    const resp = await esme.submit({ short_message: Buffer.alloc(0), message_payload: Buffer.from(text) });
    expect(resp.command_status).toBe(0);
    const first = await sms().findOne({ messageId: resp.message_id as string });
    expect(first?.concat).toMatchObject({ seq: 1, total: 3 });
    const parts = await sms().find({ 'concat.groupId': first!.concat!.groupId }).sort({ 'concat.seq': 1 }).toArray();
    expect(parts).toHaveLength(3);
    expect(parts.map((p) => bytes(p).subarray(6).toString()).join('')).toBe(text);
  });

  it('a long message stored only in part is answered ESME_RSYSERR and its stored parts are taken back', async () => {
    // A unique index only part 2 to this destination can clash with: its insert fails, parts 1 and 3 go in.
    await sms().createIndex(
      { destKey: 1, 'concat.seq': 1 },
      { name: 'clash_part_2', unique: true, partialFilterExpression: { destKey: '+447700900777', 'concat.seq': 2 } },
    );
    await sms().insertOne({ destKey: '+447700900777', concat: { seq: 2 }, state: 'delivered' } as unknown as SmsDocument);
    try {
      const text = 'The quick brown fox jumps over the lazy dog. '.repeat(8);
      const resp = await esme.submit({
        destination_addr: '447700900777',
        short_message: Buffer.alloc(0),
        message_payload: Buffer.from(text),
      });
      expect(resp.command_status).toBe(CommandStatus.ESME_RSYSERR);
      expect(await sms().countDocuments({ destKey: '+447700900777', state: 'queued' })).toBe(0);
    } finally {
      await sms().dropIndex('clash_part_2');
      await sms().deleteMany({ destKey: '+447700900777' });
    }
  });

  it('data_sm goes the same way', async () => {
    const resp = await esme.request('data_sm', {
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900124',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      message_payload: Buffer.from('via data_sm'),
    });
    expect(resp.command).toBe('data_sm_resp');
    expect(resp.command_status).toBe(0);
    const doc = await sms().findOne({ messageId: resp.message_id as string });
    expect(bytes(doc).toString()).toBe('via data_sm');
  });

  it('deliver_sm from a peer SMSC is stored as MO traffic', async () => {
    const peer = await TestEsme.bound(run.port, 'peer', 'pw');
    const resp = await peer.request('deliver_sm', {
      source_addr: '447700900555',
      source_addr_ton: 1,
      source_addr_npi: 1,
      destination_addr: '12345',
      short_message: Buffer.from('STOP'),
    });
    expect(resp.command).toBe('deliver_sm_resp');
    expect(resp.command_status).toBe(0);
    const doc = await sms().findOne({ account: 'peer', direction: 'mo' });
    expect(doc).toMatchObject({ destKey: '12345', state: 'queued', target: { kind: 'esme' } });
    peer.close();
  });

  it('deliver_sm from an ordinary ESME is refused (ESME_RINVBNDSTS), nothing stored', async () => {
    const before = await sms().countDocuments();
    const resp = await esme.request('deliver_sm', {
      source_addr: '447700900555',
      source_addr_ton: 1,
      source_addr_npi: 1,
      destination_addr: '12345',
      short_message: Buffer.from('spoof'),
    });
    expect(resp.command).toBe('deliver_sm_resp');
    expect(resp.command_status).toBe(CommandStatus.ESME_RINVBNDSTS);
    expect(await sms().countDocuments()).toBe(before);
  });

  it('submit_multi stores one message per valid destination and lists the failed ones', async () => {
    const resp = await esme.request('submit_multi', {
      source_addr: 'ACME',
      source_addr_ton: 5,
      dest_address: [
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900201' },
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: 'bogus' },
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900202' },
        { dl_name: 'friends' },
      ],
      short_message: Buffer.from('to many'),
    });
    expect(resp.command).toBe('submit_multi_resp');
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toMatch(/^[0-9a-f]{24}$/);
    const failed = (resp.unsuccess_sme as { destination_addr: string; error_status_code: number }[]).map((u) => [
      u.destination_addr,
      u.error_status_code,
    ]);
    expect(failed).toEqual([
      ['bogus', CommandStatus.ESME_RINVDSTADR],
      ['friends', CommandStatus.ESME_RINVDLNAME],
    ]);
    expect(await sms().countDocuments({ destKey: { $in: ['+447700900201', '+447700900202'] } })).toBe(2);
  });

  it('query_sm reports the state from the store', async () => {
    const { message_id } = await esme.submit({});
    const resp = await esme.request('query_sm', { message_id, source_addr: 'ACME', source_addr_ton: 5 });
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toBe(message_id);
    expect(resp.message_state).toBe(1); // ENROUTE
    await sms().updateOne(
      { messageId: message_id as string },
      { $set: { state: 'delivered', finalAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) } },
    );
    const after = await esme.request('query_sm', { message_id, source_addr: 'ACME' });
    expect(after.message_state).toBe(2); // DELIVERED
    // The smpp package decodes SMPP times into Dates.
    expect((after.final_date as Date).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    const unknown = await esme.request('query_sm', { message_id: '0123456789abcdef01234567' });
    expect(unknown.command_status).toBe(CommandStatus.ESME_RQUERYFAIL);
    const malformed = await esme.request('query_sm', { message_id: 'nope' });
    expect(malformed.command_status).toBe(CommandStatus.ESME_RINVMSGID);
  });

  it('another account cannot query, cancel or replace my messages', async () => {
    const { message_id } = await esme.submit({});
    const peer = await TestEsme.bound(run.port, 'peer', 'pw');
    expect((await peer.request('query_sm', { message_id })).command_status).toBe(CommandStatus.ESME_RQUERYFAIL);
    expect((await peer.request('cancel_sm', { message_id })).command_status).toBe(CommandStatus.ESME_RCANCELFAIL);
    expect((await peer.request('replace_sm', { message_id, short_message: Buffer.from('x') })).command_status).toBe(
      CommandStatus.ESME_RREPLACEFAIL,
    );
    peer.close();
    expect((await sms().findOne({ messageId: message_id as string }))?.state).toBe('queued');
  });

  it('cancel_sm cancels a queued message (CAS) and fails once it is no longer queued', async () => {
    const { message_id } = await esme.submit({});
    expect((await esme.request('cancel_sm', { message_id })).command_status).toBe(0);
    expect((await sms().findOne({ messageId: message_id as string }))?.state).toBe('cancelled');
    expect((await esme.request('cancel_sm', { message_id })).command_status).toBe(CommandStatus.ESME_RCANCELFAIL);
    const locked = await esme.submit({});
    await sms().updateOne({ messageId: locked.message_id as string }, { $set: { state: 'locked' } });
    expect((await esme.request('cancel_sm', { message_id: locked.message_id })).command_status).toBe(CommandStatus.ESME_RCANCELFAIL);
    expect((await sms().findOne({ messageId: locked.message_id as string }))?.state).toBe('locked');
  });

  it('cancel_sm without message_id cancels every queued message from source to destination', async () => {
    await esme.submit({ destination_addr: '447700900301' });
    await esme.submit({ destination_addr: '447700900301' });
    const resp = await esme.request('cancel_sm', {
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900301',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
    });
    expect(resp.command_status).toBe(0);
    expect(await sms().countDocuments({ destKey: '+447700900301', state: 'cancelled' })).toBe(2);
  });

  it('replace_sm replaces a queued message and fails once it is not queued', async () => {
    const { message_id } = await esme.submit({ short_message: Buffer.from('old text') });
    const resp = await esme.request('replace_sm', {
      message_id,
      source_addr: 'ACME',
      source_addr_ton: 5,
      short_message: Buffer.from('new text'),
      registered_delivery: 1,
      validity_period: '000000020000000R',
    });
    expect(resp.command_status).toBe(0);
    const doc = await sms().findOne({ messageId: message_id as string });
    expect(bytes(doc).toString()).toBe('new text');
    expect(doc?.registeredDelivery).toBe(1);
    expect(Math.abs(doc!.validUntil.getTime() - (Date.now() + 2 * 3600_000))).toBeLessThan(60_000);
    const bad = await esme.request('replace_sm', { message_id, short_message: Buffer.from('x'), validity_period: 'garbage' });
    expect(bad.command_status).toBe(CommandStatus.ESME_RINVEXPIRY);
    await sms().updateOne({ messageId: message_id as string }, { $set: { state: 'submitted' } });
    const late = await esme.request('replace_sm', { message_id, short_message: Buffer.from('too late') });
    expect(late.command_status).toBe(CommandStatus.ESME_RREPLACEFAIL);
    expect(bytes(await sms().findOne({ messageId: message_id as string })).toString()).toBe('new text');
  });

  it('replace_sm fails for a queued message some of whose parts the downstream already took', async () => {
    const { message_id } = await esme.submit({ short_message: Buffer.from('old text') });
    // What a deliverer leaves after part 1 of 2 was accepted and part 2 failed temporarily.
    await sms().updateOne({ messageId: message_id as string }, { $set: { attempts: 1, progress: { connector: 'op', remoteIds: ['r1'] } } });
    const resp = await esme.request('replace_sm', { message_id, short_message: Buffer.from('new text') });
    expect(resp.command_status).toBe(CommandStatus.ESME_RREPLACEFAIL);
    expect(bytes(await sms().findOne({ messageId: message_id as string })).toString()).toBe('old text');
    // replace_if_present leaves it alone too: the new submit is a message of its own.
    const again = await esme.submit({ short_message: Buffer.from('v2'), replace_if_present_flag: 1 });
    expect(again.command_status).toBe(0);
    expect(again.message_id).not.toBe(message_id);
    expect(bytes(await sms().findOne({ messageId: message_id as string })).toString()).toBe('old text');
  });

  it('an account at its backlog cap gets ESME_RMSGQFUL', async () => {
    const small = await TestEsme.bound(run.port, 'small', 'pw');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await small.submit({})).command_status);
    expect(statuses).toEqual([0, 0, CommandStatus.ESME_RMSGQFUL, CommandStatus.ESME_RMSGQFUL]);
    expect(await sms().countDocuments({ account: 'small' })).toBe(2);
    small.close();
  });
});

describe('replace_if_present_flag', () => {
  it('replaces the queued message with the same source, destination and service_type', async () => {
    const first = await esme.submit({ destination_addr: '447700900401', service_type: 'NEWS', short_message: Buffer.from('v1') });
    const second = await esme.submit({
      destination_addr: '447700900401',
      service_type: 'NEWS',
      short_message: Buffer.from('v2'),
      replace_if_present_flag: 1,
    });
    expect(second.command_status).toBe(0);
    expect(second.message_id).toBe(first.message_id);
    const docs = await sms().find({ destKey: '+447700900401' }).toArray();
    expect(docs).toHaveLength(1);
    expect(bytes(docs[0]).toString()).toBe('v2');
    // Another service_type is another message.
    const other = await esme.submit({
      destination_addr: '447700900401',
      service_type: 'ADS',
      short_message: Buffer.from('x'),
      replace_if_present_flag: 1,
    });
    expect(other.message_id).not.toBe(first.message_id);
    expect(await sms().countDocuments({ destKey: '+447700900401' })).toBe(2);
  });
});
