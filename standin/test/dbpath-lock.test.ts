import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { startStandin } from '../server.ts';
import { spawnStandin, type StandinChild } from './spawn-standin.ts';

const standinRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'standin-lock-'));
  dirs.push(d);
  return d;
}

function fingerprint(file: string): string {
  const st = statSync(file);
  return `${st.size}:${st.mtimeMs}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/** Runs the stand-in as a process that is expected to refuse to start. */
function runRefused(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(standinRoot, 'main.ts'), ...args], {
      cwd: standinRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`second stand-in did not exit; stdout: ${stdout} stderr: ${stderr}`));
    }, 30_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

async function insertJournaled(uri: string, docs: Array<Record<string, unknown>>): Promise<void> {
  const client = new MongoClient(uri);
  try {
    await client
      .db('lock')
      .collection('c', { writeConcern: { w: 1, j: true } })
      .insertMany(docs);
  } finally {
    await client.close();
  }
}

async function ids(uri: string): Promise<unknown[]> {
  const client = new MongoClient(uri);
  try {
    return (
      await client
        .db('lock')
        .collection('c')
        .find({}, { sort: { _id: 1 } })
        .toArray()
    ).map((d) => d._id);
  } finally {
    await client.close();
  }
}

async function stop(child: StandinChild, signal: NodeJS.Signals): Promise<number | string> {
  child.proc.kill(signal);
  return child.exited;
}

describe('stand-in --dbpath lock (one server per data directory, as mongod.lock)', () => {
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a second server with one line and exit 100, leaves the data alone, and is not blocked by a SIGKILLed holder', async () => {
    const dbpath = tempDir();
    const lockFile = path.join(dbpath, 'mongod.lock');
    const first = await spawnStandin(['--port', '0', '--dbpath', dbpath]);
    let firstStopped = false;
    try {
      await insertJournaled(first.uri, [{ _id: 1 }, { _id: 2 }]);
      expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(first.proc.pid));
      const journal = path.join(dbpath, 'journal.bson');
      const before = fingerprint(journal);

      const second = await runRefused(['--port', '0', '--dbpath', dbpath]);
      expect(second.code).toBe(100);
      expect(second.stdout).toBe('');
      const lines = second.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`DBPathInUse: Unable to lock the lock file: ${lockFile}`);
      expect(lines[0]).toContain(`Another mongod instance is already running on the ${dbpath} directory`);

      // No replay, no compaction: the first server's journal is as it was, and it keeps working.
      expect(fingerprint(journal)).toBe(before);
      await insertJournaled(first.uri, [{ _id: 3 }]);
      expect(await ids(first.uri)).toEqual([1, 2, 3]);

      // Killed, it cannot clean up: its pid stays in the file, but the kernel dropped its lock.
      expect(await stop(first, 'SIGKILL')).toBe('SIGKILL');
      firstStopped = true;
      expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(first.proc.pid));
    } finally {
      if (!firstStopped) await stop(first, 'SIGKILL');
    }
    const next = await spawnStandin(['--port', '0', '--dbpath', dbpath]);
    try {
      expect(await ids(next.uri)).toEqual([1, 2, 3]);
    } finally {
      expect(await stop(next, 'SIGTERM')).toBe(0);
    }
    // A clean exit releases the lock and empties the file, as mongod does.
    expect(readFileSync(lockFile, 'utf8')).toBe('');
  }, 120_000);

  it('refuses a second in-process server too, and frees the directory on close() or a failed start', async () => {
    const dbpath = tempDir();
    const a = await startStandin({ port: 0, dbpath });
    await expect(startStandin({ port: 0, dbpath })).rejects.toMatchObject({ code: 'DBPathInUse' });
    const other = tempDir();
    await expect(startStandin({ port: a.port, dbpath: other })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await a.close();
    const b = await startStandin({ port: 0, dbpath });
    const c = await startStandin({ port: 0, dbpath: other });
    await Promise.all([b.close(), c.close()]);
  });
});
