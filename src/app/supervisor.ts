import { SmscError } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { ProcessHealth } from '../nodes/health.ts';
import { NotReadyError, spawnReadyProcess, type ReadyProcess, type ReadyProcessOptions } from './ready-process.ts';

/** A child of `smsc up`: how to start it and how it says it is ready. */
export interface ChildSpec extends Omit<ReadyProcessOptions, 'logger' | 'signal'> {
  /** `deliverer`, `inserter`, …: several children may share one kind. */
  kind: string;
}

export const ChildState = Object.freeze({
  starting: 'starting',
  running: 'running',
  restarting: 'restarting',
  stopping: 'stopping',
  stopped: 'stopped',
} as const);
export type ChildStateName = (typeof ChildState)[keyof typeof ChildState];

export interface ChildStatus {
  name: string;
  kind: string;
  state: ChildStateName;
  pid: number | undefined;
  /** Restarts after unexpected exits since `up` started. */
  restarts: number;
  lastExit?: { exit: string; at: Date };
}

export interface SupervisorOptions {
  logger: Logger;
  /** `up`'s metrics: which children are up, and their restarts. */
  metrics: Metrics;
  /** First pause before a restart; doubles with each failure in a row. Default 1 s. */
  restartBaseMs?: number;
  /** Longest pause. Default 30 s. */
  restartMaxMs?: number;
  /** This many failures of one child within `failureWindowMs` stop the whole set. Default 5 in 60 s. */
  maxFailures?: number;
  failureWindowMs?: number;
  /** Start a child (tests substitute nothing: real processes); default spawnReadyProcess. */
  spawn?: (options: ReadyProcessOptions) => Promise<ReadyProcess>;
}

interface Child {
  spec: ChildSpec;
  state: ChildStateName;
  proc: ReadyProcess | undefined;
  restarts: number;
  /** When each unexpected exit (or failed restart) happened, for the give-up rule. */
  failures: number[];
  /** Failures since it last ran for a while: the backoff exponent. */
  inARow: number;
  runningSince: number;
  lastExit?: { exit: string; at: Date };
  timer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
}

/**
 * Runs the children of `smsc up` and keeps them running: a child that exits unexpectedly is
 * logged with its exit code, counted (`smsc_up_child_restarts_total`) and restarted after a pause
 * of 1 s doubling to 30 s. A child that fails `maxFailures` times within `failureWindowMs` (its
 * restarts failing at start count too) makes `failed` resolve with one sentence naming it; `up`
 * then stops everything and exits non-zero.
 */
export class Supervisor {
  /** Per child: unhealthy while it is not running (for `up`'s /healthz and heartbeat). */
  readonly health = new ProcessHealth();
  readonly failed: Promise<SmscError>;
  readonly #options: Required<Omit<SupervisorOptions, 'logger' | 'metrics' | 'spawn'>>;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #spawn: (options: ReadyProcessOptions) => Promise<ReadyProcess>;
  readonly #children = new Map<string, Child>();
  #giveUp!: (error: SmscError) => void;
  #stopping = false;

