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
  /** Trunk prefix dialled before national numbers. Default '0'. */
  readonly nationalPrefix?: string;
  /** Prefix dialled before international numbers. Default '00'. */
  readonly internationalPrefix?: string;
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
    throw new AddressError(
      addr,
      `an international number has ${E164_MIN_DIGITS}-${E164_MAX_DIGITS} digits, got ${digits.length}`,
    );
  }
  if (digits[0] === '0') throw new AddressError(addr, 'a country code cannot start with 0');
}

/** Validates an E.164 number written with or without '+'. */
export function isE164(addr: string): boolean {
  const d = addr.startsWith('+') ? addr.slice(1) : addr;
  return /^[1-9]\d{6,14}$/.test(d);
}

/**
 * Normalises a destination into its destKey. International when TON is 1, or the number
 * starts with '+' or the international prefix; national (TON 2, or the trunk prefix)
 * becomes international only when a country code is configured; anything else is kept
 * as written (short codes, ambiguous TON 0 numbers).
 */
export function normaliseDestination(address: SmppAddress, options: AddressOptions = {}): NormalisedDestination {
  const { ton, addr } = address;
  if (typeof addr !== 'string') throw new AddressError(String(addr), 'not a string');
  if (ton === Ton.ALPHANUMERIC) throw new AddressError(addr, 'an alphanumeric address cannot be a destination');
  const intlPrefix = options.internationalPrefix ?? '00';
  const trunk = options.nationalPrefix ?? '0';
  const cc = options.countryCode;
  if (cc !== undefined && !/^[1-9]\d{0,2}$/.test(cc)) throw new AddressError(cc, 'country code must be 1-3 digits not starting with 0');

  let s = addr.replace(SEPARATORS, '');
  let international = ton === Ton.INTERNATIONAL;
  if (s.startsWith('+')) {
    international = true;
    s = s.slice(1);
  } else if (intlPrefix !== '' && s.startsWith(intlPrefix) && (international || ton === Ton.UNKNOWN)) {
    // "00" before a number is the dialled international prefix; E.164 numbers never start with 0.
    international = true;
    s = s.slice(intlPrefix.length);
  }
  checkDigits(addr, s);
  if (international) {
    checkE164(addr, s);
    return { destKey: '+' + s, international: true, digits: s };
  }
  if (cc !== undefined) {
    if (ton === Ton.NATIONAL) {
      const national = trunk !== '' && s.startsWith(trunk) ? s.slice(trunk.length) : s;
      const full = cc + national;
      checkE164(addr, full);
      return { destKey: '+' + full, international: true, digits: full };
    }
    if (ton === Ton.UNKNOWN && trunk !== '' && s.startsWith(trunk) && s.length > trunk.length) {
      const full = cc + s.slice(trunk.length);
      checkE164(addr, full);
      return { destKey: '+' + full, international: true, digits: full };
    }
  }
  return { destKey: s, international: false, digits: s };
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
