import {
  CodecError,
  dataCodingFor,
  encodeText,
  formatSmppAbsolute,
  parseEncodingRequest,
  PartLimits,
  resolveEncoding,
  tryEncodeGsm7,
  encodeUcs2,
  type TextEncodingName,
} from '../codec/index.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import type { ShortMessage, SmppAddress } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';

/** One message as a client POSTs it (JSON, camelCase). Exactly one of `text` and `data`. */
export interface MessageRequest {
  to: string;
  from: string;
  text?: string;
  /** Binary user data, base64; sent with `dataCoding` (default 4, 8-bit data). */
  data?: string;
  dataCoding?: number;
  /** auto (default: GSM 03.38 when every character fits, else UCS-2), gsm7, latin1, ucs2. */
  encoding?: string;
  /** Absolute end of validity (ISO 8601), or `validitySeconds` from now; default DEFAULT_VALIDITY_HOURS. */
  validUntil?: string;
  validitySeconds?: number;
  /** Deliver no earlier than this (ISO 8601). */
  scheduledAt?: string;
  priority?: number;
  /** SMPP registered_delivery (1 = receipt on final outcome, 2 = on failure only). */
  registeredDelivery?: number;
  /** Where receipts for this message are POSTed (callbacks; implies registeredDelivery 1 unless given). */
  callbackUrl?: string;
  /** Admin token only: the account the message is submitted for. */
  account?: string;
}

/** The SMPP form of a request: what `prepareMessage` and `validateDestination` check. */
export interface SmppForm {
  message: Omit<ShortMessage, 'dest'>;
  dest: SmppAddress;
}

const reject = (status: number, message: string): SmppError => new SmppError(status, message);

/**
 * SMPP address fields for what a client writes, as `smsc submit` reads them: '+' or 8+ digits
 * are international (E.164), shorter digit strings short codes, anything else an alphanumeric
 * sender. Whether the address is acceptable is the inserter's rules' call, not this function's.
 */
export function addressOfText(value: string, role: 'source' | 'destination'): SmppAddress {
  const trimmed = value.trim();
  if (/^\+\d{1,20}$/.test(trimmed) || /^\d{8,20}$/.test(trimmed)) return { ton: 1, npi: 1, addr: trimmed.replace(/^\+/, '') };
  if (/^\d{1,7}$/.test(trimmed)) return { ton: 0, npi: 1, addr: trimmed };
  if (role === 'source') return { ton: 5, npi: 0, addr: trimmed };
  return { ton: 1, npi: 1, addr: trimmed };
}

/**
 * Turns a request into the submit_sm an ESME would have sent: the text encoded by the codec, in
 * short_message when it fits one part, else in message_payload (which the inserter's rules split
 * into UDH-linked parts, exactly as for an SMPP submit with message_payload). Times become SMPP
 * absolute times, so the same rules check them. Throws SmppError with the submit's status.
 */
export function toSmppForm(request: MessageRequest, now: Date): SmppForm {
  const hasText = typeof request.text === 'string';
  const hasData = typeof request.data === 'string';
  if (hasText === hasData) throw reject(CommandStatus.ESME_RINVMSGLEN, 'give exactly one of text and data');
  let body: Buffer;
  let dataCoding: number;
  let encoding: TextEncodingName | 'BINARY';
  if (hasText) {
    if (request.dataCoding !== undefined) throw reject(CommandStatus.ESME_RINVDCS, 'dataCoding goes with data; for text, name an encoding');
    const text = request.text as string;
    if (text.length === 0) throw reject(CommandStatus.ESME_RINVMSGLEN, 'text is empty');
    try {
      const wanted = parseEncodingRequest(request.encoding ?? 'auto');
      if (wanted === 'auto') {
        // One pass for the common case: GSM 03.38 when every character has a code.
        const gsm = tryEncodeGsm7(text);
        encoding = gsm === null ? 'UCS2' : 'GSM7';
        body = gsm ?? encodeUcs2(text);
      } else {
        encoding = resolveEncoding(text, wanted);
        body = encodeText(text, encoding);
      }
    } catch (error) {
      if (error instanceof CodecError) throw reject(CommandStatus.ESME_RINVDCS, error.message);
      throw error;
    }
    dataCoding = dataCodingFor(encoding);
  } else {
    if (request.encoding !== undefined) throw reject(CommandStatus.ESME_RINVDCS, 'encoding goes with text; for data, give dataCoding');
    const data = request.data as string;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) throw reject(CommandStatus.ESME_RINVMSGLEN, 'data is not base64');
    body = Buffer.from(data, 'base64');
    if (body.length === 0) throw reject(CommandStatus.ESME_RINVMSGLEN, 'data is empty');
    dataCoding = request.dataCoding ?? 0x04;
    encoding = 'BINARY';
  }

  const limits = PartLimits[encoding === 'BINARY' ? 'BINARY' : encoding];
  const units = encoding === 'UCS2' ? body.length / 2 : body.length;
  const fitsOnePart = units <= limits.single;

  let validityPeriod = '';
  if (request.validUntil !== undefined && request.validitySeconds !== undefined) {
    throw reject(CommandStatus.ESME_RINVEXPIRY, 'give validUntil or validitySeconds, not both');
  }
  if (request.validUntil !== undefined) validityPeriod = smppTime(request.validUntil, 'validUntil', CommandStatus.ESME_RINVEXPIRY);
  if (request.validitySeconds !== undefined) {
    validityPeriod = smppTime(
      new Date(now.getTime() + request.validitySeconds * 1000).toISOString(),
      'validitySeconds',
      CommandStatus.ESME_RINVEXPIRY,
    );
  }
  const scheduleDeliveryTime =
    request.scheduledAt !== undefined ? smppTime(request.scheduledAt, 'scheduledAt', CommandStatus.ESME_RINVSCHED) : '';

  return {
    message: {
      serviceType: '',
      source: addressOfText(request.from, 'source'),
      esmClass: 0,
      protocolId: 0,
      priority: request.priority ?? 0,
      scheduleDeliveryTime,
      validityPeriod,
      // A callback URL asks for the final receipt unless registeredDelivery says otherwise.
      registeredDelivery: request.registeredDelivery ?? (request.callbackUrl ? 1 : 0),
      replaceIfPresent: 0,
      dataCoding,
      smDefaultMsgId: 0,
      shortMessage: fitsOnePart ? body : Buffer.alloc(0),
      tlvs: fitsOnePart ? {} : { messagePayload: body },
      unknownTlvs: [],
    },
    dest: addressOfText(request.to, 'destination'),
  };
}

function smppTime(iso: string, field: string, status: number): string {
  // ISO 8601 with a date and a time; Date.parse alone accepts far too much ("1", "May 5").
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso)) {
    throw reject(status, `${field} must be an ISO 8601 date-time with a zone, e.g. 2030-01-31T12:00:00Z`);
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw reject(status, `${field} is not a valid date-time`);
  try {
    return formatSmppAbsolute(date);
  } catch (error) {
    if (error instanceof CodecError) throw reject(status, `${field}: ${error.message}`);
    throw error;
  }
}
