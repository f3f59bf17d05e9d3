/**
 * UCS-2 as SMSCs use it today (data_coding 0x08): UTF-16 big-endian, surrogate pairs
 * included, so characters outside the BMP (emoji) survive. Node's native UTF-16LE
 * codec plus a byte swap does the work; no per-character JavaScript loop.
 */
import { CodecError, CodecErrorCode, UnmappableCharacterError } from './errors.ts';

export function isHighSurrogate(codeUnit: number): boolean {
  return codeUnit >= 0xd800 && codeUnit <= 0xdbff;
}

export function isLowSurrogate(codeUnit: number): boolean {
  return codeUnit >= 0xdc00 && codeUnit <= 0xdfff;
}

/** Index of a lone (unpaired) surrogate, or -1. A lone surrogate is not a character. */
export function firstLoneSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      i++;
      continue;
    }
    return i;
  }
  return -1;
}

export function encodeUcs2(text: string): Buffer {
  const bad = firstLoneSurrogateIndex(text);
  if (bad !== -1) throw new UnmappableCharacterError(text[bad], bad, 'UCS2');
  return Buffer.from(text, 'utf16le').swap16();
}

/** Odd lengths raise MALFORMED_DATA; lone surrogates from a peer are passed through as they are. */
export function decodeUcs2(bytes: Uint8Array): string {
  if (bytes.length % 2 !== 0) {
    throw new CodecError(CodecErrorCode.MALFORMED_DATA, `UCS-2 data has an odd length (${bytes.length} octets).`);
  }
  const copy = Buffer.from(bytes);
  return copy.swap16().toString('utf16le');
}
