/** Text <-> payload octets for any supported encoding or data_coding. */
import { CodecError, CodecErrorCode } from './errors.ts';
import { decodeGsm7, encodeGsm7, unpackSeptets } from './gsm7.ts';
import { decodeLatin1, encodeAscii, encodeLatin1 } from './latin1.ts';
import { decodeUcs2, encodeUcs2 } from './ucs2.ts';
import { describeDataCoding, type AlphabetName, type TextEncodingName } from './data-coding.ts';

/** GSM-7 comes out unpacked (one septet per octet); pack it with `packSeptets` when a peer wants that. */
export function encodeText(text: string, encoding: TextEncodingName | 'IA5'): Buffer {
  switch (encoding) {
    case 'GSM7':
      return encodeGsm7(text);
    case 'LATIN1':
      return encodeLatin1(text);
    case 'UCS2':
      return encodeUcs2(text);
    case 'IA5':
      return encodeAscii(text);
  }
  throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, `Unknown encoding ${String(encoding)}.`);
}

export interface DecodeOptions {
  /** GSM-7 payload is packed (seven bits per character). Default false (SMPP's usual form). */
  readonly packed?: boolean;
  /** Fill bits before the first packed septet (after a UDH). */
  readonly fillBits?: number;
  /**
   * What data_coding 0 ("SMSC default alphabet") means for this peer. Default GSM7;
   * some peers send Latin-1 or ASCII under 0.
   */
  readonly smscDefault?: 'GSM7' | 'LATIN1' | 'IA5';
}

export function decodeAlphabet(bytes: Uint8Array, alphabet: AlphabetName, options: DecodeOptions = {}): string {
  switch (alphabet) {
    case 'GSM7':
      return decodeGsm7(options.packed ? unpackSeptets(bytes, options.fillBits ?? 0) : bytes);
    case 'IA5':
    case 'LATIN1':
      return decodeLatin1(bytes);
    case 'UCS2':
      return decodeUcs2(bytes);
    default:
      throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, `Payload in ${alphabet} alphabet is not text this codec decodes.`);
  }
}

/** Decodes a short_message / message_payload body (UDH already removed) by its data_coding. */
export function decodeText(bytes: Uint8Array, dataCoding: number, options: DecodeOptions = {}): string {
  const info = describeDataCoding(dataCoding);
  if (info.alphabet === 'UNSUPPORTED' || info.alphabet === 'BINARY') {
    const what = info.charset ?? info.alphabet.toLowerCase();
    throw new CodecError(
      CodecErrorCode.UNSUPPORTED_ENCODING,
      `data_coding 0x${dataCoding.toString(16).padStart(2, '0')} (${what}) is not a text encoding this codec decodes.`,
    );
  }
  const alphabet = dataCoding === 0 ? (options.smscDefault ?? 'GSM7') : info.alphabet;
  return decodeAlphabet(bytes, alphabet, options);
}
