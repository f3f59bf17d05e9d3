/**
 * Length and part counts of a text under each long-message strategy (the "validation
 * helper"). A part never ends inside a GSM-7 escape sequence or a surrogate pair, so
 * counts are computed greedily per character, not by dividing lengths, whenever the
 * text contains such two-unit characters.
 */
import { CodecError, CodecErrorCode } from './errors.ts';
import { gsm7CodeUnitCost } from './gsm7.ts';
import { firstNonLatin1Index } from './latin1.ts';
import { firstLoneSurrogateIndex, isHighSurrogate, isLowSurrogate } from './ucs2.ts';
import { UnmappableCharacterError } from './errors.ts';
import { resolveEncoding, type EncodingRequest } from './detect.ts';
import type { TextEncodingName } from './data-coding.ts';

export const ConcatStrategy = Object.freeze({
  SINGLE: 'single',
  UDH8: 'udh8',
  UDH16: 'udh16',
  SAR: 'sar',
  PAYLOAD: 'payload',
} as const);

export type ConcatStrategyName = (typeof ConcatStrategy)[keyof typeof ConcatStrategy];

export interface PartLimits {
  readonly single: number;
  readonly udh8: number;
  readonly udh16: number;
}

/**
 * Text units per part: septets for GSM-7, octets for Latin-1 and binary, UTF-16 units
 * for UCS-2. A 6-octet UDH (8-bit reference) costs 7 septets / 6 octets / 3 UCS-2 units;
 * a 7-octet UDH (16-bit reference) 8 / 7 / 4 (rounded up to whole units).
 */
export const PartLimits = Object.freeze({
  GSM7: Object.freeze({ single: 160, udh8: 153, udh16: 152 }),
  LATIN1: Object.freeze({ single: 140, udh8: 134, udh16: 133 }),
  BINARY: Object.freeze({ single: 140, udh8: 134, udh16: 133 }),
  UCS2: Object.freeze({ single: 70, udh8: 67, udh16: 66 }),
} as const);

export type PartLimitEncoding = keyof typeof PartLimits;

/** message_payload carries at most 64 KiB - 1 octets (a TLV length is 16 bits). */
export const MAX_PAYLOAD_OCTETS = 65535;
/** UDH and SAR both count parts in one octet. */
export const MAX_PARTS = 255;

export const UnitName = Object.freeze({
  GSM7: 'septets',
  LATIN1: 'octets',
  UCS2: 'UCS-2 units',
} as const);

export interface PartCounts {
  /** 1 when the text fits one part without a header, else null. */
  readonly single: number | null;
  readonly udh8: number;
  readonly udh16: number;
  readonly sar: number;
  readonly payload: 1;
}

export interface MessageLength {
  readonly encoding: TextEncodingName;
  /** Unicode code points (an emoji is one character). */
  readonly characters: number;
  /** Septets (escape sequences count 2), octets, or UTF-16 units (an emoji counts 2). */
  readonly units: number;
  readonly parts: PartCounts;
}

/** Greedy part count for atom costs in text order (`costs` yields each atom's units); an atom never straddles parts. */
function greedyParts(costs: Iterable<number>, limit: number): number {
  let parts = 1;
  let used = 0;
  for (const c of costs) {
    if (used + c > limit) {
      parts++;
      used = c;
    } else {
      used += c;
    }
  }
  return parts;
}

function* gsm7Costs(text: string): Generator<number> {
  for (let i = 0; i < text.length; i++) yield gsm7CodeUnitCost(text.charCodeAt(i));
}

/** A surrogate pair is one atom of 2 units: it never straddles parts. */
function* ucs2Costs(text: string): Generator<number> {
  for (let i = 0; i < text.length; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      i++;
      yield 2;
    } else yield 1;
  }
}

function greedyGsm7Parts(text: string, limit: number): number {
  return greedyParts(gsm7Costs(text), limit);
}

function greedyUcs2Parts(text: string, limit: number): number {
  return greedyParts(ucs2Costs(text), limit);
}

function countParts(units: number, limits: PartLimits, greedy: ((limit: number) => number) | null): PartCounts {
  const fits = units <= limits.single;
  const split = (limit: number): number => (units === 0 ? 1 : greedy === null ? Math.ceil(units / limit) : greedy(limit));
  return {
    single: fits ? 1 : null,
    udh8: fits ? 1 : split(limits.udh8),
    udh16: fits ? 1 : split(limits.udh16),
    sar: fits ? 1 : split(limits.single),
    payload: 1,
  };
}

/**
 * Characters, units and parts per strategy for a text. With a forced encoding an
 * unmappable character raises UnmappableCharacterError (never a silent '?').
 */
export function measureText(text: string, request: EncodingRequest = 'auto'): MessageLength {
  const encoding = resolveEncoding(text, request);
  switch (encoding) {
    case 'GSM7': {
      let units = 0;
      for (let i = 0; i < text.length; i++) {
        const c = gsm7CodeUnitCost(text.charCodeAt(i));
        if (c === 0) {
          throw new UnmappableCharacterError(String.fromCodePoint(text.codePointAt(i) ?? 0), i, 'GSM7');
        }
        units += c;
      }
      const greedy = units === text.length ? null : (limit: number) => greedyGsm7Parts(text, limit);
      return { encoding, characters: text.length, units, parts: countParts(units, PartLimits.GSM7, greedy) };
    }
    case 'LATIN1': {
      const bad = firstNonLatin1Index(text);
      if (bad !== -1) throw new UnmappableCharacterError(String.fromCodePoint(text.codePointAt(bad) ?? 0), bad, 'LATIN1');
      return { encoding, characters: text.length, units: text.length, parts: countParts(text.length, PartLimits.LATIN1, null) };
    }
    case 'UCS2': {
      const bad = firstLoneSurrogateIndex(text);
      if (bad !== -1) throw new UnmappableCharacterError(text[bad], bad, 'UCS2');
      let pairs = 0;
      for (let i = 0; i < text.length; i++) {
        if (isHighSurrogate(text.charCodeAt(i))) {
          pairs++;
          i++;
        }
      }
      const units = text.length;
      const greedy = pairs === 0 ? null : (limit: number) => greedyUcs2Parts(text, limit);
      return { encoding, characters: units - pairs, units, parts: countParts(units, PartLimits.UCS2, greedy) };
    }
  }
  throw new CodecError(CodecErrorCode.UNSUPPORTED_ENCODING, `Unknown encoding ${String(encoding)}.`);
}
