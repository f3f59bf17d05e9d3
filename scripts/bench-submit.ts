/**
 * Submit throughput and latency of the inserter, store-before-ack, end to end:
 *
 *   npm run bench:submit [-- --sessions 4 --window 100 --seconds 10 --uri URI --half --client own|smpp]
 *   npm run bench:submit -- --bare [--matrix 1x1,1x50,4x100 --client smpp --seconds 5 --baseline REF]
 *
 * Starts the MongoDB stand-in (unless --uri or MONGODB_URI is given) and the inserter (the compiled
 * `smsc inserter`, its own process), creates an account, binds N sessions that each keep W
 * submit_sm outstanding for a fixed time, and prints: accepted submit_sm/s, p50/p99 response
 * latency, MongoDB commands per stored message (the inserter's driver command monitoring), and CPU
 * seconds per 10,000 messages of the inserter, the stand-in and this client (from /proc). With
 * --half, a second run offers half the measured rate (paced) and reports its latency.
 *
 * --bare: for each sessions x window of --matrix, the same client against a bare node-smpp server
 * that stores nothing (scripts/bare-smpp-server.mjs, its own process) and against the inserter,
 * one after the other in the same run; prints both rates and latencies side by side. With
 * --baseline REF, the inserter of that commit too (a git worktree, see scripts/bench/trees.ts), on
 * the same stand-in, in the same run.
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { AccountStore } from '../src/accounts/account-store.ts';
import { ensureSchema } from '../src/store/collections.ts';
import { bindSession, drive, type BenchSession, type ClientKind, type LoadResult } from './bench/esme.ts';
import { cpuSeconds, machineLoad, ownCpuSeconds, percentile, spawnNode, stop, waitForLine } from './bench/processes.ts';
import { baselineTree, currentRoot, currentTree, type Tree } from './bench/trees.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '4' },
    window: { type: 'string', default: '100' },
    seconds: { type: 'string' },
    uri: { type: 'string' },
    half: { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    'batch-wait-ms': { type: 'string' },
    // 'own' = src/smpp (connectSmpp), ~5x cheaper per PDU than the bare `smpp` package, so the
    // client does not eat the CPU the inserter and the database need on a small machine.
    // --bare compares with the `smpp` package by default, as ESMEs built on it see the difference.
    client: { type: 'string' },
    bare: { type: 'boolean', default: false },
    matrix: { type: 'string', default: '1x1,1x50,4x100' },
    baseline: { type: 'string' },
    'keep-baseline': { type: 'boolean', default: false },
  },
});
const BARE = values.bare;
const CLIENT = (values.client ?? (BARE ? 'smpp' : 'own')) as ClientKind;
const SECONDS = Number(values.seconds ?? (BARE ? 5 : 10));
const TEXT = Buffer.from('Benchmark message, about as long as a typical notification SMS.');
const print = (line: string) => process.stdout.write(`${line}\n`);

let seq = 0;
/** Submits to rotating destinations until `seconds` have passed. */
function timed(sessions: BenchSession[], window: number, seconds: number, rate?: number): Promise<LoadResult> {
  const endAt = performance.now() + seconds * 1000;
  return drive(sessions, {
    window,
    rate,
    next: () => (performance.now() < endAt ? { dest: `4477009${String(seq++ % 100_000).padStart(5, '0')}`, text: TEXT } : undefined),
  });
}

function describe(label: string, r: LoadResult): string {
  return (
    `${label}: accepted ${Math.round(r.accepted / r.seconds).toLocaleString('en-US')} submit_sm/s ` +
    `(${r.accepted} in ${r.seconds.toFixed(1)} s, ${r.rejected} rejected), ` +
    `latency p50 ${percentile(r.latencies, 50).toFixed(2)} ms, p99 ${percentile(r.latencies, 99).toFixed(2)} ms`
  );
}

interface Measured {
  result: LoadResult;
  /** CPU seconds per 10,000 accepted messages, by process. */
  cpuPer10k: Record<string, number>;
}

/** Runs `load` and the CPU each named process spent meanwhile. */
async function measure(pids: Record<string, number | undefined>, load: () => Promise<LoadResult>): Promise<Measured> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const clientBefore = ownCpuSeconds();
  const result = await load();
  const per10k = (seconds: number) => (seconds / Math.max(1, result.accepted)) * 10_000;
  const cpuPer10k: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) cpuPer10k[name] = per10k(cpuSeconds(pid) - before[name]);
  cpuPer10k['bench client'] = per10k(ownCpuSeconds() - clientBefore);
  return { result, cpuPer10k };
}

