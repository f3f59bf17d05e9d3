import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CodecError,
  UnmappableCharacterError,
  decodeGsm7,
  decodeLatin1,
  decodeUcs2,
  encodeAscii,
  encodeGsm7,
  encodeLatin1,
  encodeUcs2,
  fillBitsAfterUdh,
  gsm7SeptetCount,
  isGsm7,
  packSeptets,
  packedOctetCount,
  unpackSeptets,
} from '../../../src/codec/index.ts';
import { GSM_CHARS, anyUnits, fromHex, gsmText, hex, onlyCodecErrors, smppDefs, ucs2Text, vectors } from './support.ts';

describe('GSM 7-bit default alphabet and extension table', () => {
  it.each(vectors.gsm7Unpacked)('encodes $text unpacked as $hex', ({ text, hex: h }) => {
    expect(hex(encodeGsm7(text))).toBe(h);
    expect(decodeGsm7(fromHex(h))).toBe(text);
  });

  it.each(vectors.gsm7Packed)('packs $text (fill $fillBits) as $hex (TS 23.038 vectors)', ({ text, fillBits, hex: h }) => {
    const septets = encodeGsm7(text);
    expect(hex(packSeptets(septets, fillBits))).toBe(h);
    expect(decodeGsm7(unpackSeptets(fromHex(h), fillBits))).toBe(text);
  });

  it('round-trips every character of both tables', () => {
    const all = GSM_CHARS.join('');
    expect(all.length).toBe(127 + 10);
    expect(decodeGsm7(encodeGsm7(all))).toBe(all);
    expect(gsm7SeptetCount(all)).toBe(127 + 20);
  });

  it('refuses an unmappable character with its position, never a substitute', () => {
    const err = (() => {
      try {
        encodeGsm7('abc ç x');
      } catch (e) {
        return e;
      }
      return null;
    })() as UnmappableCharacterError;
    expect(err).toBeInstanceOf(UnmappableCharacterError);
    expect(err.code).toBe('UNMAPPABLE_CHARACTER');
    expect(err.character).toBe('ç');
    expect(err.position).toBe(4);
    expect(err.message).toContain('U+00E7');
  });

  it('names a whole emoji (not half a surrogate pair) as the unmappable character', () => {
    expect(() => encodeGsm7('ok 😀')).toThrow(expect.objectContaining({ character: '😀', position: 3 }));
  });

  it('does not take the escape code itself as a character', () => {
    expect(isGsm7('a\u001bb')).toBe(false);
    expect(() => encodeGsm7('\u001b')).toThrow(UnmappableCharacterError);
  });

  it('decodes an escape before an undefined extension code as the default character, a lone trailing escape as space', () => {
    expect(decodeGsm7(fromHex('1B41'))).toBe('A');
    expect(decodeGsm7(fromHex('411B'))).toBe('A ');
  });

  it('rejects octets above 0x7F in unpacked data with a typed error', () => {
    expect(() => decodeGsm7(fromHex('4180'))).toThrow(expect.objectContaining({ code: 'MALFORMED_DATA' }));
  });

  it('decodes long bodies (beyond one String.fromCharCode chunk) intact', () => {
    const text = 'ab€'.repeat(7000);
    expect(decodeGsm7(encodeGsm7(text))).toBe(text);
  });

  it('computes UDH fill bits', () => {
    expect(fillBitsAfterUdh(0)).toBe(0);
    expect(fillBitsAfterUdh(6)).toBe(1);
    expect(fillBitsAfterUdh(7)).toBe(0);
    expect(fillBitsAfterUdh(12)).toBe(2);
  });

  it('drops a CR that only fills 7 spare bits; keeps a CR that is a real character', () => {
    expect(decodeGsm7(unpackSeptets(packSeptets(encodeGsm7('1234567'))))).toBe('1234567');
    expect(decodeGsm7(unpackSeptets(packSeptets(encodeGsm7('12\r'))))).toBe('12\r');
    // With an explicit septet count nothing is guessed.
    expect(decodeGsm7(unpackSeptets(fromHex('31D98C56B3DD1A'), 0, 8))).toBe('1234567\r');
  });

  it('packs and unpacks any septets with any fill bits (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 6 }), (raw, fill) => {
        const septets = Buffer.from(raw.map((b) => b & 0x7f));
        const packed = packSeptets(septets, fill);
        expect(packed.length).toBe(packedOctetCount(septets.length, fill));
        expect(hex(unpackSeptets(packed, fill, septets.length))).toBe(hex(septets));
      }),
    );
  });

  it('decode(encode(text)) is the identity for random GSM text (property)', () => {
    fc.assert(
      fc.property(gsmText(), (text) => {
        expect(decodeGsm7(encodeGsm7(text))).toBe(text);
      }),
    );
  });

  it('agrees with the smpp package encoder and decoder on valid GSM text (cross-check)', () => {
    fc.assert(
      fc.property(gsmText(200), (text) => {
        const ours = encodeGsm7(text);
        expect(hex(smppDefs.gsmCoder.encode(text, 0))).toBe(hex(ours));
        expect(smppDefs.gsmCoder.decode(ours, 0)).toBe(text);
      }),
    );
  });

  it('documents why the smpp package GSM encoder is not used: it turns unmappable characters into @', () => {
    expect(hex(smppDefs.gsmCoder.encode('aЖb', 0))).toBe('610062');
    expect(() => encodeGsm7('aЖb')).toThrow(UnmappableCharacterError);
  });

  it('unpacked and packed decoders only return or throw CodecError on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 6 }), (bytes, fill) => {
        onlyCodecErrors(() => decodeGsm7(bytes));
        onlyCodecErrors(() => decodeGsm7(unpackSeptets(bytes, fill)));
      }),
    );
  });

  it('rejects bad fill bits and impossible septet counts', () => {
    expect(() => packSeptets(Buffer.alloc(1), 7)).toThrow(CodecError);
    expect(() => unpackSeptets(Buffer.alloc(1), 0, 2)).toThrow(expect.objectContaining({ code: 'MALFORMED_DATA' }));
  });
});

