import type { SmsTarget } from '../domain/sms-document.ts';
import type { CallbackAccounts } from './callback-accounts.ts';

/** The `events` destKey of callback notifications: callback workers wake on it, others ignore it. */
export const HTTP_EVENT_KEY = 'http:';

/**
 * Lock key (and `destKey`) of callbacks: one lane per account and subscriber, like ESME traffic
 * (see esmeLockKey), so one subscriber's events arrive in order and different subscribers' in
 * parallel, never sharing a lock with MT traffic or with SMPP receipts.
 */
export function httpLockKey(account: string, subscriberKey: string): string {
  return `http:${account}:${subscriberKey}`;
}

/**
 * Where a receipt or MO for `account` goes when it should be an HTTP callback: the message named a
 * `url`, or the account has a callback URL. Null: it goes to the account's SMPP binds as before.
 */
export async function httpTargetFor(
  accounts: CallbackAccounts,
  account: string,
  subscriberKey: string,
  url?: string,
): Promise<{ target: Extract<SmsTarget, { kind: 'http' }>; destKey: string } | null> {
  if (!url && !(await accounts.get(account))?.url) return null;
  return { target: { kind: 'http', account, ...(url ? { url } : {}) }, destKey: httpLockKey(account, subscriberKey) };
}
