import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  AddressError,
  Ton,
  type AddressOptions,
  hashMsisdn,
  isE164,
  maskMsisdn,
  normaliseDestination,
  validateSourceAddress,
} from '../../../src/codec/index.ts';
import { anyUnits, onlyCodecErrors } from './support.ts';

const key = (ton: number, addr: string, countryCode?: string) =>
  normaliseDestination({ ton, npi: 1, addr }, countryCode === undefined ? {} : { countryCode }).destKey;

type Row = [ton: number, addr: string, options: AddressOptions, expected: string];
const DE: AddressOptions = { countryCode: '49' };
const NANP: AddressOptions = { countryCode: '1', nationalPrefix: '1', internationalPrefix: '011' };
const DK: AddressOptions = { countryCode: '45', nationalPrefix: '', unknownTon: 'national' };

// The documented rule (README "Destination keys"), one row per case; `!` = refused (ESME_RINVDSTADR).
const RULE: Row[] = [
  // One German subscriber, every way an ESME writes it: one key.
  [Ton.INTERNATIONAL, '4915112345678', {}, '+4915112345678'],
  [Ton.UNKNOWN, '4915112345678', {}, '+4915112345678'],
  [Ton.UNKNOWN, '+4915112345678', {}, '+4915112345678'],
  [Ton.UNKNOWN, '004915112345678', {}, '+4915112345678'],
  [Ton.INTERNATIONAL, '004915112345678', {}, '+4915112345678'],
  [Ton.NATIONAL, '+4915112345678', {}, '+4915112345678'],
  [Ton.NETWORK_SPECIFIC, '+4915112345678', {}, '+4915112345678'],
  [Ton.UNKNOWN, '+49 (151) 123-456.78', {}, '+4915112345678'],
  [Ton.NATIONAL, '015112345678', DE, '+4915112345678'],
  [Ton.NATIONAL, '15112345678', DE, '+4915112345678'],
  [Ton.UNKNOWN, '015112345678', DE, '+4915112345678'],
  [Ton.UNKNOWN, '4915112345678', DE, '+4915112345678'],
  // Without a country code, national forms have one key too (trunk prefix + national number), apart from the international one.
  [Ton.NATIONAL, '015112345678', {}, '015112345678'],
  [Ton.NATIONAL, '15112345678', {}, '015112345678'],
  [Ton.UNKNOWN, '015112345678', {}, '015112345678'],
  // Short codes and other TONs stay as written.
  [Ton.UNKNOWN, '12345', {}, '12345'],
  [Ton.UNKNOWN, '12345', DE, '12345'],
  [Ton.UNKNOWN, '0800', DE, '0800'],
  [Ton.ABBREVIATED, '8888', DE, '8888'],
  [Ton.NETWORK_SPECIFIC, '4915112345678', {}, '4915112345678'],
  [Ton.SUBSCRIBER_NUMBER, '1234567', DE, '1234567'],
  // TON 0, not E.164-shaped: as written.
  [Ton.UNKNOWN, '1234567890123456', {}, '1234567890123456'],
  [Ton.UNKNOWN, '0123', DE, '0123'],
  // NANP: trunk prefix 1, international prefix 011.
  [Ton.UNKNOWN, '12125551234', NANP, '+12125551234'],
  [Ton.NATIONAL, '2125551234', NANP, '+12125551234'],
  [Ton.UNKNOWN, '011447700900123', NANP, '+447700900123'],
  [Ton.INTERNATIONAL, '12125551234', NANP, '+12125551234'],
  // No trunk prefix, ESMEs send national numbers under TON 0.
  [Ton.UNKNOWN, '20123456', DK, '+4520123456'],
  [Ton.NATIONAL, '20123456', DK, '+4520123456'],
  [Ton.UNKNOWN, '004520123456', DK, '+4520123456'],
  [Ton.UNKNOWN, '1234', DK, '1234'],
  // Refused.
  [Ton.ALPHANUMERIC, 'Shop', {}, '!'],
  [Ton.INTERNATIONAL, '491', {}, '!'],
  [Ton.INTERNATIONAL, '0049', {}, '!'],
  [Ton.INTERNATIONAL, '4915112345678901', {}, '!'],
  [Ton.NATIONAL, '0', DE, '!'],
  [Ton.NATIONAL, '0123', DE, '!'],
  [Ton.UNKNOWN, '+0049151', {}, '!'],
  [Ton.UNKNOWN, '49151abc', {}, '!'],
  [Ton.UNKNOWN, '', {}, '!'],
];

