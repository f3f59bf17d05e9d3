import { CommandStatus } from '../smpp/command-status.ts';

// Statuses that will not change on retry: the destination or the message itself is wrong, or
// the downstream refuses it for good. Everything else (throttling, queue full, system error,
// timeouts, lost connections, unknown codes) is worth another attempt.
const PERMANENT: ReadonlySet<number> = new Set([
  CommandStatus.ESME_RINVDSTADR,
  CommandStatus.ESME_RINVDSTTON,
  CommandStatus.ESME_RINVDSTNPI,
  CommandStatus.ESME_RINVSRCADR,
  CommandStatus.ESME_RINVSRCTON,
  CommandStatus.ESME_RINVSRCNPI,
  CommandStatus.ESME_RINVMSGLEN,
  CommandStatus.ESME_RINVESMCLASS,
  CommandStatus.ESME_RINVDCS,
  CommandStatus.ESME_RINVREGDLVFLG,
  CommandStatus.ESME_RINVOPTPARSTREAM,
  CommandStatus.ESME_ROPTPARNOTALLWD,
  CommandStatus.ESME_RINVPARLEN,
  CommandStatus.ESME_RINVOPTPARAMVAL,
  CommandStatus.ESME_RX_P_APPN,
  CommandStatus.ESME_RX_R_APPN,
  CommandStatus.ESME_RPROHIBITED,
]);

export function isPermanentStatus(status: number): boolean {
  return PERMANENT.has(status);
}
