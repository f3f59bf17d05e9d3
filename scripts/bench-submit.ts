/**
 * Submit throughput of the inserter, store-before-ack, end to end:
 *
 *   npm run bench:submit [-- --sessions 4 --window 100 --seconds 10 --uri URI --half]
 *
 * Starts the MongoDB stand-in (unless --uri or MONGODB_URI is given) and the inserter
 * (`workers/inserter.ts`, its own process), creates an account, binds N sessions that each keep
 * W submit_sm outstanding for a fixed time, and prints: accepted submit_sm/s, p50/p99 response
 * latency, MongoDB commands per stored message (the inserter's driver command monitoring), and
 * inserter CPU seconds per 10,000 messages (from /proc). With --half, a second run offers half
 * the measured rate (paced) and reports its latency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import smpp from 'smpp';
import { AccountStore } from '../src/accounts/account-store.ts';
import { connectSmpp } from '../src/smpp/client.ts';
import type { SmppSession } from '../src/smpp/session.ts';
import { ensureSchema } from '../src/store/collections.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '4' },
    window: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    uri: { type: 'string' },
    half: { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    'batch-wait-ms': { type: 'string' },
    // 'own' = src/smpp (connectSmpp), ~5x cheaper per PDU than the bare `smpp` package, so the
    // client does not eat the CPU the inserter and the database need on a small machine.
    client: { type: 'string', default: 'own' },
  },
});
const SESSIONS = Number(values.sessions);
const WINDOW = Number(values.window);
const SECONDS = Number(values.seconds);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function waitForLine(proc: ChildProcess, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready within 60 s:\n${out}`)), 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${out}`));
    });
  });
}

function cpuSeconds(pid: number): number {
  // /proc/PID/stat fields 14 and 15: utime and stime in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** What the load loops need from a bound session, whichever client library is under it. */
interface BenchSession {
  submit(dest: string, done: (ok: boolean) => void): void;
  unbind(): void;
  destroy(): void;
}

const TEXT = 'Benchmark message, about as long as a typical notification SMS.';
const TEXT_BYTES = Buffer.from(TEXT);

async function bindOwn(port: number): Promise<BenchSession> {
  const session: SmppSession = await connectSmpp({ host: '127.0.0.1', port, windowSize: WINDOW, responseTimeoutMs: 60_000 });
  session.on('error', () => {});
  await session.bind('transmitter', { systemId: 'bench', password: 'bench' });
  return {
    submit(dest, done) {
      session
        .submitSm({ source: { ton: 5, npi: 0, addr: 'BENCH' }, dest: { ton: 1, npi: 1, addr: dest }, shortMessage: TEXT_BYTES })
        .then(() => done(true), () => done(false));
    },
    unbind: () => void session.unbind().catch(() => {}),
    destroy: () => session.destroy('bench over'),
  };
}

async function bindLib(port: number): Promise<BenchSession> {
  const session = await bindSession(port);
  return {
    submit(dest, done) {
      const pdu = new smpp.PDU('submit_sm', {
        source_addr: 'BENCH',
        source_addr_ton: 5,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: dest,
        short_message: TEXT_BYTES,
      });
      session.send(pdu, (resp) => done(resp.command_status === 0));
    },
    unbind: () => session.send(new smpp.PDU('unbind', {})),
    destroy: () => session.destroy(),
  };
}

function bindSession(port: number): Promise<smpp.Session> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: '127.0.0.1', port }, () => {
      session.send(new smpp.PDU('bind_transmitter', { system_id: 'bench', password: 'bench' }), (resp) => {
        if (resp.command_status === 0) resolve(session);
        else reject(new Error(`bind failed: ${resp.command_status}`));
      });
    });
    session.on('error', reject);
  });
}

interface RunResult {
  accepted: number;
  rejected: number;
  seconds: number;
  latencies: number[];
}

