import smpp from 'smpp';
import type { TlvValue, WirePdu } from './pdu.ts';

// camelCase domain types for the PDUs the rest of smsc handles, and the conversions to and
// from the wire shape. Spec snake_case names stay in this file and in pdu.ts.

export type BindMode = 'transmitter' | 'receiver' | 'transceiver';

export const BIND_COMMANDS: Readonly<Record<BindMode, string>> = Object.freeze({
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
});

export function bindModeOf(command: string): BindMode | undefined {
  switch (command) {
    case 'bind_transmitter':
      return 'transmitter';
    case 'bind_receiver':
      return 'receiver';
    case 'bind_transceiver':
      return 'transceiver';
    default:
      return undefined;
  }
}

export interface SmppAddress {
  ton: number;
  npi: number;
  addr: string;
}

export interface BindRequest {
  mode: BindMode;
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

export interface BindResponse {
  /** The SMSC's own system_id. */
  systemId: string;
  /** sc_interface_version TLV (0x34 for SMPP 3.4). */
  scInterfaceVersion?: number;
}

/**
 * Optional parameters by camelCase tag name. The common ones are typed; any other tag the
 * `smpp` package knows may appear under its camelCase name.
 */
export interface Tlvs {
  messagePayload?: Buffer;
  receiptedMessageId?: string;
  messageState?: number;
  networkErrorCode?: Buffer;
  sarMsgRefNum?: number;
  sarTotalSegments?: number;
  sarSegmentSeqnum?: number;
  userMessageReference?: number;
  sourcePort?: number;
  destPort?: number;
  payloadType?: number;
  moreMessagesToSend?: number;
  languageIndicator?: number;
  qosTimeToLive?: number;
  privacyIndicator?: number;
  scInterfaceVersion?: number;
  [tag: string]: TlvValue | undefined;
}

export interface RawTlv {
  tag: number;
  value: Buffer;
}

/** submit_sm, deliver_sm and data_sm share this shape (data_sm lacks some fields: defaults). */
export interface ShortMessage {
  serviceType: string;
  source: SmppAddress;
  dest: SmppAddress;
  esmClass: number;
  protocolId: number;
  priority: number;
  /** SMPP time string as received ('' when absent); parsing is the codec's job. */
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresent: number;
  dataCoding: number;
  smDefaultMsgId: number;
  /** The raw short_message octets (UDH included when esmClass has 0x40). */
  shortMessage: Buffer;
  tlvs: Tlvs;
  /** TLVs whose tag the `smpp` package does not know, as received. */
  unknownTlvs: RawTlv[];
}

/** What callers give to send one: everything but the destination has a default. */
export type ShortMessageInput = Partial<Omit<ShortMessage, 'source' | 'dest' | 'tlvs'>> & {
  source?: Partial<SmppAddress>;
  dest: Partial<SmppAddress> & { addr: string };
  tlvs?: Tlvs;
};

export interface QuerySm {
  messageId: string;
  source: SmppAddress;
}

export interface QuerySmResult {
  messageId: string;
  /** SMPP time string, '' while not final. */
  finalDate: string;
  messageState: number;
  errorCode: number;
}

export interface CancelSm {
  serviceType: string;
  messageId: string;
  source: SmppAddress;
  dest: SmppAddress;
}

export interface ReplaceSm {
  messageId: string;
  source: SmppAddress;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
}

export type MultiDestination = { kind: 'sme'; address: SmppAddress } | { kind: 'list'; name: string };

export interface SubmitMulti extends Omit<ShortMessage, 'dest'> {
  dests: MultiDestination[];
}

export interface SubmitMultiResult {
  messageId: string;
  unsuccessful: { dest: SmppAddress; status: number }[];
}

// --- conversions -------------------------------------------------------------------------------

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const CAMEL_BY_TAG = new Map<string, string>();
const TAG_BY_CAMEL = new Map<string, string>();
for (const tag of Object.keys(smpp.tlvs)) {
  const canonical = smpp.tlvs[tag].tag;
  CAMEL_BY_TAG.set(canonical, camel(canonical));
  TAG_BY_CAMEL.set(camel(tag), canonical);
}

export function tlvsFromWire(wire: Record<string, TlvValue>): Tlvs {
  const out: Tlvs = {};
  for (const [tag, value] of Object.entries(wire)) out[CAMEL_BY_TAG.get(tag) ?? camel(tag)] = value;
  return out;
}

/** Unknown camelCase names are an error: silently dropping a TLV would change the message. */
export function tlvsToWire(tlvs: Tlvs | undefined): Record<string, TlvValue> {
  const out: Record<string, TlvValue> = {};
  if (!tlvs) return out;
  for (const [name, value] of Object.entries(tlvs)) {
    if (value === undefined) continue;
    const tag = TAG_BY_CAMEL.get(name);
    if (!tag) throw new TypeError(`unknown TLV name ${name}`);
    out[tag] = value;
  }
  return out;
}

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bytes = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

const sourceFromWire = (p: { source_addr_ton?: unknown; source_addr_npi?: unknown; source_addr?: unknown }): SmppAddress => ({
  ton: num(p.source_addr_ton),
  npi: num(p.source_addr_npi),
  addr: str(p.source_addr),
});

const destFromWire = (p: { dest_addr_ton?: unknown; dest_addr_npi?: unknown; destination_addr?: unknown }): SmppAddress => ({
  ton: num(p.dest_addr_ton),
  npi: num(p.dest_addr_npi),
  addr: str(p.destination_addr),
});

export function bindRequestFromWire(pdu: WirePdu, mode: BindMode): BindRequest {
  const p = pdu.params;
  return {
    mode,
    systemId: str(p.system_id),
    password: str(p.password),
    systemType: str(p.system_type),
    interfaceVersion: num(p.interface_version),
    addrTon: num(p.addr_ton),
    addrNpi: num(p.addr_npi),
    addressRange: str(p.address_range),
  };
}

/** What a client binds with; the rest of a bind request defaults to SMPP 3.4 and no address range. */
export interface BindCredentials {
  systemId: string;
  password: string;
  systemType?: string;
  interfaceVersion?: number;
  addrTon?: number;
  addrNpi?: number;
  addressRange?: string;
}

export function bindRequestToWire(req: BindCredentials): Record<string, unknown> {
  return {
    system_id: req.systemId,
    password: req.password,
    system_type: req.systemType ?? '',
    interface_version: req.interfaceVersion ?? 0x34,
    addr_ton: req.addrTon ?? 0,
    addr_npi: req.addrNpi ?? 0,
    address_range: req.addressRange ?? '',
  };
}

export function bindResponseFromWire(pdu: WirePdu): BindResponse {
  const version = pdu.tlvs.sc_interface_version;
  return { systemId: str(pdu.params.system_id), ...(typeof version === 'number' ? { scInterfaceVersion: version } : {}) };
}

/** message_id of a submit_sm_resp or data_sm_resp. */
export function messageIdFromWire(pdu: WirePdu): string {
  return str(pdu.params.message_id);
}

export function shortMessageFromWire(pdu: WirePdu): ShortMessage {
  const p = pdu.params;
  return {
    serviceType: str(p.service_type),
    source: sourceFromWire(p),
    dest: destFromWire(p),
    esmClass: num(p.esm_class),
    protocolId: num(p.protocol_id),
    priority: num(p.priority_flag),
    scheduleDeliveryTime: str(p.schedule_delivery_time),
    validityPeriod: str(p.validity_period),
    registeredDelivery: num(p.registered_delivery),
    replaceIfPresent: num(p.replace_if_present_flag),
    dataCoding: num(p.data_coding),
    smDefaultMsgId: num(p.sm_default_msg_id),
    shortMessage: bytes(p.short_message),
    tlvs: tlvsFromWire(pdu.tlvs),
    unknownTlvs: pdu.unknownTlvs,
  };
}

/** Mandatory params for submit_sm / deliver_sm / data_sm (the library ignores the ones a command lacks). */
export function shortMessageToWire(msg: ShortMessageInput): { params: Record<string, unknown>; tlvs: Record<string, TlvValue> } {
  return {
    params: {
      service_type: msg.serviceType ?? '',
      source_addr_ton: msg.source?.ton ?? 0,
      source_addr_npi: msg.source?.npi ?? 0,
      source_addr: msg.source?.addr ?? '',
      dest_addr_ton: msg.dest.ton ?? 0,
      dest_addr_npi: msg.dest.npi ?? 0,
      destination_addr: msg.dest.addr,
      esm_class: msg.esmClass ?? 0,
      protocol_id: msg.protocolId ?? 0,
      priority_flag: msg.priority ?? 0,
      schedule_delivery_time: msg.scheduleDeliveryTime ?? '',
      validity_period: msg.validityPeriod ?? '',
      registered_delivery: msg.registeredDelivery ?? 0,
      replace_if_present_flag: msg.replaceIfPresent ?? 0,
      data_coding: msg.dataCoding ?? 0,
      sm_default_msg_id: msg.smDefaultMsgId ?? 0,
      short_message: msg.shortMessage ?? Buffer.alloc(0),
    },
    tlvs: tlvsToWire(msg.tlvs),
  };
}

export function querySmFromWire(pdu: WirePdu): QuerySm {
  const p = pdu.params;
  return {
    messageId: str(p.message_id),
    source: sourceFromWire(p),
  };
}

export function querySmToWire(query: { messageId: string; source?: Partial<SmppAddress> }): Record<string, unknown> {
  return {
    message_id: query.messageId,
    source_addr_ton: query.source?.ton ?? 0,
    source_addr_npi: query.source?.npi ?? 0,
    source_addr: query.source?.addr ?? '',
  };
}

export function querySmResultToWire(r: QuerySmResult): Record<string, unknown> {
  return { message_id: r.messageId, final_date: r.finalDate, message_state: r.messageState, error_code: r.errorCode };
}

export function querySmResultFromWire(pdu: WirePdu): QuerySmResult {
  const p = pdu.params;
  return {
    messageId: str(p.message_id),
    finalDate: str(p.final_date),
    messageState: num(p.message_state),
    errorCode: num(p.error_code),
  };
}

export function cancelSmFromWire(pdu: WirePdu): CancelSm {
  const p = pdu.params;
  return {
    serviceType: str(p.service_type),
    messageId: str(p.message_id),
    source: sourceFromWire(p),
    dest: destFromWire(p),
  };
}

export function replaceSmFromWire(pdu: WirePdu): ReplaceSm {
  const p = pdu.params;
  return {
    messageId: str(p.message_id),
    source: sourceFromWire(p),
    scheduleDeliveryTime: str(p.schedule_delivery_time),
    validityPeriod: str(p.validity_period),
    registeredDelivery: num(p.registered_delivery),
    smDefaultMsgId: num(p.sm_default_msg_id),
    shortMessage: bytes(p.short_message),
  };
}

export function submitMultiFromWire(pdu: WirePdu): SubmitMulti {
  const { dest: _dest, ...rest } = shortMessageFromWire(pdu);
  const list = Array.isArray(pdu.params.dest_address) ? (pdu.params.dest_address as smpp.DestAddress[]) : [];
  const dests: MultiDestination[] = list.map((d) =>
    d.dl_name !== undefined ? { kind: 'list', name: d.dl_name } : { kind: 'sme', address: destFromWire(d) },
  );
  return { ...rest, dests };
}

export function submitMultiResultToWire(r: SubmitMultiResult): Record<string, unknown> {
  return {
    message_id: r.messageId,
    unsuccess_sme: r.unsuccessful.map((u) => ({
      dest_addr_ton: u.dest.ton,
      dest_addr_npi: u.dest.npi,
      destination_addr: u.dest.addr,
      error_status_code: u.status,
    })),
  };
}
