import { Binary, ObjectId } from 'mongodb';
import {
  AddressError,
  CodecError,
  CodecErrorCode,
  describeDataCoding,
  normaliseDestination,
  parseInboundPart,
  parseSmppTime,
  splitEncoded,
  SmppTimeError,
  validateSourceAddress,
  type AddressOptions,
  type InboundPart,
  type SplitEncoding,
} from '../codec/index.ts';
import { sourceAllowed, type AccountLimits } from '../accounts/account.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import type { ShortMessage, SmppAddress } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';
import { messageIdOf, SmsDirection, SmsState, type ConcatInfo, type SmsDocument, type SmsTarget } from '../domain/sms-document.ts';

/** Limits on what an ESME may ask for; the inserter's options provide them. */
export interface SubmitPolicy {
  /** Validity when the submit names none (default 24 h). */
  defaultValidityMs: number;
  /** Furthest validity_period accepted (default 7 days). */
  maxValidityMs: number;
  /** Furthest schedule_delivery_time accepted (default 7 days). */
  maxScheduleMs: number;
  /** Absolute times this far in the past are still accepted (ESME clocks drift; default 0). */
  clockSkewMs: number;
  addressOptions?: AddressOptions;
}

export const DEFAULT_SUBMIT_POLICY: Readonly<SubmitPolicy> = Object.freeze({
  defaultValidityMs: 24 * 3600_000,
  maxValidityMs: 7 * 24 * 3600_000,
  maxScheduleMs: 7 * 24 * 3600_000,
  clockSkewMs: 0,
});

export type SubmitCommand = 'submit_sm' | 'data_sm' | 'submit_multi' | 'deliver_sm';

/** The validated, destination-independent part of a submit. */
export interface PreparedMessage {
  command: SubmitCommand;
  account: string;
  source: SmppAddress;
  priority: number;
  registeredDelivery: number;
  arrivedAt: Date;
  validUntil: Date;
  scheduledAt?: Date;
  dataCoding: number;
  protocolId: number;
  serviceType: string;
  /** One entry per stored document: a long message_payload becomes several parts. */
  parts: { shortMessage: Buffer; esmClass: number; seq: number; total: number; messagePayload?: Buffer }[];
  /** Linking of the parts: from the UDH / SAR the ESME sent, or ours when we split a message_payload. */
  concatRef?: { ref: number; total: number; seqOfFirst: number };
  tlvs: Record<string, unknown>;
  hasTlvs: boolean;
}

export interface ValidDestination {
  dest: SmppAddress;
  destKey: string;
}

const reject = (status: number, message: string): SmppError => new SmppError(status, message);

// esm_class bits 2..5 (message type). For submits only "default", "ESME delivery ack" and
// "ESME manual/user ack" are meaningful; receipts and notifications only travel SMSC -> ESME.
const ESM_TYPE_MASK = 0x3c;
const SUBMIT_ESM_TYPES = new Set([0x00, 0x08, 0x10]);
const DELIVER_ESM_TYPES = new Set([0x00, 0x04, 0x08, 0x10, 0x20]);
const ESM_UDHI = 0x40;

const VALID_TON = new Set([0, 1, 2, 3, 4, 5, 6]);
const VALID_NPI = new Set([0, 1, 3, 4, 6, 8, 9, 10, 14, 18]);
const TLVS_NOT_STORED = new Set(['messagePayload']);

/**
 * Checks everything in a submit_sm / data_sm / submit_multi / deliver_sm that does not depend on
 * the destination. Throws SmppError with the precise command_status; stores nothing.
 */
