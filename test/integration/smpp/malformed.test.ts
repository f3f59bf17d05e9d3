import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, type SmppMalformedPduError, CommandId, createSmppServer, type SmppServer } from '../../../src/smpp/index.ts';
import { cstr, frame, header, parseHeader, rawConnect, rawSocket, type RawClient } from './helpers.ts';
import { until } from '../../support/until.ts';

// Every malformed input below must get a generic_nack (with the sequence number when the header
// could be read) and a closed connection, while a well-behaved ESME on another connection of
// the same server keeps binding and submitting.

let server: SmppServer;
let good: RawClient;
const malformed: SmppMalformedPduError[] = [];
let submits = 0;

beforeAll(async () => {
  server = await createSmppServer({ port: 0, host: '127.0.0.1', maxPduLength: 1024, closeTimeoutMs: 200 }, (s) => {
    s.on('malformed', (e) => malformed.push(e));
    s.handle('bind', () => ({ systemId: 'SMSC' }));
    s.handle('submitSm', () => ({ messageId: String(++submits) }));
  });
  good = await rawConnect(server.port);
  expect((await good.call('bind_transceiver', { system_id: 'good' })).command_status).toBe(0);
});

afterAll(async () => {
  await good.close();
  await server.close();
});

/** A bind_transmitter body: system_id, password, system_type, version, ton, npi, range. */
const bindBody = Buffer.concat([cstr('esme'), cstr('pw'), cstr(''), Buffer.from([0x34, 0, 0]), cstr('')]);

/** A valid submit_sm body up to and including short_message. */
function submitBody(shortMessage = Buffer.from('hello')): Buffer {
  return Buffer.concat([
    cstr(''), // service_type
    Buffer.from([1, 1]),
    cstr('12345'),
    Buffer.from([1, 1]),
    cstr('447700900123'),
    Buffer.from([0, 0, 0]), // esm_class, protocol_id, priority_flag
    cstr(''),
    cstr(''),
    Buffer.from([0, 0, 0, 0]), // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
    Buffer.from([shortMessage.length]),
    shortMessage,
  ]);
}

async function expectNackThenClose(bytes: Buffer, status: number, sequence: number): Promise<void> {
  const before = malformed.length;
  const sock = await rawSocket(server.port);
  // Bind first where possible, so the bad PDU is judged as a bad PDU and not as "not bound".
  sock.write(frame(CommandId.bind_transmitter, 1, bindBody));
  await sock.waitBytes(16);
  const bindResp = parseHeader(sock.bytes());
  expect(bindResp.status).toBe(0);
  sock.write(bytes);
  const all = await sock.waitBytes(bindResp.length + 16);
  const nack = parseHeader(all, bindResp.length);
  expect(nack).toEqual({ length: 16, id: CommandId.generic_nack, status, seq: sequence });
  await sock.closed;
  expect(malformed.length).toBe(before + 1);
  // Someone else on the same server is unaffected.
  const resp = await good.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('x') });
  expect(resp.command_status).toBe(0);
}

describe('malformed PDUs', () => {
  it('command_length below 16: generic_nack ESME_RINVCMDLEN, closed', async () => {
    await expectNackThenClose(header(8, CommandId.submit_sm, 0, 7), CommandStatus.ESME_RINVCMDLEN, 7);
  });

  it('command_length 0 with nothing after it: generic_nack with sequence 0, closed', async () => {
    await expectNackThenClose(Buffer.alloc(4), CommandStatus.ESME_RINVCMDLEN, 0);
  });

  it('command_length above the configured maximum: generic_nack ESME_RINVCMDLEN without waiting for the body', async () => {
    await expectNackThenClose(header(5000, CommandId.submit_sm, 0, 9), CommandStatus.ESME_RINVCMDLEN, 9);
  });

  it('a body that ends before the mandatory parameters: ESME_RINVCMDLEN', async () => {
    const truncated = submitBody().subarray(0, 10);
    await expectNackThenClose(frame(CommandId.submit_sm, 11, truncated), CommandStatus.ESME_RINVCMDLEN, 11);
  });

  it('a C-string without its NUL inside command_length: ESME_RINVCMDLEN', async () => {
    const body = Buffer.concat([Buffer.from([0x00, 1, 1]), Buffer.from('12345678901234567890')]);
    await expectNackThenClose(frame(CommandId.submit_sm, 12, body), CommandStatus.ESME_RINVCMDLEN, 12);
  });

  it('sm_length past the end of the PDU: ESME_RINVMSGLEN', async () => {
    const body = submitBody(Buffer.from('hello'));
    body[body.length - 6] = 200; // sm_length claims 200 octets, 5 follow
    await expectNackThenClose(frame(CommandId.submit_sm, 13, body), CommandStatus.ESME_RINVMSGLEN, 13);
  });

  it('a TLV whose length runs past the end: ESME_RINVOPTPARSTREAM', async () => {
    const tlv = Buffer.from([0x02, 0x04, 0x00, 0x20, 0x00, 0x01]); // user_message_reference, length 32, 2 bytes
    await expectNackThenClose(frame(CommandId.submit_sm, 14, Buffer.concat([submitBody(), tlv])), CommandStatus.ESME_RINVOPTPARSTREAM, 14);
  });

  it('trailing bytes too short for a TLV header: ESME_RINVOPTPARSTREAM', async () => {
    await expectNackThenClose(
      frame(CommandId.submit_sm, 15, Buffer.concat([submitBody(), Buffer.from([0x02])])),
      CommandStatus.ESME_RINVOPTPARSTREAM,
      15,
    );
  });

  it('random bytes before any bind: generic_nack and close', async () => {
    const before = malformed.length;
    const sock = await rawSocket(server.port);
    sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const nack = parseHeader(await sock.waitBytes(16));
    expect(nack.id).toBe(CommandId.generic_nack);
    expect(nack.status).toBe(CommandStatus.ESME_RINVCMDLEN);
    await sock.closed;
    expect(malformed.length).toBe(before + 1);
  });
});

