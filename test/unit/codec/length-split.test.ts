import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  PartLimits,
  UnmappableCharacterError,
  decodeGsm7,
  encodeGsm7,
  measureText,
  parseInboundPart,
  reassemble,
  segmentRanges,
  splitEncoded,
  splitText,
  type ConcatStrategyName,
  type MessagePart,
  type TextEncodingName,
} from '../../../src/codec/index.ts';
import { fromHex, gsmText, hex, latin1Text, ucs2Text } from './support.ts';

const STRATEGIES: ConcatStrategyName[] = ['udh8', 'udh16', 'sar', 'payload'];

/** What an SMPP peer would receive for a part, fed back through the inbound parser. */
function asInbound(p: MessagePart) {
  return parseInboundPart({
    shortMessage: p.shortMessage,
    esmClass: p.esmClassUdhi ? 0x40 : 0,
    messagePayload: p.messagePayload,
    sarMsgRefNum: p.sar?.reference,
    sarTotalSegments: p.sar?.total,
    sarSegmentSeqnum: p.sar?.sequence,
  });
}

describe('measureText: characters, units, parts', () => {
  it('empty text is one part of nothing', () => {
    expect(measureText('')).toEqual({
      encoding: 'GSM7',
      characters: 0,
      units: 0,
      parts: { single: 1, udh8: 1, udh16: 1, sar: 1, payload: 1 },
    });
  });

  it('exactly 160 GSM characters fit one part; 161 need two', () => {
    expect(measureText('a'.repeat(160)).parts).toEqual({ single: 1, udh8: 1, udh16: 1, sar: 1, payload: 1 });
    expect(measureText('a'.repeat(161)).parts).toEqual({ single: null, udh8: 2, udh16: 2, sar: 2, payload: 1 });
    expect(measureText('a'.repeat(306)).parts.udh8).toBe(2);
    expect(measureText('a'.repeat(307)).parts.udh8).toBe(3);
    expect(measureText('a'.repeat(304)).parts.udh16).toBe(2);
    expect(measureText('a'.repeat(305)).parts.udh16).toBe(3);
    expect(measureText('a'.repeat(320)).parts.sar).toBe(2);
    expect(measureText('a'.repeat(321)).parts.sar).toBe(3);
  });

  it('extension characters count two septets: 80 euro signs fit, 81 do not', () => {
    expect(measureText('€'.repeat(80))).toMatchObject({ characters: 80, units: 160, parts: { single: 1 } });
    expect(measureText('€'.repeat(81))).toMatchObject({ characters: 81, units: 162, parts: { single: null, udh8: 2 } });
  });

  it('exactly 70 UCS-2 units fit one part; 71 need two', () => {
    expect(measureText('Ж'.repeat(70))).toMatchObject({ encoding: 'UCS2', units: 70, parts: { single: 1 } });
    expect(measureText('Ж'.repeat(71))).toMatchObject({ encoding: 'UCS2', units: 71, parts: { single: null, udh8: 2, udh16: 2, sar: 2 } });
    expect(measureText('Ж'.repeat(134)).parts.udh8).toBe(2);
    expect(measureText('Ж'.repeat(135)).parts.udh8).toBe(3);
  });

  it('an emoji is one character and two units', () => {
    expect(measureText('😀'.repeat(35))).toMatchObject({ characters: 35, units: 70, parts: { single: 1 } });
  });

  it('Latin-1 only when asked, 140 octets per part', () => {
    expect(measureText('ê'.repeat(140)).encoding).toBe('UCS2');
    expect(measureText('ê'.repeat(140), 'LATIN1')).toMatchObject({ encoding: 'LATIN1', units: 140, parts: { single: 1 } });
    expect(measureText('ê'.repeat(141), 'LATIN1').parts).toEqual({ single: null, udh8: 2, udh16: 2, sar: 2, payload: 1 });
  });

  it('a forced encoding names the unmappable character', () => {
    expect(() => measureText('hi ☃', 'GSM7')).toThrow(UnmappableCharacterError);
    expect(() => measureText('hi ☃', 'LATIN1')).toThrow(expect.objectContaining({ position: 3, character: '☃' }));
  });
});

