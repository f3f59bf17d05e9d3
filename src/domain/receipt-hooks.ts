import { SmsDirection, type SmsDocument } from './sms-document.ts';
import { wantsIntermediate } from './receipt-request.ts';

/**
 * What a state write elsewhere (deliverer outcomes, cleanup, cancel_sm) adds to its `$set` so the
 * receipt outbox hears about the change: `{receiptDue: true}` when the message's ESME may want
 * to know, else nothing. `final`: the write makes the message final; otherwise it is a temporary
 * failure (intermediate notification).
 */
export function receiptDueSet(sms: Pick<SmsDocument, 'direction' | 'registeredDelivery'>, final: boolean): { receiptDue?: true } {
  if (sms.direction !== SmsDirection.mt) return {};
  const wanted = final ? (sms.registeredDelivery & 0x03) !== 0 : wantsIntermediate(sms.registeredDelivery);
  return wanted ? { receiptDue: true } : {};
}
