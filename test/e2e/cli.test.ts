import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');

async function smsc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('smsc CLI entry', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const result = await smsc(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('prints help naming the program', async () => {
    const result = await smsc(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('smsc <command>');
  });

  it('rejects an unknown command with one sentence and a non-zero exit code', async () => {
    const result = await smsc(['no-such-command']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^smsc: /);
  });
});