describe('splitText: boundaries', () => {
  it('a { at the 153rd septet moves whole to the second part (no split escape)', () => {
    const text = 'a'.repeat(152) + '{' + 'b'.repeat(20);
    const { parts } = splitText(text, { strategy: 'udh8', reference: 1 });
    expect(parts).toHaveLength(2);
    expect(parts[0].units).toBe(152);
    expect(hex(parts[0].shortMessage.subarray(6)).endsWith('61')).toBe(true);
    expect(hex(parts[1].shortMessage.subarray(6, 8))).toBe('1B28');
    expect(measureText(text).parts.udh8).toBe(2);
  });

  it('a € whose escape lands on septet 153 moves whole too', () => {
    const text = 'x'.repeat(152) + '€' + 'y'.repeat(10);
    const { parts } = splitText(text, { strategy: 'udh8', reference: 9 });
    expect(parts.map((p) => p.units)).toEqual([152, 12]);
    const parsed = parts.map(asInbound);
    expect(reassemble(parsed, { dataCoding: 0 }).text).toBe(text);
  });

  it('an emoji at the UCS-2 part boundary moves whole to the next part', () => {
    const text = 'Ж'.repeat(66) + '😀' + 'Ж'.repeat(10);
    const { parts } = splitText(text, { strategy: 'udh8', reference: 3 });
    expect(parts.map((p) => p.units)).toEqual([66, 12]);
    expect(hex(parts[1].shortMessage.subarray(6, 10))).toBe('D83DDE00');
    expect(measureText(text).parts.udh8).toBe(2);
  });

  it('builds UDH IEI 0x00 and 0x08 headers and sets UDHI', () => {
    const a = splitText('a'.repeat(200), { strategy: 'udh8', reference: 0xcc });
    expect(a.parts.map((p) => hex(p.udh!))).toEqual(['050003CC0201', '050003CC0202']);
    expect(a.parts.every((p) => p.esmClassUdhi && p.sar === null)).toBe(true);
    const b = splitText('a'.repeat(400), { strategy: 'udh16', reference: 0x1234 });
    expect(b.parts.map((p) => hex(p.udh!))).toEqual(['060804123403' + '01', '060804123403' + '02', '060804123403' + '03']);
  });

  it('SAR parts carry plain text and the three TLV values', () => {
    const { parts } = splitText('a'.repeat(161), { strategy: 'sar', reference: 500 });
    expect(parts.map((p) => p.sar)).toEqual([
      { reference: 500, total: 2, sequence: 1 },
      { reference: 500, total: 2, sequence: 2 },
    ]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([160, 1]);
    expect(parts.every((p) => !p.esmClassUdhi)).toBe(true);
  });

  it('message_payload carries the whole message once; short texts stay in short_message', () => {
    const long = splitText('a'.repeat(1000), { strategy: 'payload' });
    expect(long.parts).toHaveLength(1);
    expect(long.parts[0].shortMessage.length).toBe(0);
    expect(long.parts[0].messagePayload!.length).toBe(1000);
    const short = splitText('hi', { strategy: 'payload' });
    expect(hex(short.parts[0].shortMessage)).toBe('6869');
    expect(short.parts[0].messagePayload).toBeNull();
  });

  it('packs GSM-7 after the UDH with the fill bit when the peer wants packed', () => {
    const { parts } = splitText('A'.repeat(161), { strategy: 'udh8', reference: 1, gsm7Packing: 'packed' });
    // 6 UDH octets + 1 fill bit + 153 septets = 48 + 1 + 1071 bits = 140 octets.
    expect(parts[0].shortMessage.length).toBe(140);
    expect(parts[0].shortMessage[6]).toBe(0x82);
    const parsed = parts.map(asInbound);
    expect(parsed[0].fillBits).toBe(1);
    expect(reassemble(parsed, { dataCoding: 0, gsm7Packed: true }).text).toBe('A'.repeat(161));
  });

  it('empty text is one empty part under every strategy', () => {
    for (const strategy of ['single', ...STRATEGIES] as ConcatStrategyName[]) {
      const { parts } = splitText('', { strategy });
      expect(parts).toHaveLength(1);
      expect(parts[0].shortMessage.length).toBe(0);
    }
  });

  it('refuses what cannot be sent: too long for single, missing or out-of-range reference, > 255 parts', () => {
    expect(() => splitText('a'.repeat(161), { strategy: 'single' })).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LONG' }));
    expect(() => splitText('a'.repeat(161), { strategy: 'udh8' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => splitText('a'.repeat(161), { strategy: 'udh8', reference: 256 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(splitText('a'.repeat(161), { strategy: 'udh16', reference: 65535 }).parts).toHaveLength(2);
    expect(() => splitText('a'.repeat(153 * 256), { strategy: 'udh8', reference: 1 })).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LONG' }),
    );
    expect(() => splitText('a'.repeat(70000), { strategy: 'payload' })).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LONG' }));
  });

  it('re-segments octets received as one message_payload (splitEncoded)', () => {
    const body = encodeGsm7('z'.repeat(300) + '€');
    const parts = splitEncoded(body, 'GSM7', { strategy: 'udh16', reference: 77 });
    expect(parts).toHaveLength(2);
    expect(decodeGsm7(Buffer.concat(parts.map((p) => p.shortMessage.subarray(7))))).toBe('z'.repeat(300) + '€');
  });

  it('segmentRanges never ends a part on an escape even when the body starts with escapes', () => {
    const body = fromHex('1B65'.repeat(100));
    for (const [s, e] of segmentRanges(body, 'GSM7', 153)) {
      expect(body[e - 1]).not.toBe(0x1b);
      expect((e - s) % 2).toBe(0);
    }
  });
});

describe('split then reassemble then decode is the identity (property)', () => {
  const cases: Array<[string, fc.Arbitrary<string>, TextEncodingName | 'auto']> = [
    ['GSM', gsmText(), 'auto'],
    ['Latin-1', latin1Text(), 'LATIN1'],
    ['UCS-2', ucs2Text(), 'auto'],
  ];
  for (const [name, arb, encoding] of cases) {
    for (const strategy of STRATEGIES) {
      it(`${name} over ${strategy}: identity, and part count equals the calculator's`, () => {
        fc.assert(
          fc.property(arb, fc.integer({ min: 0, max: strategy === 'udh8' ? 255 : 65535 }), (text, reference) => {
            const result = splitText(text, { strategy, reference, encoding });
            const predicted = measureText(text, encoding).parts[strategy];
            expect(result.parts.length).toBe(predicted);
            const limits = PartLimits[result.encoding];
            for (const p of result.parts) {
              if (result.parts.length > 1 && strategy !== 'payload') {
                expect(p.units).toBeLessThanOrEqual(strategy === 'sar' ? limits.single : limits[strategy as 'udh8' | 'udh16']);
              }
            }
            const parsed = result.parts.map(asInbound);
            // Any arrival order.
            parsed.reverse();
            expect(reassemble(parsed, { dataCoding: result.dataCoding }).text).toBe(text);
          }),
          { numRuns: 60 },
        );
      });
    }
  }

  it('GSM packed over every strategy (texts without CR, whose trailing use is ambiguous in TS 23.038)', () => {
    fc.assert(
      fc.property(
        gsmText().filter((t) => !t.includes('\r')),
        fc.constantFrom('udh8', 'udh16', 'sar', 'payload') as fc.Arbitrary<ConcatStrategyName>,
        (text, strategy) => {
          const result = splitText(text, { strategy, reference: 42, gsm7Packing: 'packed' });
          const parsed = result.parts.map(asInbound);
          expect(reassemble(parsed, { dataCoding: 0, gsm7Packed: true }).text).toBe(text);
        },
      ),
      { numRuns: 150 },
    );
  });
});
