/**
 * The whole relay as users run it, end to end:
 *
 *   npm run bench:e2e [-- --messages 20000 --dests 1000 --sessions 1 --window 100 --deliverers 2
 *                        --baseline REF --rounds 1 --profile DIR]
 *
 * Starts a MongoDB stand-in (or uses --uri / MONGODB_URI), `smsc sink` (the downstream), one
 * `smsc inserter` and D `smsc deliverer` processes; creates an account, a connector to the sink and
 * a default route with the smsc CLI; then S ESME sessions with window W submit N messages over
 * `--dests` destinations while the deliverers deliver them. Prints acked/s, end-to-end
 * delivered/s (first submit -> last message at the sink), p50/p99 from submit to arrival at the
 * sink, MongoDB commands per message (the inserter's and deliverers' driver command monitoring,
 * start-up included), and CPU per message of every process (from /proc over the measured run).
 *
 * --baseline REF runs the same load on another commit too (a git worktree under the temp
 * directory, node_modules linked to this tree's unless --baseline-install ci; built when it has
 * a build), alternating the order each round, and prints current / baseline. The sink and the
 * bench client are always this tree's (the same downstream and the same ESMEs for both); the
 * stand-in is each tree's own unless --standin current.
 *
 * --profile DIR writes V8 CPU profiles (--cpu-prof) of this tree's inserter, deliverers, stand-in
 * and sink into DIR (written when they exit).
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { bindSession, drive, type ClientKind } from './bench/esme.ts';
import { cpuSeconds, freePort, machineLoad, ownCpuSeconds, percentile, sleep, spawnNode, stop, waitForLine } from './bench/processes.ts';
import { baselineTree, currentTree, type Tree } from './bench/trees.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    dests: { type: 'string', default: '1000' },
    sessions: { type: 'string', default: '1' },
    window: { type: 'string', default: '100' },
    deliverers: { type: 'string', default: '2' },
    /** Messages sent and delivered before the measured run (JIT warm-up, connections, bound connectors). */
    warmup: { type: 'string', default: '2000' },
    /** Outstanding submits per deliverer connector session (default: the connector default). */
    'connector-window': { type: 'string' },
    client: { type: 'string', default: 'own' },
    uri: { type: 'string' },
    baseline: { type: 'string' },
    'baseline-install': { type: 'string', default: 'link' },
    'keep-baseline': { type: 'boolean', default: false },
    standin: { type: 'string', default: 'own' },
    rounds: { type: 'string', default: '1' },
    profile: { type: 'string' },
    /**
     * 'count' (default): the inserter and deliverers count their MongoDB commands (the driver's
     * command monitoring, which also decodes every reply once more: a few % of their CPU);
     * 'off': no count, CPU figures without that overhead.
     */
    commands: { type: 'string', default: 'count' },
    /** Give up waiting for deliveries after this long without progress. */
    'stall-seconds': { type: 'string', default: '60' },
  },
});
const MESSAGES = Number(values.messages);
const DESTS = Number(values.dests);
const SESSIONS = Number(values.sessions);
const WINDOW = Number(values.window);
const DELIVERERS = Number(values.deliverers);
const WARMUP = Number(values.warmup);
const CLIENT = values.client as ClientKind;
const STALL_MS = Number(values['stall-seconds']) * 1000;
const print = (line: string) => process.stdout.write(`${line}\n`);
const COUNT_COMMANDS = values.commands !== 'off';
const monitor = COUNT_COMMANDS ? ['--monitor-commands'] : [];

interface RunResult {
  label: string;
  delivered: number;
  ackedPerSecond: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  commandsPerMessage: number;
  /** Commands by kind per message (inserter + deliverers). */
  byCommand: Record<string, number>;
  /** µs of CPU per measured message, by process. */
  cpu: Record<string, number>;
}

/** `smsc sink --print` writes a JSON line per message into a file; this follows it. */
class SinkLog {
  readonly file: string;
  #offset = 0;
  #lines = 0;
  #partial = '';

  constructor(dir: string) {
    this.file = path.join(dir, 'sink.jsonl');
  }