export function prepareMessage(
  msg: Omit<ShortMessage, 'dest'>,
  command: SubmitCommand,
  account: AccountLimits,
  now: Date,
  policy: SubmitPolicy = DEFAULT_SUBMIT_POLICY,
): PreparedMessage {
  if (msg.serviceType.length > 5) throw reject(CommandStatus.ESME_RINVSERTYP, 'service_type is longer than 5 characters');

  // Source: plausible, then allowed for this account.
  if (!VALID_TON.has(msg.source.ton)) throw reject(CommandStatus.ESME_RINVSRCTON, `source_addr_ton ${msg.source.ton} is not defined`);
  if (!VALID_NPI.has(msg.source.npi)) throw reject(CommandStatus.ESME_RINVSRCNPI, `source_addr_npi ${msg.source.npi} is not defined`);
  if (msg.source.addr.length > 20) throw reject(CommandStatus.ESME_RINVSRCADR, 'source_addr is longer than 20 characters');
  if (msg.source.addr !== '') {
    try {
      validateSourceAddress(msg.source);
    } catch (error) {
      if (error instanceof AddressError) throw reject(CommandStatus.ESME_RINVSRCADR, error.message);
      throw error;
    }
  }
  if (command !== 'deliver_sm' && !sourceAllowed(account, msg.source.addr)) {
    throw reject(CommandStatus.ESME_RINVSRCADR, 'source_addr is not allowed for this account');
  }

  // esm_class and registered_delivery must mean something for this command.
  const esmType = msg.esmClass & ESM_TYPE_MASK;
  const allowedTypes = command === 'deliver_sm' ? DELIVER_ESM_TYPES : SUBMIT_ESM_TYPES;
  if (!allowedTypes.has(esmType))
    throw reject(CommandStatus.ESME_RINVESMCLASS, `esm_class 0x${msg.esmClass.toString(16)} is not valid for ${command}`);
  const rd = msg.registeredDelivery;
  // Bits 0-1: 0..2 (3 reserved); bits 2-3 SME acks; bit 4 intermediate notification; 5-7 reserved.
  if ((rd & 0x03) === 0x03 || (rd & 0xe0) !== 0)
    throw reject(CommandStatus.ESME_RINVREGDLVFLG, `registered_delivery 0x${rd.toString(16)} is not valid`);
  if (msg.priority < 0 || msg.priority > 3) throw reject(CommandStatus.ESME_RINVPRTFLG, `priority_flag ${msg.priority} is not 0..3`);
  if (msg.replaceIfPresent > 1)
    throw reject(CommandStatus.ESME_RINVREPFLAG, `replace_if_present_flag ${msg.replaceIfPresent} is not 0 or 1`);
  if (msg.smDefaultMsgId !== 0)
    throw reject(CommandStatus.ESME_RINVDFTMSGID, 'this SMSC has no predefined messages (sm_default_msg_id must be 0)');

  const dcs = describeDataCoding(msg.dataCoding);
  if (dcs.alphabet === 'UNSUPPORTED')
    throw reject(CommandStatus.ESME_RINVDCS, `data_coding 0x${msg.dataCoding.toString(16)} is not supported`);

  // Payload: short_message or message_payload, never both.
  const payloadTlv = msg.tlvs.messagePayload;
  if (payloadTlv !== undefined && !Buffer.isBuffer(payloadTlv))
    throw reject(CommandStatus.ESME_RINVTLVVAL, 'message_payload is not an octet string');
  if (payloadTlv && payloadTlv.length > 0 && msg.shortMessage.length > 0) {
    throw reject(
      CommandStatus.ESME_RINVMSGLEN,
      'short_message and message_payload are both set (sm_length must be 0 with message_payload)',
    );
  }
  const sarGiven = [msg.tlvs.sarMsgRefNum, msg.tlvs.sarTotalSegments, msg.tlvs.sarSegmentSeqnum].filter((v) => v !== undefined).length;
  if (sarGiven > 0 && sarGiven < 3) {
    throw reject(CommandStatus.ESME_RMISSINGTLV, 'sar_msg_ref_num, sar_total_segments and sar_segment_seqnum go together');
  }
  const plain = (msg.esmClass & ESM_UDHI) === 0 && sarGiven === 0 && !(payloadTlv && payloadTlv.length > 0);
  // Most traffic is one plain short_message: nothing to parse (and the parser's object spreads cost).
  const inbound: InboundForm = plain
    ? { form: 'single', reference: 0, total: 1, sequence: 1, payload: msg.shortMessage }
    : parseInbound(msg, payloadTlv);

  // Times: parse, resolve against now, and keep within policy.
  const scheduledAt = parseTime(msg.scheduleDeliveryTime, now, 'schedule_delivery_time');
  const validity = parseTime(msg.validityPeriod, now, 'validity_period');
  const earliest = now.getTime() - policy.clockSkewMs;
  if (scheduledAt) {
    if (scheduledAt.getTime() < earliest) throw reject(CommandStatus.ESME_RINVSCHED, 'schedule_delivery_time is in the past');
    if (scheduledAt.getTime() > now.getTime() + policy.maxScheduleMs)
      throw reject(CommandStatus.ESME_RINVSCHED, 'schedule_delivery_time is too far ahead');
  }
  const start = scheduledAt && scheduledAt > now ? scheduledAt : now;
  const validUntil = validity ?? new Date(start.getTime() + policy.defaultValidityMs);
  if (validity) {
    if (validity.getTime() <= earliest) throw reject(CommandStatus.ESME_RINVEXPIRY, 'validity_period is in the past');
    if (validity.getTime() > now.getTime() + policy.maxValidityMs)
      throw reject(CommandStatus.ESME_RINVEXPIRY, 'validity_period is beyond the maximum this SMSC accepts');
    if (scheduledAt && validity <= scheduledAt)
      throw reject(CommandStatus.ESME_RINVEXPIRY, 'validity_period ends before schedule_delivery_time');
  }

  const tlvs: Record<string, unknown> = {};
  let hasTlvs = false;
  for (const name in msg.tlvs) {
    const value = msg.tlvs[name];
    if (value !== undefined && !TLVS_NOT_STORED.has(name)) {
      tlvs[name] = value;
      hasTlvs = true;
    }
  }

  const prepared: PreparedMessage = {
    command,
    account: account.systemId,
    source: { ton: msg.source.ton, npi: msg.source.npi, addr: msg.source.addr },
    priority: msg.priority,
    registeredDelivery: rd,
    arrivedAt: now,
    validUntil,
    dataCoding: msg.dataCoding,
    protocolId: msg.protocolId,
    serviceType: msg.serviceType,
    parts: [],
    tlvs,
    hasTlvs,
  };
  if (scheduledAt) prepared.scheduledAt = scheduledAt;

  if (inbound.form === 'payload') {
    // inbound.payload is the text after any UDH; a message with its own UDH is kept whole.
    const whole = (msg.esmClass & ESM_UDHI) !== 0 && payloadTlv ? payloadTlv : inbound.payload;
    prepared.parts = splitPayload(whole, dcs.alphabet, msg.esmClass, prepared);
  } else {
    const body = payloadTlv && payloadTlv.length > 0 ? payloadTlv : msg.shortMessage;
    prepared.parts = [{ shortMessage: body, esmClass: msg.esmClass, seq: inbound.sequence, total: inbound.total }];
    if (inbound.total > 1) prepared.concatRef = { ref: inbound.reference, total: inbound.total, seqOfFirst: inbound.sequence };
  }
  return prepared;
}

