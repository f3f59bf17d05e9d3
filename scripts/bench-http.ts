/**
 * Messages stored per second through the HTTP API, next to SMPP, on the same machine in the same run:
 *
 *   npm run bench:http [-- --seconds 10 --sessions 4 --window 100 --concurrency 64 --batch 100 --batch-concurrency 4 --uri URI]
 *
 * Starts the MongoDB stand-in (unless --uri or MONGODB_URI is given), an inserter and an `smsc api`
 * (each its own process, same database, same group commit settings), creates an account, then runs
 * three loads one after the other for the same time each:
 *   - SMPP: N sessions, each keeping W submit_sm outstanding;
 *   - HTTP single: C keep-alive connections, each POSTing one message at a time;
 *   - HTTP batch: B keep-alive connections, each POSTing batches of 100 messages.
 * Prints messages/s, p50/p99 latency (per submit_sm / per POST) and the server's CPU per 10,000
 * messages for each, and the batch path's speed per message relative to SMPP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { AccountStore } from '../src/accounts/account-store.ts';
import { connectSmpp } from '../src/smpp/client.ts';
import type { SmppSession } from '../src/smpp/session.ts';
import { ensureSchema } from '../src/store/collections.ts';
import { cpuSeconds, freePort, percentile, waitForLine } from './bench/processes.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '4' },
    window: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    'batch-concurrency': { type: 'string', default: '4' },
    uri: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const SESSIONS = Number(values.sessions);
const WINDOW = Number(values.window);
const CONCURRENCY = Number(values.concurrency);
const BATCH = Number(values.batch);
const BATCH_CONCURRENCY = Number(values['batch-concurrency']);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEXT = 'Benchmark message, about as long as a typical notification SMS.';
const TEXT_BYTES = Buffer.from(TEXT);

interface LoadResult {
  messages: number;
  failed: number;
  seconds: number;
  /** Per request: one submit_sm, one POST. */
  latencies: number[];
}

let seq = 0;
const nextDest = () => `4477009${String(seq++ % 100_000).padStart(5, '0')}`;

/** `loops` workers, each running `once` back to back until the time is up. */
async function drive(loops: number, seconds: number, once: () => Promise<number>): Promise<LoadResult> {
  const latencies: number[] = [];
  let messages = 0;
  let failed = 0;
  const started = performance.now();
  const endAt = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < endAt) {
        const t0 = performance.now();
        try {
          // Awaited first: `messages += await …` would read `messages` before the wait and lose the other loops' counts.
          const stored = await once();
          messages += stored;
          latencies.push(performance.now() - t0);
        } catch {
          failed++;
        }
      }
    }),
  );
  return { messages, failed, seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

async function smppLoad(port: number, seconds: number): Promise<LoadResult> {
  const sessions: SmppSession[] = await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      const session = await connectSmpp({ host: '127.0.0.1', port, windowSize: WINDOW, responseTimeoutMs: 60_000 });
      session.on('error', () => {});
      await session.bind('transmitter', { systemId: 'bench', password: 'bench' });
      return session;
    }),
  );
  try {
    let i = 0;
    return await drive(SESSIONS * WINDOW, seconds, async () => {
      const session = sessions[i++ % sessions.length];
      await session.submitSm({
        source: { ton: 5, npi: 0, addr: 'BENCH' },
        dest: { ton: 1, npi: 1, addr: nextDest() },
        shortMessage: TEXT_BYTES,
      });
      return 1;
    });
  } finally {
    await Promise.all(sessions.map((s) => s.unbind().catch(() => undefined)));
    for (const s of sessions) s.destroy('bench over');
  }
}

