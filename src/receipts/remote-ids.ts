import { messageIdKey, type MessageIdFormat, type MessageIdNormalisation } from '../codec/index.ts';

type Form = MessageIdFormat | MessageIdNormalisation;

/**
 * How a downstream writes message ids, set per connector (`connectors.messageIdForm`, e.g.
 * `{submit: 'hex', receipt: 'decimal'}` for an operator answering submit_sm_resp in hex and
 * writing receipts in decimal). Absent: both are compared as plain strings.
 */
export interface MessageIdForms {
  submit?: Form;
  receipt?: Form;
}

export interface HasMessageIdForm {
  messageIdForm?: MessageIdForms;
}

/**
 * The key `correlations.remoteId` holds and receipts are looked up by: both sides read with the
 * connector's form into one comparable value ("00FF" hex and "255" decimal meet as "255"). An id
 * that does not fit the declared form is kept as written rather than lost.
 */
export function remoteIdKey(connector: object | undefined, id: string, side: 'submit' | 'receipt'): string {
  // Any connector document: the form is an optional field set with mongosh or `connector set`.
  const form = (connector as HasMessageIdForm | undefined)?.messageIdForm?.[side];
  if (!form) return id.trim();
  try {
    return messageIdKey(id, form);
  } catch {
    return id.trim();
  }
}
