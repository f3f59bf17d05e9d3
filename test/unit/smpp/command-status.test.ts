import { describe, expect, it } from 'vitest';
import smpp from 'smpp';
import {
  CommandStatus,
  commandStatusName,
  isKnownCommandStatus,
  isTemporaryCommandStatus,
  commandStatusOf,
  SmppClosedError,
  SmppError,
  SmppTimeoutError,
} from '../../../src/smpp/index.ts';
import { SmscError } from '../../../src/domain/index.ts';

describe('CommandStatus', () => {
  it('is frozen and carries the SMPP 3.4 values', () => {
    expect(Object.isFrozen(CommandStatus)).toBe(true);
    expect(CommandStatus.ESME_ROK).toBe(0);
    expect(CommandStatus.ESME_RINVCMDID).toBe(3);
    expect(CommandStatus.ESME_RSYSERR).toBe(8);
    expect(CommandStatus.ESME_RTHROTTLED).toBe(0x58);
    expect(CommandStatus.ESME_RINVOPTPARSTREAM).toBe(0xc0);
    expect(CommandStatus.ESME_RINVDCS).toBe(0x104);
  });

  it('agrees with every code the smpp package defines', () => {
    for (const [name, value] of Object.entries(smpp.errors)) {
      if (name in CommandStatus) expect(CommandStatus[name as keyof typeof CommandStatus]).toBe(value);
    }
  });

  it('names values with the 3.4 spelling, and unknown values in hex', () => {
    expect(commandStatusName(0xc0)).toBe('ESME_RINVOPTPARSTREAM');
    expect(commandStatusName(0x58)).toBe('ESME_RTHROTTLED');
    expect(commandStatusName(0x400)).toBe('0x00000400');
    expect(isKnownCommandStatus(0x0b)).toBe(true);
    expect(isKnownCommandStatus(0x09)).toBe(false);
  });

  it('classifies throttling and queue-full as temporary, invalid destination as permanent', () => {
    expect(isTemporaryCommandStatus(CommandStatus.ESME_RTHROTTLED)).toBe(true);
    expect(isTemporaryCommandStatus(CommandStatus.ESME_RMSGQFUL)).toBe(true);
    expect(isTemporaryCommandStatus(CommandStatus.ESME_RINVDSTADR)).toBe(false);
  });
});

describe('commandStatusOf', () => {
  it('maps any error to the status a PDU answers with', () => {
    expect(commandStatusOf(new SmppError(CommandStatus.ESME_RINVSRCADR))).toBe(CommandStatus.ESME_RINVSRCADR);
    expect(commandStatusOf(Object.assign(new Error('x'), { commandStatus: 0x14 }))).toBe(0x14);
    expect(commandStatusOf(Object.assign(new Error('x'), { commandStatus: 0 }))).toBe(CommandStatus.ESME_RSYSERR);
    expect(commandStatusOf(Object.assign(new Error('x'), { commandStatus: 'bad' }))).toBe(CommandStatus.ESME_RSYSERR);
    expect(commandStatusOf(new Error('mongo down'))).toBe(CommandStatus.ESME_RSYSERR);
    expect(commandStatusOf('string thrown')).toBe(CommandStatus.ESME_RSYSERR);
    expect(commandStatusOf(null)).toBe(CommandStatus.ESME_RSYSERR);
  });

  it('gives SMPP errors stable codes under the project base class', () => {
    const e = new SmppError(CommandStatus.ESME_RINVPASWD);
    expect(e).toBeInstanceOf(SmscError);
    expect(e.code).toBe('SMPP_STATUS');
    expect(e.statusName).toBe('ESME_RINVPASWD');
    expect(new SmppTimeoutError('t').code).toBe('SMPP_TIMEOUT');
    expect(new SmppClosedError().code).toBe('SMPP_CLOSED');
  });
});
