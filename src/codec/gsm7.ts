/**
 * GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
 *
 * "Unpacked" means one septet per octet (SMPP's usual short_message form);
 * "packed" is the air-interface form, seven bits per character, with fill bits
 * after a User Data Header so the first character starts on a septet boundary.
 *
 * Everything here works with lookup tables: the encoder and the length counter
 * touch each UTF-16 code unit once and never run a regular expression.
 */
import { CodecError, CodecErrorCode, UnmappableCharacterError } from './errors.ts';

export const GSM7_ESCAPE = 0x1b;

/** Carriage return; TS 23.038 §6.1.2.3.1 uses it to fill 7 spare bits at the end of packed data. */
const CR = 0x0d;

// Index = septet value. 0x1B is the escape to the extension table, not a character.
const DEFAULT_ALPHABET =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: septet after 0x1B -> character. */
export const GSM7_EXTENSION_TABLE: Readonly<Record<number, string>> = Object.freeze({
  0x0a: '\f',
  0x14: '^',
  0x28: '{',
  0x29: '}',
  0x2f: '\\',
  0x3c: '[',
  0x3d: '~',
  0x3e: ']',
  0x40: '|',
  0x65: '€',
} as const);

/** The 128 characters of the default alphabet, indexed by septet (0x1B shown as ESC). */
export const GSM7_DEFAULT_ALPHABET: string = DEFAULT_ALPHABET;

const EXT_FLAG = 0x100;
const UNMAPPABLE = -1;

/**
 * UTF-16 code unit -> septet (0..127), or EXT_FLAG|septet for an extension character,
 * or -1. 128 KiB, built once; the hot path is one array read per code unit.
 */
const ENCODE_TABLE: Int16Array = (() => {
  const table = new Int16Array(65536).fill(UNMAPPABLE);
  for (let i = 0; i < 128; i++) {
    if (i === GSM7_ESCAPE) continue;
    table[DEFAULT_ALPHABET.charCodeAt(i)] = i;
  }
  for (const [code, ch] of Object.entries(GSM7_EXTENSION_TABLE)) {
    table[ch.charCodeAt(0)] = EXT_FLAG | Number(code);
  }
  return table;
})();

// Septet -> UTF-16 code unit, for decoding.
const DECODE_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(128);
  for (let i = 0; i < 128; i++) table[i] = DEFAULT_ALPHABET.charCodeAt(i);
  // A lone escape (no following septet) is shown as a space, as TS 23.038 asks of receivers.
  table[GSM7_ESCAPE] = 0x20;
  return table;
})();

// Septet after escape -> UTF-16 code unit; 0 where the extension table has no entry.
const DECODE_EXT_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(128);
  for (const [code, ch] of Object.entries(GSM7_EXTENSION_TABLE)) table[Number(code)] = ch.charCodeAt(0);
  return table;
})();

/** Septets the code unit needs: 1, 2 (escape + extension), or 0 when unmappable. */
export function gsm7CodeUnitCost(codeUnit: number): 0 | 1 | 2 {
  const v = ENCODE_TABLE[codeUnit];
  return v === UNMAPPABLE ? 0 : v >= EXT_FLAG ? 2 : 1;
}

/** Index of the first character that GSM-7 cannot carry, or -1 when all can. */
export function firstNonGsm7Index(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (ENCODE_TABLE[text.charCodeAt(i)] === UNMAPPABLE) return i;
  }
  return -1;
}

export function isGsm7(text: string): boolean {
  return firstNonGsm7Index(text) === -1;
}

function characterAt(text: string, index: number): string {
  const cp = text.codePointAt(index) ?? 0;
  return String.fromCodePoint(cp);
}

/** Septets needed for the text (escape sequences count 2). Throws on an unmappable character. */
export function gsm7SeptetCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const v = ENCODE_TABLE[text.charCodeAt(i)];
    if (v === UNMAPPABLE) throw new UnmappableCharacterError(characterAt(text, i), i, 'GSM7');
    count += v >= EXT_FLAG ? 2 : 1;
  }
  return count;
}

/** Text -> unpacked septets (one per octet). Throws UnmappableCharacterError, never substitutes. */
export function encodeGsm7(text: string): Buffer {
  return fillGsm7(text, gsm7SeptetCount(text));
}

/**
 * Detection and encoding in one go: the septets, or null when some character is not
 * in GSM-7 (the caller then uses UCS-2). Saves a pass over the text on the hot path.
 */
export function tryEncodeGsm7(text: string): Buffer | null {
  const n = text.length;
  // Optimistic single pass for the common case (no extension characters).
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const v = ENCODE_TABLE[text.charCodeAt(i)];
    if (v < 0 || v >= EXT_FLAG) return tryEncodeGsm7From(text, out, i);
    out[i] = v;
  }
  return out;
}

function tryEncodeGsm7From(text: string, prefix: Buffer, from: number): Buffer | null {
  let count = from;
  for (let i = from; i < text.length; i++) {
    const v = ENCODE_TABLE[text.charCodeAt(i)];
    if (v === UNMAPPABLE) return null;
    count += v >= EXT_FLAG ? 2 : 1;
  }
  const out = Buffer.allocUnsafe(count);
  prefix.copy(out, 0, 0, from);
  writeSeptets(text, from, out, from);
  return out;
}

