import { spawn } from 'node:child_process';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';

const standinRoot = path.resolve(import.meta.dirname, '..');

describe('stand-in --slowms', () => {
  it('logs each command at or over the threshold as one JSON line, without the inserted documents', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(standinRoot, 'main.ts'), '--port', '0', '--slowms', '0'], {
      cwd: standinRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const uri = await new Promise<string>((resolve, reject) => {
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /mongodb:\/\/127\.0\.0\.1:\d+/.exec(out);
        if (m) resolve(m[0]);
      });
      proc.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const client = new MongoClient(uri);
    try {
      const coll = client.db('slow').collection('c');
      await coll.insertMany([{ secret: 'do-not-print-1' }, { secret: 'do-not-print-2' }]);
      await coll.find({ secret: 'do-not-print-2' }).toArray();
    } finally {
      await client.close();
      // Its stderr reaches us asynchronously: read the log only once the process has exited.
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    const lines = err
      .split('\n')
      .filter((l) => l.includes('"Slow query"'))
      .map((l) => JSON.parse(l) as { ns: string; command: Record<string, unknown>; durationMillis: number });
    const insert = lines.find((l) => 'insert' in l.command);
    const find = lines.find((l) => 'find' in l.command);
    expect(insert?.ns).toBe('slow.c');
    expect(insert?.command.documents).toBe('[2 items]');
    expect(find?.command.filter).toEqual({ secret: 'do-not-print-2' });
    expect(typeof find?.durationMillis).toBe('number');
    expect(err).not.toContain('do-not-print-1');
  });
});
