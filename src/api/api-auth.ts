import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isTrustedAddress, type AccountStore } from '../accounts/account-store.ts';
import { limitsOf, type AccountLimits } from '../accounts/account.ts';
import { sleep, systemClock, type Clock } from '../domain/clock.ts';
import { BindGuard, bindGuardKeys, type BindGuardOptions } from '../inserter/bind-guard.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { ApiError } from './api-errors.ts';

/** Who a request speaks for: an ESME account (HTTP Basic) or the operator (admin token). */
export type Principal = { kind: 'account'; limits: AccountLimits } | { kind: 'admin' };

export interface ApiAuthOptions {
  /** Bearer token for management; undefined = management refused. */
  adminToken?: string;
  /** The SMPP bind lockout's settings (same defaults). */
  guard?: BindGuardOptions;
  /**
   * A verified login is remembered this long before the account is read again (default 10 s, like
   * the inserter's limits refresh): scrypt costs tens of milliseconds, far too much per request.
   */
  recheckMs?: number;
  /** Remembered logins (default 10,000). */
  maxCached?: number;
}

interface CachedLogin {
  limits: AccountLimits;
  /** The hash the password was verified against: a changed password invalidates the entry. */
  passwordHash: string;
  checkedAt: number;
}

const WWW_AUTHENTICATE = { 'www-authenticate': 'Basic realm="smsc", charset="UTF-8"' };
// A Bearer challenge for a wrong admin token: a Basic one would make a browser (the panel's fetch)
// pop up its own login dialog instead of letting the page say what went wrong.
const BEARER_CHALLENGE = { 'www-authenticate': 'Bearer realm="smsc", error="invalid_token"' };

/**
 * HTTP authentication against the same `accounts` (scrypt hashes) and the same lockout as SMPP
 * binds: failures per address and per system_id slow down, then refuse, logins for a while.
 * Verified logins are cached under an HMAC of the credentials with a key that lives only in this
 * process, so the cache never holds a password.
 */
