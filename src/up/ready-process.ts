import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logging/logger.ts';

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
  /** Forward the child's stderr (its JSON logs) to ours. */
  inheritStderr?: boolean;
}

export interface ReadyProcess {
  child: ChildProcess;
  match: RegExpMatchArray;
  /** SIGTERM, then SIGKILL after the grace period; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts a child and resolves once its stdout shows the ready line. */
export function spawnReadyProcess(options: ReadyProcessOptions): Promise<ReadyProcess> {
  const { timeoutMs = 60_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
      // Its own process group: a Ctrl-C at the terminal reaches only the parent, which then
      // stops its children one after another in the order it chooses.
      detached: true,
    });
    // If the parent dies without stopping it, it must not linger.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let stdout = '';
    let stderr = '';
    let settled = false;
    const stop = async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    };
    const timer = setTimeout(() => fail(new Error(`${options.name} not ready after ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      options.logger.error({ process: options.name, output: (stdout + stderr).slice(-2000) }, error.message);
      reject(error);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled) {
        process.stdout.write(chunk);
        return;
      }
      stdout += chunk.toString();
      const match = stdout.match(options.ready);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, match, stop, exited });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!settled) stderr += chunk.toString();
      else process.stderr.write(chunk);
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`${options.name} exited (${code ?? signal}) before it was ready`)));
  });
}
