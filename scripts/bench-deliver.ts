/**
 * Delivery throughput, end to end:
 *
 *   npm run bench:deliver [-- --messages 20000 --per-dest 4,1 --workers 1,2,4 --lanes 32 --uri URI --profile DIR]
 *
 * Starts the MongoDB stand-in (unless --uri or MONGODB_URI is given) and a sink with zero
 * latency, then for each worker count: fills `sms` with N messages (`--per-dest` messages per
 * destination; 1 = every message to its own destination), starts that many deliverer processes
 * (the compiled `smsc deliverer`), waits until every message is `submitted`, and prints delivered
 * messages/s and MongoDB commands per delivered message (the deliverers' driver command
 * monitoring, printed at exit).
 */
import { type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startSink } from '../src/sink/sink.ts';
import { Collections, ensureSchema } from '../src/store/collections.ts';
import { validateConnector } from '../src/connectors/connector-document.ts';
import { spawnNode } from './bench/processes.ts';
import { queuedSeries } from './bench/queued-sms.ts';
import { currentTree } from './bench/trees.ts';

const { values } = parseArgs({
  options: {
    // Enough for a steady state: with 4000, a 4-worker run lasted about 1.5 s, much of it in each
    // process's JIT warm-up (per-dest 1, 4 workers: 1,483/s at 8,000 messages, 2,320/s at 40,000).
    messages: { type: 'string', default: '20000' },
    'per-dest': { type: 'string', default: '4,1' },
    workers: { type: 'string', default: '1,2,4' },
    // Each lane is a destination in flight; with zero latency the deliverer is CPU-bound, and more
    // lanes mean bigger group commits and more replies per event-loop wake (8 -> 32 lanes on this
    // 2-core VM: 1.27 -> 1.11 commands and 1.6 -> 1.4 ms CPU per message, 645 -> 814 msg/s).
    lanes: { type: 'string', default: '32' },
    uri: { type: 'string' },
    /** Writes a V8 CPU profile of every deliverer into this directory (`--cpu-prof-dir`). */
    profile: { type: 'string' },
    /** With --uri: the server's pid, to report its CPU per message too. */
    'server-pid': { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const PER_DEST = String(values['per-dest']).split(',').map(Number);
const WORKERS = String(values.workers).split(',').map(Number);
const tree = currentTree();
const children: ChildProcess[] = [];
const profileArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];

function waitForLine(proc: ChildProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no ${pattern} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${what} exited (${code}):\n${out}`)));
  });
}

/** User+system CPU seconds of a process (Linux /proc); NaN when unknown. */
function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat (12 and 13 after the command name).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

let standinPid = values['server-pid'] ? Number(values['server-pid']) : undefined;

async function main(): Promise<void> {
  let uri = values.uri ?? process.env.MONGODB_URI;
  let server = 'MONGODB_URI';
  if (!uri) {
    const standin = spawnNode(tree.standin(['--port', '0']), { cwd: tree.root });
    children.push(standin);
    uri = (await waitForLine(standin, /mongodb:\/\/127\.0\.0\.1:\d+/, 'stand-in'))[0];
    server = 'the stand-in';
    standinPid = standin.pid;
  }
  const sink = await startSink({ port: 0, latencyMs: 0, recordLimit: 10 });
  const client = new MongoClient(uri);
  await client.connect();
  console.log(`bench:deliver against ${server}; ${MESSAGES} messages per run; sink latency 0`);
  const rows: string[] = [];
  for (const perDest of PER_DEST) {
    for (const workers of WORKERS) {
      const dbName = `bench_deliver_${perDest}_${workers}_${Date.now()}`;
      const db = client.db(dbName);
      await ensureSchema(db);
      await db.collection(Collections.connectors).insertOne({
        ...validateConnector({ name: 'sink', host: '127.0.0.1', port: sink.port, systemId: 'bench', password: 'pw', window: 100 }),
      });
      await db.collection(Collections.routes).insertOne({ prefix: '', connectors: ['sink'], priority: 0, weight: 1, enabled: true });
      const start = new Date();
      const docs = Array.from({ length: Math.ceil(MESSAGES / perDest) }, (_, i) =>
        queuedSeries(`4915${String(i).padStart(8, '0')}`, perDest, start),
      )
        .flat()
        .slice(0, MESSAGES);
      for (let i = 0; i < docs.length; i += 2000) await db.collection(Collections.sms).insertMany(docs.slice(i, i + 2000));
      const procs = Array.from({ length: workers }, () =>
        spawnNode(tree.smsc(['deliverer', '--mongodb-uri', uri!, '--db', dbName, '--lanes', String(values.lanes), '--monitor-commands']), {
          cwd: tree.root,
          nodeArgs: profileArgs,
          env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
        }),
      );
      children.push(...procs);
      await Promise.all(procs.map((p, i) => waitForLine(p, /deliverer ready/, `deliverer ${i}`)));
      const began = performance.now();
      const serverCpuBefore = cpuSecondsOf(standinPid);
      // This process: the sink (answering every submit_sm) plus the completion poll.
      const benchCpuBefore = process.cpuUsage();
      const beganAt = Date.now();
      // One indexed lookup per poll (a count would scan the collection and load the server being
      // measured), and rarely: the end is read afterwards from the last message's submit time.
      while (await db.collection(Collections.sms).findOne({ state: { $in: ['queued', 'locked'] } }, { projection: { _id: 1 } })) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const polledSeconds = (performance.now() - began) / 1000;
      const serverCpu = cpuSecondsOf(standinPid) - serverCpuBefore;
      const benchCpu = process.cpuUsage(benchCpuBefore);
      const last = await db
        .collection(Collections.sms)
        .findOne({ state: 'submitted' }, { sort: { 'remote.submittedAt': -1 }, projection: { 'remote.submittedAt': 1 } });
      const lastAt = (last?.remote as { submittedAt?: Date } | undefined)?.submittedAt;
      const seconds = lastAt ? Math.min(polledSeconds, Math.max(0.001, (lastAt.getTime() - beganAt) / 1000)) : polledSeconds;
      const delivered = await db.collection(Collections.sms).countDocuments({ state: 'submitted' });
      if (delivered < docs.length) console.log(`  (only ${delivered} of ${docs.length} submitted; the rest ended otherwise)`);
      const stats = await Promise.all(
        procs.map((p, i) => {
          const line = waitForLine(p, /deliverer stats (\{.*\})/, `deliverer ${i} stats`);
          p.kill('SIGTERM');
          return line.then(
            (m) => JSON.parse(m[1]) as { mongoCommands: number; submitted: number; byCommand: Record<string, number>; cpuMs: number },
          );
        }),
      );
      // Let them exit on their own (a profile is written at exit), but not forever.
      await Promise.all(
        procs.map((p) =>
          p.exitCode !== null
            ? undefined
            : new Promise((r) => {
                p.once('exit', r);
                setTimeout(r, 10_000).unref();
              }),
        ),
      );
      const commands = stats.reduce((sum, s) => sum + s.mongoCommands, 0);
      const byCommand: Record<string, number> = {};
      for (const s of stats) for (const [k, v] of Object.entries(s.byCommand)) byCommand[k] = (byCommand[k] ?? 0) + v;
      const cpuMs = stats.reduce((sum, s) => sum + s.cpuMs, 0);
      const sinkCpu = `, sink+bench CPU ${((benchCpu.user + benchCpu.system) / docs.length).toFixed(0)} µs/message`;
      const cpu = `deliverer CPU ${((cpuMs * 1000) / docs.length).toFixed(0)} µs/message${Number.isNaN(serverCpu) ? '' : `, stand-in CPU ${((serverCpu * 1e6) / docs.length).toFixed(0)} µs/message`}${sinkCpu}`;
      const row = `per-dest ${perDest}  workers ${workers}: ${Math.round(docs.length / seconds)} delivered/s (${docs.length} in ${seconds.toFixed(2)} s), ${(commands / docs.length).toFixed(2)} MongoDB commands per delivered message; ${cpu} ${JSON.stringify(byCommand)}`;
      console.log(row);
      rows.push(row);
      await db.dropDatabase();
    }
  }
  await client.close();
  await sink.close();
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
}