describe('Latin-1 and IA5', () => {
  it('encodes Latin-1 one octet per character and refuses anything above U+00FF', () => {
    expect(hex(encodeLatin1('Aé£ÿ'))).toBe('41E9A3FF');
    expect(decodeLatin1(fromHex('41E9A3FF'))).toBe('Aé£ÿ');
    expect(() => encodeLatin1('a€')).toThrow(expect.objectContaining({ code: 'UNMAPPABLE_CHARACTER', position: 1, encoding: 'LATIN1' }));
  });

  it('IA5 refuses characters above 0x7F', () => {
    expect(hex(encodeAscii('Hi!'))).toBe('486921');
    expect(() => encodeAscii('é')).toThrow(UnmappableCharacterError);
  });
});

describe('UCS-2 (UTF-16BE with surrogate pairs)', () => {
  it.each(vectors.ucs2)('encodes $text as $hex', ({ text, hex: h }) => {
    expect(hex(encodeUcs2(text))).toBe(h);
    expect(decodeUcs2(fromHex(h))).toBe(text);
  });

  it('round-trips any Unicode text and agrees with the smpp package (property)', () => {
    fc.assert(
      fc.property(ucs2Text(), (text) => {
        const ours = encodeUcs2(text);
        expect(decodeUcs2(ours)).toBe(text);
        expect(hex(smppDefs.encodings.UCS2.encode(text))).toBe(hex(ours));
      }),
    );
  });

  it('refuses a lone surrogate when encoding', () => {
    expect(() => encodeUcs2('a\ud83d')).toThrow(expect.objectContaining({ code: 'UNMAPPABLE_CHARACTER', position: 1 }));
    expect(() => encodeUcs2('\ude00b')).toThrow(UnmappableCharacterError);
  });

  it('rejects odd-length data with a typed error', () => {
    expect(() => decodeUcs2(fromHex('004100'))).toThrow(expect.objectContaining({ code: 'MALFORMED_DATA' }));
  });

  it('only returns or throws CodecError for random bytes and random strings (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), anyUnits(), (bytes, s) => {
        onlyCodecErrors(() => decodeUcs2(bytes));
        onlyCodecErrors(() => encodeUcs2(s));
        onlyCodecErrors(() => encodeGsm7(s));
        onlyCodecErrors(() => encodeLatin1(s));
      }),
    );
  });
});
