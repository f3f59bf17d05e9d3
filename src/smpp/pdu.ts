import smpp from 'smpp';
import { CommandStatus } from './command-status.ts';
import { SmppMalformedPduError } from './errors.ts';

// The wire layer, driven by the `smpp` package's definition tables (command ids, parameter
// layouts, TLV tags and types). Decoding is ours and strict: the library's parser reads past
// the end of C-strings, silently truncates TLVs, turns short_message into text (losing the
// bytes), throws on odd time strings, and a parse error stops its reader for good. Encoding is
// ours too, for speed (see encodePdu); tests check both against the library.

export const HEADER_LENGTH = 16;
export const GENERIC_NACK = 0x80000000;
export const MAX_SEQUENCE_NUMBER = 0x7fffffff;

export const CommandId = Object.freeze({
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
} as const);

export type CommandName = keyof typeof CommandId;

/** Requests that get no response at all (SMPP 3.4 sections 4.1.7 and 4.12). */
export const UNANSWERED_COMMANDS: ReadonlySet<string> = new Set(['outbind', 'alert_notification']);

export function isResponseId(commandId: number): boolean {
  return commandId >= 0x80000000;
}

export type TlvValue = number | string | Buffer | number[] | Buffer[];

/** A PDU as it is on the wire, spec names (snake_case) — only src/smpp sees this shape. */
export interface WirePdu {
  /** Library command name, or 'unknown' for an id neither SMPP 3.4 nor 5.0 defines. */
  command: string;
  commandId: number;
  commandStatus: number;
  sequenceNumber: number;
  /** Mandatory parameters: int types as numbers, C-strings as latin1 strings, short_message as bytes. */
  params: Record<string, unknown>;
  /** Known TLVs by their spec tag name. */
  tlvs: Record<string, TlvValue>;
  /** TLVs with tags the library does not know, in arrival order. */
  unknownTlvs: { tag: number; value: Buffer }[];
  /** A structural problem that does not break the framing (e.g. an int TLV of the wrong length). */
  fieldError?: SmppMalformedPduError;
}

type Kind = 'int8' | 'int16' | 'int32' | 'cstring' | 'string' | 'buffer' | 'dest_address_array' | 'unsuccess_sme_array';

function kindOf(type: smpp.FieldType<any>, table: Record<string, unknown>): Kind {
  for (const [name, candidate] of Object.entries(table)) {
    if (candidate === type) return name as Kind;
  }
  throw new Error('smpp defs: unknown field type');
}

interface ParamLayout {
  name: string;
  kind: Kind;
}

// Compiled once: the library's defs tables are plain objects walked with for..in otherwise.
const LAYOUTS = new Map<number, { command: string; params: ParamLayout[] }>();
for (const def of Object.values(smpp.commands)) {
  const params = Object.entries(def.params ?? {}).map(([name, p]) => ({
    name,
    kind: kindOf(p.type, smpp.types as unknown as Record<string, unknown>),
  }));
  LAYOUTS.set(def.id, { command: def.command, params });
}

const TLV_LAYOUTS = new Map<number, { tag: string; kind: Kind; multiple: boolean }>();
for (const [id, def] of Object.entries(smpp.tlvsById)) {
  TLV_LAYOUTS.set(Number(id), {
    tag: def.tag,
    kind: kindOf(def.type, smpp.types.tlv as unknown as Record<string, unknown>),
    multiple: def.multiple === true,
  });
}

const TLV_FIXED_SIZE: Partial<Record<Kind, number>> = { int8: 1, int16: 2, int32: 4 };

/** A bounds-checked read position in one frame (a class: closures per decode cost real time). */
class Reader {
  offset = HEADER_LENGTH;
  readonly end: number;

  constructor(
    readonly frame: Buffer,
    readonly command: string,
    readonly commandId: number,
    readonly sequenceNumber: number,
  ) {
    this.end = frame.length;
  }

  fail(status: number, message: string): never {
    throw new SmppMalformedPduError(status, `${this.command}: ${message}`, {
      commandId: this.commandId,
      sequenceNumber: this.sequenceNumber,
    });
  }

  cstring(what: string): string {
    const nul = this.frame.indexOf(0, this.offset);
    if (nul < 0 || nul >= this.end) this.fail(CommandStatus.ESME_RINVCMDLEN, `${what} is not NUL-terminated within command_length`);
    const value = this.frame.toString('latin1', this.offset, nul);
    this.offset = nul + 1;
    return value;
  }

  int(size: 1 | 2 | 4, what: string): number {
    const at = this.offset;
    if (at + size > this.end) this.fail(CommandStatus.ESME_RINVCMDLEN, `${what} runs past command_length`);
    this.offset = at + size;
    return size === 1 ? this.frame[at] : size === 2 ? this.frame.readUInt16BE(at) : this.frame.readUInt32BE(at);
  }
}

