import { SmppError } from '../smpp/errors.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { OutboundSession, SelectFailure, Sender, SubmitContext, SubmitOutcome } from '../domain/submit-outcome.ts';
import type { SmppSession } from '../smpp/session.ts';
import { deliverSmOf } from './esme-pdu.ts';
import type { EsmeSessions } from './esme-sessions.ts';

/**
 * The delivery round's target for receipts and MO: the receiving binds of an ESME on this
 * inserter. A deliver_sm_resp is delivery (final); an ESME not bound here is not an attempt (the
 * message waits for a bind, wherever it comes).
 */
export class EsmeSender implements Sender {
  readonly acceptedState = 'delivered';
  readonly correlates = false;
  readonly #sessions: EsmeSessions;
  readonly #responseTimeoutMs: number;

  constructor(sessions: EsmeSessions, options: { responseTimeoutMs: number }) {
    this.#sessions = sessions;
    this.#responseTimeoutMs = options.responseTimeoutMs;
  }

  async select(first: SmsDocument): Promise<OutboundSession | SelectFailure> {
    const systemId = first.target.kind === 'esme' ? first.target.systemId : '';
    const session = this.#sessions.pick(systemId);
    if (!session) return { kind: 'unavailable', error: 'no receiving bind for this system_id here' };
    const name = `esme:${session.id}`;
    return { connector: name, submit: (sms, context) => this.#deliver(session, name, sms, context) };
  }

  async #deliver(session: SmppSession, name: string, sms: SmsDocument, context: SubmitContext): Promise<SubmitOutcome> {
    if (session.state !== 'open' || session.bindMode === null) return { kind: 'unavailable', error: 'the ESME unbound' };
    const timeoutMs = await context.beforePart(this.#responseTimeoutMs);
    if (timeoutMs === false) return { kind: 'unavailable', error: 'lease no longer safe to send under' };
    try {
      await session.deliverSm(deliverSmOf(sms), { timeoutMs });
      context.onPartAccepted('');
      return { kind: 'accepted', connector: name, remoteId: '' };
    } catch (error) {
      const status = error instanceof SmppError && error.code === 'SMPP_STATUS' ? error.commandStatus : undefined;
      return {
        kind: 'temporary',
        connector: name,
        ...(status !== undefined ? { status } : {}),
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
