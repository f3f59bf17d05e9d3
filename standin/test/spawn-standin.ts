import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const standinRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StandinChild {
  uri: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Runs `standin/main.ts` as `npm run mongo:standin` does and waits for its URI line. */
export async function spawnStandin(args: string[]): Promise<StandinChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(standinRoot, 'main.ts'), ...args], {
    cwd: standinRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const uri = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URI within 30 s; stderr: ${err}`)), 30_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /mongodb:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stand-in exited (${code}) before printing its URI; stderr: ${err}`));
    });
  });
  return { uri, proc, exited };
}
