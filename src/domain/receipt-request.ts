import { MessageState } from './message-state.ts';

// registered_delivery (SMPP 3.4 5.2.17): bits 0-1 SMSC delivery receipt, bit 4 intermediate notification.
const RECEIPT_MASK = 0x03;
const RECEIPT_ON_FINAL = 0x01;
const RECEIPT_ON_FAILURE = 0x02;
const INTERMEDIATE = 0x10;

/** Whether a final outcome with this message_state gets a receipt under `registeredDelivery`. */
export function wantsFinalReceipt(registeredDelivery: number, messageState: number): boolean {
  const asked = registeredDelivery & RECEIPT_MASK;
  if (asked === RECEIPT_ON_FINAL) return true;
  if (asked === RECEIPT_ON_FAILURE) return messageState !== MessageState.DELIVERED;
  return false;
}

/** Whether temporary failures are reported with intermediate (ENROUTE) notifications. */
export function wantsIntermediate(registeredDelivery: number): boolean {
  return (registeredDelivery & INTERMEDIATE) !== 0;
}

/** Whether any notification could ever be due: messages without it need no receipt work at all. */
export function wantsAnyReceipt(registeredDelivery: number): boolean {
  return (registeredDelivery & RECEIPT_MASK) !== 0 || wantsIntermediate(registeredDelivery);
}