  /** Messages the sink accepted so far (reads only what was appended since the last call). */
  count(): number {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return 0;
    }
    if (size > this.#offset) {
      const fd = openSync(this.file, 'r');
      const buffer = Buffer.alloc(size - this.#offset);
      readSync(fd, buffer, 0, buffer.length, this.#offset);
      closeSync(fd);
      this.#offset = size;
      const text = this.#partial + buffer.toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"event":"message"') && line.includes('"status":0')) this.#lines++;
    }
    return this.#lines;
  }

  /** First arrival time (ms) of each message, by the text the bench sent. */
  arrivals(): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.includes('"event":"message"')) continue;
      const m = JSON.parse(line) as { text: string | null; arrivedAt: string; status: number };
      if (m.status !== 0 || m.text === null || out.has(m.text)) continue;
      out.set(m.text, Date.parse(m.arrivedAt));
    }
    return out;
  }
}

async function waitForDeliveries(log: SinkLog, target: number): Promise<number> {
  let seen = log.count();
  let lastProgress = Date.now();
  while (seen < target) {
    await sleep(100);
    const now = log.count();
    if (now > seen) lastProgress = Date.now();
    else if (Date.now() - lastProgress > STALL_MS) break;
    seen = now;
  }
  return seen;
}

/** Runs `smsc <args>` from `tree` to completion (setup commands); throws with its output on failure. */
async function smscOnce(tree: Tree, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const proc = spawnNode(tree.smsc(args), { cwd: tree.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`smsc ${args.join(' ')} (${tree.label}) exited ${code}:\n${out}`);
}

async function runOnce(tree: Tree, standinTree: Tree, current: Tree, profileDir: string | undefined): Promise<RunResult> {
  const children: ChildProcess[] = [];
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'smsc-bench-e2e-'));
  const profileArgs = (name: string) => {
    if (!profileDir) return [];
    const dir = path.join(profileDir, name);
    mkdirSync(dir, { recursive: true });
    return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  };
  try {
    let uri = values.uri ?? process.env.MONGODB_URI;
    let standin: ChildProcess | undefined;
    if (!uri) {
      standin = spawnNode(standinTree.standin(['--port', '0']), { cwd: standinTree.root, nodeArgs: profileArgs('stand-in') });
      children.push(standin);
      uri = (await waitForLine(standin, /mongodb:\/\/127\.0\.0\.1:\d+/, 'stand-in'))[0];
    }
    const dbName = `bench_e2e_${Date.now()}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MONGODB_URI: uri,
      MONGODB_DB: dbName,
      SMPP_HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      LOG_FORMAT: 'json',
      REDIS_URL: '',
    };

    // The downstream: this tree's sink for every run, a JSON line per message into a file.
    const sinkLog = new SinkLog(workDir);
    const sinkPort = await freePort();
    const sinkOut = openSync(sinkLog.file, 'w');
    const sink = spawnNode(current.smsc(['sink', '--port', String(sinkPort), '--host', '127.0.0.1', '--print']), {
      cwd: current.root,
      env,
      nodeArgs: profileArgs('sink'),
      stdio: ['ignore', sinkOut, 'inherit'],
    });
    closeSync(sinkOut);
    children.push(sink);
    const listening = Date.now();
    while (!readFileSync(sinkLog.file, 'utf8').includes('"event":"listening"')) {
      if (sink.exitCode !== null || Date.now() - listening > 60_000) throw new Error('smsc sink did not start');
      await sleep(50);
    }

    await smscOnce(tree, ['account', 'add', '--system-id', 'bench', '--password', 'bench', '--max-binds', '100'], env);
    const window = values['connector-window'] ? ['--window', values['connector-window']] : [];
    await smscOnce(
      tree,
      [
        'connector',
        'add',
        '--name',
        'sink',
        '--host',
        '127.0.0.1',
        '--port',
        String(sinkPort),
        '--system-id',
        'bench',
        '--password',
        'pw',
        ...window,
      ],
      env,
    );
    await smscOnce(tree, ['route', 'add', '--prefix', '', '--connector', 'sink'], env);

    const inserter = spawnNode(tree.smsc(['inserter', '--smpp-port', '0', ...monitor]), {
      cwd: tree.root,
      env,
      nodeArgs: profileArgs('inserter'),
    });
    children.push(inserter);
    const deliverers = Array.from({ length: DELIVERERS }, (_, i) => {
      const proc = spawnNode(tree.smsc(['deliverer', ...monitor]), { cwd: tree.root, env, nodeArgs: profileArgs(`deliverer-${i + 1}`) });
      children.push(proc);
      return proc;
    });
    const port = Number((await waitForLine(inserter, /inserter listening on [^\s:]+:(\d+)/, 'inserter'))[1]);
    await Promise.all(deliverers.map((d, i) => waitForLine(d, /deliverer ready/, `deliverer ${i + 1}`)));
    // Collected as they come (a deliverer prints its stats at exit).
    const statsOf = (proc: ChildProcess, pattern: RegExp, what: string) =>
      waitForLine(proc, pattern, what, 3_600_000).then(
        (m) => JSON.parse(m[1]) as { mongoCommands?: number; byCommand?: Record<string, number> },
      );
    const inserterStats = statsOf(inserter, /inserter stats (\{.*\})/, 'inserter stats');
    const delivererStats = deliverers.map((d, i) => statsOf(d, /deliverer stats (\{.*\})/, `deliverer ${i + 1} stats`));
    inserterStats.catch(() => {});
    for (const s of delivererStats) s.catch(() => {});

    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, () => bindSession(CLIENT, { port, systemId: 'bench', password: 'bench', window: WINDOW })),
    );
    const destOf = (i: number) => `4917${String(i % DESTS).padStart(8, '0')}`;

    // Warm-up: sent and delivered before anything is measured.
    let w = 0;
    await drive(sessions, {
      window: WINDOW,
      next: () => (w < WARMUP ? { dest: destOf(w), text: Buffer.from(`warmup ${w++}`) } : undefined),
    });
    if ((await waitForDeliveries(sinkLog, WARMUP)) < WARMUP) throw new Error(`${tree.label}: the warm-up messages were not all delivered`);

    const pids: Record<string, number | undefined> = { inserter: inserter.pid };
    deliverers.forEach((d, i) => (pids[`deliverer-${i + 1}`] = d.pid));
    if (standin) pids['stand-in'] = standin.pid;
    pids.sink = sink.pid;
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const clientBefore = ownCpuSeconds();
    const submittedAt = new Array<number>(MESSAGES);
    let lastAckAt = 0;
    let i = 0;
    const startedAt = Date.now();
    const load = await drive(sessions, {
      window: WINDOW,
      next: () => {
        if (i >= MESSAGES) return undefined;
        const n = i++;
        submittedAt[n] = Date.now();
        return { dest: destOf(n), text: Buffer.from(`e2e ${n}`), onAck: () => (lastAckAt = Date.now()) };
      },
    });
    const seen = await waitForDeliveries(sinkLog, WARMUP + MESSAGES);
    const cpu: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) cpu[k] = ((cpuSeconds(pid) - cpuBefore[k]) * 1e6) / MESSAGES;
    cpu['bench client'] = ((ownCpuSeconds() - clientBefore) * 1e6) / MESSAGES;

    await Promise.all(sessions.map((s) => s.close()));
    await Promise.all([inserter, ...deliverers].map((p) => stop(p)));
    // Without the count the inserter prints no stats line at exit.
    const allStats = COUNT_COMMANDS ? [await inserterStats, ...(await Promise.all(delivererStats))] : [];
    const commands = COUNT_COMMANDS ? allStats.reduce((n, s) => n + (s.mongoCommands ?? 0), 0) : NaN;
    const byCommand: Record<string, number> = {};
    for (const stats of allStats)
      for (const [kind, n] of Object.entries(stats.byCommand ?? {})) byCommand[kind] = (byCommand[kind] ?? 0) + n / (WARMUP + MESSAGES);
    await stop(sink);
    if (standin) await stop(standin);
    else await dropDatabase(uri, dbName);

    const arrivals = sinkLog.arrivals();
    const latencies: number[] = [];
    let lastArrival = 0;
    for (let n = 0; n < MESSAGES; n++) {
      const at = arrivals.get(`e2e ${n}`);
      if (at === undefined) continue;
      latencies.push(at - submittedAt[n]);
      if (at > lastArrival) lastArrival = at;
    }
    latencies.sort((a, b) => a - b);
    if (seen < WARMUP + MESSAGES || load.rejected > 0)
      print(`  ${tree.label}: ${load.rejected} submits rejected; ${latencies.length} of ${MESSAGES} delivered before giving up`);
    return {
      label: tree.label,
      delivered: latencies.length,
      ackedPerSecond: load.accepted / (Math.max(1, lastAckAt - startedAt) / 1000),
      deliveredPerSecond: latencies.length / (Math.max(1, lastArrival - startedAt) / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      commandsPerMessage: commands / (WARMUP + MESSAGES),
      byCommand,
      cpu,
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A configured MongoDB keeps nothing of the run. */
async function dropDatabase(uri: string, dbName: string): Promise<void> {
  const client = new MongoClient(uri);
  try {
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
  }
}

function report(r: RunResult): void {
  const total = Object.values(r.cpu).reduce((a, b) => a + b, 0);
  print(`${r.label}:`);
  print(
    `  acked ${Math.round(r.ackedPerSecond).toLocaleString('en-US')}/s; delivered end to end ${Math.round(r.deliveredPerSecond).toLocaleString('en-US')}/s; submit -> sink p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms`,
  );
  if (COUNT_COMMANDS) {
    print(`  MongoDB commands per message ${r.commandsPerMessage.toFixed(2)} (inserter + deliverers, start-up and warm-up included)`);
    const kinds = Object.entries(r.byCommand)
      .filter(([, n]) => n >= 0.005)
      .sort((a, b) => b[1] - a[1]);
    print(`    by kind: ${kinds.map(([k, n]) => `${k} ${n.toFixed(2)}`).join(', ')}`);
  }
  print(
    `  CPU per message: ${Object.entries(r.cpu)
      .map(([k, v]) => `${k} ${v.toFixed(0)} µs`)
      .join(', ')}; total ${total.toFixed(0)} µs`,
  );
  print(`  ${machineLoad()}`);
}

function ratioLine(current: RunResult, baseline: RunResult): string {
  const cpuTotal = (r: RunResult) => Object.values(r.cpu).reduce((a, b) => a + b, 0);
  return (
    `current / baseline: acked/s ${(current.ackedPerSecond / baseline.ackedPerSecond).toFixed(2)}, ` +
    `delivered/s ${(current.deliveredPerSecond / baseline.deliveredPerSecond).toFixed(2)}, ` +
    `p50 ${(current.p50 / baseline.p50).toFixed(2)}, p99 ${(current.p99 / baseline.p99).toFixed(2)}, ` +
    `commands per message ${(current.commandsPerMessage / baseline.commandsPerMessage).toFixed(2)}, CPU per message ${(cpuTotal(current) / cpuTotal(baseline)).toFixed(2)}; ` +
    // The sink and the bench client run the same code in both runs: how far their CPU per message
    // differs shows how much the machine's state (other load) moved between the two runs.
    `same code in both (noise): sink CPU ${(current.cpu.sink / baseline.cpu.sink).toFixed(2)}, bench client CPU ${(current.cpu['bench client'] / baseline.cpu['bench client']).toFixed(2)}`
  );
}

async function main(): Promise<void> {
  const current = currentTree();
  const baseline = values.baseline
    ? baselineTree(values.baseline, { install: values['baseline-install'] === 'ci' ? 'ci' : 'link', log: print })
    : undefined;
  try {
    print(
      `bench:e2e: ${MESSAGES.toLocaleString('en-US')} messages (after ${WARMUP.toLocaleString('en-US')} of warm-up) over ${DESTS.toLocaleString('en-US')} destinations, ` +
        `${SESSIONS} session(s) x window ${WINDOW} (client ${CLIENT}), ${DELIVERERS} deliverers, sink latency 0; ` +
        `${(values.uri ?? process.env.MONGODB_URI) ? 'MongoDB at the configured URI' : `stand-in: ${values.standin === 'current' ? "this tree's" : "each tree's own"}`}; ${os.cpus().length} cores, ${machineLoad()}`,
    );
    const rounds = Number(values.rounds);
    const pairs: [RunResult, RunResult | undefined][] = [];
    for (let round = 0; round < rounds; round++) {
      const order = baseline ? (round % 2 === 0 ? [current, baseline] : [baseline, current]) : [current];
      const results = new Map<Tree, RunResult>();
      for (const tree of order) {
        const result = await runOnce(
          tree,
          values.standin === 'current' ? current : tree,
          current,
          tree === current ? values.profile : undefined,
        );
        results.set(tree, result);
        report(result);
      }
      const pair: [RunResult, RunResult | undefined] = [results.get(current)!, baseline ? results.get(baseline) : undefined];
      pairs.push(pair);
      if (pair[1]) print(ratioLine(pair[0], pair[1]));
    }
    if (baseline && rounds > 1) {
      const ratios = pairs.map(([c, b]) => c.deliveredPerSecond / b!.deliveredPerSecond).sort((a, b) => a - b);
      const median = (xs: number[]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      };
      const acked = pairs.map(([c, b]) => c.ackedPerSecond / b!.ackedPerSecond);
      print(
        `over ${rounds} rounds, current / baseline: delivered/s ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}); acked/s ${acked.map((r) => r.toFixed(2)).join(', ')} (median ${median(acked).toFixed(2)})`,
      );
    }
  } finally {
    if (baseline && !values['keep-baseline']) baseline.remove();
  }
}

await main();
