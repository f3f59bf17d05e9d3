import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { ConfigError } from '../domain/errors.ts';
import { Collections } from '../store/collections.ts';
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import { BlockList, isIP } from 'node:net';
import { ACCOUNT_DEFAULTS, PASSWORD_MAX, SYSTEM_ID_MAX, type AccountDocument, type OptOutSettings } from './account.ts';
import { DEFAULT_SCRYPT_COST, hashPassword, verifyPassword, type ScryptCost } from './password-hash.ts';

export interface NewAccount {
  systemId: string;
  password: string;
  tps?: number;
  maxBinds?: number;
  sourceAllow?: string[];
  maxQueued?: number;
  peer?: boolean;
  registeredOnly?: boolean;
  optout?: Partial<OptOutSettings>;
  trustedAddresses?: string[];
  /** HTTP callbacks for receipts and MO; a secret is generated when none is given. */
  callbackUrl?: string;
  callbackSecret?: string;
}

export interface AccountPatch {
  password?: string;
  tps?: number;
  maxBinds?: number;
  sourceAllow?: string[];
  maxQueued?: number;
  peer?: boolean;
  enabled?: boolean;
  registeredOnly?: boolean;
  /** `shortcode: ''` turns opt-out off. */
  optout?: Partial<OptOutSettings>;
  trustedAddresses?: string[];
  /** '' removes the callback URL. */
  callbackUrl?: string;
  callbackSecret?: string;
}

export type AuthOutcome =
  { ok: true; account: AccountDocument } | { ok: false; reason: 'unknown-system-id' | 'wrong-password' | 'disabled' };

/** Account rows without the password hash or the callback secret, for listings. */
export type AccountView = Omit<AccountDocument, 'passwordHash' | '_id' | 'callbackSecret'>;

/** What `add` and `set` answer: the view, plus a callback secret when one was just generated (shown once). */
export type AccountChange = AccountView & { generatedCallbackSecret?: string };

export class AccountStore {
  readonly #accounts: Collection<AccountDocument>;
  readonly #clock: Clock;
  readonly #cost: ScryptCost;

  constructor(db: Db, options: { clock?: Clock; scryptCost?: ScryptCost } = {}) {
    this.#accounts = db.collection<AccountDocument>(Collections.accounts);
    this.#clock = options.clock ?? systemClock;
    this.#cost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
  }

