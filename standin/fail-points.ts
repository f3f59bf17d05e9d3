import type { Document } from 'bson';
import { isPlainObject, toNumber } from './bson-order.ts';
import { CommandError, ErrorCode } from './errors.ts';

/** What a triggered failCommand fail point does to one command. */
export interface FailAction {
  closeConnection: boolean;
  error?: CommandError;
  writeConcernError?: Document;
  blockMs: number;
}

interface FailCommand {
  remaining: number;
  commands: Set<string>;
  data: Document;
}

/** The `failCommand` fail point (configureFailPoint), as drivers' test suites use it. */
export class FailPoints {
  private active: FailCommand | null = null;

  configure(cmd: Document): Document {
    if (cmd.configureFailPoint !== 'failCommand') {
      throw new CommandError(ErrorCode.BadValue, `Cannot find failpoint: ${String(cmd.configureFailPoint)}`);
    }
    const mode = cmd.mode;
    const data = isPlainObject(cmd.data) ? cmd.data : {};
    if (mode === 'off') {
      this.active = null;
      return { count: 0, ok: 1 };
    }
    let remaining: number;
    if (mode === 'alwaysOn') remaining = Infinity;
    else if (isPlainObject(mode) && mode.times !== undefined) remaining = toNumber(mode.times);
    else throw new CommandError(ErrorCode.BadValue, 'unsupported fail point mode');
    const commands = new Set(Array.isArray(data.failCommands) ? data.failCommands.map(String) : []);
    this.active = remaining > 0 ? { remaining, commands, data } : null;
    return { count: 0, ok: 1 };
  }

  /** The action for this command if the fail point fires (and counts it). */
  check(name: string): FailAction | null {
    const fp = this.active;
    if (fp === null || !fp.commands.has(name)) return null;
    fp.remaining--;
    if (fp.remaining <= 0) this.active = null;
    const d = fp.data;
    const action: FailAction = {
      closeConnection: d.closeConnection === true,
      blockMs: d.blockConnection === true && typeof d.blockTimeMS === 'number' ? d.blockTimeMS : 0,
    };
    if (d.errorCode !== undefined) {
      const extra: Document = {};
      if (Array.isArray(d.errorLabels)) extra.errorLabels = d.errorLabels;
      action.error = new CommandError(toNumber(d.errorCode), "Failing command via 'failCommand' failpoint", extra);
    }
    if (isPlainObject(d.writeConcernError)) action.writeConcernError = d.writeConcernError;
    return action;
  }
}
