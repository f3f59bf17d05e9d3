import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { alive, childrenOf, cmdline, smsc, startUp, upChildren, type UpProcess } from './up-process.ts';
import { until } from '../../support/until.ts';

/**
 * Issue 18 (and 13's "npm start twice"): `smsc up` supervises its children. One `up` for the
 * whole file (on its own data directory and ports); the last test ends it.
 */
describe('smsc up supervises the process set', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'smsc-up-supervision-'));
  let up: UpProcess;
  let ports: { smpp: number; sink: number; metrics: number };
  let squatter: Server | undefined;

  const get = async (url: string) => {
    const res = await fetch(`http://127.0.0.1:${ports.metrics}${url}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    ports = { smpp: await freePort(), sink: await freePort(), metrics: await freePort() };
    up = await startUp(
      [
        '--data-dir',
        dataDir,
        '--mongo-port',
        '0',
        '--smpp-port',
        String(ports.smpp),
        '--sink-port',
        String(ports.sink),
        '--metrics-port',
        String(ports.metrics),
        '--restart-base-ms',
        '300',
      ],
      { CDR_DIR: path.join(dataDir, 'cdr') },
    );
  }, 240_000);

  afterAll(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.exited;
    }
    await new Promise((resolve) => (squatter ? squatter.close(resolve) : resolve(undefined)));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a second smsc up on the same data directory says smsc is already running and exits non-zero before starting anything', async () => {
    const before = childrenOf(up.pid).sort();
    const journal = readdirSync(path.join(dataDir, 'standin')).sort();
    const second = await smsc(
      ['up', '--data-dir', dataDir, '--mongo-port', '0', '--smpp-port', String(await freePort()), '--sink-port', String(await freePort())],
      { MONGODB_URI: '' },
    );
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toMatch(
      new RegExp(
        `^smsc: smsc is already running \\(smsc up, pid ${up.pid}, since .*\\) with data directory ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; stop it first`,
      ),
    );
    // Nothing started, nothing seeded, no second MongoDB on the data directory.
    expect(second.stdout).toBe('');
    expect(childrenOf(up.pid).sort()).toEqual(before);
    expect(readdirSync(path.join(dataDir, 'standin')).sort()).toEqual(journal);
    const standins = readdirSync('/proc').filter(
      (p) => /^\d+$/.test(p) && cmdline(Number(p)).includes(`--dbpath ${path.join(dataDir, 'standin')}`),
    );
    expect(standins).toHaveLength(1);
  }, 120_000);

  it('serves one /metrics and /healthz for the whole set, and smsc status lists the processes it started', async () => {
    await until(async () => (await get('/healthz')).status === 200, 30_000, 'the set healthy');
    expect(JSON.parse((await get('/healthz')).body)).toEqual({ status: 'ok', problems: [] });
    const metrics = (await get('/metrics')).body;
    for (const child of ['inserter', 'deliverer-1', 'deliverer-2', 'cleanup', 'sink', 'mongodb'])
      expect(metrics).toContain(`smsc_up_child_up{child="${child}",process="up"} 1`);
    // The children's own metrics, told apart by `process`.
    expect(metrics).toMatch(/smsc_message_claims_total\{process="deliverer-1"\} \d+/);
    expect(metrics).toMatch(/smsc_bound_sessions\{[^}]*process="inserter"[^}]*\}|# TYPE smsc_bound_sessions gauge/);
    const children = await upChildren(up.mongoUri, up.pid);
    expect(children.map((c) => [c.name, c.state]).sort()).toEqual(
      // The CDR journal too, because CDR_DIR is set.
      [
        ['mongodb', 'running'],
        ['sink', 'running'],
        ['inserter', 'running'],
        ['deliverer-1', 'running'],
        ['deliverer-2', 'running'],
        ['cleanup', 'running'],
        ['cdr', 'running'],
      ].sort(),
    );
    expect(children.map((c) => c.pid).sort()).toEqual(
      childrenOf(up.pid)
        .filter((pid) => !cmdline(pid).includes('esbuild'))
        .sort(),
    );
    const text = await smsc(['status', '--mongodb-uri', up.mongoUri]);
    expect(text.stdout).toMatch(/^ {2}up {9}\S+ {2}pid \d+ .* ok$/m);
    expect(text.stdout).toMatch(/^ {6}deliverer-1 {3}running {4}pid \d+$/m);
  }, 120_000);

  it('restarts a deliverer killed with SIGKILL, counts the restart, and delivers again', async () => {
    const victim = (await upChildren(up.mongoUri, up.pid)).find((c) => c.name === 'deliverer-1')!;
    process.kill(victim.pid!, 'SIGKILL');
    // Unhealthy while it is gone …
    await until(async () => (await get('/healthz')).body.includes('"check":"deliverer-1"'), 30_000, '/healthz names the missing deliverer');
    // … then back: another process, the restart counted with how the old one ended.
    await until(
      async () =>
        (await get('/metrics')).body.includes('smsc_up_child_restarts_total{child="deliverer-1",exit="signal SIGKILL",process="up"} 1'),
      60_000,
      'restart counted',
    );
    await until(async () => (await get('/healthz')).status === 200, 60_000, 'healthy again');
    const again = (await upChildren(up.mongoUri, up.pid)).find((c) => c.name === 'deliverer-1')!;
    expect(again.pid).not.toBe(victim.pid);
    expect(alive(again.pid!)).toBe(true);
    expect(again.restarts).toBe(1);
    expect(up.output()).toMatch(/deliverer-1 exited unexpectedly \(signal SIGKILL\); restarting in \d+ ms/);
    // Only the restarted one delivers: the other is stopped for this check.
    const other = (await upChildren(up.mongoUri, up.pid)).find((c) => c.name === 'deliverer-2')!;
    process.kill(other.pid!, 'SIGSTOP');
    try {
      const sent = await smsc([
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
        'after a restart',
        '--dlr',
        '--json',
        '--timeout',
        '60',
      ]);
      expect(sent.code, sent.stderr).toBe(0);
      const result = JSON.parse(sent.stdout) as { receipts: { stat?: string }[] };
      expect(result.receipts.map((r) => r.stat)).toEqual(['DELIVRD']);
    } finally {
      process.kill(other.pid!, 'SIGCONT');
    }
  }, 180_000);

  it('a child that fails at start every time makes up stop everything and exit non-zero, naming it', async () => {
    const inserter = (await upChildren(up.mongoUri, up.pid)).find((c) => c.name === 'inserter')!;
    const children = childrenOf(up.pid);
    process.kill(inserter.pid!, 'SIGKILL');
    // Someone else takes its port the moment it is free (long before a restarted inserter gets
    // to listening): every restart fails at start.
    squatter = await holdPort(ports.smpp, 20_000);
    const code = await up.exited;
    expect(code).toBe(1);
    expect(up.output()).toMatch(
      new RegExp(
        `smsc: inserter failed 5 times within 60 s \\(last: failed to start again: SMPP port ${ports.smpp} on 127\\.0\\.0\\.1 is in use \\(--smpp-port / SMPP_PORT\\)\\); stopping smsc$`,
        'm',
      ),
    );
    expect(up.output()).toContain('smsc: stopped');
    for (const pid of children) expect(alive(pid), cmdline(pid)).toBe(false);
  }, 180_000);
});

/** Listens on 127.0.0.1:port as soon as it can (trying every 10 ms). */
async function holdPort(port: number, timeoutMs: number): Promise<Server> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = createServer();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) return server;
    if (Date.now() > deadline) throw new Error(`port ${port} not free within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
