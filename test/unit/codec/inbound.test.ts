import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  describeDataCoding,
  dataCodingFor,
  decodeText,
  detectEncoding,
  joinPayloads,
  parseEncodingRequest,
  parseInboundPart,
  parseUdh,
  reassemble,
  resolveEncoding,
  type InboundPart,
} from '../../../src/codec/index.ts';
import { fromHex, hex, onlyCodecErrors, vectors } from './support.ts';

describe('parseInboundPart: the three long-message forms', () => {
  it.each(vectors.concatenatedPdus)('$name', (v) => {
    const part = parseInboundPart({ shortMessage: fromHex(v.shortMessageHex), esmClass: v.esmClass });
    expect(part).toMatchObject({ form: v.form, reference: v.reference, total: v.total, sequence: v.sequence });
    expect(hex(part.payload)).toBe(v.payloadHex);
  });

  it('keeps other information elements (port addressing) for the caller', () => {
    const part = parseInboundPart({ shortMessage: fromHex('0B05040B8423F00003070201AABB'), esmClass: 0x40 });
    expect(part.udhElements.map((e) => [e.iei, hex(e.data)])).toEqual([
      [0x05, '0B8423F0'],
      [0x00, '070201'],
    ]);
  });

  it('reads SAR TLVs', () => {
    const part = parseInboundPart({ shortMessage: Buffer.from('abc'), sarMsgRefNum: 513, sarTotalSegments: 3, sarSegmentSeqnum: 2 });
    expect(part).toMatchObject({ form: 'sar', reference: 513, total: 3, sequence: 2 });
    expect(part.payload.toString()).toBe('abc');
  });

  it('reads message_payload as one complete message', () => {
    const part = parseInboundPart({ shortMessage: Buffer.alloc(0), messagePayload: Buffer.from('long text') });
    expect(part).toMatchObject({ form: 'payload', reference: 0, total: 1, sequence: 1 });
    expect(part.payload.toString()).toBe('long text');
  });

  it('reads a UDH carried inside message_payload (data_sm)', () => {
    const part = parseInboundPart({ messagePayload: fromHex('0500030A020268656C6C6F'), esmClass: 0x40 });
    expect(part).toMatchObject({ form: 'udh8', reference: 10, total: 2, sequence: 2 });
    expect(part.payload.toString()).toBe('hello');
  });

  it('a plain short_message is part 1 of 1', () => {
    expect(parseInboundPart({ shortMessage: Buffer.from('hi'), esmClass: 0 })).toMatchObject({ form: 'single', total: 1, sequence: 1 });
  });

  it('rejects broken headers and impossible sequence numbers with typed errors', () => {
    expect(() => parseInboundPart({ shortMessage: fromHex('0A0003'), esmClass: 0x40 })).toThrow(
      expect.objectContaining({ code: 'INVALID_UDH' }),
    );
    expect(() => parseInboundPart({ shortMessage: fromHex('05000301'), esmClass: 0x40 })).toThrow(
      expect.objectContaining({ code: 'INVALID_UDH' }),
    );
    expect(() => parseInboundPart({ shortMessage: fromHex('050003010203'), esmClass: 0x40 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SEGMENT' }),
    );
    expect(() => parseInboundPart({ shortMessage: fromHex('050003010000'), esmClass: 0x40 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SEGMENT' }),
    );
    expect(() => parseInboundPart({ shortMessage: Buffer.from('x'), sarMsgRefNum: 1, sarTotalSegments: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SEGMENT' }),
    );
    expect(() => parseInboundPart({ shortMessage: Buffer.alloc(0), esmClass: 0x40 })).toThrow(
      expect.objectContaining({ code: 'INVALID_UDH' }),
    );
  });

  it('only returns or throws CodecError for random bytes, esm_class and TLVs (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 160 }),
        fc.integer({ min: 0, max: 255 }),
        fc.option(fc.integer({ min: -5, max: 70000 })),
        fc.option(fc.integer({ min: -1, max: 300 })),
        fc.option(fc.integer({ min: -1, max: 300 })),
        (bytes, esmClass, ref, total, seq) => {
          onlyCodecErrors(() => {
            const part = parseInboundPart({
              shortMessage: bytes,
              esmClass,
              sarMsgRefNum: ref,
              sarTotalSegments: total,
              sarSegmentSeqnum: seq,
            });
            joinPayloads([part], { gsm7Packed: true });
          });
          onlyCodecErrors(() => parseUdh(bytes));
        },
      ),
    );
  });
});

describe('reassembly', () => {
  const part = (sequence: number, text: string, total = 3, reference = 5): InboundPart => ({
    form: 'udh8',
    reference,
    total,
    sequence,
    payload: Buffer.from(text, 'latin1'),
    udh: null,
    udhElements: [],
    fillBits: 1,
  });

  it('orders parts, ignores a duplicate, and names missing parts', () => {
    expect(reassemble([part(3, 'c'), part(1, 'a'), part(2, 'b'), part(2, 'X')], { dataCoding: 3 }).text).toBe('abc');
    expect(() => reassemble([part(1, 'a'), part(3, 'c')], { dataCoding: 3 })).toThrow(/missing part\(s\) 2/);
    expect(() => reassemble([], { dataCoding: 3 })).toThrow(expect.objectContaining({ code: 'INCOMPLETE_MESSAGE' }));
  });

  it('refuses to mix parts of different messages', () => {
    expect(() => reassemble([part(1, 'a'), part(2, 'b', 3, 6)], { dataCoding: 3 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SEGMENT' }),
    );
  });

  it('repairs a peer that split an escape sequence or a surrogate pair across parts', () => {
    const gsm = [
      { ...part(1, 'a\u001b', 2), payload: fromHex('611B') },
      { ...part(2, '', 2), payload: fromHex('6562') },
    ];
    expect(reassemble(gsm, { dataCoding: 0 }).text).toBe('a€b');
    const ucs = [
      { ...part(1, '', 2), payload: fromHex('0061D83D') },
      { ...part(2, '', 2), payload: fromHex('DE00') },
    ];
    expect(reassemble(ucs, { dataCoding: 8 }).text).toBe('a😀');
  });
});

describe('data_coding', () => {
  it('describes the SMPP 3.4 values', () => {
    expect(describeDataCoding(0x00)).toMatchObject({ alphabet: 'GSM7', messageClass: null });
    expect(describeDataCoding(0x01)).toMatchObject({ alphabet: 'IA5' });
    expect(describeDataCoding(0x03)).toMatchObject({ alphabet: 'LATIN1' });
    expect(describeDataCoding(0x04)).toMatchObject({ alphabet: 'BINARY' });
    expect(describeDataCoding(0x08)).toMatchObject({ alphabet: 'UCS2' });
    expect(describeDataCoding(0x06)).toMatchObject({ alphabet: 'UNSUPPORTED', charset: 'Cyrillic (ISO-8859-5)' });
  });

  it('describes the GSM 03.38 message-class forms', () => {
    expect(describeDataCoding(0xf0)).toMatchObject({ alphabet: 'GSM7', messageClass: 0 });
    expect(describeDataCoding(0xf1)).toMatchObject({ alphabet: 'GSM7', messageClass: 1 });
    expect(describeDataCoding(0xf6)).toMatchObject({ alphabet: 'BINARY', messageClass: 2 });
    expect(describeDataCoding(0x10)).toMatchObject({ alphabet: 'GSM7', messageClass: 0 });
    expect(describeDataCoding(0x18)).toMatchObject({ alphabet: 'UCS2', messageClass: 0 });
    expect(describeDataCoding(0x24)).toMatchObject({ alphabet: 'UNSUPPORTED', compressed: true });
    expect(describeDataCoding(0xd1)).toMatchObject({ alphabet: 'GSM7', messageWaiting: true });
    expect(describeDataCoding(0xe0)).toMatchObject({ alphabet: 'UCS2', messageWaiting: true });
  });

  it('tables are frozen', () => {
    expect(Object.isFrozen(describeDataCoding(0))).toBe(true);
  });

  it('describes every octet and refuses non-octets', () => {
    for (let dc = 0; dc < 256; dc++) expect(describeDataCoding(dc).dataCoding).toBe(dc);
    expect(() => describeDataCoding(256)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ENCODING' }));
  });

  it('chooses data_coding for an encoding, with a message class on request', () => {
    expect(dataCodingFor('GSM7')).toBe(0x00);
    expect(dataCodingFor('LATIN1')).toBe(0x03);
    expect(dataCodingFor('UCS2')).toBe(0x08);
    expect(dataCodingFor('BINARY')).toBe(0x04);
    expect(dataCodingFor('GSM7', 0)).toBe(0xf0);
    expect(dataCodingFor('UCS2', 1)).toBe(0x19);
    expect(dataCodingFor('BINARY', 1)).toBe(0xf5);
  });

  it('decodes text by data_coding, honours what 0 means for a peer, refuses binary', () => {
    expect(decodeText(fromHex('1B65'), 0x00)).toBe('€');
    expect(decodeText(fromHex('1B65'), 0xf1)).toBe('€');
    expect(decodeText(fromHex('E9'), 0x00, { smscDefault: 'LATIN1' })).toBe('é');
    expect(decodeText(fromHex('48693F'), 0x01)).toBe('Hi?');
    expect(decodeText(fromHex('20AC'), 0x18)).toBe('€');
    expect(() => decodeText(fromHex('00'), 0x04)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ENCODING' }));
  });

  it('decodeText only returns or throws CodecError for random bytes and data_coding (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: -1, max: 256 }), fc.boolean(), (bytes, dc, packed) => {
        onlyCodecErrors(() => decodeText(bytes, dc, { packed }));
      }),
    );
  });
});

describe('encoding detection', () => {
  it('GSM-7 when every character is in the default alphabet or the extension table, else UCS-2', () => {
    expect(detectEncoding('Hello {world} €5')).toBe('GSM7');
    expect(detectEncoding('')).toBe('GSM7');
    expect(detectEncoding('Grüße')).toBe('GSM7');
    expect(detectEncoding('ça va')).toBe('UCS2');
    expect(detectEncoding('😀')).toBe('UCS2');
  });

  it('never picks Latin-1 on its own', () => {
    expect(detectEncoding('ê')).toBe('UCS2');
    expect(resolveEncoding('ê', 'LATIN1')).toBe('LATIN1');
  });

  it('parses encoding names and rejects unknown ones', () => {
    expect(parseEncodingRequest('auto')).toBe('auto');
    expect(parseEncodingRequest('GSM7')).toBe('GSM7');
    expect(parseEncodingRequest('latin1')).toBe('LATIN1');
    expect(parseEncodingRequest('ucs2')).toBe('UCS2');
    expect(() => parseEncodingRequest('utf8')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ENCODING' }));
  });
});
