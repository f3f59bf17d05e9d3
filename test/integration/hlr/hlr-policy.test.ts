import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { createIntakePolicy, type IntakePolicyHandle } from '../../../src/policy/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { useTestDb, testRedisUrl } from '../../support/mongo.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { startInserter, TestEsme, type RunningInserter } from '../inserter/harness.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/index.ts';

// One metric set for the components this file builds (fresh per file: counts never mix with another's).
const metrics = createMetrics();

// HLR lookups against `smsc hlr-sim` (a real child process) with the cache in a real Redis; every
// outcome is what an ESME gets back over SMPP, every lookup is counted by the simulator itself.

const t = useTestDb('hlr_policy');
const redisUrl = testRedisUrl();
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const keyPrefix = `test:hlr:${randomBytes(4).toString('hex')}:`;
let fastSim: ReadyProcess;
let slowSim: ReadyProcess;
let redis: Redis;
const runs: RunningInserter[] = [];
const handles: IntakePolicyHandle[] = [];
const esmes: TestEsme[] = [];

function spawnSim(args: string[]): Promise<ReadyProcess> {
  return spawnUntilReady(
    process.execPath,
    [path.join(repoRoot, 'bin/smsc.mjs'), 'hlr-sim', '--port', '0', ...args],
    /"event":"listening".*"port":(\d+)/,
    { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
}

const urlOf = (sim: ReadyProcess) => `http://127.0.0.1:${sim.match[1]}/lookup?msisdn={msisdn}`;
const simRequests = async (sim: ReadyProcess) =>
  ((await (await fetch(`http://127.0.0.1:${sim.match[1]}/stats`)).json()) as { requests: number }).requests;

/** An in-process inserter whose intake policy is built from these environment settings, as a process would build it. */
async function inserterWith(env: Record<string, string>): Promise<TestEsme> {
  const config = loadConfig({ env });
  const handle = await createIntakePolicy(config, { db: t.db, logger: silentLogger, metrics, redis, hlrKeyPrefix: keyPrefix });
  handles.push(handle);
  const run = await startInserter(t.db, {
    accounts: [{ systemId: 'acme', password: 'pw' }],
    deps: { intakePolicy: handle.policy, optOut: handle.optOut },
    metrics,
  });
  runs.push(run);
  const esme = await TestEsme.bound(run.port, 'acme', 'pw');
  esmes.push(esme);
  return esme;
}

async function counter(
  metric: Metrics['hlrRequestsTotal'] | Metrics['hlrCacheHitsTotal'],
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k as keyof typeof v.labels] === l))
    .reduce((n, v) => n + v.value, 0);
}

const send = async (esme: TestEsme, to: string, extra: Record<string, unknown> = {}) =>
  esme.submit({ destination_addr: to, ...extra }, 10_000);
const stored = (to: string) => t.db.collection('sms').findOne({ destKey: `+${to}` }, { sort: { _id: -1 } });

beforeAll(async () => {
  redis = new Redis(redisUrl);
  [fastSim, slowSim] = await Promise.all([
    spawnSim([
      '--reachable',
      '4477',
      '--invalid',
      '4479',
      '--fail',
      '4466',
      '--network',
      '4477=23415',
      '--network',
      '447755=23410',
      '--ported',
      '447755',
    ]),
    spawnSim(['--latency-ms', '1500']),
  ]);
}, 60_000);

afterAll(async () => {
  for (const e of esmes) e.close();
  for (const h of handles) h.close();
  for (const run of runs) await run.stop();
  await Promise.all([fastSim?.stop(), slowSim?.stop()]);
  await redis?.quit();
});

