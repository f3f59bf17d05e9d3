import type { OutboundSession, SelectFailure, Sender, SubmitContext, SubmitOutcome } from '../domain/submit-outcome.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { CallbackAccounts } from '../accounts/callback-accounts.ts';
import { callbackEventOf, EVENT_ID_HEADER, SIGNATURE_HEADER, signCallback } from './callback-event.ts';

export interface HttpCallbackSenderOptions {
  /** Longest a receiver may take to answer one POST (default 10 s; less when the lease has less left). */
  timeoutMs: number;
}

/**
 * The delivery round's target for HTTP callbacks: a batch of one account's events for one
 * subscriber (destKey `http:<account>:<subscriber>`) is POSTed one event at a time, in order, to
 * the account's callback URL (or the URL the original message named), each signed with the
 * account's secret. A 2xx answer is delivery (final); anything else, or no answer, is a temporary
 * failure the round retries with its backoff until the event's validity ends (then it expires).
 */
export class HttpCallbackSender implements Sender {
  readonly acceptedState = 'delivered';
  readonly correlates = false;
  readonly #accounts: CallbackAccounts;
  readonly #options: HttpCallbackSenderOptions;

  constructor(accounts: CallbackAccounts, options: Partial<HttpCallbackSenderOptions> = {}) {
    this.#accounts = accounts;
    this.#options = { timeoutMs: options.timeoutMs ?? 10_000 };
  }

  async select(first: SmsDocument): Promise<OutboundSession | SelectFailure> {
    if (first.target.kind !== 'http') return { kind: 'permanent', error: `not an HTTP callback (target ${first.target.kind})` };
    const account = first.target.account;
    const settings = await this.#accounts.get(account);
    const url = first.target.url ?? settings?.url;
    // Without a URL or a key there is nothing to POST to or sign with: keep it (an attempt) until
    // the account is given one or the event's validity ends.
    if (!url) return { kind: 'temporary', connector: `http:${account}`, error: `account ${account} has no callback URL` };
    if (!settings?.secret)
      return {
        kind: 'temporary',
        connector: `http:${account}`,
        error: `account ${account} has no callback URL with a secret to sign with`,
      };
    const name = `http:${account}`;
    const secret = settings.secret;
    return { connector: name, submit: (sms, context) => this.#post(name, url, secret, sms, context) };
  }

  async #post(name: string, url: string, secret: string, sms: SmsDocument, context: SubmitContext): Promise<SubmitOutcome> {
    const timeoutMs = await context.beforePart(this.#options.timeoutMs);
    if (timeoutMs === false) return { kind: 'unavailable', error: 'lease no longer safe to send under' };
    const event = callbackEventOf(sms);
    const body = JSON.stringify(event);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'smsc-callbacks/1',
          [EVENT_ID_HEADER]: event.eventId,
          [SIGNATURE_HEADER]: signCallback(secret, body),
        },
        body,
        // A redirect is not an acknowledgement (and would carry the signed body elsewhere).
        redirect: 'manual',
        signal: AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]),
      });
      // The answer's body is not needed; reading it frees the connection for the next event.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) {
        context.onPartAccepted('');
        return { kind: 'accepted', connector: name, remoteId: '' };
      }
      return { kind: 'temporary', connector: name, error: `callback answered HTTP ${response.status}` };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'temporary', connector: name, error: `callback failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}` };
    }
  }
}
