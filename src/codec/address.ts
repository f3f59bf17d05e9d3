/**
 * Addresses: destination normalisation into the `destKey` used for the per-destination
 * lock, E.164 checks, alphanumeric sender ids, and privacy-safe forms for logs.
 */
import { createHmac } from 'node:crypto';
import { AddressError } from './errors.ts';
import { gsm7CodeUnitCost } from './gsm7.ts';

/** type_of_number (SMPP 3.4 §5.2.5). */
export const Ton = Object.freeze({
  UNKNOWN: 0,
  INTERNATIONAL: 1,
  NATIONAL: 2,
  NETWORK_SPECIFIC: 3,
  SUBSCRIBER_NUMBER: 4,
  ALPHANUMERIC: 5,
  ABBREVIATED: 6,
} as const);

export type TonValue = (typeof Ton)[keyof typeof Ton];

/** numbering_plan_indicator (SMPP 3.4 §5.2.6). */
export const Npi = Object.freeze({
  UNKNOWN: 0,
  ISDN: 1,
  DATA: 3,
  TELEX: 4,
  LAND_MOBILE: 6,
  NATIONAL: 8,
  PRIVATE: 9,
  ERMES: 10,
  INTERNET: 14,
  WAP: 18,
} as const);

export interface SmppAddress {
  readonly ton: number;
  readonly npi: number;
  readonly addr: string;
}

export interface AddressOptions {
  /** Country calling code (e.g. '49'). When set, national numbers become international. */
  readonly countryCode?: string;
  /** Trunk prefix dialled before national numbers. Default '0'; '' where there is none. */
  readonly nationalPrefix?: string;
  /** Prefix dialled before international numbers. Default '00'. */
  readonly internationalPrefix?: string;
  /**
   * How a TON 0 (unknown) number of 7-15 digits that starts with neither prefix is read:
   * `international` (default; E.164 without '+', what most ESMEs send) or `national` (where
   * ESMEs send national numbers without the trunk prefix, e.g. NANP or countries without one).
   */
  readonly unknownTon?: 'international' | 'national';
}

export interface NormalisedDestination {
  /**
   * Key for locking and lookups: '+' and E.164 digits for international numbers,
   * else the digits as given (national, short codes), so one subscriber gets one key
   * whichever way the ESME wrote the number.
   */
  readonly destKey: string;
  readonly international: boolean;
  readonly digits: string;
}

/** E.164: at most 15 digits including the country code; 7 is the shortest in use. */
export const E164_MIN_DIGITS = 7;
export const E164_MAX_DIGITS = 15;
/** SMPP destination_addr is C-Octet String of at most 21 characters. */
export const MAX_ADDRESS_LENGTH = 21;
export const MAX_ALPHANUMERIC_SEPTETS = 11;

// Separators people type; removed before anything else looks at the number.
const SEPARATORS = /[\s\-().\/]/g;

function checkDigits(addr: string, digits: string): void {
  if (digits.length === 0) throw new AddressError(addr, 'no digits');
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 48 || c > 57) throw new AddressError(addr, `character ${i + 1} is not a digit`);
  }
  if (digits.length > MAX_ADDRESS_LENGTH) {
    throw new AddressError(addr, `${digits.length} digits, at most ${MAX_ADDRESS_LENGTH}`);
  }
}

function checkE164(addr: string, digits: string): void {
  if (digits.length < E164_MIN_DIGITS || digits.length > E164_MAX_DIGITS) {
    throw new AddressError(addr, `an international number has ${E164_MIN_DIGITS}-${E164_MAX_DIGITS} digits, got ${digits.length}`);
  }
  if (digits[0] === '0') throw new AddressError(addr, 'a country code cannot start with 0');
}

/** Validates an E.164 number written with or without '+'. */
export function isE164(addr: string): boolean {
  const d = addr.startsWith('+') ? addr.slice(1) : addr;
  return /^[1-9]\d{6,14}$/.test(d);
}

/**
 * Normalises a destination into its destKey, so one subscriber gets one key whatever TON the
 * ESME used. The rule (README "Destination keys"), after removing separators (space - ( ) . /):
 * 1. A leading '+' is international, whatever the TON.
 * 2. TON 1 (international): international; a leading international prefix ('00') is dropped.
 * 3. TON 2 (national): the trunk prefix ('0') is dropped; with a country code configured the
 *    number becomes international (country code + national number, which must be valid E.164);
 *    without one the key is the national form as dialled (trunk prefix + national number).
 * 4. TON 0 (unknown), in this order: the international prefix makes it international; fewer than
 *    7 digits is a short code, kept as written; the trunk prefix makes it national (as 3, but an
 *    invalid result keeps it as written); more than 15 digits is kept as written; otherwise it is
 *    read as `unknownTon` says (default: international, E.164 without '+').
 * 5. TON 3 (network specific), 4 (subscriber number), 6 (abbreviated) and others: kept as written.
 * 6. TON 5 (alphanumeric) is no destination (an error).
 * International keys are '+' and E.164 digits; every other key is digits without '+'.
 */
