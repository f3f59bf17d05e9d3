/**
 * Measures the MongoDB stand-in through the real driver:
 *   insertMany of small documents (batches of 100), documents/s
 *   indexed findOneAndUpdate with 100,000 documents in the collection, operations/s
 *   tailable awaitData cursor wake-up latency after an insert, ms
 *
 *   npm run bench:standin [-- --docs 100000 --ops 20000 --concurrency 8 --uri URI]
 *
 * Starts the stand-in as its own process (as `npm run mongo:standin` would) unless --uri is
 * given, so the driver and the server do not share one event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient, type Collection } from 'mongodb';

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    ops: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '8' },
    wakeups: { type: 'string', default: '50' },
    uri: { type: 'string' },
  },
});
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

async function spawnStandin(): Promise<{ uri: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'standin/main.ts'), '--port', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('stand-in did not start within 60 s')), 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /mongodb:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ uri: m[0], proc });
      }
    });
    proc.once('exit', (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
}
const DOCS = Number(values.docs);
const OPS = Number(values.ops);
const CONCURRENCY = Number(values.concurrency);
const WAKEUPS = Number(values.wakeups);

function rate(n: number, ms: number): string {
  return Math.round((n * 1000) / ms).toLocaleString('en-US');
}

async function benchInsert(coll: Collection): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < DOCS; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(DOCS, i + 100); j++) {
      batch.push({ seq: j, state: 'queued', dest: `4479${String(j).padStart(8, '0')}`, attempts: 0, at: new Date() });
    }
    await coll.insertMany(batch);
  }
  const ms = performance.now() - started;
  console.log(`insertMany (batches of 100): ${rate(DOCS, ms)} docs/s (${DOCS} docs in ${ms.toFixed(0)} ms)`);
}

async function benchFindOneAndUpdate(coll: Collection): Promise<void> {
  await coll.createIndex({ seq: 1 });
  await coll.createIndex({ state: 1, at: 1 });
  // Warm up the connection pool and the JIT.
  for (let i = 0; i < 500; i++) await coll.findOneAndUpdate({ seq: i }, { $inc: { attempts: 1 } });
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= OPS) return;
      const seq = (i * 7919) % DOCS;
      const doc = await coll.findOneAndUpdate({ seq, state: 'queued' }, { $set: { state: 'sending', lock: i }, $inc: { attempts: 1 } }, { returnDocument: 'after' });
      if (doc === null) throw new Error(`no document for seq ${seq}`);
      await coll.updateOne({ seq }, { $set: { state: 'queued' } });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - started;
  console.log(
    `indexed findOneAndUpdate with ${DOCS} docs: ${rate(OPS, ms)} ops/s ` +
      `(${OPS} fOAU + ${OPS} updateOne, concurrency ${CONCURRENCY}, ${ms.toFixed(0)} ms)`,
  );
  const claimStarted = performance.now();
  const claims = 2000;
  for (let i = 0; i < claims; i++) {
    await coll.findOneAndUpdate({ state: 'queued', at: { $lte: new Date() } }, { $set: { state: 'claimed' } }, { sort: { at: 1 } });
  }
  const claimMs = performance.now() - claimStarted;
  console.log(`claim (fOAU on {state, at} with sort, sequential): ${rate(claims, claimMs)} ops/s, ${((claimMs / claims) * 1000).toFixed(0)} µs round trip`);
}

async function benchWakeup(client: MongoClient): Promise<void> {
  const db = client.db('bench_standin');
  await db.collection('log').drop().catch(() => {});
  await db.createCollection('log', { capped: true, size: 1_000_000 });
  const log = db.collection('log');
  await log.insertOne({ seq: -1, t: 0 });
  const cursor = log.find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 5000 });
  await cursor.next();
  const lat: number[] = [];
  for (let i = 0; i < WAKEUPS; i++) {
    const waiting = cursor.next();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await log.insertOne({ seq: i, t: t0 });
    await waiting;
    lat.push(performance.now() - t0);
  }
  await cursor.close();
  lat.sort((a, b) => a - b);
  const p = (q: number): string => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(2);
  console.log(`tailable wake-up latency (insert to delivery): median ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${p(1)} ms`);
}

async function main(): Promise<void> {
  const standin = values.uri ? null : await spawnStandin();
  const uri = values.uri ?? standin!.uri;
  const client = new MongoClient(uri, { maxPoolSize: Math.max(10, CONCURRENCY) });
  await client.connect();
  try {
    const db = client.db('bench_standin');
    await db.dropDatabase();
    const coll = db.collection('sms');
    await benchInsert(coll);
    await benchFindOneAndUpdate(coll);
    await benchWakeup(client);
    await db.dropDatabase();
  } finally {
    await client.close();
    if (standin) {
      const exited = new Promise((r) => standin.proc.once('exit', r));
      standin.proc.kill('SIGTERM');
      await exited;
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
