/**
 * The offline tools start fast because they load only what they use: `smsc sms-info` and
 * `smsc dlr-parse` never pull in the MongoDB driver, the SMPP stack or the metrics registry
 * (prom-client alone is a good part of a short command's start-up), unsupervised or not.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');
const recorder = path.join(repoRoot, 'test/fixtures/cli/record-loads.mjs');

/** Module URLs (node_modules package names, or dist paths) a command line loaded. */
async function loadedBy(args: string[]): Promise<string[]> {
  const { stderr } = await run(process.execPath, ['--import', recorder, bin, ...args], { cwd: repoRoot });
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('loaded '))
    .map((line) => line.slice('loaded '.length));
}

const packageOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe('what a tool command loads', () => {
  it.each([
    ['sms-info', ['sms-info', '--text', 'hello']],
    ['dlr-parse', ['dlr-parse', 'id:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:x']],
  ])('%s loads neither the driver, SMPP nor prom-client', async (_name, args) => {
    const urls = await loadedBy(args);
    // The recorder works: the command's own module is among what it saw.
    expect(urls.some((url) => url.endsWith(`/cli/commands/${args[0]}.js`))).toBe(true);
    const packages = new Set(urls.map(packageOf).filter((name) => name !== undefined));
    for (const heavy of ['mongodb', 'bson', 'smpp', 'prom-client', 'ioredis', 'fastify', 'pino']) expect(packages).not.toContain(heavy);
  });
});
