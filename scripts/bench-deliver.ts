/**
 * Delivery throughput, end to end:
 *
 *   npm run bench:deliver [-- --messages 4000 --per-dest 4 --workers 1,2,4 --lanes 8 --uri URI]
 *
 * Starts the MongoDB stand-in (unless --uri or MONGODB_URI is given) and a sink with zero
 * latency, then for each worker count: fills `sms` with N messages (`--per-dest` messages per
 * destination; 1 = every message to its own destination), starts that many deliverer processes
 * (`workers/deliverer.ts`), waits until every message is `submitted`, and prints delivered
 * messages/s and MongoDB commands per delivered message (the deliverers' driver command
 * monitoring, printed at exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startSink } from '../src/sink/sink.ts';
import { Collections, ensureSchema } from '../src/store/collections.ts';
import { validateConnector } from '../src/connectors/connector-document.ts';
import { makeSeries } from '../test/support/sms-factory.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '4000' },
    'per-dest': { type: 'string', default: '4,1' },
    workers: { type: 'string', default: '1,2,4' },
    lanes: { type: 'string', default: '8' },
    uri: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const PER_DEST = String(values['per-dest']).split(',').map(Number);
const WORKERS = String(values.workers).split(',').map(Number);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const children: ChildProcess[] = [];

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

async function main(): Promise<void> {
  let uri = values.uri ?? process.env.MONGODB_URI;
  let server = 'MONGODB_URI';
  if (!uri) {
    const standin = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'standin/main.ts'), '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(standin);
    uri = (await waitForLine(standin, /mongodb:\/\/127\.0\.0\.1:\d+/, 'stand-in'))[0];
    server = 'the stand-in';
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
      await db.collection(Collections.connectors).insertOne({ ...validateConnector({ name: 'sink', host: '127.0.0.1', port: sink.port, systemId: 'bench', password: 'pw', window: 100 }) });
      await db.collection(Collections.routes).insertOne({ prefix: '', connectors: ['sink'], priority: 0, weight: 1, enabled: true });
      const start = new Date();
      const docs = Array.from({ length: Math.ceil(MESSAGES / perDest) }, (_, i) => makeSeries(`4915${String(i).padStart(8, '0')}`, perDest, start)).flat().slice(0, MESSAGES);
      for (let i = 0; i < docs.length; i += 2000) await db.collection(Collections.sms).insertMany(docs.slice(i, i + 2000));
      const procs = Array.from({ length: workers }, () =>
        spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'workers/deliverer.ts'), '--mongodb-uri', uri!, '--db', dbName, '--lanes', String(values.lanes), '--monitor-commands'], {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
        }),
      );
      children.push(...procs);
      await Promise.all(procs.map((p, i) => waitForLine(p, /deliverer ready/, `deliverer ${i}`)));
      const began = performance.now();
      for (;;) {
        const done = await db.collection(Collections.sms).countDocuments({ state: 'submitted' });
        if (done >= docs.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = (performance.now() - began) / 1000;
      const stats = await Promise.all(
        procs.map((p, i) => {
          const line = waitForLine(p, /deliverer stats (\{.*\})/, `deliverer ${i} stats`);
          p.kill('SIGTERM');
          return line.then((m) => JSON.parse(m[1]) as { mongoCommands: number; submitted: number; byCommand: Record<string, number> });
        }),
      );
      const commands = stats.reduce((sum, s) => sum + s.mongoCommands, 0);
      const byCommand: Record<string, number> = {};
      for (const s of stats) for (const [k, v] of Object.entries(s.byCommand)) byCommand[k] = (byCommand[k] ?? 0) + v;
      const row = `per-dest ${perDest}  workers ${workers}: ${Math.round(docs.length / seconds)} delivered/s (${docs.length} in ${seconds.toFixed(2)} s), ${(commands / docs.length).toFixed(2)} MongoDB commands per delivered message ${JSON.stringify(byCommand)}`;
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
