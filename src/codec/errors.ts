import { SmscError } from '../domain/errors.ts';

/**
 * One error hierarchy for the codec, under the project's SmscError. Every error carries a stable string `code`
 * so callers (inserter, deliverer, CLI) can branch on it without parsing messages.
 */

export const CodecErrorCode = Object.freeze({
  UNMAPPABLE_CHARACTER: 'UNMAPPABLE_CHARACTER',
  UNSUPPORTED_ENCODING: 'UNSUPPORTED_ENCODING',
  MALFORMED_DATA: 'MALFORMED_DATA',
  INVALID_UDH: 'INVALID_UDH',
  INVALID_SEGMENT: 'INVALID_SEGMENT',
  INCOMPLETE_MESSAGE: 'INCOMPLETE_MESSAGE',
  MESSAGE_TOO_LONG: 'MESSAGE_TOO_LONG',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_RECEIPT: 'INVALID_RECEIPT',
  INVALID_MESSAGE_ID: 'INVALID_MESSAGE_ID',
  INVALID_TIME: 'INVALID_TIME',
  INVALID_ADDRESS: 'INVALID_ADDRESS',
} as const);

export type CodecErrorCodeName = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

export class CodecError extends SmscError {
  declare readonly code: CodecErrorCodeName;

  constructor(code: CodecErrorCodeName, message: string) {
    super(code, message);
  }
}

/** Names the offending character and where it is, so an ESME operator can fix the text. */
export class UnmappableCharacterError extends CodecError {
  readonly character: string;
  readonly codePoint: number;
  /** Index in UTF-16 code units of the input string (as JavaScript counts). */
  readonly position: number;
  readonly encoding: string;

  constructor(character: string, position: number, encoding: string) {
    const codePoint = character.codePointAt(0) ?? 0;
    const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
    super(
      CodecErrorCode.UNMAPPABLE_CHARACTER,
      `Character ${JSON.stringify(character)} (U+${hex}) at position ${position} cannot be encoded in ${encoding}.`,
    );
    this.character = character;
    this.codePoint = codePoint;
    this.position = position;
    this.encoding = encoding;
  }
}

export const SmppTimeField = Object.freeze({
  VALIDITY_PERIOD: 'validity_period',
  SCHEDULE_DELIVERY_TIME: 'schedule_delivery_time',
} as const);

export type SmppTimeFieldName = (typeof SmppTimeField)[keyof typeof SmppTimeField];

/** Which SMPP command_status a bad time in a given field answers with. */
export const SmppTimeFieldStatus = Object.freeze({
  validity_period: 'ESME_RINVEXPIRY',
  schedule_delivery_time: 'ESME_RINVSCHED',
} as const);

export type SmppTimeStatusName = (typeof SmppTimeFieldStatus)[SmppTimeFieldName];

/**
 * A bad validity_period or schedule_delivery_time. `field` says which one, and
 * `commandStatusName` is the SMPP status the inserter answers with.
 */
export class SmppTimeError extends CodecError {
  readonly field: SmppTimeFieldName;
  readonly commandStatusName: SmppTimeStatusName;
  readonly value: string;

  constructor(field: SmppTimeFieldName, value: string, reason: string) {
    super(CodecErrorCode.INVALID_TIME, `Invalid ${field} ${JSON.stringify(value)}: ${reason}.`);
    this.field = field;
    this.commandStatusName = SmppTimeFieldStatus[field];
    this.value = value;
  }
}

/** The message never contains the address itself (it may be an MSISDN and end up in logs). */
export class AddressError extends CodecError {
  readonly address: string;

  constructor(address: string, reason: string) {
    super(CodecErrorCode.INVALID_ADDRESS, `Invalid address: ${reason}.`);
    this.address = address;
  }
}
