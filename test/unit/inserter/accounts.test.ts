import { describe, expect, it } from 'vitest';
import { sourceAllowed, hashPassword, isPasswordHash, verifyPassword } from '../../../src/accounts/index.ts';

const CHEAP = { N: 1024, r: 8, p: 1 };

describe('password hashing', () => {
  it('stores scrypt parameters, salt and key, never the password', async () => {
    const hash = await hashPassword('secret1', CHEAP);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain('secret1');
    expect(isPasswordHash(hash)).toBe(true);
    expect(isPasswordHash('secret1')).toBe(false);
  });

  it('verifies the right password and rejects others', async () => {
    const hash = await hashPassword('pw', CHEAP);
    expect(await verifyPassword('pw', hash)).toBe(true);
    expect(await verifyPassword('pW', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts: the same password hashes differently', async () => {
    expect(await hashPassword('pw', CHEAP)).not.toBe(await hashPassword('pw', CHEAP));
  });

  it('treats a malformed stored hash as a mismatch, not a crash', async () => {
    expect(await verifyPassword('pw', 'scrypt$3$8$1$AAAA$BBBB')).toBe(false);
    expect(await verifyPassword('pw', 'plain')).toBe(false);
    expect(await verifyPassword('pw', 'scrypt$1024$8$1$$')).toBe(false);
  });
});

describe('source address patterns', () => {
  it('allows anything without patterns', () => {
    expect(sourceAllowed({ sourceAllow: [] }, 'Anything')).toBe(true);
  });

  it('matches exact ids (case-insensitive) and globs', () => {
    const limits = { sourceAllow: ['MyBrand', '4477*', '12?4'] };
    expect(sourceAllowed(limits, 'mybrand')).toBe(true);
    expect(sourceAllowed(limits, '447700900123')).toBe(true);
    expect(sourceAllowed(limits, '1234')).toBe(true);
    expect(sourceAllowed(limits, '12345')).toBe(false);
    expect(sourceAllowed(limits, 'OtherBrand')).toBe(false);
    expect(sourceAllowed(limits, '')).toBe(false);
  });

  it('treats regex metacharacters literally', () => {
    expect(sourceAllowed({ sourceAllow: ['a.b'] }, 'axb')).toBe(false);
    expect(sourceAllowed({ sourceAllow: ['a.b'] }, 'a.b')).toBe(true);
  });
});