function httpLoad(baseUrl: string, connections: number, batch: number, seconds: number): Promise<LoadResult> {
  const url = new URL('/api/v1/messages', baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const authorization = `Basic ${Buffer.from('bench:bench').toString('base64')}`;
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.once('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  return drive(connections, seconds, async () => {
    if (batch <= 1) {
      await post(JSON.stringify({ to: nextDest(), from: 'BENCH', text: TEXT }));
      return 1;
    }
    await post(JSON.stringify({ messages: Array.from({ length: batch }, () => ({ to: nextDest(), from: 'BENCH', text: TEXT })) }));
    return batch;
  }).finally(() => agent.destroy());
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    let uri = values.uri ?? process.env.MONGODB_URI;
    if (!uri) {
      const standin = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'standin/main.ts'), '--port', '0'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(standin);
      uri = (await waitForLine(standin, /mongodb:\/\/127\.0\.0\.1:\d+/, 'stand-in'))[0];
      process.stdout.write(`MongoDB: the stand-in at ${uri}\n`);
    } else {
      process.stdout.write('MongoDB: the configured URI\n');
    }
    const standinPid = children[0]?.pid;
    const dbName = `bench_http_${Date.now()}`;
    const client = new MongoClient(uri);
    await client.connect();
    const db = client.db(dbName);
    await ensureSchema(db);
    await new AccountStore(db).add({ systemId: 'bench', password: 'bench', maxBinds: 100 });

    // No queue sampler: its aggregation over the queued messages (every one of them queued here, as
    // nothing delivers) would compete with the stores being measured.
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      MONGODB_URI: uri,
      MONGODB_DB: dbName,
      SMPP_HOST: '127.0.0.1',
      API_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      METRICS_QUEUE_SAMPLE_MS: '0',
    };
    const inserter = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'workers/inserter.ts'), '--smpp-port', '0'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    children.push(inserter);
    // BENCH_API_NODE_ARGS (e.g. "--cpu-prof") go to the API's node only.
    const apiNodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const api = spawn(process.execPath, [...apiNodeArgs, join(repoRoot, 'bin/smsc.mjs'), 'api', '--http-port', String(await freePort())], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    children.push(api);
    const [smppPort, apiUrl] = await Promise.all([
      waitForLine(inserter, /inserter listening on [^\s:]+:(\d+)/, 'inserter').then((m) => Number(m[1])),
      waitForLine(api, /api listening on (\S+)/, 'api').then((m) => m[1]),
    ]);
    process.stdout.write(
      `inserter pid ${inserter.pid} (SMPP ${smppPort}), api pid ${api.pid} (${apiUrl}); ${SECONDS} s per load; ` +
        `SMPP ${SESSIONS} sessions x window ${WINDOW}; HTTP single ${CONCURRENCY} connections; HTTP batch ${BATCH_CONCURRENCY} connections x ${BATCH} messages\n`,
    );

    // Warm-up of every path (JIT, pools, the login cache), not measured.
    await smppLoad(smppPort, 1);
    await httpLoad(apiUrl, CONCURRENCY, 1, 1);
    await httpLoad(apiUrl, BATCH_CONCURRENCY, BATCH, 1);

    const measure = async (label: string, server: ChildProcess, load: () => Promise<LoadResult>): Promise<LoadResult> => {
      const serverBefore = cpuSeconds(server.pid!);
      const standinBefore = standinPid ? cpuSeconds(standinPid) : 0;
      const clientBefore = process.cpuUsage();
      const r = await load();
      const clientUsage = process.cpuUsage(clientBefore);
      const per10k = (s: number) => ((s / Math.max(1, r.messages)) * 10_000).toFixed(2);
      process.stdout.write(
        `${label.padEnd(22)} ${Math.round(r.messages / r.seconds)
          .toLocaleString('en-US')
          .padStart(7)} messages/s ` +
          `(${r.messages} in ${r.seconds.toFixed(1)} s, ${r.failed} failed requests), ` +
          `latency per request p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms; ` +
          `CPU per 10,000 messages: server ${per10k(cpuSeconds(server.pid!) - serverBefore)} s, ` +
          `client ${per10k((clientUsage.user + clientUsage.system) / 1e6)} s${standinPid ? `, stand-in ${per10k(cpuSeconds(standinPid) - standinBefore)} s` : ''}\n`,
      );
      return r;
    };
    const smppResult = await measure('SMPP submit_sm', inserter, () => smppLoad(smppPort, SECONDS));
    const single = await measure('HTTP POST (single)', api, () => httpLoad(apiUrl, CONCURRENCY, 1, SECONDS));
    const batch = await measure(`HTTP POST (batch ${BATCH})`, api, () => httpLoad(apiUrl, BATCH_CONCURRENCY, BATCH, SECONDS));
    const rate = (r: LoadResult) => r.messages / r.seconds;
    process.stdout.write(
      `per message, relative to SMPP: HTTP single ${(rate(single) / rate(smppResult)).toFixed(2)}x, HTTP batch ${(rate(batch) / rate(smppResult)).toFixed(2)}x ` +
        `(load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')})\n`,
    );
    const stored = await db.collection('sms').estimatedDocumentCount();
    process.stdout.write(`stored: ${stored} messages in ${dbName}\n`);

    inserter.kill('SIGTERM');
    api.kill('SIGTERM');
    await Promise.all(
      [inserter, api].map((p) => Promise.race([new Promise((r) => p.once('exit', r)), new Promise((r) => setTimeout(r, 15_000))])),
    );
    await db.dropDatabase().catch(() => {});
    await client.close();
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

await main();
