/** Shared fixtures and fast-check arbitraries for the codec tests. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { CodecError, GSM7_DEFAULT_ALPHABET, GSM7_EXTENSION_TABLE } from '../../../src/codec/index.ts';

export const vectors = JSON.parse(readFileSync(new URL('../../fixtures/codec/vectors.json', import.meta.url), 'utf8')) as {
  gsm7Packed: Array<{ text: string; fillBits: number; hex: string }>;
  gsm7Unpacked: Array<{ text: string; hex: string }>;
  ucs2: Array<{ text: string; hex: string }>;
  concatenatedPdus: Array<{
    name: string;
    esmClass: number;
    shortMessageHex: string;
    reference: number;
    total: number;
    sequence: number;
    payloadHex: string;
    form: string;
  }>;
  receipts: Array<{
    text: string;
    id: string;
    sub: number;
    dlvrd: number;
    submit: string;
    done: string;
    stat: string;
    messageState: number;
    err: string;
    body: string;
  }>;
  smppTimes: Array<{ value: string; now: string; instant: string }>;
};

/** The smpp package's helpers, loaded the CommonJS way (it ships no types). */
const require = createRequire(import.meta.url);
export const smppDefs = require('smpp/lib/defs.js') as {
  gsmCoder: { encode(s: string, table: number): Buffer; decode(b: Buffer, table: number): string };
  encodings: {
    detect(s: string): string | false;
    UCS2: { encode(s: string): Buffer; decode(b: Buffer): string };
  };
};

export const GSM_BASIC_CHARS: string[] = Array.from(GSM7_DEFAULT_ALPHABET).filter((c) => c !== '\u001b');
export const GSM_EXT_CHARS: string[] = Object.values(GSM7_EXTENSION_TABLE);
export const GSM_CHARS: string[] = [...GSM_BASIC_CHARS, ...GSM_EXT_CHARS];

/** Texts over the GSM alphabet, extension characters made frequent to hit part boundaries. */
export const gsmText = (maxLength = 700): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...GSM_BASIC_CHARS) }, { weight: 1, arbitrary: fc.constantFrom(...GSM_EXT_CHARS) }),
      {
        maxLength,
      },
    )
    .map((a) => a.join(''));

export const latin1Text = (maxLength = 600): fc.Arbitrary<string> =>
  fc
    .array(
      fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
      { maxLength },
    )
    .map((a) => a.join(''));

/** Any Unicode code points (emoji and other astral characters included), no lone surrogates. */
export const ucs2Text = (maxLength = 300): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0x20, max: 0xd7ff }),
        fc.integer({ min: 0xe000, max: 0xffff }),
        fc.integer({ min: 0x1f300, max: 0x1faff }),
        fc.integer({ min: 0x10000, max: 0x10ffff }),
      ),
      { maxLength },
    )
    .map((cps) => String.fromCodePoint(...cps));

/** Any UTF-16 code units, lone surrogates included. */
export const anyUnits = (maxLength = 200): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength }).map((a) => String.fromCharCode(...a));

/** Runs fn; passes when it returns or throws a CodecError, rethrows anything else. */
export function onlyCodecErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
export const fromHex = (h: string): Buffer => Buffer.from(h, 'hex');
