import type { Document } from 'bson';
import { isPlainObject, toNumber, typeRank, TypeRank } from './bson-order.ts';
import { CommandError, ErrorCode } from './errors.ts';

/**
 * The `failCommand` fail point, as mongod implements it (CommandHelpers::
 * shouldActivateFailCommandFailPoint and evaluateFailCommandFailPoint; the "failCommand" page of
 * the server wiki):
 * - data: `failCommands` (or `failAllCommands`), `appName`, `namespace`, `threadName`
 *   ("conn<id>"), `closeConnection`, `blockConnection` + `blockTimeMS`, `errorCode`,
 *   `errorLabels`, `errorExtraInfo`, `writeConcernError`;
 * - modes: "alwaysOn", "off", `{times: n}`, `{skip: n}`, `{activationProbability: p}`.
 * mongod consults the fail point twice per command, and each consultation that matches counts
 * against `times`/`skip`: before the command when the data has closeConnection, blockConnection
 * or errorCode; after a successful write-concern command when it has writeConcernError. Commands
 * whose name, appName or namespace do not match are not counted.
 */

/** Who sent a command, for matching the fail point's filters. */
export interface CommandTarget {
  name: string;
  ns: string;
  appName: string | null;
  threadName: string;
}

/** What the fail point does to a command before it runs. */
export interface FailAction {
  blockMs: number;
  closeConnection: boolean;
  error?: CommandError;
}

/** What it adds to a successful write-concern command's reply. */
export interface WriteConcernFault {
  writeConcernError: unknown;
  errorLabels?: unknown[];
}

type Mode =
  | { kind: 'off' }
  | { kind: 'alwaysOn' }
  | { kind: 'times'; remaining: number }
  | { kind: 'skip'; remaining: number }
  | { kind: 'random'; probability: number };

const FAIL_POINT_MESSAGE = "Failing command via 'failCommand' failpoint";

/** Commands registered under two names fail under either. */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  findandmodify: 'findAndModify',
  ismaster: 'isMaster',
  buildinfo: 'buildInfo',
  deleteIndexes: 'dropIndexes',
});

function canonical(name: string): string {
  return ALIASES[name] ?? name;
}

function parseCount(mode: Document, field: 'times' | 'skip'): number {
  const v = mode[field];
  if (typeRank(v) !== TypeRank.Number || !Number.isInteger(toNumber(v))) {
    throw new CommandError(ErrorCode.TypeMismatch, `'${field}' option to 'mode' must be an integer`);
  }
  const n = toNumber(v);
  if (n < 0) throw new CommandError(ErrorCode.BadValue, `'${field}' option to 'mode' must be positive`);
  if (n > 2 ** 31 - 1) throw new CommandError(ErrorCode.BadValue, `'${field}' option to 'mode' is too large`);
  return n;
}

function parseMode(mode: unknown): Mode {
  if (mode === 'off') return { kind: 'off' };
  if (mode === 'alwaysOn') return { kind: 'alwaysOn' };
  if (isPlainObject(mode)) {
    if ('times' in mode) {
      const n = parseCount(mode, 'times');
      return n === 0 ? { kind: 'off' } : { kind: 'times', remaining: n };
    }
    if ('skip' in mode) return { kind: 'skip', remaining: parseCount(mode, 'skip') };
    if ('activationProbability' in mode) {
      const p = toNumber(mode.activationProbability);
      if (!(p >= 0 && p <= 1))
        throw new CommandError(ErrorCode.BadValue, "'activationProbability' option to 'mode' must be a double between 0 and 1");
      return { kind: 'random', probability: p };
    }
  }
  throw new CommandError(ErrorCode.BadValue, "'mode' must be one of 'off', 'alwaysOn', 'times', 'skip' and 'activationProbability'");
}

export class FailPoints {
  private mode: Mode = { kind: 'off' };
  private data: Document = {};
  private timesEntered = 0;
  private readonly waiters = new Set<() => void>();

  /** configureFailPoint: answers `count`, the times the fail point was entered so far. */
  configure(cmd: Document): Document {
    if (cmd.configureFailPoint !== 'failCommand') {
      throw new CommandError(ErrorCode.BadValue, `Cannot find failpoint: ${String(cmd.configureFailPoint)}`);
    }
    const mode = parseMode(cmd.mode);
    if (cmd.data !== undefined && !isPlainObject(cmd.data))
      throw new CommandError(ErrorCode.TypeMismatch, "the 'data' option must be an object");
    const count = this.timesEntered;
    this.mode = mode;
    this.data = mode.kind === 'off' ? {} : ((cmd.data as Document | undefined) ?? {});
    return { count, ok: 1 };
  }