function cpuLine(m: Measured): string {
  return Object.entries(m.cpuPer10k)
    .filter(([, v]) => Number.isFinite(v))
    .map(([name, v]) => `${name} ${v.toFixed(2)} s`)
    .join(', ');
}

async function startInserter(tree: Tree, env: NodeJS.ProcessEnv, nodeArgs: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawnNode(tree.smsc(['inserter', '--smpp-port', '0', '--monitor-commands']), { cwd: tree.root, env, nodeArgs });
  const port = Number((await waitForLine(proc, /inserter listening on [^\s:]+:(\d+)/, `inserter (${tree.label})`))[1]);
  return { proc, port };
}

/** `smsc <args>` from `tree`, to completion; throws with its output when it fails. */
async function runToEnd(tree: Tree, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const proc = spawnNode(tree.smsc(args), { cwd: tree.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`smsc ${args.join(' ')} (${tree.label}) exited ${code}:\n${out}`);
}

async function main(): Promise<void> {
  const tree = currentTree();
  const children: ChildProcess[] = [];
  const cleanups: (() => void)[] = [];
  try {
    let uri = values.uri ?? process.env.MONGODB_URI;
    let standinPid: number | undefined;
    if (!uri) {
      const standin = spawnNode(tree.standin(['--port', '0']), { cwd: currentRoot });
      children.push(standin);
      uri = (await waitForLine(standin, /mongodb:\/\/127\.0\.0\.1:\d+/, 'stand-in'))[0];
      standinPid = standin.pid;
      print(`MongoDB: the stand-in at ${uri}`);
    } else {
      print('MongoDB: the configured URI');
    }
    const dbName = `bench_submit_${Date.now()}`;
    const client = new MongoClient(uri);
    await client.connect();
    const db = client.db(dbName);
    await ensureSchema(db);
    await new AccountStore(db).add({ systemId: 'bench', password: 'bench', maxBinds: 1000 });

    const env: NodeJS.ProcessEnv = { ...process.env, MONGODB_URI: uri, MONGODB_DB: dbName, SMPP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    if (values['batch-size']) env.INSERTER_BATCH_MAX_SIZE = values['batch-size'];
    if (values['batch-wait-ms']) env.INSERTER_BATCH_MAX_WAIT_MS = values['batch-wait-ms'];
    // BENCH_INSERTER_NODE_ARGS (e.g. "--cpu-prof") go to the inserter's node only.
    const nodeArgs = (process.env.BENCH_INSERTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const started = await startInserter(tree, env, nodeArgs);
    const inserter = started.proc;
    const port = started.port;
    children.push(inserter);
    const pids = { inserter: inserter.pid, ...(standinPid ? { 'stand-in': standinPid } : {}) };

    if (BARE) {
      const bare = spawnNode(['scripts/bare-smpp-server.mjs', '--port', '0'], { cwd: currentRoot });
      children.push(bare);
      const barePort = Number((await waitForLine(bare, /listening on [^\s:]+:(\d+)/, 'bare server'))[1]);
      const targets: { name: string; port: number; pids: Record<string, number | undefined> }[] = [
        { name: 'bare SMPP server', port: barePort, pids: { 'bare server': bare.pid } },
        { name: 'smsc inserter', port, pids },
      ];
      const baseline = values.baseline ? baselineTree(values.baseline, { install: 'link', log: print }) : undefined;
      if (baseline) {
        // A database of its own: another version may declare the same indexes with other options.
        const baselineEnv = { ...env, MONGODB_DB: `${dbName}_baseline` };
        await runToEnd(baseline, ['account', 'add', '--system-id', 'bench', '--password', 'bench', '--max-binds', '1000'], baselineEnv);
        const old = await startInserter(baseline, baselineEnv, []);
        children.push(old.proc);
        targets.push({
          name: `inserter ${baseline.label}`,
          port: old.port,
          pids: { inserter: old.proc.pid, ...(standinPid ? { 'stand-in': standinPid } : {}) },
        });
        if (!values['keep-baseline']) cleanups.push(() => baseline.remove());
      }
      print(
        `client ${CLIENT}; ${SECONDS} s per measurement after 1 s of warm-up; inserter pid ${inserter.pid}, bare server pid ${bare.pid}; ${machineLoad()}`,
      );
      const rows: string[] = [];
      for (const cell of values.matrix.split(',')) {
        const [sessionCount, window] = cell.split('x').map(Number);
        const results: Measured[] = [];
        for (const target of targets) {
          // Every measurement starts on an empty `sms`: hundreds of thousands of stored messages
          // from earlier cells made the stand-in's garbage collection stall whichever came later.
          await Promise.all(
            [db, ...(values.baseline ? [client.db(`${dbName}_baseline`)] : [])].map((d) => d.collection('sms').deleteMany({})),
          );
          const sessions = await Promise.all(
            Array.from({ length: sessionCount }, () =>
              bindSession(CLIENT, { port: target.port, systemId: 'bench', password: 'bench', window }),
            ),
          );
          await timed(sessions, window, 1);
          const measured = await measure(target.pids, () => timed(sessions, window, SECONDS));
          await Promise.all(sessions.map((s) => s.close()));
          results.push(measured);
          print(`${sessionCount} x ${window} ${describe(target.name, measured.result)}; CPU per 10,000: ${cpuLine(measured)}`);
        }
        const rate = (m: Measured) => Math.round(m.result.accepted / m.result.seconds);
        const p50 = (m: Measured) => `${percentile(m.result.latencies, 50).toFixed(2)} ms`;
        rows.push(
          `| ${sessionCount} × ${window} | ${results.map((m) => `${rate(m).toLocaleString('en-US')}/s, p50 ${p50(m)}`).join(' | ')} | ${results
            .slice(1)
            .map((m) => (rate(m) / rate(results[0])).toFixed(2))
            .join(' | ')} |`,
        );
      }
      print('');
      print(
        `| session × window | ${targets.map((t) => t.name).join(' | ')} | ${targets
          .slice(1)
          .map((t) => `${t.name} / bare`)
          .join(' | ')} |`,
      );
      print(
        `|---|${targets.map(() => '---|').join('')}${targets
          .slice(1)
          .map(() => '---|')
          .join('')}`,
      );
      for (const row of rows) print(row);
      print(machineLoad());
    } else {
      const window = Number(values.window);
      const sessions = await Promise.all(
        Array.from({ length: Number(values.sessions) }, () => bindSession(CLIENT, { port, systemId: 'bench', password: 'bench', window })),
      );
      print(`inserter pid ${inserter.pid} on port ${port}; ${values.sessions} sessions x window ${window}, ${SECONDS} s, client ${CLIENT}`);
      await timed(sessions, window, 1); // warm-up (JIT, pools)
      const full = await measure(pids, () => timed(sessions, window, SECONDS));
      print(describe('full load', full.result));
      print(`CPU per 10,000 messages: ${cpuLine(full)}; ${machineLoad()}`);
      if (values.half) {
        const half = await measure(pids, () => timed(sessions, window, SECONDS, full.result.accepted / full.result.seconds / 2));
        print(describe('half load', half.result));
        print(`half load, CPU per 10,000 messages: ${cpuLine(half)}; ${machineLoad()}`);
      }
      await Promise.all(sessions.map((s) => s.close()));
    }

    const statsLine = waitForLine(inserter, /inserter stats (\{.*\})/, 'inserter stats', 30_000);
    await stop(inserter);
    const stats = JSON.parse((await statsLine)[1]) as {
      documents: number;
      batches: number;
      mongoCommands: number;
      events: number;
      batchMs?: number;
      maxInFlight?: number;
      byCommand?: Record<string, number>;
    };
    print(
      `MongoDB: ${stats.mongoCommands} commands for ${stats.documents} stored messages = ${(stats.mongoCommands / Math.max(1, stats.documents)).toFixed(3)} per message ` +
        `(${stats.batches} insertMany batches, avg ${(stats.documents / Math.max(1, stats.batches)).toFixed(1)} docs, ` +
        `avg round trip ${((stats.batchMs ?? NaN) / Math.max(1, stats.batches)).toFixed(2)} ms, up to ${stats.maxInFlight ?? '?'} in flight, ${stats.events} events)`,
    );
    print(`MongoDB commands by kind: ${JSON.stringify(stats.byCommand ?? {})}`);
    await db.dropDatabase().catch(() => {});
    if (values.baseline)
      await client
        .db(`${dbName}_baseline`)
        .dropDatabase()
        .catch(() => {});
    await client.close();
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const cleanup of cleanups) cleanup();
  }
}

await main();
