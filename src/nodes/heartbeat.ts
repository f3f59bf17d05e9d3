import os from 'node:os';
import type { Db } from 'mongodb';
import { systemClock, type Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { healthJson, type HealthStatusName, type ProcessHealth } from './health.ts';

/** One running process, as `smsc status` and mongosh see it. A TTL index removes entries whose beats stopped. */
export interface NodeDocument {
  _id: string;
  kind: string;
  host: string;
  pid: number;
  startedAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  /** Whatever the process adds each beat: ports, connector states, version. */
  info?: Record<string, unknown>;
  /** What its `/healthz` says (see nodes/health.ts), as of the last beat. */
  health?: { status: HealthStatusName; problems: { check: string; reason: string; since: string }[] };
}

export interface HeartbeatOptions {
  db: Db;
  /** inserter | deliverer | cleanup | sink | up | … */
  kind: string;
  /** Unique among running processes; default `${kind}-${host}-${pid}`. */
  name?: string;
  host?: string;
  pid?: number;
  /** Beat period (default 10 s). */
  intervalMs?: number;
  /** An entry counts as gone after this long without a beat (default 3 periods). */
  ttlMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Extra state to publish on every beat (e.g. connector states). */
  info?: () => Record<string, unknown>;
  /** Published with every beat, and a change of it is published at once (when the store can be reached). */
  health?: ProcessHealth;
}

export function defaultNodeName(kind: string, host = os.hostname(), pid = process.pid): string {
  return `${kind}-${host}-${pid}`;
}

/** Writes this process's entry in `nodes` every period; start() writes the first, close() deletes it. */
export class HeartbeatWriter {
  readonly name: string;
  readonly #db: Db;
  readonly #kind: string;
  readonly #host: string;
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #info: (() => Record<string, unknown>) | undefined;
  readonly #health: ProcessHealth | undefined;
  #unsubscribe: (() => void) | undefined;
  #soon: NodeJS.Timeout | undefined;
  #startedAt: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: HeartbeatOptions) {
    this.#db = options.db;
    this.#kind = options.kind;
    this.#host = options.host ?? os.hostname();
    this.#pid = options.pid ?? process.pid;
    this.name = options.name ?? defaultNodeName(options.kind, this.#host, this.#pid);
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 3 * this.#intervalMs;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#info = options.info;
    this.#health = options.health;
  }

  /** Writes the first beat (so a process that cannot reach the store fails at start) and schedules the rest. */
  async start(): Promise<void> {
    if (this.#startedAt) return;
    this.#startedAt = this.#clock.now();
    await this.beat();
    this.#schedule();
    this.#unsubscribe = this.#health?.onChange(() => this.#beatSoon());
  }

  /** A health change: one beat shortly (changes that come together make one write). */
  #beatSoon(): void {
    if (this.#closing || this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      if (this.#closing) return;
      this.beat().catch((error: unknown) => this.#logger?.debug({ err: error, node: this.name }, 'heartbeat after a health change failed'));
    }, 200);
    this.#soon.unref();
  }

  /** One beat now; errors are logged by the periodic loop, thrown to a direct caller. */
  async beat(): Promise<void> {
    const startedAt = this.#startedAt ?? this.#clock.now();
    const now = this.#clock.now();
    const info = this.#info?.();
    const health = this.#health ? healthJson(this.#health.report()) : undefined;
    // filter:  {_id: name}, upsert (no match inserts it)
    // update:  {$set: {kind, host, pid, startedAt, lastSeenAt: now, expiresAt: now + ttl, info?, health?}}
    // returns: nothing; errors go to the caller (the loop logs them).
    // safe:    only status: nothing decides ownership from it. Two live processes with one name
    //          overwrite each other's entry (last beat wins); a repeat only refreshes the times.
    const run = this.#db
      .collection<NodeDocument>(Collections.nodes)
      .updateOne(
        { _id: this.name },
        {
          $set: {
            kind: this.#kind,
            host: this.#host,
            pid: this.#pid,
            startedAt,
            lastSeenAt: now,
            expiresAt: new Date(now.getTime() + this.#ttlMs),
            ...(info ? { info } : {}),
            ...(health ? { health } : {}),
          },
        },
        { upsert: true },
      )
      .then(() => undefined);
    this.#inFlight = run.catch(() => undefined);
    await run;
  }

  #schedule(): void {
    if (this.#closing) return;
    this.#timer = setTimeout(() => {
      this.beat()
        .catch((error: unknown) => this.#logger?.warn({ err: error, node: this.name }, 'heartbeat write failed'))
        .finally(() => this.#schedule());
    }, this.#intervalMs);
    // A heartbeat alone must not keep a finished process alive.
    this.#timer.unref();
  }

  /** Stops beating and removes our entry (only ours: a restarted namesake's entry stays). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer);
      clearTimeout(this.#soon);
      this.#unsubscribe?.();
      await this.#inFlight;
      if (!this.#startedAt) return;
      // filter:  {_id: name, pid, startedAt}: our own entry, never a successor's
      // delete:  that entry; returns nothing (a miss = a namesake wrote over it, or TTL took it)
      // safe:    fenced on pid and startedAt; a repeat deletes nothing.
      await this.#db
        .collection<NodeDocument>(Collections.nodes)
        .deleteOne({ _id: this.name, pid: this.#pid, startedAt: this.#startedAt })
        .catch((error: unknown) => this.#logger?.warn({ err: error, node: this.name }, 'could not remove heartbeat entry'));
    })();
    return this.#closing;
  }
}