  /**
   * Creates an account.
   *
   * filter:  none: an insert; the unique index `systemId` is the fence
   * insert:  the whole account (scrypt password hash, limits, enabled, createdAt/updatedAt)
   * returns: the account's view; ConfigError when one by that system_id exists (duplicate key).
   * safe:    of two racing adds of one system_id exactly one inserts, the other is told it exists;
   *          a repeat is refused the same way.
   */
  async add(input: NewAccount): Promise<AccountChange> {
    validateSystemId(input.systemId);
    validatePassword(input.password);
    const callback = callbackFields(input.callbackUrl, input.callbackSecret, undefined);
    const now = this.#clock.now();
    const doc: AccountDocument = {
      systemId: input.systemId,
      passwordHash: await hashPassword(input.password, this.#cost),
      tps: validateCount('tps', input.tps ?? ACCOUNT_DEFAULTS.tps),
      maxBinds: validateCount('max-binds', input.maxBinds ?? ACCOUNT_DEFAULTS.maxBinds, 1),
      sourceAllow: validatePatterns(input.sourceAllow ?? []),
      maxQueued: validateCount('max-queued', input.maxQueued ?? ACCOUNT_DEFAULTS.maxQueued),
      peer: input.peer === true,
      ...(input.registeredOnly ? { registeredOnly: true } : {}),
      ...(input.optout?.shortcode ? { optout: validateOptOut(input.optout) } : {}),
      ...(input.trustedAddresses?.length ? { trustedAddresses: validateTrustedAddresses(input.trustedAddresses) } : {}),
      enabled: true,
      ...callback.set,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.#accounts.insertOne(doc);
    } catch (error) {
      if ((error as { code?: number }).code === 11000) throw new ConfigError(`Account ${input.systemId} already exists.`);
      throw error;
    }
    return withGenerated(viewOf(doc), callback.generated);
  }

  async get(systemId: string): Promise<AccountDocument | null> {
    return this.#accounts.findOne({ systemId });
  }

  async list(): Promise<AccountView[]> {
    const docs = await this.#accounts
      .find({}, { projection: { passwordHash: 0 } })
      .sort({ systemId: 1 })
      .toArray();
    return docs.map((doc) => viewOf(doc));
  }

  /**
   * Applies the patch; returns the updated account, or null when there is none by that system_id.
   *
   * filter:  {systemId}
   * update:  {$set: the patched fields and updatedAt, $unset: cleared callback/opt-out fields}
   * returns: the account after; null = none by that system_id.
   * safe:    one atomic update of the named fields: two racing patches of different fields both
   *          land; of the same field, the later write stands. A partial opt-out patch and a new
   *          callback URL complete themselves from a read taken before the write, so a racing patch
   *          of those same sub-fields between the read and the write is overwritten (operator
   *          commands; not fenced on a revision). A repeat writes the same values again.
   */
  async set(systemId: string, patch: AccountPatch): Promise<AccountChange | null> {
    const update: Partial<AccountDocument> = { updatedAt: this.#clock.now() };
    const unset: Record<string, ''> = {};
    let generated: string | undefined;
    if (patch.callbackUrl === '') {
      unset.callbackUrl = '';
      unset.callbackSecret = '';
    } else if (patch.callbackUrl !== undefined || patch.callbackSecret !== undefined) {
      // A new URL keeps the current secret unless one is given; an account without one gets one.
      const current = patch.callbackSecret === undefined ? (await this.get(systemId))?.callbackSecret : undefined;
      const callback = callbackFields(patch.callbackUrl, patch.callbackSecret, current);
      Object.assign(update, callback.set);
      generated = callback.generated;
    }
    if (patch.password !== undefined) {
      validatePassword(patch.password);
      update.passwordHash = await hashPassword(patch.password, this.#cost);
    }
    if (patch.tps !== undefined) update.tps = validateCount('tps', patch.tps);
    if (patch.maxBinds !== undefined) update.maxBinds = validateCount('max-binds', patch.maxBinds, 1);
    if (patch.sourceAllow !== undefined) update.sourceAllow = validatePatterns(patch.sourceAllow);
    if (patch.maxQueued !== undefined) update.maxQueued = validateCount('max-queued', patch.maxQueued);
    if (patch.peer !== undefined) update.peer = patch.peer;
    if (patch.enabled !== undefined) update.enabled = patch.enabled;
    if (patch.registeredOnly !== undefined) update.registeredOnly = patch.registeredOnly;
    if (patch.trustedAddresses !== undefined) update.trustedAddresses = validateTrustedAddresses(patch.trustedAddresses);
    if (patch.optout !== undefined) {
      let { shortcode, reply, keywords } = patch.optout;
      if (shortcode === undefined || reply === undefined || keywords === undefined) {
        // Part of the setting: the rest is the account's current one.
        const current = await this.#accounts.findOne({ systemId }, { projection: { optout: 1 } });
        if (!current) return null;
        shortcode ??= current.optout?.shortcode;
        reply ??= current.optout?.reply ?? '';
        keywords ??= current.optout?.keywords;
        if (shortcode === undefined) throw new ConfigError(`Account ${systemId} has no opt-out short code yet: give --optout-shortcode.`);
      }
      if (shortcode === '') unset.optout = '';
      else update.optout = validateOptOut({ shortcode, reply, keywords });
    }
    const doc = await this.#accounts.findOneAndUpdate(
      { systemId },
      { $set: update, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { returnDocument: 'after' },
    );
    return doc ? withGenerated(viewOf(doc), generated) : null;
  }

  /**
   * filter:  {systemId}
   * delete:  the account
   * returns: true when it existed; false = none by that system_id (or a racing remove got it first).
   * safe:    a single-document delete: of racing removes one reports true; binds already made keep
   *          their sessions until they end (authenticate reads the account at bind time).
   */
  async remove(systemId: string): Promise<boolean> {
    const result = await this.#accounts.deleteOne({ systemId });
    return result.deletedCount === 1;
  }

  /**
   * Checks a bind's credentials; the password is compared in constant time on the scrypt keys.
   * `prefetched`: the account as the caller already read it (null: there is none), saving a read.
   */
  async authenticate(systemId: string, password: string, prefetched?: AccountDocument | null): Promise<AuthOutcome> {
    const account = prefetched === undefined ? await this.get(systemId) : prefetched;
    if (!account) return { ok: false, reason: 'unknown-system-id' };
    if (!(await verifyPassword(password, account.passwordHash))) return { ok: false, reason: 'wrong-password' };
    if (account.enabled === false) return { ok: false, reason: 'disabled' };
    return { ok: true, account };
  }
}

/** The account as it may be shown: never the password hash, never the callback secret. */
export function viewOf(doc: AccountDocument): AccountView {
  const { passwordHash: _hash, _id, callbackSecret: _secret, ...view } = doc;
  return view;
}

function withGenerated(view: AccountView, generated: string | undefined): AccountChange {
  return generated ? { ...view, generatedCallbackSecret: generated } : view;
}

/**
 * The callback fields to store: a URL must be http(s); a secret is 16-128 printable characters, or
 * generated (32 random bytes, hex) when a URL is set and the account has none.
 */
function callbackFields(
  url: string | undefined,
  secret: string | undefined,
  current: string | undefined,
): { set: Partial<AccountDocument>; generated?: string } {
  const set: Partial<AccountDocument> = {};
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || url.length > 2048)
      throw new ConfigError(`The callback URL must be an http:// or https:// URL of at most 2048 characters, got "${url.slice(0, 80)}".`);
    set.callbackUrl = url;
  }
  if (secret !== undefined) {
    if (!/^[\x21-\x7e]{16,128}$/.test(secret))
      throw new ConfigError('The callback secret must be 16 to 128 printable ASCII characters without spaces.');
    set.callbackSecret = secret;
    return { set };
  }
  if (url !== undefined && !current) {
    const generated = randomBytes(32).toString('hex');
    set.callbackSecret = generated;
    return { set, generated };
  }
  return { set };
}

function validateSystemId(systemId: string): void {
  if (!/^[\x21-\x7e]+$/.test(systemId) || systemId.length > SYSTEM_ID_MAX) {
    throw new ConfigError(`system_id must be 1 to ${SYSTEM_ID_MAX} printable ASCII characters without spaces.`);
  }
}

function validatePassword(password: string): void {
  if (!/^[\x20-\x7e]+$/.test(password) || password.length > PASSWORD_MAX) {
    throw new ConfigError(`The password must be 1 to ${PASSWORD_MAX} printable ASCII characters (SMPP 3.4 limit).`);
  }
}

function validateCount(name: string, value: number, min = 0): number {
  if (!Number.isInteger(value) || value < min || value > 1_000_000_000) {
    throw new ConfigError(`--${name} must be a whole number of at least ${min}, got ${value}.`);
  }
  return value;
}

function validateOptOut(optout: Partial<OptOutSettings>): OptOutSettings {
  const shortcode = (optout.shortcode ?? '').replace(/^\+/, '');
  if (!/^\d{2,20}$/.test(shortcode))
    throw new ConfigError(`--optout-shortcode must be 2 to 20 digits, got ${JSON.stringify(optout.shortcode)}.`);
  const reply = optout.reply ?? '';
  if (reply.length > 1000) throw new ConfigError('--optout-reply must be at most 1,000 characters.');
  if (optout.keywords === undefined || optout.keywords.length === 0) return { shortcode, reply };
  const keywords = [...new Set(optout.keywords.map((k) => k.trim().toUpperCase()))];
  if (keywords.some((k) => !/^[A-Z0-9]{1,20}$/.test(k)))
    throw new ConfigError(`--optout-keywords must be words of letters and digits, got ${JSON.stringify(optout.keywords)}.`);
  return { shortcode, reply, keywords };
}

/** IP addresses and CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`); anything else is one clear error. */
function validateTrustedAddresses(list: string[]): string[] {
  for (const item of list) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (family === 0 || !okBits || extra !== undefined)
      throw new ConfigError(`--trusted-address must be an IP address or CIDR range, got ${JSON.stringify(item)}.`);
  }
  return [...new Set(list)];
}

/** Whether `address` (as a socket reports it) is one of `trusted`. */
export function isTrustedAddress(trusted: readonly string[] | undefined, address: string | undefined): boolean {
  if (!trusted?.length || !address) return false;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain);
  if (family === 0) return false;
  const list = new BlockList();
  for (const item of trusted) {
    const [net, bits] = item.split('/');
    const netFamily = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, netFamily);
    else list.addSubnet(net, Number(bits), netFamily);
  }
  return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

function validatePatterns(patterns: string[]): string[] {
  for (const pattern of patterns) {
    if (pattern.length === 0 || pattern.length > 21 || !/^[\x20-\x7e]+$/.test(pattern)) {
      throw new ConfigError(`Source pattern ${JSON.stringify(pattern)} must be 1 to 21 printable ASCII characters.`);
    }
  }
  return [...new Set(patterns)];
}