export class ApiAuth {
  readonly #accounts: AccountStore;
  readonly #guard: BindGuard;
  readonly #adminDigest: Buffer | undefined;
  readonly #cacheKey = randomBytes(32);
  readonly #cache = new Map<string, CachedLogin>();
  readonly #recheckMs: number;
  readonly #maxCached: number;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(deps: { accounts: AccountStore; clock?: Clock; logger?: Logger }, options: ApiAuthOptions = {}) {
    this.#accounts = deps.accounts;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger ?? silentLogger;
    this.#guard = new BindGuard(options.guard, this.#clock);
    this.#adminDigest = options.adminToken ? digest(options.adminToken) : undefined;
    this.#recheckMs = options.recheckMs ?? 10_000;
    this.#maxCached = options.maxCached ?? 10_000;
  }

  get managementEnabled(): boolean {
    return this.#adminDigest !== undefined;
  }

  /** Throws ApiError (401, 403, 429) unless the Authorization header names a valid principal. */
  async authenticate(authorization: string | undefined, remoteAddress: string): Promise<Principal> {
    if (!authorization)
      throw new ApiError('UNAUTHORIZED', 'credentials required: HTTP Basic (system_id:password) or Bearer (admin token)', {
        headers: WWW_AUTHENTICATE,
      });
    const space = authorization.indexOf(' ');
    const scheme = (space > 0 ? authorization.slice(0, space) : authorization).toLowerCase();
    const value = space > 0 ? authorization.slice(space + 1).trim() : '';
    if (scheme === 'bearer') return this.#admin(value, remoteAddress);
    if (scheme === 'basic') return this.#account(value, remoteAddress);
    throw new ApiError('UNAUTHORIZED', `unsupported authorization scheme "${scheme.slice(0, 20)}"`, { headers: WWW_AUTHENTICATE });
  }

  async #admin(token: string, remoteAddress: string): Promise<Principal> {
    const keys = [`addr:${remoteAddress}`];
    await this.#checkGuard(keys);
    if (!this.#adminDigest) throw new ApiError('MANAGEMENT_DISABLED', 'no admin token is configured (API_ADMIN_TOKEN)');
    if (!timingSafeEqual(digest(token), this.#adminDigest)) this.#fail(keys, 'wrong admin token', BEARER_CHALLENGE);
    return { kind: 'admin' };
  }

  async #account(encoded: string, remoteAddress: string): Promise<Principal> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw new ApiError('UNAUTHORIZED', 'malformed Basic credentials (expected base64 of system_id:password)', {
        headers: WWW_AUTHENTICATE,
      });
    const systemId = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const cacheKey = createHmac('sha256', this.#cacheKey).update(systemId).update('\0').update(password).digest('base64');
    const cached = this.#cache.get(cacheKey);
    const now = this.#clock.now().getTime();
    if (cached && now - cached.checkedAt < this.#recheckMs) return { kind: 'account', limits: cached.limits };
    if (cached) {
      // Re-read the account: same hash and still enabled keeps the login without another scrypt.
      const account = await this.#accounts.get(systemId);
      if (account && account.enabled !== false && account.passwordHash === cached.passwordHash) {
        cached.limits = limitsOf(account);
        cached.checkedAt = now;
        return { kind: 'account', limits: cached.limits };
      }
      this.#cache.delete(cacheKey);
    }

    // As an SMPP bind (src/inserter/inserter.ts): judged per (address, system_id), address and
    // system_id; a password-check slot claimed on arrival; an account's trusted addresses exempt.
    const keys = bindGuardKeys(remoteAddress, systemId);
    const verdict = this.#guard.check(keys);
    const claimed = this.#guard.begin(keys);
    let outcome;
    let trusted = false;
    try {
      const account = await this.#accounts.get(systemId);
      trusted = isTrustedAddress(account?.trustedAddresses, remoteAddress);
      if ((!claimed || verdict.refuse || verdict.delayMs > 0) && !trusted) {
        if (verdict.refuse)
          throw new ApiError('AUTH_LOCKED', 'too many failed logins recently; try again later', { headers: { 'retry-after': '60' } });
        if (!claimed)
          throw new ApiError('AUTH_LOCKED', 'too many logins being checked at once for this address', { headers: { 'retry-after': '1' } });
        await sleep(verdict.delayMs);
      }
      outcome = await this.#accounts.authenticate(systemId, password, account);
    } finally {
      if (claimed) this.#guard.end(keys);
    }
    if (!outcome.ok) {
      if (outcome.reason === 'disabled') throw new ApiError('FORBIDDEN', 'account disabled');
      this.#fail(trusted ? [] : keys, outcome.reason === 'unknown-system-id' ? 'unknown system_id' : 'wrong password');
    }
    this.#guard.recordSuccess(keys);
    const limits = limitsOf(outcome.account);
    if (this.#cache.size >= this.#maxCached) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(cacheKey, { limits, passwordHash: outcome.account.passwordHash, checkedAt: now });
    return { kind: 'account', limits };
  }

  async #checkGuard(keys: string[]): Promise<void> {
    const verdict = this.#guard.check(keys);
    if (verdict.refuse)
      throw new ApiError('AUTH_LOCKED', 'too many failed logins recently; try again later', { headers: { 'retry-after': '60' } });
    if (verdict.delayMs > 0) await sleep(verdict.delayMs);
  }

  #fail(keys: string[], reason: string, challenge: Record<string, string> = WWW_AUTHENTICATE): never {
    const refused = keys.length > 0 ? this.#guard.recordFailure(keys) : [];
    this.#log.warn({ keys: keys.map(maskKey), reason }, 'HTTP login failed');
    if (refused.length > 0) this.#log.warn({ keys: refused.map(maskKey) }, 'repeated login failures: refusing logins for a while');
    // One message for both: an attacker learns nothing about which system_ids exist.
    throw new ApiError('UNAUTHORIZED', 'unknown system_id or wrong password (or wrong admin token)', { headers: challenge });
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Guard keys carry a system_id or an address, never a secret; printable as they are. */
function maskKey(key: string): string {
  return key.length > 80 ? `${key.slice(0, 77)}...` : key;
}
