/** ISO-8859-1 (SMPP data_coding 0x03): one octet per character, U+0000..U+00FF only. */
import { UnmappableCharacterError } from './errors.ts';

export function firstNonLatin1Index(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return i;
  }
  return -1;
}

/** Throws UnmappableCharacterError instead of Buffer's silent truncation to the low byte. */
export function encodeLatin1(text: string): Buffer {
  const bad = firstNonLatin1Index(text);
  if (bad !== -1) {
    throw new UnmappableCharacterError(String.fromCodePoint(text.codePointAt(bad) ?? 0), bad, 'LATIN1');
  }
  return Buffer.from(text, 'latin1');
}

export function decodeLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** IA5 / ASCII (data_coding 0x01): 7-bit; octets with the top bit set are not IA5. */
export function firstNonAsciiIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return i;
  }
  return -1;
}

export function encodeAscii(text: string): Buffer {
  const bad = firstNonAsciiIndex(text);
  if (bad !== -1) {
    throw new UnmappableCharacterError(String.fromCodePoint(text.codePointAt(bad) ?? 0), bad, 'IA5');
  }
  return Buffer.from(text, 'latin1');
}
