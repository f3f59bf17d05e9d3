import type { SmsDocument, OutboundSession, SelectFailure, Sender, SubmitContext, SubmitOutcome } from '../../../src/domain/index.ts';
import { textOf } from '../../support/sms-factory.ts';

/** A downstream stand-in for protocol tests: records submits and catches concurrent ones per destination. */
export class RecordingSender implements Sender {
  readonly acceptedState = 'submitted';
  readonly correlates = true;
  readonly sent: { destKey: string; text: string; id: string; by: string }[] = [];
  readonly inFlight = new Map<string, number>();
  concurrentViolations = 0;
  /** Decides each submit's outcome; default accepts. */
  script: (sms: SmsDocument, n: number) => SubmitOutcome | Promise<SubmitOutcome> = (_sms, n) => ({
    kind: 'accepted',
    connector: 'fake',
    remoteId: `r${n}`,
  });
  selectOutcome: SelectFailure | undefined;
  delayMs = 0;
  #n = 0;

  /** `name`: who sends (several rounds can share one recording downstream). */
  constructor(readonly name = 'fake') {}

  async select(): Promise<OutboundSession | SelectFailure> {
    if (this.selectOutcome) return this.selectOutcome;
    return { connector: 'fake', submit: (sms, context) => this.#submit(sms, context) };
  }

  async #submit(sms: SmsDocument, context: SubmitContext): Promise<SubmitOutcome> {
    if ((await context.beforePart(10_000)) === false) return { kind: 'temporary', connector: 'fake', error: 'lease not safe' };
    const now = (this.inFlight.get(sms.destKey) ?? 0) + 1;
    this.inFlight.set(sms.destKey, now);
    if (now > 1) this.concurrentViolations++;
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, Math.random() * this.delayMs));
      const outcome = await this.script(sms, this.#n++);
      this.sent.push({ destKey: sms.destKey, text: textOf(sms), id: sms._id.toHexString(), by: this.name });
      if (outcome.kind === 'accepted') context.onPartAccepted(outcome.remoteId);
      return outcome;
    } finally {
      this.inFlight.set(sms.destKey, (this.inFlight.get(sms.destKey) ?? 1) - 1);
    }
  }
}