  /** waitForFailPoint: resolves once the fail point was entered `timesEntered` times. */
  async waitFor(cmd: Document): Promise<Document> {
    if (cmd.waitForFailPoint !== 'failCommand') {
      throw new CommandError(ErrorCode.BadValue, `Cannot find failpoint: ${String(cmd.waitForFailPoint)}`);
    }
    const target = toNumber(cmd.timesEntered);
    const maxTimeMS = toNumber(cmd.maxTimeMS);
    if (!Number.isFinite(target))
      throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'waitForFailPoint.timesEntered' is missing but a required field");
    if (!Number.isFinite(maxTimeMS)) throw new CommandError(ErrorCode.InvalidOptions, 'waitForFailPoint requires maxTimeMS');
    const deadline = Date.now() + maxTimeMS;
    while (this.timesEntered < target) {
      const left = deadline - Date.now();
      if (left <= 0) throw new CommandError(ErrorCode.MaxTimeMSExpired, 'operation exceeded time limit');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    return { ok: 1 };
  }

  /** The fault to apply before a command runs (counted only when it applies). */
  beforeCommand(target: CommandTarget): FailAction | null {
    const data = this.enter(
      (d) => this.matches(d, target) && (d.closeConnection === true || d.blockConnection === true || hasErrorCode(d)),
    );
    if (data === null) return null;
    let blockMs = 0;
    if (data.blockConnection === true) {
      const t = data.blockTimeMS;
      if (typeRank(t) !== TypeRank.Number || !Number.isInteger(toNumber(t))) {
        throw new CommandError(ErrorCode.InvalidOptions, "must specify 'blockTimeMS' when 'blockConnection' is true");
      }
      blockMs = toNumber(t);
      if (blockMs < 0) throw new CommandError(ErrorCode.InvalidOptions, "'blockTimeMS' must be non-negative");
    }
    const action: FailAction = { blockMs, closeConnection: data.closeConnection === true };
    if (hasErrorCode(data)) {
      const extra: Document = {};
      if (Array.isArray(data.errorLabels)) extra.errorLabels = data.errorLabels;
      if (isPlainObject(data.errorExtraInfo)) Object.assign(extra, data.errorExtraInfo);
      action.error = new CommandError(toNumber(data.errorCode), FAIL_POINT_MESSAGE, extra);
    }
    return action;
  }

  /** The write concern error a successful write-concern command reports (counted when it applies). */
  afterCommand(target: CommandTarget): WriteConcernFault | null {
    const data = this.enter((d) => this.matches(d, target) && d.writeConcernError !== undefined);
    if (data === null) return null;
    const fault: WriteConcernFault = { writeConcernError: data.writeConcernError };
    if (Array.isArray(data.errorLabels) && data.errorLabels.length > 0) fault.errorLabels = data.errorLabels;
    return fault;
  }

  private matches(data: Document, target: CommandTarget): boolean {
    if (target.name === 'configureFailPoint') return false;
    if ('threadName' in data && data.threadName !== target.threadName) return false;
    if ('appName' in data && stringField(data.appName) !== (target.appName ?? '')) return false;
    if ('namespace' in data && stringField(data.namespace) !== target.ns) return false;
    if ('failAllCommands' in data) return true;
    const list = Array.isArray(data.failCommands) ? data.failCommands : [];
    const name = canonical(target.name);
    return list.some((c) => typeof c === 'string' && canonical(c) === name);
  }

  /** FailPoint::shouldFail with a predicate: the mode is consulted only when the predicate holds. */
  private enter(predicate: (data: Document) => boolean): Document | null {
    const mode = this.mode;
    if (mode.kind === 'off' || !predicate(this.data)) return null;
    const data = this.data;
    switch (mode.kind) {
      case 'times':
        mode.remaining--;
        if (mode.remaining <= 0) {
          this.mode = { kind: 'off' };
          this.data = {};
        }
        break;
      case 'skip':
        if (mode.remaining > 0) {
          mode.remaining--;
          return null;
        }
        break;
      case 'random':
        if (Math.random() >= mode.probability) return null;
        break;
      case 'alwaysOn':
        break;
    }
    this.timesEntered++;
    for (const wake of [...this.waiters]) wake();
    return data;
  }
}

function hasErrorCode(data: Document): boolean {
  return typeRank(data.errorCode) === TypeRank.Number && Number.isInteger(toNumber(data.errorCode));
}

function stringField(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
