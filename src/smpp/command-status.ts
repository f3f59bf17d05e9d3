/**
 * SMPP command_status values. SMPP 3.4 names first (section 5.1.3); then the codes SMPP 5.0
 * added that ESMEs meet in practice (ESME_RINVDCS 0x104 is not in 3.4 but every modern SMSC
 * and the `smpp` package use it for "data_coding not supported"). The 5.0 spellings of the
 * 0xC0..0xC4 TLV codes are kept as aliases; `commandStatusName()` always gives the 3.4 name.
 */
export const CommandStatus = Object.freeze({
  ESME_ROK: 0x00000000,
  ESME_RINVMSGLEN: 0x00000001,
  ESME_RINVCMDLEN: 0x00000002,
  ESME_RINVCMDID: 0x00000003,
  ESME_RINVBNDSTS: 0x00000004,
  ESME_RALYBND: 0x00000005,
  ESME_RINVPRTFLG: 0x00000006,
  ESME_RINVREGDLVFLG: 0x00000007,
  ESME_RSYSERR: 0x00000008,
  ESME_RINVSRCADR: 0x0000000a,
  ESME_RINVDSTADR: 0x0000000b,
  ESME_RINVMSGID: 0x0000000c,
  ESME_RBINDFAIL: 0x0000000d,
  ESME_RINVPASWD: 0x0000000e,
  ESME_RINVSYSID: 0x0000000f,
  ESME_RCANCELFAIL: 0x00000011,
  ESME_RREPLACEFAIL: 0x00000013,
  ESME_RMSGQFUL: 0x00000014,
  ESME_RINVSERTYP: 0x00000015,
  ESME_RINVNUMDESTS: 0x00000033,
  ESME_RINVDLNAME: 0x00000034,
  ESME_RINVDESTFLAG: 0x00000040,
  ESME_RINVSUBREP: 0x00000042,
  ESME_RINVESMCLASS: 0x00000043,
  ESME_RCNTSUBDL: 0x00000044,
  ESME_RSUBMITFAIL: 0x00000045,
  ESME_RINVSRCTON: 0x00000048,
  ESME_RINVSRCNPI: 0x00000049,
  ESME_RINVDSTTON: 0x00000050,
  ESME_RINVDSTNPI: 0x00000051,
  ESME_RINVSYSTYP: 0x00000053,
  ESME_RINVREPFLAG: 0x00000054,
  ESME_RINVNUMMSGS: 0x00000055,
  ESME_RTHROTTLED: 0x00000058,
  ESME_RINVSCHED: 0x00000061,
  ESME_RINVEXPIRY: 0x00000062,
  ESME_RINVDFTMSGID: 0x00000063,
  ESME_RX_T_APPN: 0x00000064,
  ESME_RX_P_APPN: 0x00000065,
  ESME_RX_R_APPN: 0x00000066,
  ESME_RQUERYFAIL: 0x00000067,
  ESME_RINVOPTPARSTREAM: 0x000000c0,
  ESME_ROPTPARNOTALLWD: 0x000000c1,
  ESME_RINVPARLEN: 0x000000c2,
  ESME_RMISSINGOPTPARAM: 0x000000c3,
  ESME_RINVOPTPARAMVAL: 0x000000c4,
  ESME_RDELIVERYFAILURE: 0x000000fe,
  ESME_RUNKNOWNERR: 0x000000ff,
  // SMPP 5.0 additions.
  ESME_RSERTYPUNAUTH: 0x00000100,
  ESME_RPROHIBITED: 0x00000101,
  ESME_RSERTYPUNAVAIL: 0x00000102,
  ESME_RSERTYPDENIED: 0x00000103,
  ESME_RINVDCS: 0x00000104,
  ESME_RINVSRCADDRSUBUNIT: 0x00000105,
  ESME_RINVDSTADDRSUBUNIT: 0x00000106,
  // SMPP 5.0 spellings of the 3.4 TLV codes (the `smpp` package uses these).
  ESME_RINVTLVSTREAM: 0x000000c0,
  ESME_RTLVNOTALLWD: 0x000000c1,
  ESME_RINVTLVLEN: 0x000000c2,
  ESME_RMISSINGTLV: 0x000000c3,
  ESME_RINVTLVVAL: 0x000000c4,
} as const);

export type CommandStatusName = keyof typeof CommandStatus;
export type CommandStatusValue = (typeof CommandStatus)[CommandStatusName];

const NAME_BY_VALUE: ReadonlyMap<number, CommandStatusName> = (() => {
  const map = new Map<number, CommandStatusName>();
  // First name wins, so the SMPP 3.4 spelling is the canonical one.
  for (const [name, value] of Object.entries(CommandStatus) as [CommandStatusName, number][]) {
    if (!map.has(value)) map.set(value, name);
  }
  return map;
})();

/** The spec name of a status, or `0x…` in hex for a vendor-specific / unknown value. */
export function commandStatusName(value: number): string {
  return NAME_BY_VALUE.get(value) ?? `0x${value.toString(16).padStart(8, '0')}`;
}

export function isKnownCommandStatus(value: number): value is CommandStatusValue {
  return NAME_BY_VALUE.has(value);
}

/** Statuses after which resubmitting the same message later may succeed. */
const TEMPORARY = new Set<number>([
  CommandStatus.ESME_RTHROTTLED,
  CommandStatus.ESME_RMSGQFUL,
  CommandStatus.ESME_RSYSERR,
  CommandStatus.ESME_RX_T_APPN,
  CommandStatus.ESME_RSUBMITFAIL,
  CommandStatus.ESME_RDELIVERYFAILURE,
  CommandStatus.ESME_RUNKNOWNERR,
]);

export function isTemporaryCommandStatus(value: number): boolean {
  return TEMPORARY.has(value);
}
