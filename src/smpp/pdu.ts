import smpp from 'smpp';
import { CommandStatus } from './command-status.ts';
import { SmppMalformedPduError } from './errors.ts';

// The wire layer. Decoding is ours and strict: the library's parser reads past the end of
// C-strings, silently truncates TLVs and turns short_message into text (losing the bytes), and
// a parse error stops its reader for good. Encoding goes through the library's PDU class, which
// is correct for the values we give it (numbers, strings, Buffers).

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

export function commandNameOf(commandId: number): string {
  return LAYOUTS.get(commandId)?.command ?? 'unknown';
}

/**
 * Decodes one complete frame (exactly command_length bytes, command_length >= 16).
 * Throws SmppMalformedPduError (fatal) when the body does not fit its own length. Requests must
 * carry every mandatory parameter; responses may stop early (many SMSCs omit the body of an
 * error response), the missing ones are then absent from `params`.
 */
export function decodePdu(frame: Buffer): WirePdu {
  const end = frame.length;
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
  const fail = (status: number, message: string): never => {
    throw new SmppMalformedPduError(status, `${layout.command}: ${message}`, { commandId, sequenceNumber });
  };
  let offset = HEADER_LENGTH;

  const readCString = (what: string): string => {
    const nul = frame.indexOf(0, offset);
    if (nul < 0 || nul >= end) fail(CommandStatus.ESME_RINVCMDLEN, `${what} is not NUL-terminated within command_length`);
    const value = frame.toString('latin1', offset, nul);
    offset = nul + 1;
    return value;
  };
  const readInt = (size: 1 | 2 | 4, what: string): number => {
    if (offset + size > end) fail(CommandStatus.ESME_RINVCMDLEN, `${what} runs past command_length`);
    const value = size === 1 ? frame[offset] : size === 2 ? frame.readUInt16BE(offset) : frame.readUInt32BE(offset);
    offset += size;
    return value;
  };

  for (const param of layout.params) {
    if (offset >= end) {
      if (lenient) break;
      fail(CommandStatus.ESME_RINVCMDLEN, `body ends before mandatory parameter ${param.name}`);
    }
    switch (param.kind) {
      case 'int8':
        pdu.params[param.name] = readInt(1, param.name);
        break;
      case 'int16':
        pdu.params[param.name] = readInt(2, param.name);
        break;
      case 'int32':
        pdu.params[param.name] = readInt(4, param.name);
        break;
      case 'cstring':
        pdu.params[param.name] = readCString(param.name);
        break;
      case 'string': {
        const length = readInt(1, param.name);
        if (offset + length > end) fail(CommandStatus.ESME_RINVCMDLEN, `${param.name} runs past command_length`);
        pdu.params[param.name] = frame.toString('latin1', offset, offset + length);
        offset += length;
        break;
      }
      case 'buffer': {
        const length = readInt(1, 'sm_length');
        if (offset + length > end) {
          fail(CommandStatus.ESME_RINVMSGLEN, `sm_length ${length} runs past command_length`);
        }
        // A copy: a slice would pin the whole socket chunk for as long as the message lives.
        pdu.params[param.name] = Buffer.from(frame.subarray(offset, offset + length));
        offset += length;
        break;
      }
      case 'dest_address_array': {
        const count = readInt(1, 'number_of_dests');
        const dests: smpp.DestAddress[] = [];
        for (let i = 0; i < count; i++) {
          const flag = readInt(1, 'dest_flag');
          if (flag === 1) {
            const dest_addr_ton = readInt(1, 'dest_addr_ton');
            const dest_addr_npi = readInt(1, 'dest_addr_npi');
            dests.push({ dest_addr_ton, dest_addr_npi, destination_addr: readCString('destination_addr') });
          } else if (flag === 2) {
            dests.push({ dl_name: readCString('dl_name') });
          } else {
            fail(CommandStatus.ESME_RINVDESTFLAG, `dest_flag ${flag} is neither 1 nor 2`);
          }
        }
        pdu.params[param.name] = dests;
        break;
      }
      case 'unsuccess_sme_array': {
        const count = readInt(1, 'no_unsuccess');
        const list: smpp.UnsuccessSme[] = [];
        for (let i = 0; i < count; i++) {
          const dest_addr_ton = readInt(1, 'dest_addr_ton');
          const dest_addr_npi = readInt(1, 'dest_addr_npi');
          const destination_addr = readCString('destination_addr');
          list.push({ dest_addr_ton, dest_addr_npi, destination_addr, error_status_code: readInt(4, 'error_status_code') });
        }
        pdu.params[param.name] = list;
        break;
      }
    }
  }

  while (offset < end) {
    if (offset + 4 > end) fail(CommandStatus.ESME_RINVOPTPARSTREAM, 'trailing bytes too short for a TLV header');
    const tag = frame.readUInt16BE(offset);
    const length = frame.readUInt16BE(offset + 2);
    offset += 4;
    if (offset + length > end) {
      fail(CommandStatus.ESME_RINVOPTPARSTREAM, `TLV 0x${tag.toString(16)} length ${length} runs past command_length`);
    }
    const value = frame.subarray(offset, offset + length);
    offset += length;
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

/** A library PDU ready for Session.send (or toBuffer); undefined values are left out. */
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

export function encodePdu(out: OutgoingPdu): Buffer {
  return buildPdu(out).toBuffer();
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