export function normaliseDestination(address: SmppAddress, options: AddressOptions = {}): NormalisedDestination {
  const { ton, addr } = address;
  if (typeof addr !== 'string') throw new AddressError(String(addr), 'not a string');
  if (ton === Ton.ALPHANUMERIC) throw new AddressError(addr, 'an alphanumeric address cannot be a destination');
  const intlPrefix = options.internationalPrefix ?? '00';
  const trunk = options.nationalPrefix ?? '0';
  const cc = options.countryCode;
  if (cc !== undefined && !/^[1-9]\d{0,2}$/.test(cc)) throw new AddressError(cc, 'country code must be 1-3 digits not starting with 0');

  const s = addr.replace(SEPARATORS, '');
  if (s.startsWith('+')) return international(addr, s.slice(1));
  checkDigits(addr, s);
  const afterIntlPrefix =
    intlPrefix !== '' && s.startsWith(intlPrefix) && s.length > intlPrefix.length ? s.slice(intlPrefix.length) : undefined;
  if (ton === Ton.INTERNATIONAL) return international(addr, afterIntlPrefix ?? s);
  if (ton === Ton.NATIONAL) return national(addr, s, trunk, cc, true);
  if (ton !== Ton.UNKNOWN) return asWritten(s);
  if (afterIntlPrefix !== undefined) return international(addr, afterIntlPrefix);
  if (s.length < E164_MIN_DIGITS) return asWritten(s);
  if (trunk !== '' && s.startsWith(trunk)) return national(addr, s, trunk, cc, false);
  if (s.length > E164_MAX_DIGITS) return asWritten(s);
  if (options.unknownTon === 'national') return national(addr, s, trunk, cc, false);
  // Only reachable with a country code's first digit unless the trunk prefix is '' (then a 0 here is no E.164).
  return s.startsWith('0') ? asWritten(s) : international(addr, s);
}

function international(addr: string, digits: string): NormalisedDestination {
  checkDigits(addr, digits);
  checkE164(addr, digits);
  return { destKey: '+' + digits, international: true, digits };
}

function asWritten(digits: string): NormalisedDestination {
  return { destKey: digits, international: false, digits };
}

/** `strict`: the ESME said national (TON 2), so a number that cannot be one is an error, not a guess. */
function national(addr: string, s: string, trunk: string, cc: string | undefined, strict: boolean): NormalisedDestination {
  const nsn = trunk !== '' && s.startsWith(trunk) ? s.slice(trunk.length) : s;
  if (nsn === '') throw new AddressError(addr, 'no digits after the national prefix');
  if (cc === undefined) return asWritten(trunk + nsn);
  const full = cc + nsn;
  if (!strict && !isE164(full)) return asWritten(s);
  checkE164(addr, full);
  return { destKey: '+' + full, international: true, digits: full };
}

export interface SourceCheck {
  readonly kind: 'alphanumeric' | 'numeric';
  readonly addr: string;
}

/**
 * Validates a source address: TON 5 is an alphanumeric sender id of at most 11 GSM-7
 * septets (what fits TP-OA); otherwise digits (with an optional '+' for international).
 */
export function validateSourceAddress(address: SmppAddress): SourceCheck {
  const { ton, addr } = address;
  if (typeof addr !== 'string' || addr.length === 0) throw new AddressError(String(addr), 'source address is empty');
  if (ton === Ton.ALPHANUMERIC) {
    let septets = 0;
    for (let i = 0; i < addr.length; i++) {
      const c = gsm7CodeUnitCost(addr.charCodeAt(i));
      if (c === 0) throw new AddressError(addr, `character ${i + 1} of the sender id is not in the GSM 7-bit alphabet`);
      septets += c;
    }
    if (septets > MAX_ALPHANUMERIC_SEPTETS) {
      throw new AddressError(addr, `an alphanumeric sender id has at most ${MAX_ALPHANUMERIC_SEPTETS} GSM characters, got ${septets}`);
    }
    return { kind: 'alphanumeric', addr };
  }
  const plus = addr.startsWith('+');
  const digits = plus ? addr.slice(1) : addr;
  checkDigits(addr, digits);
  if (ton === Ton.INTERNATIONAL || plus) checkE164(addr, digits);
  return { kind: 'numeric', addr };
}

/**
 * Masks a number for logs: keeps '+', the first 4 and the last 2 digits
 * ('+4915112345678' -> '+4915*******78'); short numbers keep less. Anything
 * that is not a number (alphanumeric sender ids) is returned as is.
 */
export function maskMsisdn(addr: string): string {
  const plus = addr.startsWith('+');
  const d = plus ? addr.slice(1) : addr;
  if (!/^\d+$/.test(d)) return addr;
  const n = d.length;
  const head = n >= 10 ? 4 : Math.floor(n / 3);
  const tail = n >= 6 ? 2 : n >= 3 ? 1 : 0;
  return (plus ? '+' : '') + d.slice(0, head) + '*'.repeat(n - head - tail) + d.slice(n - tail);
}

/**
 * Salted hash for correlating log lines without the number: HMAC-SHA256 of the
 * digits (without '+'), first 16 hex characters. The salt is a deployment secret.
 */
export function hashMsisdn(addr: string, salt: string): string {
  if (salt.length === 0) throw new AddressError('', 'the hash salt must not be empty');
  const digits = addr.replace(SEPARATORS, '').replace(/^\+/, '');
  return createHmac('sha256', salt).update(digits).digest('hex').slice(0, 16);
}
