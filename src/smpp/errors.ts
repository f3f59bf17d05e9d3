import { SmscError, StoreErrorCode } from '../domain/errors.ts';
import { CommandStatus, commandStatusName } from './command-status.ts';

export const SmppErrorCode = Object.freeze({
  /** The peer answered (or we answer) with a non-zero command_status. */
  STATUS: 'SMPP_STATUS',
  /** No response within the timeout. */
  TIMEOUT: 'SMPP_TIMEOUT',
  /** The session closed before the response arrived, or was closed when we tried to send. */
  CLOSED: 'SMPP_CLOSED',
  /** Bytes on the wire that are not a valid PDU. */
  MALFORMED_PDU: 'SMPP_MALFORMED_PDU',
  /** Could not open the TCP connection. */
  CONNECT_FAILED: 'SMPP_CONNECT_FAILED',
} as const);

export type SmppErrorCodeName = (typeof SmppErrorCode)[keyof typeof SmppErrorCode];

/** Every SMPP-facing error carries the command_status a PDU answers with. */
export class SmppError extends SmscError {
  readonly commandStatus: number;

  constructor(commandStatus: number, message?: string, options?: { cause?: unknown; code?: SmppErrorCodeName }) {
    super(
      options?.code ?? SmppErrorCode.STATUS,
      message ?? commandStatusName(commandStatus),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.commandStatus = commandStatus;
  }

  get statusName(): string {
    return commandStatusName(this.commandStatus);
  }
}

export class SmppTimeoutError extends SmppError {
  constructor(message: string) {
    super(CommandStatus.ESME_RSYSERR, message, { code: SmppErrorCode.TIMEOUT });
  }
}

export class SmppClosedError extends SmppError {
  constructor(message = 'SMPP session closed') {
    super(CommandStatus.ESME_RSYSERR, message, { code: SmppErrorCode.CLOSED });
  }
}

export class SmppConnectError extends SmppError {
  constructor(message: string, cause?: unknown) {
    super(CommandStatus.ESME_RSYSERR, message, { code: SmppErrorCode.CONNECT_FAILED, cause });
  }
}

/**
 * Bytes that do not form a valid PDU. `fatal` ones break the framing or the structure
 * (answered with generic_nack, then the connection is closed); the others are answered with the
 * command's own response carrying `commandStatus` and the session carries on.
 */
export class SmppMalformedPduError extends SmppError {
  readonly fatal: boolean;
  /** Header fields when they could be read (for the generic_nack's sequence_number). */
  readonly commandId: number | undefined;
  readonly sequenceNumber: number | undefined;

  constructor(commandStatus: number, message: string, header: { commandId?: number; sequenceNumber?: number; fatal?: boolean } = {}) {
    super(commandStatus, message, { code: SmppErrorCode.MALFORMED_PDU });
    this.fatal = header.fatal ?? true;
    this.commandId = header.commandId;
    this.sequenceNumber = header.sequenceNumber;
  }
}

/**
 * The command_status a PDU answers with for any error: an SmppError's own status, a numeric
 * `commandStatus` property on anything else (errors from other modules may carry one),
 * ESME_RMSGQFUL for a store that refused the write for lack of room, else ESME_RSYSERR (other
 * storage failures, bugs).
 */
export function commandStatusOf(error: unknown): number {
  if (error instanceof SmppError) return error.commandStatus;
  if (error instanceof SmscError && error.code === StoreErrorCode.QUEUE_FULL) return CommandStatus.ESME_RMSGQFUL;
  if (error !== null && typeof error === 'object' && 'commandStatus' in error) {
    const status = (error as { commandStatus: unknown }).commandStatus;
    if (typeof status === 'number' && Number.isInteger(status) && status > 0 && status <= 0xffffffff) {
      return status;
    }
  }
  return CommandStatus.ESME_RSYSERR;
}