describe('well-formed but wrong', () => {
  it('an unknown command id gets generic_nack ESME_RINVCMDID and the session stays usable', async () => {
    const sock = await rawSocket(server.port);
    sock.write(frame(0x00000077, 21));
    const nack = parseHeader(await sock.waitBytes(16));
    expect(nack).toEqual({ length: 16, id: CommandId.generic_nack, status: CommandStatus.ESME_RINVCMDID, seq: 21 });
    sock.write(frame(CommandId.enquire_link, 22));
    const resp = parseHeader(await sock.waitBytes(32), 16);
    expect(resp).toEqual({ length: 16, id: CommandId.enquire_link_resp, status: 0, seq: 22 });
    sock.socket.destroy();
  });

  it('an int TLV of the wrong length is answered with the command response ESME_RINVPARLEN, session kept', async () => {
    const sock = await rawSocket(server.port);
    sock.write(frame(CommandId.bind_transmitter, 1, bindBody));
    const bindLen = parseHeader(await sock.waitBytes(16)).length;
    const badTlv = Buffer.from([0x02, 0x04, 0x00, 0x01, 0x07]); // user_message_reference is 2 octets
    sock.write(frame(CommandId.submit_sm, 2, Buffer.concat([submitBody(), badTlv])));
    const resp = parseHeader(await sock.waitBytes(bindLen + 16), bindLen);
    expect(resp).toEqual({ length: 16, id: CommandId.submit_sm_resp, status: CommandStatus.ESME_RINVPARLEN, seq: 2 });
    sock.write(frame(CommandId.submit_sm, 3, submitBody()));
    const ok = parseHeader(await sock.waitBytes(bindLen + 32), bindLen + 16);
    expect(ok.id).toBe(CommandId.submit_sm_resp);
    expect(ok.status).toBe(0);
    sock.socket.destroy();
  });

  it.each([
    ['one octet per TCP write', 1],
    ['all PDUs in one TCP write (submit pipelined behind the bind)', 10_000],
  ])('frames PDUs correctly: %s', async (_name, chunk) => {
    const sock = await rawSocket(server.port);
    const bytes = Buffer.concat([
      frame(CommandId.bind_transmitter, 1, bindBody),
      frame(CommandId.submit_sm, 2, submitBody()),
      frame(CommandId.enquire_link, 3),
    ]);
    for (let at = 0; at < bytes.length; at += chunk) sock.write(bytes.subarray(at, at + chunk));
    const responses = () => {
      const all = sock.bytes();
      const out: ReturnType<typeof parseHeader>[] = [];
      for (let at = 0; at + 16 <= all.length; at += all.readUInt32BE(at)) out.push(parseHeader(all, at));
      return out;
    };
    await until(() => responses().length === 3, 2_000, 'three responses');
    const bySeq = new Map(responses().map((r) => [r.seq, r]));
    expect(bySeq.get(1)).toMatchObject({ id: CommandId.bind_transmitter_resp, status: 0 });
    expect(bySeq.get(2)).toMatchObject({ id: CommandId.submit_sm_resp, status: 0 });
    expect(bySeq.get(3)).toMatchObject({ id: CommandId.enquire_link_resp, status: 0 });
    sock.socket.destroy();
  });

  it('a connection reset mid-PDU does not crash the process and the server keeps serving', async () => {
    for (let i = 0; i < 5; i++) {
      const sock = await rawSocket(server.port);
      sock.write(frame(CommandId.bind_transmitter, 1, bindBody).subarray(0, 20));
      sock.socket.resetAndDestroy();
      await sock.closed;
    }
    const resp = await good.call('submit_sm', { destination_addr: '2', short_message: Buffer.from('y') });
    expect(resp.command_status).toBe(0);
  });
});