/** Writes the septets of text[from…] into `out` at `at` (an extension character as escape + code). */
function writeSeptets(text: string, from: number, out: Buffer, at: number): void {
  let j = at;
  for (let i = from; i < text.length; i++) {
    const v = ENCODE_TABLE[text.charCodeAt(i)];
    if (v >= EXT_FLAG) {
      out[j++] = GSM7_ESCAPE;
      out[j++] = v & 0x7f;
    } else {
      out[j++] = v;
    }
  }
}

function fillGsm7(text: string, septets: number): Buffer {
  const out = Buffer.allocUnsafe(septets);
  if (septets === text.length) {
    for (let i = 0; i < septets; i++) out[i] = ENCODE_TABLE[text.charCodeAt(i)];
    return out;
  }
  writeSeptets(text, 0, out, 0);
  return out;
}

/**
 * Unpacked septets -> text. An escape followed by a septet the extension table does not
 * define shows the default-alphabet character (TS 23.038 §6.2.1.1); a trailing lone
 * escape shows a space. Octets above 0x7F are not septets and raise MALFORMED_DATA.
 */
export function decodeGsm7(septets: Uint8Array): string {
  const n = septets.length;
  const out = new Uint16Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const s = septets[i];
    if (s > 0x7f) {
      throw new CodecError(
        CodecErrorCode.MALFORMED_DATA,
        `Octet 0x${s.toString(16).padStart(2, '0')} at offset ${i} is not a GSM 7-bit septet.`,
      );
    }
    if (s === GSM7_ESCAPE && i + 1 < n) {
      const next = septets[++i];
      if (next > 0x7f) {
        throw new CodecError(
          CodecErrorCode.MALFORMED_DATA,
          `Octet 0x${next.toString(16).padStart(2, '0')} at offset ${i} is not a GSM 7-bit septet.`,
        );
      }
      const ext = DECODE_EXT_TABLE[next];
      out[j++] = ext !== 0 ? ext : DECODE_TABLE[next];
    } else {
      out[j++] = DECODE_TABLE[s];
    }
  }
  return utf16UnitsToString(out, j);
}

/** Builds a string from UTF-16 code units without a per-character concatenation. */
export function utf16UnitsToString(units: Uint16Array, length: number): string {
  const CHUNK = 8192;
  if (length <= CHUNK) return String.fromCharCode.apply(null, units.subarray(0, length) as unknown as number[]);
  let s = '';
  for (let i = 0; i < length; i += CHUNK) {
    s += String.fromCharCode.apply(null, units.subarray(i, Math.min(i + CHUNK, length)) as unknown as number[]);
  }
  return s;
}

/** Fill bits needed after a UDH of `udhOctets` octets (UDHL included) so text starts on a septet boundary. */
export function fillBitsAfterUdh(udhOctets: number): number {
  return udhOctets === 0 ? 0 : (7 - ((udhOctets * 8) % 7)) % 7;
}

/** Octets that `septets` septets take when packed after `fillBits` fill bits. */
export function packedOctetCount(septets: number, fillBits = 0): number {
  return Math.ceil((fillBits + septets * 7) / 8);
}

/**
 * Packs septets, LSB first, after `fillBits` zero fill bits (0..6). When exactly 7 bits
 * are left over at the end they carry CR, as TS 23.038 §6.1.2.3.1 asks, so a receiver
 * does not read a spurious '@'.
 */
export function packSeptets(septets: Uint8Array, fillBits = 0): Buffer {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, `Fill bits must be 0..6, got ${fillBits}.`);
  }
  const n = septets.length;
  const totalBits = fillBits + n * 7;
  const octets = Math.ceil(totalBits / 8);
  const out = Buffer.alloc(octets);
  let bit = fillBits;
  for (let i = 0; i < n; i++) {
    const s = septets[i] & 0x7f;
    const idx = bit >> 3;
    const shift = bit & 7;
    out[idx] |= (s << shift) & 0xff;
    if (shift > 1) out[idx + 1] |= s >> (8 - shift);
    bit += 7;
  }
  if (octets * 8 - totalBits === 7) out[octets - 1] |= CR << 1;
  return out;
}

/**
 * Unpacks septets after `fillBits` fill bits. Without `septetCount` (SMPP carries octet
 * lengths only) the count is derived from the length, and a CR filling exactly the last
 * 7 spare bits is taken as padding and dropped (TS 23.038 §6.1.2.3.1).
 */
export function unpackSeptets(packed: Uint8Array, fillBits = 0, septetCount?: number): Buffer {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, `Fill bits must be 0..6, got ${fillBits}.`);
  }
  const availableBits = packed.length * 8 - fillBits;
  let count: number;
  if (septetCount !== undefined) {
    if (!Number.isInteger(septetCount) || septetCount < 0 || septetCount * 7 > availableBits) {
      throw new CodecError(CodecErrorCode.MALFORMED_DATA, `${packed.length} packed octets cannot hold ${septetCount} septets.`);
    }
    count = septetCount;
  } else {
    count = availableBits > 0 ? Math.floor(availableBits / 7) : 0;
  }
  const out = Buffer.allocUnsafe(count);
  let bit = fillBits;
  for (let i = 0; i < count; i++) {
    const idx = bit >> 3;
    const shift = bit & 7;
    let v = packed[idx] >> shift;
    if (shift > 1) v |= packed[idx + 1] << (8 - shift);
    out[i] = v & 0x7f;
    bit += 7;
  }
  if (septetCount === undefined && count > 0 && availableBits % 7 === 0 && out[count - 1] === CR) {
    return out.subarray(0, count - 1);
  }
  return out;
}