  constructor(options: SupervisorOptions) {
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#spawn = options.spawn ?? spawnReadyProcess;
    this.#options = {
      restartBaseMs: options.restartBaseMs ?? 1_000,
      restartMaxMs: options.restartMaxMs ?? 30_000,
      maxFailures: options.maxFailures ?? 5,
      failureWindowMs: options.failureWindowMs ?? 60_000,
    };
    this.failed = new Promise((resolve) => {
      this.#giveUp = resolve;
    });
  }

  /**
   * Starts a child and resolves with it once it is ready. A child that cannot start at all is
   * a start-up failure of the set: the promise rejects with one sentence naming it.
   */
  async start(spec: ChildSpec): Promise<ReadyProcess> {
    if (this.#children.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
    const child: Child = {
      spec,
      state: ChildState.starting,
      proc: undefined,
      restarts: 0,
      failures: [],
      inARow: 0,
      runningSince: 0,
      timer: undefined,
      abort: undefined,
    };
    this.#children.set(spec.name, child);
    this.health.set(spec.name, 'starting');
    try {
      return await this.#launch(child);
    } catch (error) {
      this.#children.delete(spec.name);
      this.health.clear(spec.name);
      throw new SmscError('CHILD_START_FAILED', `${spec.name} could not start${reasonOf(error)}`, { cause: error });
    }
  }

  async #launch(child: Child): Promise<ReadyProcess> {
    child.abort = new AbortController();
    const proc = await this.#spawn({ ...child.spec, logger: this.#logger, signal: child.abort.signal });
    child.abort = undefined;
    child.proc = proc;
    child.state = ChildState.running;
    child.runningSince = Date.now();
    this.#metrics.upChildUp.set({ child: child.spec.name }, 1);
    this.health.clear(child.spec.name);
    void proc.exited.then((exit) => this.#exited(child, proc, exit));
    return proc;
  }

  #exited(child: Child, proc: ReadyProcess, exit: number | NodeJS.Signals | null): void {
    if (child.proc !== proc) return;
    child.proc = undefined;
    this.#metrics.upChildUp.set({ child: child.spec.name }, 0);
    if (this.#stopping || child.state === ChildState.stopping) {
      child.state = ChildState.stopped;
      return;
    }
    const text = exitText(exit);
    child.lastExit = { exit: text, at: new Date() };
    // A child that ran for longer than the longest pause had recovered: its backoff starts over.
    if (Date.now() - child.runningSince > this.#options.restartMaxMs) child.inARow = 0;
    this.#failure(child, `exited unexpectedly (${text})`, text);
  }

  /** Records a failure, then restarts after the backoff (counted by how it ended) or gives the whole set up. */
  #failure(child: Child, what: string, exit: string): void {
    const now = Date.now();
    child.failures = [...child.failures.filter((at) => now - at < this.#options.failureWindowMs), now];
    child.inARow++;
    const { name } = child.spec;
    if (child.failures.length >= this.#options.maxFailures) {
      const seconds = Math.round(this.#options.failureWindowMs / 1000);
      const error = new SmscError(
        'CHILD_FAILED',
        `${name} failed ${child.failures.length} times within ${seconds} s (last: ${what}); stopping smsc`,
      );
      this.#logger.error({ process: name, failures: child.failures.length }, error.message);
      child.state = ChildState.stopped;
      this.health.set(name, `gave up: ${what}`);
      this.#giveUp(error);
      return;
    }
    const pause = Math.min(this.#options.restartMaxMs, this.#options.restartBaseMs * 2 ** (child.inARow - 1));
    this.#metrics.upChildRestartsTotal.inc({ child: name, exit });
    child.state = ChildState.restarting;
    this.health.set(name, `${what}; restarting`);
    this.#logger.error(
      { process: name, restartInMs: pause, failuresInWindow: child.failures.length },
      `${name} ${what}; restarting in ${pause} ms`,
    );
    child.timer = setTimeout(() => {
      child.timer = undefined;
      if (this.#stopping) return;
      child.state = ChildState.starting;
      this.#launch(child).then(
        () => {
          child.restarts++;
          this.#logger.info({ process: name, restarts: child.restarts, pid: child.proc?.child.pid }, `${name} restarted`);
        },
        (error: unknown) => {
          if (this.#stopping) return;
          child.lastExit = { exit: `not ready${reasonOf(error)}`, at: new Date() };
          this.#failure(child, `failed to start again${reasonOf(error)}`, 'not ready');
        },
      );
    }, pause);
  }

  /** Stops the named children together (SIGTERM, SIGKILL after `graceMs`); none is restarted afterwards. */
  async stop(names: readonly string[], graceMs: number): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const child = this.#children.get(name);
        if (!child) return;
        clearTimeout(child.timer);
        child.abort?.abort();
        child.state = ChildState.stopping;
        await child.proc?.stop(graceMs);
        child.state = ChildState.stopped;
      }),
    );
  }

  /** From now on no child is restarted (the set is stopping). */
  stopRestarting(): void {
    this.#stopping = true;
    for (const child of this.#children.values()) clearTimeout(child.timer);
  }

  /** How the child is started from now on (its next restart). */
  respec(name: string, spec: ChildSpec): void {
    const child = this.#children.get(name);
    if (child) child.spec = { ...spec, name };
  }

  get(name: string): ReadyProcess | undefined {
    return this.#children.get(name)?.proc;
  }

  names(): string[] {
    return [...this.#children.keys()];
  }

  list(): ChildStatus[] {
    return [...this.#children.values()].map((c) => ({
      name: c.spec.name,
      kind: c.spec.kind,
      state: c.state,
      pid: c.proc?.child.pid,
      restarts: c.restarts,
      ...(c.lastExit ? { lastExit: c.lastExit } : {}),
    }));
  }
}

function exitText(exit: number | NodeJS.Signals | null): string {
  if (typeof exit === 'number') return `exit code ${exit}`;
  return exit ? `signal ${exit}` : 'unknown exit';
}

/** `: <the child's own last line>` when it said why, else the error's message. */
function reasonOf(error: unknown): string {
  const text = error instanceof NotReadyError ? (error.reason ?? error.message) : error instanceof Error ? error.message : '';
  return text ? `: ${text.replace(/\.$/, '')}` : '';
}