describe('the destKey rule, from a table', () => {
  it.each(RULE)('TON %i %j %j -> %s', (ton, addr, options, expected) => {
    const run = () => normaliseDestination({ ton, npi: 1, addr }, options).destKey;
    if (expected === '!') expect(run).toThrow(AddressError);
    else expect(run()).toBe(expected);
  });

  it('a key is its own key: normalising a destKey again (TON 0) changes nothing', () => {
    for (const [ton, addr, options, expected] of RULE) {
      if (expected === '!' || ton === Ton.NETWORK_SPECIFIC || ton === Ton.SUBSCRIBER_NUMBER || ton === Ton.ABBREVIATED) continue;
      expect(normaliseDestination({ ton: Ton.UNKNOWN, npi: 1, addr: expected }, options).destKey, `${addr} -> ${expected}`).toBe(expected);
    }
  });
});

describe('destination normalisation (destKey)', () => {
  it('one international subscriber gets one key however it is written', () => {
    expect(key(Ton.INTERNATIONAL, '4915112345678')).toBe('+4915112345678');
    expect(key(Ton.UNKNOWN, '+4915112345678')).toBe('+4915112345678');
    expect(key(Ton.UNKNOWN, '004915112345678')).toBe('+4915112345678');
    expect(key(Ton.INTERNATIONAL, '+49 151 1234-5678')).toBe('+4915112345678');
    expect(key(Ton.INTERNATIONAL, '004915112345678')).toBe('+4915112345678');
  });

  it('national forms stay as they are without a country code', () => {
    expect(key(Ton.NATIONAL, '015112345678')).toBe('015112345678');
    expect(key(Ton.UNKNOWN, '015112345678')).toBe('015112345678');
    expect(normaliseDestination({ ton: Ton.NATIONAL, npi: 1, addr: '015112345678' }).international).toBe(false);
  });

  it('national forms become international with a configured country code', () => {
    expect(key(Ton.NATIONAL, '015112345678', '49')).toBe('+4915112345678');
    expect(key(Ton.NATIONAL, '15112345678', '49')).toBe('+4915112345678');
    expect(key(Ton.UNKNOWN, '015112345678', '49')).toBe('+4915112345678');
    // An unknown-TON number without a prefix is read as international by default (here a NANP number).
    expect(key(Ton.UNKNOWN, '15112345678', '49')).toBe('+15112345678');
  });

  it('short codes are kept', () => {
    expect(key(Ton.NETWORK_SPECIFIC, '12345')).toBe('12345');
    expect(key(Ton.ABBREVIATED, '8888', '49')).toBe('8888');
  });

  it('validates E.164 length and form', () => {
    expect(() => key(Ton.INTERNATIONAL, '4915112345678901')).toThrow(AddressError);
    expect(() => key(Ton.INTERNATIONAL, '491')).toThrow(/7-15 digits/);
    expect(() => key(Ton.UNKNOWN, '+0049151')).toThrow(AddressError);
    expect(isE164('+4915112345678')).toBe(true);
    expect(isE164('4915112345678')).toBe(true);
    expect(isE164('+0123456789')).toBe(false);
    expect(isE164('+1234567890123456')).toBe(false);
  });

  it('rejects non-digits, empty and alphanumeric destinations without echoing the number', () => {
    expect(() => key(Ton.UNKNOWN, '49151abc')).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
    expect(() => key(Ton.UNKNOWN, '')).toThrow(AddressError);
    expect(() => key(Ton.ALPHANUMERIC, 'Shop')).toThrow(AddressError);
    try {
      key(Ton.INTERNATIONAL, '49151123456789012');
    } catch (e) {
      expect((e as Error).message).not.toContain('49151');
    }
  });

  it('only returns or throws CodecError for random strings and TONs (fuzz)', () => {
    fc.assert(
      fc.property(anyUnits(30), fc.integer({ min: 0, max: 7 }), fc.option(fc.constantFrom('1', '49', '358', '0', 'x')), (addr, ton, cc) => {
        onlyCodecErrors(() => normaliseDestination({ ton, npi: 1, addr }, cc === null ? {} : { countryCode: cc }));
        onlyCodecErrors(() => validateSourceAddress({ ton, npi: 0, addr }));
      }),
      { numRuns: 300 },
    );
  });

  it('normalised keys are idempotent (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{6,14}$/), (digits) => {
        const k = key(Ton.INTERNATIONAL, digits);
        expect(key(Ton.UNKNOWN, k)).toBe(k);
        expect(key(Ton.UNKNOWN, '00' + digits)).toBe(k);
      }),
    );
  });
});

