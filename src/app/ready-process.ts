import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logging/logger.ts';
import { SUPERVISED_ENV } from './parent-tether.ts';
import { isFatalReport, isProbeReply, type ProbeReply, type ProbeRequest } from './supervised-child.ts';

export interface ReadyProcessOptions {
  command: string;
  args: string[];
  /** A line on stdout matching this means the process is ready. */
  ready: RegExp;
  name: string;
  logger: Logger;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /**
   * Share our stderr with the child (its JSON logs go straight to the terminal and stay writable
   * when we are gone); otherwise it is piped, kept until ready and forwarded after.
   */
  inheritStderr?: boolean;
  /** Aborting kills a child that is not ready yet (the promise then rejects). */
  signal?: AbortSignal;
}

export interface ReadyProcess {
  child: ChildProcess;
  match: RegExpMatchArray;
  /** SIGTERM, then SIGKILL after the grace period; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves with the exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Asks the child (an smsc command) for its metrics and health; undefined when it does not answer in time. */
  probe(timeoutMs?: number): Promise<ProbeReply | undefined>;
}

/** Thrown when a child ends (or times out) before its ready line: `output` is the end of what it printed. */
export class NotReadyError extends Error {
  readonly output: string;
  readonly #told: string | undefined;

  constructor(message: string, output: string, told?: string) {
    super(message);
    this.output = output;
    this.#told = told;
  }

  /** The child's one-sentence reason (sent over the IPC channel, or its last `smsc: …` line), if it gave one. */
  get reason(): string | undefined {
    if (this.#told) return this.#told;
    return this.output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^(smsc|standin): /.test(line))
      .at(-1)
      ?.replace(/^(smsc|standin): /, '');
  }
}

let probeIds = 0;

/**
 * Starts a child and resolves once its stdout shows the ready line. The child gets an IPC
 * channel: through it, it ends when this process is gone (parent-tether.ts) and answers probes.
 */
export function spawnReadyProcess(options: ReadyProcessOptions): Promise<ReadyProcess> {
  const { timeoutMs = 60_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), [SUPERVISED_ENV]: '1' },
      stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe', 'ipc'],
      // Its own process group, so a Ctrl-C at the terminal reaches only `up`, which then stops
      // its children in the order it chooses. That `up` dies without stopping them (SIGKILL, a
      // crash) is covered by the IPC channel instead: they watch it and end with it.
      detached: true,
    });
    // If this process exits without stopping it, it must not linger.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const exited = new Promise<number | NodeJS.Signals | null>((done) =>
      child.once('exit', (code, signal) => {
        process.removeListener('exit', killOnExit);
        done(code ?? signal);
      }),
    );
    let output = '';
    let told: string | undefined;
    let settled = false;
    // A child that cannot start says why over the channel (see reportFatal) before it exits.
    const onFatal = (message: unknown) => {
      if (isFatalReport(message)) told = message.message;
    };
    child.on('message', onFatal);
    const running = () => child.exitCode === null && child.signalCode === null;
    const stop = async (graceMs = 10_000) => {
      if (!running()) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    };
    const probe = (probeTimeoutMs = 2_000) =>
      new Promise<ProbeReply | undefined>((done) => {
        if (!child.connected) return done(undefined);
        const id = ++probeIds;
        const timer = setTimeout(() => finish(undefined), probeTimeoutMs);
        const onMessage = (message: unknown) => {
          if (isProbeReply(message) && message.id === id) finish(message);
        };
        const finish = (reply: ProbeReply | undefined) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          done(reply);
        };
        child.on('message', onMessage);
        const request: ProbeRequest = { type: 'smsc:probe', id };
        try {
          child.send(request, (error) => error && finish(undefined));
        } catch {
          finish(undefined);
        }
      });
    const timer = setTimeout(() => fail(new NotReadyError(`${options.name} not ready after ${timeoutMs} ms`, output, told)), timeoutMs);
    const onAbort = () => fail(new NotReadyError(`${options.name} was stopped before it was ready`, output, told));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      child.kill('SIGKILL');
      options.logger.debug({ process: options.name, output: output.slice(-2000) }, error.message);
      reject(error);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled) {
        process.stdout.write(chunk);
        return;
      }
      output += chunk.toString();
      const match = output.match(options.ready);
      if (match) {
        settled = true;
        clearTimeout(timer);
        child.off('message', onFatal);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ child, match, stop, exited, probe });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!settled) output = (output + chunk.toString()).slice(-8_000);
      else process.stderr.write(chunk);
    });
    // A child that is gone cannot take a probe; the error is the exit, seen above.
    child.on('error', (error) => fail(error));
    // 'close' comes after the last message and output of the child, so its reason is in by then.
    child.once('close', (code, signal) =>
      fail(new NotReadyError(`${options.name} exited (${code ?? signal}) before it was ready`, output, told)),
    );
  });
}