describe.skipIf(!redisUrl)('HLR lookups against smsc hlr-sim, cached in Redis', () => {
  it('reject-unreachable: reachable numbers are stored with the HLR answer; unreachable and invalid ones get ESME_RINVDSTADR', async () => {
    const esme = await inserterWith({ HLR_URL: urlOf(fastSim), HLR_POLICY: 'reject-unreachable' });
    const before = {
      reachable: await counter(metrics.hlrRequestsTotal, { result: 'reachable' }),
      unreachable: await counter(metrics.hlrRequestsTotal, { result: 'unreachable' }),
      invalid: await counter(metrics.hlrRequestsTotal, { result: 'invalid' }),
    };
    expect((await send(esme, '447700100001')).command_status).toBe(CommandStatus.ESME_ROK);
    expect(await stored('447700100001')).toMatchObject({
      state: 'queued',
      hlr: { status: 'reachable', network: '23415', ported: false, cached: false },
    });
    // A ported number: the network it is served by now, for routing.
    expect((await send(esme, '447755000001')).command_status).toBe(CommandStatus.ESME_ROK);
    expect(await stored('447755000001')).toMatchObject({ hlr: { status: 'reachable', network: '23410', ported: true } });
    expect((await send(esme, '447800100001')).command_status).toBe(CommandStatus.ESME_RINVDSTADR);
    expect((await send(esme, '447900100001')).command_status).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await stored('447800100001')).toBeNull();
    expect(await counter(metrics.hlrRequestsTotal, { result: 'reachable' })).toBe(before.reachable + 2);
    expect(await counter(metrics.hlrRequestsTotal, { result: 'unreachable' })).toBe(before.unreachable + 1);
    expect(await counter(metrics.hlrRequestsTotal, { result: 'invalid' })).toBe(before.invalid + 1);
  });

  it('answers come from Redis within the TTL (no request to the provider), and from the provider again once it expired', async () => {
    const esme = await inserterWith({ HLR_URL: urlOf(fastSim), HLR_POLICY: 'reject-unreachable', HLR_CACHE_TTL_S: '1' });
    const number = '447700200002';
    const requests = await simRequests(fastSim);
    const hits = await counter(metrics.hlrCacheHitsTotal);
    expect((await send(esme, number)).command_status).toBe(0);
    expect(await simRequests(fastSim)).toBe(requests + 1);
    expect(await redis.ttl(`${keyPrefix}${number}`)).toBeGreaterThan(0);
    expect((await send(esme, number)).command_status).toBe(0);
    expect((await send(esme, number)).command_status).toBe(0);
    expect(await simRequests(fastSim)).toBe(requests + 1);
    expect(await counter(metrics.hlrCacheHitsTotal)).toBe(hits + 2);
    expect(await stored(number)).toMatchObject({ hlr: { status: 'reachable', cached: true } });
    // Redis drops the key when the TTL runs out; the next lookup goes to the provider.
    const deadline = Date.now() + 5_000;
    while ((await redis.exists(`${keyPrefix}${number}`)) === 1) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await send(esme, number)).command_status).toBe(0);
    expect(await simRequests(fastSim)).toBe(requests + 2);
  });

  it('a timeout is accepted, rejected (ESME_RX_P_APPN) or deferred (ESME_RX_T_APPN) as hlr.onTimeout says; provider errors likewise', async () => {
    const slow = { HLR_URL: urlOf(slowSim), HLR_POLICY: 'reject-unreachable', HLR_TIMEOUT_MS: '200', HLR_CACHE_TTL_S: '0' };
    const timeouts = await counter(metrics.hlrRequestsTotal, { result: 'timeout' });
    const latencies = (await metrics.hlrLatencySeconds.get()).values.find((v) => v.metricName === 'hlr_latency_seconds_count')?.value ?? 0;
    const accept = await inserterWith({ ...slow, HLR_ON_TIMEOUT: 'accept' });
    const reject = await inserterWith({ ...slow, HLR_ON_TIMEOUT: 'reject' });
    const defer = await inserterWith({ ...slow, HLR_ON_TIMEOUT: 'defer' });
    expect((await send(accept, '447700300001')).command_status).toBe(CommandStatus.ESME_ROK);
    expect(await stored('447700300001')).toMatchObject({ state: 'queued', hlr: { status: 'timeout' } });
    expect((await send(reject, '447700300002')).command_status).toBe(CommandStatus.ESME_RX_P_APPN);
    expect((await send(defer, '447700300003')).command_status).toBe(CommandStatus.ESME_RX_T_APPN);
    expect(await counter(metrics.hlrRequestsTotal, { result: 'timeout' })).toBe(timeouts + 3);
    expect((await metrics.hlrLatencySeconds.get()).values.find((v) => v.metricName === 'hlr_latency_seconds_count')?.value).toBe(
      latencies + 3,
    );

    const errors = await counter(metrics.hlrRequestsTotal, { result: 'error' });
    const failing = await inserterWith({ HLR_URL: urlOf(fastSim), HLR_POLICY: 'reject-unreachable', HLR_ON_TIMEOUT: 'reject' });
    expect((await send(failing, '446600000001')).command_status).toBe(CommandStatus.ESME_RX_P_APPN);
    expect(await counter(metrics.hlrRequestsTotal, { result: 'error' })).toBe(errors + 1);
  }, 30_000);

  it('a slow lookup holds only its own message: another session is answered meanwhile', async () => {
    const env = { HLR_URL: urlOf(slowSim), HLR_POLICY: 'reject-unreachable', HLR_TIMEOUT_MS: '5000' };
    const waiting = await inserterWith(env);
    // The second ESME's number is already cached (the same Redis every inserter shares).
    await redis.set(`${keyPrefix}447700400002`, JSON.stringify({ status: 'reachable' }), 'EX', 60);
    const other = await TestEsme.bound(runs.at(-1)!.port, 'acme', 'pw');
    esmes.push(other);
    const order: string[] = [];
    const slowOne = send(waiting, '447700400001').then((r) => {
      order.push('slow');
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    const fastOne = send(other, '447700400002').then((r) => {
      order.push('cached');
      return r;
    });
    expect((await fastOne).command_status).toBe(0);
    expect((await slowOne).command_status).toBe(0);
    expect(order).toEqual(['cached', 'slow']);
  }, 20_000);

  it('policy off makes no lookup before the ack; hlr.routing stores the network on the queued message afterwards', async () => {
    const requests = await simRequests(fastSim);
    const off = await inserterWith({ HLR_URL: urlOf(fastSim), HLR_POLICY: 'off' });
    expect((await send(off, '447800500001')).command_status).toBe(0);
    expect(await simRequests(fastSim)).toBe(requests);
    expect((await stored('447800500001'))?.hlr).toBeUndefined();
    const routing = await inserterWith({ HLR_URL: urlOf(fastSim), HLR_POLICY: 'off', HLR_ROUTING: 'true' });
    // Unreachable, yet accepted: the policy is off; the answer is only a routing hint.
    expect((await send(routing, '447755500002')).command_status).toBe(0);
    const deadline = Date.now() + 5_000;
    while (!(await stored('447755500002'))?.hlr) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await stored('447755500002'))?.hlr).toMatchObject({ network: '23410', ported: true });
  });
});