/** Each session keeps `window` submits outstanding (or paces to `rate` per second overall). */
async function run(sessions: BenchSession[], seconds: number, rate?: number): Promise<RunResult> {
  const latencies: number[] = [];
  let accepted = 0;
  let rejected = 0;
  let seq = 0;
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const perLoopInterval = rate ? (sessions.length * WINDOW * 1000) / rate : 0;
  const loops = sessions.flatMap((session) =>
    Array.from({ length: WINDOW }, (_, k) =>
      new Promise<void>((resolve) => {
        let next = started + (perLoopInterval * k) / WINDOW;
        const sendOne = () => {
          const now = performance.now();
          if (now >= endAt) return resolve();
          if (rate && now < next) {
            setTimeout(sendOne, next - now);
            return;
          }
          next += perLoopInterval;
          const t0 = performance.now();
          session.submit(`4477009${String(seq++ % 100_000).padStart(5, '0')}`, (ok) => {
            if (ok) {
              accepted++;
              latencies.push(performance.now() - t0);
            } else rejected++;
            sendOne();
          });
        };
        sendOne();
      }),
    ),
  );
  await Promise.all(loops);
  return { accepted, rejected, seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

function report(label: string, r: RunResult): void {
  process.stdout.write(
    `${label}: accepted ${Math.round(r.accepted / r.seconds).toLocaleString('en-US')} submit_sm/s ` +
      `(${r.accepted} in ${r.seconds.toFixed(1)} s, ${r.rejected} rejected), ` +
      `latency p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms\n`,
  );
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    let uri = values.uri ?? process.env.MONGODB_URI;
    if (!uri) {
      const standin = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'standin/main.ts'), '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(standin);
      uri = (await waitForLine(standin, /mongodb:\/\/127\.0\.0\.1:\d+/, 'stand-in'))[0];
      process.stdout.write(`MongoDB: the stand-in at ${uri}\n`);
    } else {
      process.stdout.write('MongoDB: the configured URI\n');
    }
    const dbName = `bench_submit_${Date.now()}`;
    const client = new MongoClient(uri);
    await client.connect();
    const db = client.db(dbName);
    await ensureSchema(db);
    await new AccountStore(db).add({ systemId: 'bench', password: 'bench', maxBinds: 100 });

    const env: Record<string, string> = { ...(process.env as Record<string, string>), MONGODB_URI: uri, MONGODB_DB: dbName, SMPP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    if (values['batch-size']) env.INSERTER_BATCH_MAX_SIZE = values['batch-size'];
    if (values['batch-wait-ms']) env.INSERTER_BATCH_MAX_WAIT_MS = values['batch-wait-ms'];
    // BENCH_INSERTER_NODE_ARGS (e.g. "--cpu-prof") go to the inserter's node only.
    const nodeArgs = (process.env.BENCH_INSERTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const inserter = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(repoRoot, 'workers/inserter.ts'), '--smpp-port', '0', '--monitor-commands'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    children.push(inserter);
    const port = Number((await waitForLine(inserter, /inserter listening on [^\s:]+:(\d+)/, 'inserter'))[1]);
    const bind = values.client === 'smpp' ? bindLib : bindOwn;
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => bind(port)));
    process.stdout.write(`inserter pid ${inserter.pid} on port ${port}; ${SESSIONS} sessions x window ${WINDOW}, ${SECONDS} s, client ${values.client}\n`);

    await run(sessions, 1); // warm-up (JIT, pools)
    const standinPid = children.length > 1 ? children[0].pid : undefined;
    /** Runs `load` and reports it with the CPU each process spent per 10,000 accepted messages. */
    const measured = async (label: string, load: () => Promise<RunResult>): Promise<RunResult> => {
      const inserterBefore = cpuSeconds(inserter.pid!);
      const standinBefore = standinPid ? cpuSeconds(standinPid) : 0;
      const clientBefore = process.cpuUsage();
      const result = await load();
      const clientUsage = process.cpuUsage(clientBefore);
      const per10k = (seconds: number) => ((seconds / Math.max(1, result.accepted)) * 10_000).toFixed(2);
      report(label, result);
      process.stdout.write(
        `${label === 'full load' ? 'inserter CPU' : `${label}, inserter CPU`}: ${per10k(cpuSeconds(inserter.pid!) - inserterBefore)} s per 10,000 messages ` +
          `(bench client ${per10k((clientUsage.user + clientUsage.system) / 1e6)} s` +
          `${standinPid ? `, stand-in ${per10k(cpuSeconds(standinPid) - standinBefore)} s` : ''}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`,
      );
      return result;
    };
    const full = await measured('full load', () => run(sessions, SECONDS));
    if (values.half) await measured('half load', () => run(sessions, SECONDS, full.accepted / full.seconds / 2));

    for (const s of sessions) s.unbind();
    const statsLine = waitForLine(inserter, /inserter stats (\{.*\})/, 'inserter stats');
    inserter.kill('SIGTERM');
    const stats = JSON.parse((await statsLine)[1]) as {
      documents: number;
      batches: number;
      mongoCommands: number;
      events: number;
      batchMs?: number;
      maxInFlight?: number;
      byCommand?: Record<string, number>;
    };
    process.stdout.write(
      `MongoDB: ${stats.mongoCommands} commands for ${stats.documents} stored messages = ${(stats.mongoCommands / Math.max(1, stats.documents)).toFixed(3)} per message ` +
        `(${stats.batches} insertMany batches, avg ${(stats.documents / Math.max(1, stats.batches)).toFixed(1)} docs, ` +
        `avg round trip ${((stats.batchMs ?? NaN) / Math.max(1, stats.batches)).toFixed(1)} ms, up to ${stats.maxInFlight ?? '?'} in flight, ${stats.events} events)\n` +
        `MongoDB commands by kind: ${JSON.stringify(stats.byCommand ?? {})}\n`,
    );
    for (const s of sessions) s.destroy();
    await Promise.race([new Promise((r) => inserter.once('exit', r)), new Promise((r) => setTimeout(r, 15_000))]);
    await db.dropDatabase().catch(() => {});
    await client.close();
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

await main();
