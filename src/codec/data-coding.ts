/**
 * SMPP 3.4 data_coding values (§5.2.19) and the GSM 03.38 data coding scheme groups
 * an SMSC meets in the same octet (general data coding with a message class,
 * message waiting indication, and the 0xF0-0xFF "data coding / message class" group).
 */
import { CodecError, CodecErrorCode } from './errors.ts';

export const DataCoding = Object.freeze({
  SMSC_DEFAULT: 0x00,
  IA5: 0x01,
  OCTET_UNSPECIFIED_2: 0x02,
  LATIN1: 0x03,
  OCTET_UNSPECIFIED: 0x04,
  JIS: 0x05,
  CYRILLIC: 0x06,
  LATIN_HEBREW: 0x07,
  UCS2: 0x08,
  PICTOGRAM: 0x09,
  ISO_2022_JP: 0x0a,
  EXTENDED_KANJI: 0x0d,
  KS_C_5601: 0x0e,
} as const);

export type DataCodingName = keyof typeof DataCoding;

/** How the payload octets are to be read. Text encodings we can encode and decode are the first four. */
export const Alphabet = Object.freeze({
  GSM7: 'GSM7',
  IA5: 'IA5',
  LATIN1: 'LATIN1',
  UCS2: 'UCS2',
  BINARY: 'BINARY',
  UNSUPPORTED: 'UNSUPPORTED',
} as const);

export type AlphabetName = (typeof Alphabet)[keyof typeof Alphabet];

/** Encodings a text can be sent in (what `detectEncoding` and the CLI speak). */
export const TextEncoding = Object.freeze({
  GSM7: 'GSM7',
  LATIN1: 'LATIN1',
  UCS2: 'UCS2',
} as const);

export type TextEncodingName = (typeof TextEncoding)[keyof typeof TextEncoding];

export type MessageClass = 0 | 1 | 2 | 3;

export interface DataCodingInfo {
  readonly dataCoding: number;
  readonly alphabet: AlphabetName;
  /** Character set name for the SMPP values we carry but do not transcode (JIS, Cyrillic, …). */
  readonly charset: string | null;
  readonly messageClass: MessageClass | null;
  readonly compressed: boolean;
  /** Message waiting indication groups (0xC0-0xEF). */
  readonly messageWaiting: boolean;
}

const SMPP_TABLE: Readonly<Record<number, { alphabet: AlphabetName; charset: string | null }>> = Object.freeze({
  0x00: { alphabet: 'GSM7', charset: null },
  0x01: { alphabet: 'IA5', charset: null },
  0x02: { alphabet: 'BINARY', charset: null },
  0x03: { alphabet: 'LATIN1', charset: null },
  0x04: { alphabet: 'BINARY', charset: null },
  0x05: { alphabet: 'UNSUPPORTED', charset: 'JIS (X 0208-1990)' },
  0x06: { alphabet: 'UNSUPPORTED', charset: 'Cyrillic (ISO-8859-5)' },
  0x07: { alphabet: 'UNSUPPORTED', charset: 'Latin/Hebrew (ISO-8859-8)' },
  0x08: { alphabet: 'UCS2', charset: null },
  0x09: { alphabet: 'UNSUPPORTED', charset: 'Pictogram' },
  0x0a: { alphabet: 'UNSUPPORTED', charset: 'ISO-2022-JP' },
  0x0d: { alphabet: 'UNSUPPORTED', charset: 'Extended Kanji (JIS X 0212-1990)' },
  0x0e: { alphabet: 'UNSUPPORTED', charset: 'KS C 5601' },
});

// GSM 03.38 alphabet bits (bits 3..2 of the general data coding groups).
const GSM_DCS_ALPHABET: readonly AlphabetName[] = Object.freeze(['GSM7', 'BINARY', 'UCS2', 'UNSUPPORTED']);

function info(
  dataCoding: number,
  alphabet: AlphabetName,
  messageClass: MessageClass | null,
  extra: Partial<Pick<DataCodingInfo, 'charset' | 'compressed' | 'messageWaiting'>> = {},
): DataCodingInfo {
  return Object.freeze({
    dataCoding,
    alphabet,
    charset: extra.charset ?? null,
    messageClass,
    compressed: extra.compressed ?? false,
    messageWaiting: extra.messageWaiting ?? false,
  });
}

function build(dc: number): DataCodingInfo {
  if (dc <= 0x0f) {
    const row = SMPP_TABLE[dc];
    if (row) return info(dc, row.alphabet, null, { charset: row.charset });
    return info(dc, 'UNSUPPORTED', null, { charset: 'reserved' });
  }
  if (dc <= 0x7f) {
    // 00xxxxxx general data coding / 01xxxxxx automatic deletion: bit5 compressed, bit4 class present.
    const compressed = (dc & 0x20) !== 0;
    const messageClass = (dc & 0x10) !== 0 ? ((dc & 0x03) as MessageClass) : null;
    const alphabet = compressed ? 'UNSUPPORTED' : GSM_DCS_ALPHABET[(dc >> 2) & 0x03];
    return info(dc, alphabet, messageClass, { compressed, charset: compressed ? 'compressed' : null });
  }
  if (dc <= 0xbf) return info(dc, 'UNSUPPORTED', null, { charset: 'reserved' });
  if (dc <= 0xdf) return info(dc, 'GSM7', null, { messageWaiting: true });
  if (dc <= 0xef) return info(dc, 'UCS2', null, { messageWaiting: true });
  // 1111 0 c cc: bit2 selects GSM7 (0) or 8-bit data (1), bits 1..0 the message class.
  return info(dc, (dc & 0x04) !== 0 ? 'BINARY' : 'GSM7', (dc & 0x03) as MessageClass);
}

const TABLE: readonly DataCodingInfo[] = Object.freeze(Array.from({ length: 256 }, (_, dc) => build(dc)));

/** Describes any data_coding octet; never throws for 0..255. */
export function describeDataCoding(dataCoding: number): DataCodingInfo {
  if (!Number.isInteger(dataCoding) || dataCoding < 0 || dataCoding > 0xff) {
    throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, `data_coding must be an octet 0..255, got ${dataCoding}.`);
  }
  return TABLE[dataCoding];
}

/**
 * The data_coding to send a text encoding with. With a message class the GSM 03.38
 * class forms are used (0xF0-0xF3 for GSM-7, 0x18-0x1B for UCS-2, 0xF4-0xF7 binary).
 */
export function dataCodingFor(alphabet: TextEncodingName | 'BINARY', messageClass: MessageClass | null = null): number {
  if (messageClass === null) {
    switch (alphabet) {
      case 'GSM7':
        return DataCoding.SMSC_DEFAULT;
      case 'LATIN1':
        return DataCoding.LATIN1;
      case 'UCS2':
        return DataCoding.UCS2;
      case 'BINARY':
        return DataCoding.OCTET_UNSPECIFIED;
    }
  }
  switch (alphabet) {
    case 'GSM7':
      return 0xf0 | messageClass;
    case 'UCS2':
      return 0x18 | messageClass;
    case 'BINARY':
      return 0xf4 | messageClass;
    case 'LATIN1':
      throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, 'Latin-1 has no data_coding form with a message class.');
  }
  throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, `Unknown encoding ${String(alphabet)}.`);
}