/**
 * Decodes one complete frame (exactly command_length bytes, command_length >= 16).
 * Throws SmppMalformedPduError (fatal) when the body does not fit its own length. Requests must
 * carry every mandatory parameter; responses may stop early (many SMSCs omit the body of an
 * error response), the missing ones are then absent from `params`.
 */
export function decodePdu(frame: Buffer): WirePdu {
  const commandId = frame.readUInt32BE(4);
  const commandStatus = frame.readUInt32BE(8);
  const sequenceNumber = frame.readUInt32BE(12);
  const layout = LAYOUTS.get(commandId);
  const pdu: WirePdu = {
    command: layout?.command ?? 'unknown',
    commandId,
    commandStatus,
    sequenceNumber,
    params: {},
    tlvs: {},
    unknownTlvs: [],
  };
  if (!layout) return pdu;
  const lenient = isResponseId(commandId);
  const r = new Reader(frame, layout.command, commandId, sequenceNumber);
  for (const param of layout.params) {
    if (r.offset >= r.end) {
      if (lenient) break;
      r.fail(CommandStatus.ESME_RINVCMDLEN, `body ends before mandatory parameter ${param.name}`);
    }
    switch (param.kind) {
      case 'int8':
        pdu.params[param.name] = r.int(1, param.name);
        break;
      case 'int16':
        pdu.params[param.name] = r.int(2, param.name);
        break;
      case 'int32':
        pdu.params[param.name] = r.int(4, param.name);
        break;
      case 'cstring':
        pdu.params[param.name] = r.cstring(param.name);
        break;
      case 'string': {
        const length = r.int(1, param.name);
        if (r.offset + length > r.end) r.fail(CommandStatus.ESME_RINVCMDLEN, `${param.name} runs past command_length`);
        pdu.params[param.name] = frame.toString('latin1', r.offset, r.offset + length);
        r.offset += length;
        break;
      }
      case 'buffer': {
        const length = r.int(1, 'sm_length');
        if (r.offset + length > r.end) {
          r.fail(CommandStatus.ESME_RINVMSGLEN, `sm_length ${length} runs past command_length`);
        }
        // A copy: a slice would pin the whole socket chunk for as long as the message lives.
        pdu.params[param.name] = Buffer.from(frame.subarray(r.offset, r.offset + length));
        r.offset += length;
        break;
      }
      case 'dest_address_array': {
        const count = r.int(1, 'number_of_dests');
        const dests: smpp.DestAddress[] = [];
        for (let i = 0; i < count; i++) {
          const flag = r.int(1, 'dest_flag');
          if (flag === 1) {
            const dest_addr_ton = r.int(1, 'dest_addr_ton');
            const dest_addr_npi = r.int(1, 'dest_addr_npi');
            dests.push({ dest_addr_ton, dest_addr_npi, destination_addr: r.cstring('destination_addr') });
          } else if (flag === 2) {
            dests.push({ dl_name: r.cstring('dl_name') });
          } else {
            r.fail(CommandStatus.ESME_RINVDESTFLAG, `dest_flag ${flag} is neither 1 nor 2`);
          }
        }
        pdu.params[param.name] = dests;
        break;
      }
      case 'unsuccess_sme_array': {
        const count = r.int(1, 'no_unsuccess');
        const list: smpp.UnsuccessSme[] = [];
        for (let i = 0; i < count; i++) {
          const dest_addr_ton = r.int(1, 'dest_addr_ton');
          const dest_addr_npi = r.int(1, 'dest_addr_npi');
          const destination_addr = r.cstring('destination_addr');
          list.push({ dest_addr_ton, dest_addr_npi, destination_addr, error_status_code: r.int(4, 'error_status_code') });
        }
        pdu.params[param.name] = list;
        break;
      }
    }
  }

  while (r.offset < r.end) {
    if (r.offset + 4 > r.end) r.fail(CommandStatus.ESME_RINVOPTPARSTREAM, 'trailing bytes too short for a TLV header');
    const tag = frame.readUInt16BE(r.offset);
    const length = frame.readUInt16BE(r.offset + 2);
    r.offset += 4;
    if (r.offset + length > r.end) {
      r.fail(CommandStatus.ESME_RINVOPTPARSTREAM, `TLV 0x${tag.toString(16)} length ${length} runs past command_length`);
    }
    const value = frame.subarray(r.offset, r.offset + length);
    r.offset += length;
    const tlv = TLV_LAYOUTS.get(tag);
    if (!tlv) {
      pdu.unknownTlvs.push({ tag, value: Buffer.from(value) });
      continue;
    }
    const fixed = TLV_FIXED_SIZE[tlv.kind];
    let decoded: number | string | Buffer;
    if (fixed !== undefined) {
      if (length !== fixed) {
        pdu.fieldError ??= new SmppMalformedPduError(
          CommandStatus.ESME_RINVPARLEN,
          `${layout.command}: TLV ${tlv.tag} has length ${length}, expected ${fixed}`,
          { commandId, sequenceNumber, fatal: false },
        );
        continue;
      }
      decoded = fixed === 1 ? value[0] : fixed === 2 ? value.readUInt16BE(0) : value.readUInt32BE(0);
    } else if (tlv.kind === 'cstring') {
      // Lenient: some SMSCs send receipted_message_id without its NUL.
      const nul = value.indexOf(0);
      decoded = value.toString('latin1', 0, nul < 0 ? length : nul);
    } else if (tlv.kind === 'string') {
      decoded = value.toString('latin1');
    } else {
      decoded = Buffer.from(value);
    }
    if (tlv.multiple) {
      const list = (pdu.tlvs[tlv.tag] ??= []) as (number | string | Buffer)[];
      list.push(decoded);
    } else {
      pdu.tlvs[tlv.tag] = decoded;
    }
  }
  return pdu;
}

