import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const bin = path.join(repoRoot, 'bin/smsc.mjs');

export interface UpProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** The MongoDB URI `up` printed. */
  mongoUri: string;
}

/** `smsc up …` as a child process of the test; resolves once it printed that it is up. */
export async function startUp(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<UpProcess> {
  const child = spawn(process.execPath, [bin, 'up', ...args], {
    cwd: repoRoot,
    env: { ...process.env, MONGODB_URI: '', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', SMPP_HOST: '127.0.0.1', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!/smsc is up/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`smsc up did not come up:\n${out.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const mongoUri = /MongoDB: (mongodb:\/\/\S+)/.exec(out)?.[1] ?? '';
  return { child, pid: child.pid!, output: () => out, exited, mongoUri };
}

/** Runs `smsc …` to its end. */
export function smsc(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repoRoot, timeout: 120_000, env: { ...process.env, LOG_LEVEL: 'warn', ...env } },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Processes whose parent is `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped by its parent) holds nothing: it counts as gone.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export interface UpChild {
  name: string;
  kind: string;
  state: string;
  pid?: number;
  restarts: number;
}

/** The children an `smsc up` reports in `nodes` (through `smsc status --json`). */
export async function upChildren(mongoUri: string, upPid: number): Promise<UpChild[]> {
  const { stdout, code } = await smsc(['status', '--json', '--mongodb-uri', mongoUri]);
  if (code !== 0) return [];
  const report = JSON.parse(stdout) as { nodes: { kind: string; pid: number; info?: { children?: UpChild[] } }[] };
  return report.nodes.find((n) => n.kind === 'up' && n.pid === upPid)?.info?.children ?? [];
}
