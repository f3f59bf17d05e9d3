import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import { insertSms, makeSeries } from '../../support/sms-factory.ts';
import { freePort } from '../../support/free-port.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { spawnStandin, type StandinChild } from '../../../standin/test/spawn-standin.ts';
import { routeAllTo } from '../delivery/harness.ts';
import { until } from '../../support/until.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');
const GRACE_MS = 6_000;

/**
 * Issue 18, "shutdown that always ends": with MongoDB gone (SIGKILLed), Redis unreachable and the
 * downstream gone too, SIGTERM ends an inserter, a deliverer and cleanup within their grace
 * period. What they could not finish is left to the leases.
 */
describe('SIGTERM with MongoDB, Redis and the downstream unreachable', () => {
  const dbpath = mkdtempSync(path.join(tmpdir(), 'smsc-shutdown-'));
  let server: StandinChild | undefined;
  let sink: Sink | undefined;
  let redisStandIn: Server | undefined;
  const redisSockets = new Set<Socket>();
  const procs: ReadyProcess[] = [];

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    server?.proc.kill('SIGKILL');
    await server?.exited;
    await sink?.close();
    for (const socket of redisSockets) socket.destroy();
    await new Promise((resolve) => (redisStandIn ? redisStandIn.close(resolve) : resolve(undefined)));
    rmSync(dbpath, { recursive: true, force: true });
  });

  it(`inserter, deliverer and cleanup each exit within their ${GRACE_MS} ms grace`, async () => {
    server = await spawnStandin(['--port', String(await freePort()), '--dbpath', dbpath]);
    const dbName = 'lifecycle_shutdown';
    const setup = new MongoClient(server.uri);
    await ensureSchema(setup.db(dbName));
    // A downstream that accepts the bind and never answers a submit: batches stay in flight.
    sink = await startSink({ port: 0, latencyMs: 600_000 });
    await routeAllTo(setup.db(dbName), sink.port);
    await insertSms(setup.db(dbName), Array.from({ length: 20 }, (_, i) => makeSeries(`49170300${i}`, 3, new Date())).flat());
    await setup.close();
    // A "Redis" that accepts connections and never answers.
    redisStandIn = createServer((socket) => {
      redisSockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => redisStandIn!.listen(0, '127.0.0.1', resolve));
    const redisUrl = `redis://127.0.0.1:${(redisStandIn.address() as { port: number }).port}`;

    const env = {
      ...process.env,
      MONGODB_URI: server.uri,
      MONGODB_DB: dbName,
      SMPP_HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
    };
    const start = (args: string[], ready: RegExp) =>
      spawnUntilReady(process.execPath, [bin, ...args], ready, { cwd: repoRoot, env, timeoutMs: 60_000 });
    procs.push(
      ...(await Promise.all([
        start(['inserter', '--smpp-port', '0'], /inserter listening on/),
        start(['deliverer', '--lanes', '8'], /deliverer ready/),
        start(['cleanup'], /cleanup ready/),
      ])),
    );
    // Batches are in flight at the downstream that does not answer.
    await until(() => sink!.received.length >= 8, 30_000, 'submits in flight');

    server.proc.kill('SIGKILL');
    await server.exited;
    await sink.close();
    sink = undefined;

    const exits = await Promise.all(
      procs.map(async (proc) => {
        const began = Date.now();
        const code = await proc.stop('SIGTERM');
        return { ms: Date.now() - began, code, output: proc.output() };
      }),
    );
    const [inserter, deliverer, cleanup] = exits;
    console.log(
      `[shutdown without MongoDB] inserter ${inserter.ms} ms, deliverer ${deliverer.ms} ms, cleanup ${cleanup.ms} ms (grace ${GRACE_MS} ms)`,
    );
    for (const exit of exits) {
      // Measured from sending the signal to seeing the exit: slack for the signal's delivery and
      // the teardown of the process itself on a loaded machine (each plans to be done 1 s early).
      expect(exit.ms, exit.output.slice(-2000)).toBeLessThan(GRACE_MS + 3_000);
      // Ended by its own shutdown (work left to the leases), not by the last-resort timer.
      expect(exit.output).not.toContain('shutdown did not finish');
      expect(exit.code).toBe(0);
    }
  }, 180_000);
});