/** Fields for building an outgoing PDU (spec names; TLVs by library tag name). */
export interface OutgoingPdu {
  command: string;
  sequenceNumber?: number;
  commandStatus?: number;
  params?: Record<string, unknown>;
  tlvs?: Record<string, unknown>;
}

/** The library's PDU object for the same fields (used by tests that compare both encoders). */
export function buildPdu(out: OutgoingPdu): smpp.PDU {
  if (!smpp.commands[out.command]) throw new Error(`unknown SMPP command ${out.command}`);
  const options: Record<string, unknown> = {};
  for (const source of [out.params, out.tlvs]) {
    if (!source) continue;
    for (const [key, value] of Object.entries(source)) {
      if (value !== undefined && value !== null) options[key] = value;
    }
  }
  if (out.sequenceNumber !== undefined) options.sequence_number = out.sequenceNumber;
  if (out.commandStatus) options.command_status = out.commandStatus;
  return new smpp.PDU(out.command, options);
}

const LAYOUT_BY_NAME = new Map<string, { id: number; params: ParamLayout[] }>();
for (const [id, layout] of LAYOUTS) LAYOUT_BY_NAME.set(layout.command, { id, params: layout.params });

const TLV_BY_NAME = new Map<string, { id: number; kind: Kind; multiple: boolean }>();
for (const [name, def] of Object.entries(smpp.tlvs)) {
  const layout = TLV_LAYOUTS.get(def.id)!;
  TLV_BY_NAME.set(name, { id: def.id, kind: layout.kind, multiple: layout.multiple });
}

const latin1Length = (v: unknown): number => (typeof v === 'string' ? v.length : Buffer.isBuffer(v) ? v.length : String(v ?? '').length);

function bytesOf(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(typeof v === 'string' ? v : String(v ?? ''), 'latin1');
}

function paramSize(kind: Kind, value: unknown, name: string): number {
  switch (kind) {
    case 'string':
    case 'buffer': {
      const n = latin1Length(value);
      if (n > 255) throw new RangeError(`${name} is ${n} octets; at most 255 fit its length octet (use message_payload)`);
      return n + 1;
    }
    case 'dest_address_array': {
      let size = 1;
      for (const d of (value as smpp.DestAddress[] | undefined) ?? []) {
        size += d.dl_name !== undefined ? 2 + latin1Length(d.dl_name) : 4 + latin1Length(d.destination_addr);
      }
      return size;
    }
    case 'unsuccess_sme_array': {
      let size = 1;
      for (const u of (value as smpp.UnsuccessSme[] | undefined) ?? []) size += 7 + latin1Length(u.destination_addr);
      return size;
    }
    default:
      return valueSize(kind, value);
  }
}

/**
 * Octets of a value laid out alike as a parameter and as a TLV value: an int, a C-string, or (in a
 * TLV, whose header carries the length) the bare bytes.
 */
function valueSize(kind: Kind, value: unknown): number {
  switch (kind) {
    case 'int8':
      return 1;
    case 'int16':
      return 2;
    case 'int32':
      return 4;
    case 'cstring':
      return latin1Length(value) + 1;
    default:
      return latin1Length(value);
  }
}

function writeInt(buf: Buffer, at: number, size: number, value: unknown): number {
  const n = typeof value === 'number' ? value >>> 0 : 0;
  if (size === 1) buf[at] = n & 0xff;
  else if (size === 2) buf.writeUInt16BE(n & 0xffff, at);
  else buf.writeUInt32BE(n, at);
  return at + size;
}

function writeCString(buf: Buffer, at: number, value: unknown): number {
  at += typeof value === 'string' ? buf.write(value, at, 'latin1') : bytesOf(value).copy(buf, at);
  buf[at] = 0;
  return at + 1;
}