describe('source addresses', () => {
  it('alphanumeric sender ids: up to 11 GSM characters', () => {
    expect(validateSourceAddress({ ton: Ton.ALPHANUMERIC, npi: 0, addr: 'MyShop Ltd.' })).toEqual({
      kind: 'alphanumeric',
      addr: 'MyShop Ltd.',
    });
    expect(() => validateSourceAddress({ ton: Ton.ALPHANUMERIC, npi: 0, addr: 'MyShopLimited' })).toThrow(/at most 11/);
    // An extension character takes two septets.
    expect(() => validateSourceAddress({ ton: Ton.ALPHANUMERIC, npi: 0, addr: 'Shop€€€€€€' })).toThrow(/at most 11/);
    expect(() => validateSourceAddress({ ton: Ton.ALPHANUMERIC, npi: 0, addr: 'Shöp✓' })).toThrow(/not in the GSM/);
  });

  it('numeric sources are digits; international ones E.164', () => {
    expect(validateSourceAddress({ ton: Ton.INTERNATIONAL, npi: 1, addr: '4915112345678' }).kind).toBe('numeric');
    expect(validateSourceAddress({ ton: Ton.NETWORK_SPECIFIC, npi: 0, addr: '1234' }).kind).toBe('numeric');
    expect(() => validateSourceAddress({ ton: Ton.INTERNATIONAL, npi: 1, addr: '12' })).toThrow(AddressError);
    expect(() => validateSourceAddress({ ton: Ton.UNKNOWN, npi: 1, addr: 'abc' })).toThrow(AddressError);
  });
});

describe('privacy-safe forms', () => {
  it('masks the middle digits', () => {
    expect(maskMsisdn('+491512345678')).toBe('+4915******78');
    expect(maskMsisdn('4915112345678')).toBe('4915*******78');
    expect(maskMsisdn('12345')).toBe('1***5');
    expect(maskMsisdn('MyShop')).toBe('MyShop');
  });

  it('never shows more than 6 digits of a 10+ digit number (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{10,15}$/), (d) => {
        const m = maskMsisdn('+' + d);
        expect(m.replace(/[^\d]/g, '').length).toBe(6);
        expect(m.length).toBe(d.length + 1);
      }),
    );
  });

  it('hashes with a salt: stable, salt-dependent, form-independent for + or not', () => {
    const a = hashMsisdn('+4915112345678', 's1');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hashMsisdn('4915112345678', 's1')).toBe(a);
    expect(hashMsisdn('+4915112345678', 's2')).not.toBe(a);
    expect(a).not.toContain('4915');
    expect(() => hashMsisdn('1', '')).toThrow(AddressError);
  });
});
