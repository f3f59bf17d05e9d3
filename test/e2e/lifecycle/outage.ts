import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { expect } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import { routeAllTo } from '../delivery/harness.ts';
import { until } from '../../support/until.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { freePort } from '../../support/free-port.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { spawnStandin, type StandinChild } from '../../../standin/test/spawn-standin.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');

interface Member {
  name: string;
  proc: ReadyProcess;
  pid: number;
  metricsPort: number;
  /** Every /healthz status seen while MongoDB was down (between the kill and the restart). */
  duringOutage: Set<number>;
}

export interface OutageResult {
  ackedBefore: number;
  ackedTotal: number;
  /** From the restart of MongoDB to the first delivery of a message acknowledged after it. */
  deliveringAgainMs: number;
}

/**
 * The whole set (an inserter, two deliverers, cleanup: real `smsc` processes with metrics ports)
 * against a MongoDB the test can kill: the stand-in with a journal (`--dbpath`). Under submit
 * load (with receipts requested), MongoDB is SIGKILLed, stays down for `downMs`, and comes back on
 * the same port and data directory. Nothing of smsc is restarted by the test. Checks that every
 * process said 503 on /healthz during the outage, delivers again within 30 s of MongoDB being
 * back, is healthy again, and that every acknowledged message reaches the downstream.
 */
export async function runMongoOutage(label: string, downMs: number): Promise<OutageResult> {
  const dbName = `lifecycle_${label}`;
  const dbpath = mkdtempSync(path.join(tmpdir(), `smsc-outage-${label}-`));
  const mongoPort = await freePort();
  const standinArgs = ['--port', String(mongoPort), '--dbpath', dbpath];
  let server: StandinChild | undefined;
  let sink: Sink | undefined;
  let esme: TestEsme | undefined;
  const members: Member[] = [];
  let running = true;
  const loops: Promise<void>[] = [];
  try {
    server = await spawnStandin(standinArgs);
    const setup = new MongoClient(server.uri);
    await ensureSchema(setup.db(dbName));
    await new AccountStore(setup.db(dbName)).add({ systemId: 'load', password: 'pw', maxBinds: 4 });
    sink = await startSink({ port: 0, latencyMs: 5, receipts: { enabled: true, delayMs: 200 } });
    await routeAllTo(setup.db(dbName), sink.port);
    await setup.close();

    const env = {
      ...process.env,
      MONGODB_URI: server.uri,
      MONGODB_DB: dbName,
      SMPP_HOST: '127.0.0.1',
      REDIS_URL: '',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      // Beats often, so even the idle cleanup notices the outage quickly.
      SMSC_HEARTBEAT_MS: '1000',
      DELIVERER_RETRY_BASE_MS: '5000',
    };
    const start = async (name: string, args: string[], ready: RegExp) => {
      const metricsPort = await freePort();
      const proc = await spawnUntilReady(process.execPath, [bin, ...args, '--metrics-port', String(metricsPort)], ready, {
        cwd: repoRoot,
        env,
        timeoutMs: 60_000,
      });
      members.push({ name, proc, pid: proc.child.pid!, metricsPort, duringOutage: new Set() });
      return proc;
    };
    const [inserter] = await Promise.all([
      start('inserter', ['inserter', '--smpp-port', '0'], /inserter listening on [^\s:]+:(\d+)/),
      start('deliverer-1', ['deliverer'], /deliverer ready/),
      start('deliverer-2', ['deliverer'], /deliverer ready/),
      start('cleanup', ['cleanup'], /cleanup ready/),
    ]);
    for (const m of members) expect(await healthz(m.metricsPort), `${m.name} healthy before`).toBe(200);

    esme = await TestEsme.bound(Number(inserter.match[1]), 'load', 'pw');
    const acked = new Map<string, number>();
    let backAt = Infinity;
    let seq = 0;
    for (let lane = 0; lane < 6; lane++) {
      loops.push(
        (async () => {
          while (running) {
            const text = `${label}-${seq++}`;
            const dest = `4917${String(seq % 50).padStart(7, '0')}`;
            try {
              const resp = await esme!.submit({ short_message: Buffer.from(text), destination_addr: dest, registered_delivery: 1 }, 30_000);
              if (resp.command_status === 0) acked.set(text, Date.now());
            } catch {
              // Not acknowledged: the ESME would resubmit; nothing is owed for it.
            }
          }
        })(),
      );
    }
    const delivered = () => new Set(sink!.received.map((m) => m.text));
    await until(() => acked.size >= 150 && sink!.received.length >= 100, 60_000, 'load flowing');

    // The outage. Each process's /healthz is polled throughout.
    let outage = true;
    const polls = members.map(async (m) => {
      while (outage) {
        m.duringOutage.add(await healthz(m.metricsPort));
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    server.proc.kill('SIGKILL');
    await server.exited;
    const ackedBefore = acked.size;
    // The scenario itself: the server stays away this long.
    await new Promise((r) => setTimeout(r, downMs));
    server = await spawnStandin(standinArgs);
    backAt = Date.now();
    outage = false;
    await Promise.all(polls);
    for (const m of members) expect([...m.duringOutage], `${m.name} said 503 while MongoDB was down`).toContain(503);

    // Delivering again: a message acknowledged after the restart reaches the downstream within 30 s.
    let deliveringAgainMs = -1;
    await until(
      () => {
        const seen = delivered();
        const fresh = [...acked].find(([text, at]) => at >= backAt && seen.has(text));
        if (fresh) deliveringAgainMs = Date.now() - backAt;
        return fresh !== undefined;
      },
      30_000,
      'a message acknowledged after the restart delivered',
    );
    await until(() => acked.size >= ackedBefore + 100, 60_000, '100 more acknowledged after the restart');
    running = false;
    await Promise.all(loops);

    // Everything acknowledged is delivered (messages locked when MongoDB died wait for their lease).
    await until(() => [...acked.keys()].every((text) => delivered().has(text)), 90_000, 'every acknowledged message delivered');
    for (const m of members) await until(async () => (await healthz(m.metricsPort)) === 200, 30_000, `${m.name} healthy again`);
    // Nobody was restarted: the same processes, still running.
    for (const m of members) {
      expect(m.proc.child.exitCode, `${m.name} still running`).toBeNull();
      expect(m.proc.child.pid).toBe(m.pid);
    }
    return { ackedBefore, ackedTotal: acked.size, deliveringAgainMs };
  } finally {
    running = false;
    esme?.close();
    await Promise.allSettled(loops);
    await Promise.all(members.map((m) => m.proc.stop('SIGTERM')));
    await sink?.close();
    server?.proc.kill('SIGKILL');
    await server?.exited;
    rmSync(dbpath, { recursive: true, force: true });
  }
}

/** The status /healthz answers, 0 when nothing answers. */
async function healthz(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