function writeParam(buf: Buffer, at: number, kind: Kind, value: unknown): number {
  switch (kind) {
    case 'string':
    case 'buffer': {
      const bytes = bytesOf(value);
      buf[at] = bytes.length;
      return at + 1 + bytes.copy(buf, at + 1);
    }
    case 'dest_address_array': {
      const list = (value as smpp.DestAddress[] | undefined) ?? [];
      buf[at++] = list.length;
      for (const d of list) {
        if (d.dl_name !== undefined) {
          buf[at++] = 2;
          at = writeCString(buf, at, d.dl_name);
        } else {
          buf[at++] = 1;
          buf[at++] = d.dest_addr_ton ?? 0;
          buf[at++] = d.dest_addr_npi ?? 0;
          at = writeCString(buf, at, d.destination_addr);
        }
      }
      return at;
    }
    case 'unsuccess_sme_array': {
      const list = (value as smpp.UnsuccessSme[] | undefined) ?? [];
      buf[at++] = list.length;
      for (const u of list) {
        buf[at++] = u.dest_addr_ton ?? 0;
        buf[at++] = u.dest_addr_npi ?? 0;
        at = writeCString(buf, at, u.destination_addr);
        at = writeInt(buf, at, 4, u.error_status_code);
      }
      return at;
    }
    default:
      return writeValue(buf, at, kind, value);
  }
}

/** Writes what valueSize measured; returns the offset after it. */
function writeValue(buf: Buffer, at: number, kind: Kind, value: unknown): number {
  switch (kind) {
    case 'int8':
      return writeInt(buf, at, 1, value);
    case 'int16':
      return writeInt(buf, at, 2, value);
    case 'int32':
      return writeInt(buf, at, 4, value);
    case 'cstring':
      return writeCString(buf, at, value);
    default:
      return at + bytesOf(value).copy(buf, at);
  }
}

/**
 * Encodes a PDU. Ours rather than the library's toBuffer: that one walks every property with
 * for..in and runs text filters on each call, and it was the largest cost per message.
 * Missing params take their zero value ('' / 0 / empty); an error response has no body
 * (SMPP 3.4 4.4.2); TLV names are the library's tag names and unknown ones are refused.
 */
export function encodePdu(out: OutgoingPdu): Buffer {
  const layout = LAYOUT_BY_NAME.get(out.command);
  if (!layout) throw new Error(`unknown SMPP command ${out.command}`);
  const status = out.commandStatus ?? 0;
  const params = out.params ?? {};
  const tlvEntries: [{ id: number; kind: Kind }, unknown][] = [];
  let length = HEADER_LENGTH;
  // A non-zero command_status means no body at all, responses and (rare) requests alike.
  if (status === 0) {
    for (const p of layout.params) length += paramSize(p.kind, params[p.name], p.name);
    for (const [name, value] of Object.entries(out.tlvs ?? {})) {
      if (value === undefined || value === null) continue;
      const tlv = TLV_BY_NAME.get(name);
      if (!tlv) throw new TypeError(`unknown TLV ${name}`);
      for (const v of tlv.multiple && Array.isArray(value) ? value : [value]) {
        const size = valueSize(tlv.kind, v);
        if (size > 0xffff) throw new RangeError(`TLV ${name} is ${size} octets; at most 65535`);
        tlvEntries.push([tlv, v]);
        length += 4 + size;
      }
    }
  }
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32BE(length, 0);
  buf.writeUInt32BE(layout.id, 4);
  buf.writeUInt32BE(status >>> 0, 8);
  buf.writeUInt32BE((out.sequenceNumber ?? 0) >>> 0, 12);
  let at = HEADER_LENGTH;
  if (status === 0) {
    for (const p of layout.params) at = writeParam(buf, at, p.kind, params[p.name]);
    for (const [tlv, value] of tlvEntries) {
      buf.writeUInt16BE(tlv.id, at);
      const start = at + 4;
      const end = writeValue(buf, start, tlv.kind, value);
      buf.writeUInt16BE(end - start, at + 2);
      at = end;
    }
  }
  if (at !== length) throw new Error(`internal: encoded ${at} of ${length} octets for ${out.command}`);
  return buf;
}

/** A generic_nack frame (header only). */
export function genericNack(sequenceNumber: number, commandStatus: number): Buffer {
  const buffer = Buffer.alloc(HEADER_LENGTH);
  buffer.writeUInt32BE(HEADER_LENGTH, 0);
  buffer.writeUInt32BE(GENERIC_NACK, 4);
  buffer.writeUInt32BE(commandStatus >>> 0, 8);
  buffer.writeUInt32BE(sequenceNumber >>> 0, 12);
  return buffer;
}
