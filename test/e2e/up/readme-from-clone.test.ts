import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');

/** The README's first code block: the two commands a newcomer runs. */
function readmeCommands(): { start: string; test: string } {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = readme.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '';
  const lines = block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
  return { start: lines[0] ?? '', test: lines[1] ?? '' };
}

/** The mongosh guide: each statement of the README's ```js block under "Inspecting with mongosh". */
function readmeMongoshQueries(): { comment: string; query: string }[] {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Inspecting with mongosh'));
  const block = section.match(/```js\n([\s\S]*?)```/)?.[1] ?? '';
  const out: { comment: string; query: string }[] = [];
  let comment = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('//')) comment = line.slice(2).trim();
    else if (line.trim()) out.push({ comment, query: line.trim() });
  }
  return out;
}

describe('a fresh clone runs with the README commands', () => {
  let dir = '';
  let smsc: ChildProcess | undefined;
  let output = '';
  let exited: Promise<number | null> | undefined;
  let ports = { smpp: 0, sink: 0, http: 0 };
  let mongoUri = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'smsc-clone-'));
    const clone = path.join(dir, 'smsc');
    await run('git', ['clone', '--quiet', repoRoot, clone]);
    // CI proves a clean `npm ci` on its own fresh clone; here the packages are hard-linked from
    // this checkout so `npm install` has nothing to download and the test stays fast.
    await run('cp', ['-al', path.join(repoRoot, 'node_modules'), path.join(clone, 'node_modules')]);
    ports = { smpp: await freePort(), sink: await freePort(), http: await freePort() };
    const { start } = readmeCommands();
    expect(start).toBe('npm install && npm start');
    smsc = spawn('sh', ['-c', `${start} -- --smpp-port ${ports.smpp} --sink-port ${ports.sink} --http-port ${ports.http} --mongo-port 0`], {
      cwd: clone,
      env: { ...process.env, MONGODB_URI: '', LOG_LEVEL: 'warn', npm_config_audit: 'false', npm_config_fund: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so the test can send Ctrl-C the way a terminal does.
      detached: true,
    });
    exited = new Promise((resolve) => smsc!.once('exit', (code) => resolve(code)));
    smsc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    smsc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 240_000;
    while (!/smsc is up/.test(output)) {
      if (Date.now() > deadline || smsc.exitCode !== null) throw new Error(`smsc up did not come up:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    mongoUri = output.match(/MongoDB: (mongodb:\/\/[^ ]+)/)?.[1] ?? '';
  }, 300_000);

  afterAll(async () => {
    try {
      if (smsc && smsc.exitCode === null) process.kill(-smsc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('submits with smsc submit --dlr and receives the receipt', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        path.join(repoRoot, 'bin/smsc.mjs'),
        'submit',
        '--port',
        String(ports.smpp),
        '--system-id',
        'demo',
        '--password',
        'demo',
        '--from',
        '12345',
        '--to',
        '491701234567',
        '--text',
        'Hello from the README',
        '--dlr',
        '--json',
        '--timeout',
        '60',
      ],
      { cwd: repoRoot },
    );
    const result = JSON.parse(stdout) as { messageIds: string[]; receipts: { messageId: string; stat?: string }[] };
    expect(result.messageIds).toHaveLength(1);
    expect(result.receipts).toHaveLength(1);
    expect(result.receipts[0].stat).toBe('DELIVRD');
    expect(result.receipts[0].messageId).toBe(result.messageIds[0]);
  }, 90_000);

  it('serves the HTTP API and the control panel', async () => {
    const doc = await fetch(`http://127.0.0.1:${ports.http}/api/v1/openapi.json`);
    expect(doc.status).toBe(200);
    const sent = await fetch(`http://127.0.0.1:${ports.http}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '491701234568', from: '12345', text: 'Hello over HTTP' }),
    });
    expect(sent.status).toBe(201);
    expect((await fetch(`http://127.0.0.1:${ports.http}/`)).headers.get('content-type')).toContain('text/html');
    // smsc up made an admin token for this run and printed it: it opens management and the panel.
    const token = output.match(/admin token (\S+) \(for this run/)?.[1];
    expect(token).toBeTruthy();
    const nodes = await fetch(`http://127.0.0.1:${ports.http}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` } });
    expect(nodes.status).toBe(200);
  }, 30_000);

  it('answers the README mongosh guide queries', async () => {
    expect(mongoUri).toMatch(/^mongodb:\/\//);
    const queries = readmeMongoshQueries();
    expect(queries.length).toBeGreaterThanOrEqual(6);
    // Each statement prints one EJSON line, so the output can be checked statement by statement.
    const script = queries
      .map(
        ({ query }) =>
          `{ const r = ${query.replace(/;$/, '')}; print(EJSON.stringify(typeof r?.toArray === 'function' ? r.toArray() : r, { relaxed: true })); }`,
      )
      .join('\n');
    const scriptFile = path.join(dir, 'guide.js');
    writeFileSync(scriptFile, script);
    const mongosh = path.join(repoRoot, 'node_modules/.bin/mongosh');
    expect(existsSync(mongosh)).toBe(true);
    const { stdout } = await run(mongosh, [`${mongoUri.replace(/\/$/, '')}/smsc`, '--quiet', '--norc', '--file', scriptFile], {
      cwd: repoRoot,
      timeout: 60_000,
    });
    const lines = stdout.split('\n').filter((l) => l.startsWith('[') || l.startsWith('{') || /^\d+$/.test(l) || l === 'null');
    expect(lines).toHaveLength(queries.length);
    const results = new Map(queries.map((q, i) => [q.query, JSON.parse(lines[i])]));
    const byState = results.get(queries.find((q) => q.comment.startsWith('queue depth'))!.query) as { _id: string; n: number }[];
    // The message submitted above (and its receipt) are in the store.
    expect(byState.reduce((sum, s) => sum + s.n, 0)).toBeGreaterThanOrEqual(1);
    const forDest = results.get(queries.find((q) => q.comment.startsWith('messages for one destination'))!.query) as { state: string }[];
    expect(forDest.length).toBeGreaterThanOrEqual(1);
    const live = results.get(queries.find((q) => q.comment.startsWith('live processes'))!.query) as { kind: string }[];
    expect(live.map((n) => n.kind)).toEqual(expect.arrayContaining(['inserter', 'deliverer', 'cleanup', 'api']));
  }, 90_000);

  it('stops cleanly on Ctrl-C', async () => {
    // As a terminal does: SIGINT to the foreground process group (sh, npm, smsc up); smsc up
    // then stops its children in order.
    process.kill(-smsc!.pid!, 'SIGINT');
    const code = await Promise.race([exited!, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
    expect(output).toContain('smsc: stopped');
    expect(code === 0 || code === 130 || code === null).toBe(true);
  }, 90_000);
});
