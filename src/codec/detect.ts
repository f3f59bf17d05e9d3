/** Choosing the encoding for a text: GSM-7 when it can carry every character, else UCS-2. */
import { CodecError, CodecErrorCode } from './errors.ts';
import { firstNonGsm7Index } from './gsm7.ts';
import type { TextEncodingName } from './data-coding.ts';

export type EncodingRequest = 'auto' | TextEncodingName;

const REQUEST_NAMES: Readonly<Record<string, EncodingRequest>> = Object.freeze({
  auto: 'auto',
  gsm7: 'GSM7',
  'gsm-7': 'GSM7',
  gsm: 'GSM7',
  latin1: 'LATIN1',
  'latin-1': 'LATIN1',
  'iso-8859-1': 'LATIN1',
  ucs2: 'UCS2',
  'ucs-2': 'UCS2',
  'utf-16be': 'UCS2',
});

/** Accepts the CLI/config spellings (`auto`, `gsm7`, `latin1`, `ucs2`, any case). */
export function parseEncodingRequest(name: string): EncodingRequest {
  const found = REQUEST_NAMES[name.trim().toLowerCase()];
  if (found === undefined) {
    throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, `Unknown encoding ${JSON.stringify(name)}; use auto, gsm7, latin1 or ucs2.`);
  }
  return found;
}

/** Latin-1 is never picked automatically: handsets and peers disagree on it, UCS-2 is safe. */
export function detectEncoding(text: string): 'GSM7' | 'UCS2' {
  return firstNonGsm7Index(text) === -1 ? 'GSM7' : 'UCS2';
}

/** `auto` detects; a forced encoding is returned as is (encoding then reports unmappable characters). */
export function resolveEncoding(text: string, request: EncodingRequest = 'auto'): TextEncodingName {
  return request === 'auto' ? detectEncoding(text) : request;
}
