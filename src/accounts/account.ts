import type { ObjectId } from 'mongodb';

/** An ESME's credentials and limits, as stored in the `accounts` collection. */
export interface AccountDocument {
  _id?: ObjectId;
  systemId: string;
  /** `scrypt$N$r$p$salt$key`; the plain password is never stored. */
  passwordHash: string;
  /** Submits per second shared by all inserters; 0 = unlimited. */
  tps: number;
  /** Concurrent binds (all inserters sharing a Redis, else per inserter); beyond it ESME_RBINDFAIL. */
  maxBinds: number;
  /** Allowed source addresses / sender ids as patterns (`*` any run, `?` one character); empty = any. */
  sourceAllow: string[];
  /** Cap on this account's messages waiting in the store (queued or locked); 0 = no cap. */
  maxQueued: number;
  /** A peer SMSC: may send deliver_sm (stored as MO traffic). Ordinary ESMEs may not. */
  peer?: boolean;
  /** Registration filter: only destinations on the account's allowlist (or the global one) are accepted. */
  registeredOnly?: boolean;
  /** Opt-out: a subscriber's "STOP" to this short code blocks the subscriber for this account and gets `reply`. */
  optout?: OptOutSettings;
  /** Source IP addresses / CIDR ranges whose binds are never locked out or slowed down after failures. */
  trustedAddresses?: string[];
  enabled: boolean;
  /** Receipts and MO for this account are POSTed here (HTTP callbacks) instead of waiting for an SMPP bind. */
  callbackUrl?: string;
  /** Key of the HMAC-SHA256 signature on every callback. Kept in the clear (it signs), never shown. */
  callbackSecret?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface OptOutSettings {
  /** The short code (digits) subscribers send STOP to. */
  shortcode: string;
  /** The answer sent back to the subscriber from the short code ('' = none). */
  reply: string;
  /** MO texts that opt out (upper case); absent = the defaults (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT). */
  keywords?: string[];
}

/** The account fields the inserter needs once a session is bound (no secret in it). */
export type AccountLimits = Pick<AccountDocument, 'systemId' | 'tps' | 'maxBinds' | 'sourceAllow' | 'maxQueued'> & {
  peer?: boolean;
  registeredOnly?: boolean;
};

export const ACCOUNT_DEFAULTS = Object.freeze({ tps: 0, maxBinds: 10, maxQueued: 0 } as const);

/** SMPP 3.4 C-Octet String limits (null terminator excluded). */
export const SYSTEM_ID_MAX = 15;
export const PASSWORD_MAX = 8;

const patternCache = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'i');
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

/** Whether `source` (an address or alphanumeric sender id) is allowed for the account. */
export function sourceAllowed(limits: Pick<AccountLimits, 'sourceAllow'>, source: string): boolean {
  if (limits.sourceAllow.length === 0) return true;
  return limits.sourceAllow.some((pattern) => patternRegExp(pattern).test(source));
}

export function limitsOf(account: AccountDocument): AccountLimits {
  return Object.freeze({
    systemId: account.systemId,
    tps: account.tps ?? ACCOUNT_DEFAULTS.tps,
    maxBinds: account.maxBinds ?? ACCOUNT_DEFAULTS.maxBinds,
    sourceAllow: Object.freeze([...(account.sourceAllow ?? [])]) as string[],
    maxQueued: account.maxQueued ?? ACCOUNT_DEFAULTS.maxQueued,
    peer: account.peer === true,
    registeredOnly: account.registeredOnly === true,
  });
}
