/**
 * What `/healthz`, the `nodes` heartbeat and `smsc status` say about this process: healthy, or
 * unavailable with one reason per failing check (MongoDB unreachable, the events tail down, …).
 * Components report into it; nobody polls.
 */
export const HealthStatus = Object.freeze({ ok: 'ok', unavailable: 'unavailable' } as const);
export type HealthStatusName = (typeof HealthStatus)[keyof typeof HealthStatus];

export interface HealthProblem {
  /** The failing check, e.g. `mongodb` or `events-tail`. */
  check: string;
  reason: string;
  since: Date;
}

export interface HealthReport {
  status: HealthStatusName;
  /** Empty when ok. */
  problems: HealthProblem[];
}

export type HealthListener = (report: HealthReport) => void;

export class ProcessHealth {
  readonly #problems = new Map<string, HealthProblem>();
  readonly #listeners = new Set<HealthListener>();
  readonly #now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** Marks `check` failing with `reason`, or healthy again with `undefined`. Listeners hear only changes. */
  set(check: string, reason: string | undefined): void {
    const current = this.#problems.get(check);
    if (reason === undefined) {
      if (!current) return;
      this.#problems.delete(check);
    } else {
      if (current?.reason === reason) return;
      this.#problems.set(check, { check, reason, since: current?.since ?? this.#now() });
    }
    const report = this.report();
    for (const listener of this.#listeners) listener(report);
  }

  /** Forgets a check altogether (its component closed). */
  clear(check: string): void {
    this.set(check, undefined);
  }

  get healthy(): boolean {
    return this.#problems.size === 0;
  }

  report(): HealthReport {
    const problems = [...this.#problems.values()].map((p) => ({ ...p }));
    return { status: problems.length === 0 ? HealthStatus.ok : HealthStatus.unavailable, problems };
  }

  /** Returns the unsubscribe function. */
  onChange(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * The process's own health, like the metrics registry: one per process, which its components
 * report into unless given another (tests give their own).
 */
export const processHealth = new ProcessHealth();

/** The JSON form `/healthz`, the heartbeat and `up` use (dates as ISO strings). */
export function healthJson(report: HealthReport): {
  status: HealthStatusName;
  problems: { check: string; reason: string; since: string }[];
} {
  return {
    status: report.status,
    problems: report.problems.map((p) => ({ check: p.check, reason: p.reason, since: p.since.toISOString() })),
  };
}