type InboundForm = Pick<InboundPart, 'form' | 'reference' | 'total' | 'sequence' | 'payload'>;

/** UDH / SAR / message_payload forms, with the codec's errors mapped to SMPP statuses. */
function parseInbound(msg: Omit<ShortMessage, 'dest'>, payloadTlv: Buffer | undefined): InboundForm {
  try {
    return parseInboundPart({
      shortMessage: msg.shortMessage,
      messagePayload: payloadTlv ?? null,
      esmClass: msg.esmClass,
      sarMsgRefNum: msg.tlvs.sarMsgRefNum,
      sarTotalSegments: msg.tlvs.sarTotalSegments,
      sarSegmentSeqnum: msg.tlvs.sarSegmentSeqnum,
    });
  } catch (error) {
    if (error instanceof CodecError) {
      if (error.code === CodecErrorCode.INVALID_UDH) throw reject(CommandStatus.ESME_RINVESMCLASS, error.message);
      if (error.code === CodecErrorCode.INVALID_SEGMENT) {
        throw reject(msg.tlvs.sarMsgRefNum !== undefined ? CommandStatus.ESME_RINVTLVVAL : CommandStatus.ESME_RINVESMCLASS, error.message);
      }
    }
    throw error;
  }
}

function parseTime(value: string, now: Date, field: 'validity_period' | 'schedule_delivery_time'): Date | null {
  try {
    return parseSmppTime(value, now, field);
  } catch (error) {
    if (error instanceof SmppTimeError) throw reject(CommandStatus[error.commandStatusName], error.message);
    throw error;
  }
}

function splitEncodingOf(alphabet: string): SplitEncoding {
  switch (alphabet) {
    case 'UCS2':
      return 'UCS2';
    case 'LATIN1':
      return 'LATIN1';
    case 'BINARY':
      return 'BINARY';
    default:
      return 'GSM7';
  }
}

/**
 * A message_payload longer than one part is stored as UDH-linked parts (8-bit reference), so
 * every long message sits in the store in one shape whatever form it arrived in. One carrying its
 * own UDH (ports, …) is kept whole as a message_payload; the deliverer re-splits it.
 */
