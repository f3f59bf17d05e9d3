import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ReadyProcess {
  child: ChildProcess;
  match: RegExpMatchArray;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Starts a child process and resolves once a line of its stdout matches `ready`
 * (e.g. the URI a server prints when it accepts connections).
 */
export function spawnUntilReady(
  command: string,
  args: string[],
  ready: RegExp,
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<ReadyProcess> {
  const { timeoutMs = 30_000, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    let out = '';
    let settled = false;
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    const timer = setTimeout(() => fail(new Error(`${command} ${args.join(' ')} not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop('SIGKILL');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (settled) return;
      const match = out.match(ready);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, match, output: () => out, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`${command} exited (${code ?? signal}) before ready:\n${out}`)));
  });
}
