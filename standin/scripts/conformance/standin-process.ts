import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface StandinProcess {
  uri: string;
  stop: () => Promise<void>;
  /** Everything the stand-in wrote, for diagnosing a crash. */
  output: () => string;
}

/** Starts `node --import tsx main.ts --port 0` in the stand-in's package and resolves with the URI it prints when ready. */
export function startStandin(standinRoot: string, timeoutMs = 60_000): Promise<StandinProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(standinRoot, 'main.ts'), '--port', '0'], {
      cwd: standinRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let ready = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    };
    const fail = (message: string) => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      void stop();
      reject(new Error(`${message}\n--- stand-in output ---\n${out}`));
    };
    const timer = setTimeout(() => fail(`stand-in printed no URI within ${timeoutMs} ms`), timeoutMs);
    // Keep draining both pipes after start-up (a full pipe would block the stand-in) but keep only the tail.
    const append = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-65_536);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      append(chunk);
      const m = /mongodb:\/\/127\.0\.0\.1:\d+\S*/.exec(out);
      if (m && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve({ uri: m[0], stop, output: () => out });
      }
    });
    child.stderr?.on('data', append);
    child.once('error', (error) => fail(`could not start the stand-in: ${error.message}`));
    child.once('exit', (code, signal) => fail(`stand-in exited (${code ?? signal}) before it was ready`));
  });
}
