import type { SmsDocument } from '../../../src/store/sms-document.ts';
import type { OutboundSession, Sender, SubmitOutcome } from '../../../src/delivery/submit-outcome.ts';
import { textOf } from '../../support/sms-factory.ts';

/** A downstream stand-in for protocol tests: records submits and catches concurrent ones per destination. */
export class RecordingSender implements Sender {
  readonly sent: { destKey: string; text: string; id: string }[] = [];
  readonly inFlight = new Map<string, number>();
  concurrentViolations = 0;
  /** Decides each submit's outcome; default accepts. */
  script: (sms: SmsDocument, n: number) => SubmitOutcome | Promise<SubmitOutcome> = (_sms, n) => ({ kind: 'accepted', connector: 'fake', remoteId: `r${n}` });
  selectOutcome: SubmitOutcome | undefined;
  delayMs = 0;
  #n = 0;

  async select(): Promise<OutboundSession | Exclude<SubmitOutcome, { kind: 'accepted' }>> {
    if (this.selectOutcome && this.selectOutcome.kind !== 'accepted') return this.selectOutcome;
    return { connector: 'fake', submit: (sms) => this.#submit(sms) };
  }

  async #submit(sms: SmsDocument): Promise<SubmitOutcome> {
    const now = (this.inFlight.get(sms.destKey) ?? 0) + 1;
    this.inFlight.set(sms.destKey, now);
    if (now > 1) this.concurrentViolations++;
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, Math.random() * this.delayMs));
      const outcome = await this.script(sms, this.#n++);
      this.sent.push({ destKey: sms.destKey, text: textOf(sms), id: sms._id.toHexString() });
      return outcome;
    } finally {
      this.inFlight.set(sms.destKey, (this.inFlight.get(sms.destKey) ?? 1) - 1);
    }
  }
}