function splitPayload(payload: Buffer, alphabet: string, esmClass: number, prepared: PreparedMessage): PreparedMessage['parts'] {
  // With its own UDH it may exceed what short_message can hold: it stays a message_payload.
  if ((esmClass & ESM_UDHI) !== 0) return [{ shortMessage: Buffer.alloc(0), messagePayload: payload, esmClass, seq: 1, total: 1 }];
  const ref = Math.floor(Math.random() * 256);
  let parts;
  try {
    parts = splitEncoded(payload, splitEncodingOf(alphabet), { strategy: 'udh8', reference: ref });
  } catch (error) {
    if (error instanceof CodecError) throw reject(CommandStatus.ESME_RINVMSGLEN, error.message);
    throw error;
  }
  if (parts.length > 1) prepared.concatRef = { ref, total: parts.length, seqOfFirst: 1 };
  return parts.map((part) => ({
    shortMessage: part.shortMessage,
    esmClass: part.esmClassUdhi ? esmClass | ESM_UDHI : esmClass,
    seq: part.sequence,
    total: part.total,
  }));
}

/** Checks one destination; throws SmppError (ESME_RINVDSTADR, …TON, …NPI). */
export function validateDestination(dest: SmppAddress, policy: SubmitPolicy = DEFAULT_SUBMIT_POLICY): ValidDestination {
  if (!VALID_TON.has(dest.ton)) throw reject(CommandStatus.ESME_RINVDSTTON, `dest_addr_ton ${dest.ton} is not defined`);
  if (!VALID_NPI.has(dest.npi)) throw reject(CommandStatus.ESME_RINVDSTNPI, `dest_addr_npi ${dest.npi} is not defined`);
  if (dest.addr === '') throw reject(CommandStatus.ESME_RINVDSTADR, 'destination_addr is empty');
  if (dest.addr.length > 20) throw reject(CommandStatus.ESME_RINVDSTADR, 'destination_addr is longer than 20 characters');
  try {
    const { destKey } = normaliseDestination(dest, policy.addressOptions);
    return { dest: { ton: dest.ton, npi: dest.npi, addr: dest.addr }, destKey };
  } catch (error) {
    if (error instanceof AddressError) throw reject(CommandStatus.ESME_RINVDSTADR, error.message);
    throw error;
  }
}

/** The `sms` documents for one destination: one per part, linked by `concat` when there are several. */
export function buildSmsDocuments(prepared: PreparedMessage, destination: ValidDestination): SmsDocument[] {
  const direction = prepared.command === 'deliver_sm' ? SmsDirection.mo : SmsDirection.mt;
  // MO traffic goes to an ESME; which one is decided by the routes at delivery time ('' = not yet).
  const target: SmsTarget = direction === SmsDirection.mo ? { kind: 'esme', systemId: '' } : { kind: 'connector' };
  const due = prepared.scheduledAt ?? prepared.arrivedAt;
  return prepared.parts.map((part) => {
    const _id = new ObjectId();
    let concat: ConcatInfo | undefined;
    if (prepared.concatRef) {
      const { ref, total } = prepared.concatRef;
      concat = { groupId: `${prepared.account}:${prepared.source.addr}:${destination.destKey}:${ref}:${total}`, ref, total, seq: part.seq };
    }
    // Built by assignment rather than object spreads: this runs once per stored message.
    const payload: SmsDocument['payload'] = {
      dataCoding: prepared.dataCoding,
      esmClass: part.esmClass,
      shortMessage: new Binary(part.shortMessage),
    };
    if (part.messagePayload) payload.tlvs = Object.assign({}, prepared.tlvs, { messagePayload: new Binary(part.messagePayload) });
    else if (prepared.hasTlvs) payload.tlvs = prepared.tlvs;
    if (prepared.protocolId) payload.protocolId = prepared.protocolId;
    if (prepared.serviceType) payload.serviceType = prepared.serviceType;
    const doc: SmsDocument = {
      _id,
      messageId: messageIdOf(_id),
      direction,
      account: prepared.account,
      arrivedAt: prepared.arrivedAt,
      source: prepared.source,
      dest: destination.dest,
      destKey: destination.destKey,
      priority: prepared.priority,
      registeredDelivery: prepared.registeredDelivery,
      validUntil: prepared.validUntil,
      nextAttemptAt: due,
      attempts: 0,
      state: SmsState.queued,
      target,
      payload,
      history: [],
    };
    if (prepared.scheduledAt) doc.scheduledAt = prepared.scheduledAt;
    if (concat) doc.concat = concat;
    return doc;
  });
}
