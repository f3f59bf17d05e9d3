import fc from 'fast-check';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import {
  CommandStatus,
  shortMessageFromWire,
  shortMessageToWire,
  tlvsToWire,
  SmppMalformedPduError,
  buildPdu,
  CommandId,
  decodePdu,
  encodePdu,
  genericNack,
} from '../../../src/smpp/index.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// submit_sm, seq 1: source 1/1 "12345", dest 1/1 "447700900123", esm_class 0x40,
// registered_delivery 1, data_coding 8, short_message = UDH 050003 2a 02 01 + UCS-2 "Hi",
// TLV user_message_reference (0x0204) = 0x0007.
const SUBMIT_SM_HEX = `
  00000042 00000004 00000000 00000001
  00 01 01 3132333435 00 01 01 343437373030393030313233 00
  40 00 00 00 00 01 00 08 00
  0a 0500032a0201 00480069
  0204 0002 0007`;

function decodeError(frame: Buffer): SmppMalformedPduError {
  try {
    decodePdu(frame);
  } catch (error) {
    if (error instanceof SmppMalformedPduError) return error;
    throw error;
  }
  throw new Error('expected a decode error');
}

describe('decodePdu', () => {
  it('decodes a submit_sm fixture into spec params, raw short_message bytes and typed TLVs', () => {
    const frame = hex(SUBMIT_SM_HEX);
    expect(frame.readUInt32BE(0)).toBe(frame.length);
    const pdu = decodePdu(frame);
    expect(pdu).toMatchObject({ command: 'submit_sm', commandId: 4, commandStatus: 0, sequenceNumber: 1 });
    expect(pdu.params).toMatchObject({
      source_addr: '12345',
      destination_addr: '447700900123',
      esm_class: 0x40,
      data_coding: 8,
      registered_delivery: 1,
    });
    expect(pdu.params.short_message).toEqual(hex('0500032a020100480069'));
    expect(pdu.tlvs).toEqual({ user_message_reference: 7 });
    const msg = shortMessageFromWire(pdu);
    expect(msg.dest).toEqual({ ton: 1, npi: 1, addr: '447700900123' });
    expect(msg.tlvs.userMessageReference).toBe(7);
  });

  it('agrees with what the library encodes (round trip through our domain types)', () => {
    const input = {
      source: { ton: 5, npi: 0, addr: 'ACME' },
      dest: { ton: 1, npi: 1, addr: '15551234' },
      esmClass: 0x04,
      registeredDelivery: 0,
      dataCoding: 0,
      validityPeriod: '000001000000000R',
      shortMessage: Buffer.from('id:abc sub:001 dlvrd:001 stat:DELIVRD err:000'),
      tlvs: { receiptedMessageId: 'abc', messageState: 2, networkErrorCode: Buffer.from([3, 0, 1]), messagePayload: undefined },
    };
    const { params, tlvs } = shortMessageToWire(input);
    const frame = encodePdu({ command: 'deliver_sm', sequenceNumber: 9, params, tlvs });
    const msg = shortMessageFromWire(decodePdu(frame));
    expect(msg.source).toEqual(input.source);
    expect(msg.dest).toEqual(input.dest);
    expect(msg.validityPeriod).toBe('000001000000000R');
    expect(msg.shortMessage.equals(input.shortMessage)).toBe(true);
    expect(msg.tlvs).toEqual({ receiptedMessageId: 'abc', messageState: 2, networkErrorCode: Buffer.from([3, 0, 1]) });
  });

  it('round-trips arbitrary short_message bytes and addresses (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 254 }),
        fc.stringMatching(/^[0-9]{0,20}$/),
        fc.integer({ min: 0, max: 255 }),
        (bytes, addr, dcs) => {
          const { params, tlvs } = shortMessageToWire({ dest: { addr }, dataCoding: dcs, shortMessage: Buffer.from(bytes) });
          const msg = shortMessageFromWire(decodePdu(encodePdu({ command: 'submit_sm', sequenceNumber: 1, params, tlvs })));
          return msg.dest.addr === addr && msg.dataCoding === dcs && msg.shortMessage.equals(Buffer.from(bytes));
        },
      ),
    );
  });

  it('keeps unknown TLVs raw and repeated multi-value TLVs as lists', () => {
    const body = Buffer.concat([hex('00 00 00 00 00 00 00'), hex('1400 0003 616263'), hex('0302 0001 01 0302 0001 00')]);
    // query_sm: message_id "", source ton/npi/addr; then a vendor TLV 0x1400 and two callback_num_pres_ind
    const frame = Buffer.concat([hex('00000000 00000003 00000000 00000005'), hex('00 00 00 00')]);
    const pduBytes = Buffer.concat([frame, body.subarray(7)]);
    pduBytes.writeUInt32BE(pduBytes.length, 0);
    const pdu = decodePdu(pduBytes);
    expect(pdu.command).toBe('query_sm');
    expect(pdu.unknownTlvs).toEqual([{ tag: 0x1400, value: Buffer.from('abc') }]);
    expect(pdu.tlvs.callback_num_pres_ind).toEqual([1, 0]);
  });

  it('names an unknown command id "unknown" without failing', () => {
    const pdu = decodePdu(hex('00000010 00000077 00000000 00000001'));
    expect(pdu.command).toBe('unknown');
    expect(pdu.sequenceNumber).toBe(1);
  });

  it('accepts an error response without its body', () => {
    const pdu = decodePdu(hex('00000010 80000004 00000058 00000003'));
    expect(pdu).toMatchObject({ command: 'submit_sm_resp', commandStatus: 0x58, params: {} });
  });

  it.each([
    ['a request missing mandatory params', '00000014 00000004 00000000 00000001 00010131', CommandStatus.ESME_RINVCMDLEN],
    ['an unterminated C-string', '00000015 00000002 00000000 00000001 6162636465', CommandStatus.ESME_RINVCMDLEN],
    ['sm_length past the end', SUBMIT_SM_HEX.replace('0a 0500032a0201', 'ff 0500032a0201'), CommandStatus.ESME_RINVMSGLEN],
    ['a TLV past the end', SUBMIT_SM_HEX.replace('0204 0002 0007', '0204 0009 0007'), CommandStatus.ESME_RINVOPTPARSTREAM],
    [
      'a bad dest_flag in submit_multi',
      '0000001b 00000021 00000000 00000001 00 00 00 00 01 07 00 00 00 00 00',
      CommandStatus.ESME_RINVDESTFLAG,
    ],
  ])('rejects %s as fatal with the right status', (_name, hexFrame, status) => {
    const error = decodeError(hex(hexFrame));
    expect(error.fatal).toBe(true);
    expect(error.commandStatus).toBe(status);
    expect(error.sequenceNumber).toBe(1);
  });

  it('flags an int TLV of the wrong length as a non-fatal field error', () => {
    const pdu = decodePdu(hex(SUBMIT_SM_HEX.replace('0204 0002 0007', '0204 0001 07').replace('00000042', '00000041')));
    expect(pdu.fieldError?.commandStatus).toBe(CommandStatus.ESME_RINVPARLEN);
    expect(pdu.fieldError?.fatal).toBe(false);
  });

  it('never throws anything but SmppMalformedPduError on random bodies (property)', () => {
    const ids = Object.values(CommandId);
    fc.assert(
      fc.property(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 300 }), (id, body) => {
        const frame = Buffer.concat([Buffer.alloc(16), Buffer.from(body)]);
        frame.writeUInt32BE(frame.length, 0);
        frame.writeUInt32BE(id, 4);
        try {
          decodePdu(frame);
        } catch (error) {
          return error instanceof SmppMalformedPduError;
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});

describe('encoding', () => {
  it('builds a header-only generic_nack', () => {
    expect(genericNack(42, CommandStatus.ESME_RINVCMDID)).toEqual(hex('00000010 80000000 00000003 0000002a'));
  });

  it('leaves the body out of an error response (SMPP 3.4 4.4.2)', () => {
    const frame = encodePdu({ command: 'submit_sm_resp', sequenceNumber: 3, commandStatus: 0x58, params: { message_id: 'x' } });
    expect(frame).toEqual(hex('00000010 80000004 00000058 00000003'));
  });

  it('rejects unknown TLV names instead of dropping them', () => {
    expect(() => tlvsToWire({ notATlv: 1 })).toThrow(/notATlv/);
  });

  it('encodes what the bare library decodes identically', () => {
    const { params, tlvs } = shortMessageToWire({
      dest: { addr: '123' },
      shortMessage: Buffer.from([1, 2, 3]),
      dataCoding: 4,
      tlvs: { sarMsgRefNum: 513 },
    });
    const lib = new smpp.PDU(encodePdu({ command: 'submit_sm', sequenceNumber: 7, params, tlvs }));
    expect(lib.destination_addr).toBe('123');
    expect(lib.sar_msg_ref_num).toBe(513);
    expect(lib.sequence_number).toBe(7);
  });

  it('produces the same octets as the library encoder (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('submit_sm', 'deliver_sm', 'data_sm'),
        fc.record({
          source: fc.record({
            ton: fc.integer({ min: 0, max: 6 }),
            npi: fc.integer({ min: 0, max: 18 }),
            addr: fc.stringMatching(/^[0-9A-Za-z]{0,20}$/),
          }),
          dest: fc.record({
            ton: fc.integer({ min: 0, max: 6 }),
            npi: fc.integer({ min: 0, max: 18 }),
            addr: fc.stringMatching(/^[0-9]{1,20}$/),
          }),
          esmClass: fc.integer({ min: 0, max: 255 }),
          registeredDelivery: fc.integer({ min: 0, max: 31 }),
          dataCoding: fc.integer({ min: 0, max: 255 }),
          shortMessage: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          validityPeriod: fc.constantFrom('', '000001000000000R', '261231235959000+'),
        }),
        fc.record(
          {
            sarMsgRefNum: fc.integer({ min: 0, max: 0xffff }),
            receiptedMessageId: fc.stringMatching(/^[0-9a-f]{1,16}$/),
            messageState: fc.integer({ min: 0, max: 9 }),
          },
          { requiredKeys: [] },
        ),
        (command, msg, tlvIn) => {
          const { params, tlvs } = shortMessageToWire({ ...msg, tlvs: tlvIn });
          const ours = encodePdu({ command, sequenceNumber: 42, params, tlvs });
          const theirs = buildPdu({ command, sequenceNumber: 42, params, tlvs }).toBuffer();
          expect(ours.toString('hex')).toBe(theirs.toString('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a short_message over 255 octets and unknown TLVs', () => {
    expect(() => encodePdu({ command: 'submit_sm', params: { short_message: Buffer.alloc(300) } })).toThrow(/message_payload/);
    expect(() => encodePdu({ command: 'submit_sm', tlvs: { nope: 1 } })).toThrow(/nope/);
  });
});
