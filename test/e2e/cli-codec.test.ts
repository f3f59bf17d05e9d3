/**
 * `smsc sms-info` and `smsc dlr-parse` as real child processes. Uses bin/smsc.mjs once the
 * commands are registered there, else a runner with the same yargs setup.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');
const runner = path.join(repoRoot, 'test/fixtures/codec/cli-runner.ts');

let entry: string[] = [];

async function exec(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const smsc = (args: string[]) => exec([...entry, ...args]);

beforeAll(async () => {
  const probe = await exec([bin, 'sms-info', '--help']);
  entry = probe.code === 0 && probe.stdout.includes('--text') ? [bin] : ['--import', 'tsx', runner];
});

describe('smsc sms-info', () => {
  it('--json prints exactly one JSON object with the documented shape', async () => {
    const r = await smsc(['sms-info', '--text', 'a'.repeat(161), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      encoding: 'GSM7',
      characters: 161,
      units: 161,
      parts: { single: null, udh8: 2, udh16: 2, sar: 2, payload: 1 },
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('picks UCS-2 for emoji and counts units', async () => {
    const r = await smsc(['sms-info', '--text', 'Hi 😀', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({
      encoding: 'UCS2',
      characters: 4,
      units: 5,
      parts: { single: 1, udh8: 1, udh16: 1, sar: 1, payload: 1 },
    });
  });

  it('prints a human-readable summary without --json, honouring --encoding', async () => {
    const r = await smsc(['sms-info', '--text', 'Grüße', '--encoding', 'latin1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('LATIN1 (data_coding 0x03)');
    expect(r.stdout).toMatch(/Units:\s+5 octets/);
  });

  it('an unmappable character in a forced encoding is one sentence and a non-zero exit', async () => {
    const r = await smsc(['sms-info', '--text', 'snow ☃', '--encoding', 'gsm7', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('smsc: Character "☃" (U+2603) at position 5 cannot be encoded in GSM7.');
  });
});

describe('smsc dlr-parse', () => {
  it('--json prints the parsed receipt', async () => {
    const r = await smsc([
      'dlr-parse',
      'id:0A1B sub:001 dlvrd:001 submit_date:231122153000 done date:2311221531 stat:undeliv err:034 Text:Hello',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      id: '0A1B',
      sub: 1,
      dlvrd: 1,
      submitDate: '2023-11-22T15:30:00.000Z',
      submitDateRaw: '231122153000',
      doneDate: '2023-11-22T15:31:00.000Z',
      doneDateRaw: '2311221531',
      stat: 'UNDELIV',
      messageState: 5,
      messageStateName: 'UNDELIVERABLE',
      err: '034',
      text: 'Hello',
    });
  });

  it('a missing argument is one sentence and a non-zero exit', async () => {
    const r = await smsc(['dlr-parse', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^smsc: Give the receipt text/);
  });

  it('text that is not a receipt is one sentence and a non-zero exit', async () => {
    const r = await smsc(['dlr-parse', 'hello world', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('smsc: Text is not a delivery receipt: it has no "id:" field.');
  });
});
