/**
 * Measures the MongoDB stand-in through the real driver:
 *   insertMany of small documents (batches of 100), documents/s: from this process alone, then
 *     from --clients child processes at once (half the in-flight batches each)
 *   indexed findOneAndUpdate with 100,000 documents in the collection, operations/s
 *   delivery claims (findAndModify with sort) and lease renewals (update of 4 ids) over raw
 *     OP_MSG, operations/s: operator $set with client times beside the pipeline form with
 *     $expr/$$NOW and {$add: ['$$NOW', ms]}, measured one after the other in the same run
 *   tailable awaitData cursor wake-up latency after an insert, ms
 *
 *   npm run bench:standin [-- --docs 100000 --ops 60000 --clients 2 --concurrency 8 --delivery-ops 20000 --uri URI]
 *   npm run bench:standin -- --only delivery     (just the claim and renewal lines)
 * With --uri, --server-pid PID lets the claim and renewal lines report that server's CPU per operation.
 *
 * Starts the stand-in as its own process (as `npm run mongo:standin` does) unless --uri is
 * given. The multi-client insert and the findOneAndUpdate phase run their clients as child
 * processes: one driver instance costs more CPU per operation than the stand-in does (on the
 * first 2-core VM about 22 µs per inserted document and 330 µs per findOneAndUpdate), and the
 * point is the server. Each findOneAndUpdate client first runs 3,000 of them untimed, and the
 * timed run is long enough (60,000) that JIT warm-up does not dominate it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from 'node:net';
import { BSON, MongoClient, type Collection } from 'mongodb';

interface ClientJob {
  mode: 'insert' | 'findOneAndUpdate';
  uri: string;
  from: number;
  to: number;
  docs: number;
  concurrency: number;
}

const standinRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function rate(n: number, ms: number): string {
  return Math.round((n * 1000) / ms).toLocaleString('en-US');
}

async function spawnStandin(): Promise<{ uri: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(standinRoot, 'main.ts'), '--port', '0'], {
    cwd: standinRoot,
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

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      if (buf.split('\n').includes(line)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`client process exited ${code} before "${line}"`)));
  });
}

const FOUA_WARMUP_OPS = 3000;

/**
 * One benchmark client process: its own MongoClient with `concurrency` operations in flight.
 * It prints "ready" once connected, starts on a line from stdin, and prints "done" at the end.
 */
async function fouaClient(job: ClientJob): Promise<void> {
  const client = new MongoClient(job.uri, { maxPoolSize: job.concurrency });
  await client.connect();
  const coll = client.db('bench_standin').collection('sms');
  // Untimed warm-up of the same operation, so the timed run measures a JIT-compiled client and
  // server rather than their first seconds.
  let warm = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (warm < FOUA_WARMUP_OPS) await coll.findOneAndUpdate({ seq: (warm++ * 104729) % job.docs }, { $inc: { warmup: 1 } });
    }),
  );
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  let next = job.from;
  const run = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= job.to) return;
      const seq = (i * 7919) % job.docs;
      const doc = await coll.findOneAndUpdate({ seq }, { $inc: { attempts: 1 }, $set: { lockedBy: i } }, { returnDocument: 'after' });
      if (doc === null) throw new Error(`no document for seq ${seq}`);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, run));
  process.stdout.write('done\n');
  process.stdin.destroy();
  await client.close();
}

/** insertMany of `docs` small documents in batches of 100 with `inFlight` batches outstanding. */
async function insertBatches(coll: Collection, from: number, to: number, inFlight: number): Promise<void> {
  let next = from;
  const writer = async (): Promise<void> => {
    for (;;) {
      const i = next;
      next += 100;
      if (i >= to) return;
      const batch = [];
      for (let j = i; j < Math.min(to, i + 100); j++) {
        batch.push({ seq: j, state: 'queued', dest: `4479${String(j).padStart(8, '0')}`, attempts: 0, at: new Date() });
      }
      await coll.insertMany(batch);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, writer));
}

const WARMUP_DOCS = 2000;

/** insertMany from this process alone: one driver client, which is itself the limit on this machine. */
async function benchInsert(coll: Collection, docs: number, inFlight: number): Promise<void> {
  // The same inserts into another collection first, untimed, so that the timed run measures
  // insert throughput rather than the first moments of the JIT in the driver and the server.
  const warmup = coll.db.collection(`${coll.collectionName}_warmup`);
  await insertBatches(warmup, 0, WARMUP_DOCS, inFlight);
  await warmup.drop();
  const started = performance.now();
  await insertBatches(coll, 0, docs, inFlight);
  const ms = performance.now() - started;
  console.log(
    `insertMany, one client (batches of 100, ${inFlight} in flight): ${rate(docs, ms)} docs/s ` +
      `(${docs} docs in ${ms.toFixed(0)} ms, after an untimed warm-up of ${WARMUP_DOCS} docs in another collection)`,
  );
}

/**
 * insertMany from several client processes at once (each warmed up, untimed, on a collection of
 * its own first): the server's rate, as far as the driver clients sharing the machine allow.
 */
async function benchInsertClients(uri: string, docs: number, clients: number, inFlight: number): Promise<void> {
  const per = Math.ceil(docs / clients);
  const jobs = Array.from({ length: clients }, (_, t): ClientJob => ({
    mode: 'insert',
    uri,
    from: t * per,
    to: Math.min(docs, (t + 1) * per),
    docs,
    concurrency: inFlight,
  }));
  const ms = await runClients(jobs);
  console.log(
    `insertMany, ${clients} client processes (batches of 100, ${inFlight} in flight each): ${rate(docs, ms)} docs/s ` +
      `(${docs} docs in ${ms.toFixed(0)} ms, each client warmed up with ${WARMUP_DOCS} untimed docs first)`,
  );
}

/** Starts one child process per job, waits until all are ready, starts them together; the ms they took. */
async function runClients(jobs: ClientJob[]): Promise<number> {
  const procs = jobs.map((job) =>
    spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_STANDIN_CLIENT: JSON.stringify(job) },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(procs.map((c) => waitForLine(c, 'ready')));
  const finished = procs.map((c) => waitForLine(c, 'done'));
  const started = performance.now();
  for (const c of procs) c.stdin!.write('go\n');
  await Promise.all(finished);
  return performance.now() - started;
}

/** A child process of benchInsertClients: warms up, prints "ready", inserts its range on "go", prints "done". */
async function insertClient(job: ClientJob): Promise<void> {
  const client = new MongoClient(job.uri, { maxPoolSize: job.concurrency });
  await client.connect();
  const db = client.db('bench_standin');
  const warmup = db.collection(`warmup_${process.pid}`);
  await insertBatches(warmup, 0, WARMUP_DOCS, job.concurrency);
  await warmup.drop();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  await insertBatches(db.collection('sms'), job.from, job.to, job.concurrency);
  process.stdout.write('done\n');
  process.stdin.destroy();
  await client.close();
}

async function benchFindOneAndUpdate(
  coll: Collection,
  uri: string,
  docs: number,
  ops: number,
  clients: number,
  concurrency: number,
): Promise<void> {
  await coll.createIndex({ seq: 1 });
  await coll.createIndex({ state: 1, at: 1 });
  const perClient = Math.ceil(ops / clients);
  const jobs = Array.from({ length: clients }, (_, t): ClientJob => ({
    mode: 'findOneAndUpdate',
    uri,
    from: t * perClient,
    to: Math.min(ops, (t + 1) * perClient),
    docs,
    concurrency,
  }));
  const ms = await runClients(jobs);
  console.log(
    `indexed findOneAndUpdate with ${docs} docs: ${rate(ops, ms)} ops/s ` +
      `(${ops} ops, ${clients} client processes x ${concurrency} in flight, ${ms.toFixed(0)} ms)`,
  );
  const claims = 2000;
  const claimStarted = performance.now();
  for (let i = 0; i < claims; i++) {
    await coll.findOneAndUpdate({ state: 'queued', at: { $lte: new Date() } }, { $set: { state: 'claimed' } }, { sort: { at: 1 } });
  }
  const claimMs = performance.now() - claimStarted;
  console.log(
    `claim (fOAU on {state, at} with sort, one client, sequential): ${rate(claims, claimMs)} ops/s, ${((claimMs / claims) * 1000).toFixed(0)} µs round trip`,
  );
}

/** One OP_MSG request carrying a command document. */
function opMsg(requestId: number, body: Record<string, unknown>): Buffer {
  const doc = BSON.serialize(body);
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + doc.length, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(2013, 12);
  return Buffer.concat([head, doc]);
}

/**
 * Commands over raw OP_MSG on a few connections, `window` requests in flight on each: the
 * server's own rate without any driver. `build(i)` makes the i-th command body, `check` vets a reply.
 */
async function rawWireRate(
  uri: string,
  ops: number,
  connections: number,
  window: number,
  build: (i: number) => Record<string, unknown>,
  check: (reply: Record<string, unknown>) => boolean,
): Promise<number> {
  const [host, port] = uri.replace('mongodb://', '').split(':');
  let sent = 0;
  let received = 0;
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const sock = connect(Number(port), host);
          sock.setNoDelay(true);
          let pending: Buffer = Buffer.alloc(0);
          let inFlight = 0;
          const sendOne = (): void => {
            inFlight++;
            const i = sent++;
            sock.write(opMsg(i + 1, build(i)));
          };
          sock.on('connect', () => {
            for (let k = 0; k < window && sent < ops; k++) sendOne();
            if (inFlight === 0) sock.end();
          });
          sock.on('data', (chunk: Buffer) => {
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
            while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
              const len = pending.readInt32LE(0);
              const reply = BSON.deserialize(pending.subarray(21, len));
              if (reply.ok !== 1 || !check(reply)) reject(new Error(`bad reply ${JSON.stringify(reply)}`));
              pending = pending.subarray(len);
              received++;
              inFlight--;
              if (sent < ops) sendOne();
              else if (inFlight === 0) sock.end();
            }
          });
          sock.on('close', () => resolve());
          sock.on('error', reject);
        }),
    ),
  );
  return (received * 1000) / (performance.now() - started);
}

async function benchRawWire(uri: string, docs: number, ops: number, connections: number, window: number): Promise<void> {
  const perSecond = await rawWireRate(
    uri,
    ops,
    connections,
    window,
    (i) => ({
      findAndModify: 'sms',
      query: { seq: (i * 104729) % docs },
      update: { $inc: { attempts: 1 } },
      new: true,
      $db: 'bench_standin',
    }),
    (reply) => reply.value !== null,
  );
  console.log(
    `server capacity, indexed findAndModify over raw OP_MSG (${connections} connections x ${window} in flight): ${Math.round(perSecond).toLocaleString('en-US')} ops/s`,
  );
}

const LEASE_MS = 30_000;

/** The delivery claim of issue 12, in its two forms: operator $set with client times, or a pipeline on $$NOW. */
function claimCommand(coll: string, form: 'operator' | 'pipeline', i: number): Record<string, unknown> {
  const sort = { priority: -1, nextAttemptAt: 1 };
  const token = `t${i}`;
  if (form === 'operator') {
    const now = new Date();
    return {
      findAndModify: coll,
      query: { state: 'queued', nextAttemptAt: { $lte: now } },
      sort,
      update: { $set: { state: 'locked', lock: { owner: 'bench', token, at: now, leaseUntil: new Date(now.getTime() + LEASE_MS) } } },
      new: true,
      $db: 'bench_standin',
    };
  }
  return {
    findAndModify: coll,
    query: { state: 'queued', $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } },
    sort,
    update: [{ $set: { state: 'locked', lock: { owner: 'bench', token, at: '$$NOW', leaseUntil: { $add: ['$$NOW', LEASE_MS] } } } }],
    new: true,
    $db: 'bench_standin',
  };
}

/** A lease renewal for the 4 messages of one batch, fenced on the lock token. */
function renewCommand(coll: string, form: 'operator' | 'pipeline', i: number, docs: number): Record<string, unknown> {
  const first = (i * 4) % docs;
  const q = { _id: { $in: [first, first + 1, first + 2, first + 3] }, 'lock.token': 'batch' };
  const u =
    form === 'operator'
      ? { $set: { 'lock.leaseUntil': new Date(Date.now() + LEASE_MS) } }
      : [{ $set: { 'lock.leaseUntil': { $add: ['$$NOW', LEASE_MS] } } }];
  return { update: coll, updates: [{ q, u, multi: true }], $db: 'bench_standin' };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux); null elsewhere. */
function cpuMsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

interface FormTotals {
  ops: number;
  ms: number;
  cpuMs: number | null;
}

/**
 * Runs the operator and the pipeline form of one command in alternating rounds (so both see the
 * same machine load), after an untimed warm-up of each; wall-clock rate and, when the stand-in
 * is our child process, its CPU time per operation.
 */
async function compareForms(
  uri: string,
  serverPid: number | undefined,
  ops: number,
  build: (form: 'operator' | 'pipeline', i: number) => Record<string, unknown>,
  check: (reply: Record<string, unknown>) => boolean,
): Promise<Record<'operator' | 'pipeline', FormTotals>> {
  const forms = ['operator', 'pipeline'] as const;
  const totals = { operator: { ops: 0, ms: 0, cpuMs: 0 as number | null }, pipeline: { ops: 0, ms: 0, cpuMs: 0 as number | null } };
  const next = { operator: 0, pipeline: 0 };
  const run = async (form: 'operator' | 'pipeline', n: number): Promise<void> => {
    const base = next[form];
    next[form] += n;
    const cpu0 = cpuMsOf(serverPid);
    const t0 = performance.now();
    await rawWireRate(uri, n, 4, 16, (i) => build(form, base + i), check);
    const ms = performance.now() - t0;
    const cpu1 = cpuMsOf(serverPid);
    const t = totals[form];
    t.ops += n;
    t.ms += ms;
    t.cpuMs = cpu0 === null || cpu1 === null || t.cpuMs === null ? null : t.cpuMs + (cpu1 - cpu0);
  };
  for (const form of forms) await run(form, 1000);
  for (const form of forms) Object.assign(totals[form], { ops: 0, ms: 0, cpuMs: 0 });
  const rounds = 5;
  for (let r = 0; r < rounds; r++) for (const form of r % 2 === 0 ? forms : [...forms].reverse()) await run(form, Math.ceil(ops / rounds));
  return totals;
}

function describeForm(t: FormTotals): string {
  const rate = Math.round((t.ops * 1000) / t.ms).toLocaleString('en-US');
  return t.cpuMs === null ? `${rate} ops/s` : `${rate} ops/s (${((t.cpuMs * 1000) / t.ops).toFixed(0)} µs server CPU per op)`;
}

/**
 * Claims and renewals as the delivery workers of issue 12 send them: the operator form (times
 * from the client) beside the pipeline form ($expr/$$NOW, {$add: ['$$NOW', ms]}), measured in
 * alternating rounds of the same run over raw OP_MSG, 4 connections x 16 in flight.
 */
async function benchDeliveryWrites(client: MongoClient, uri: string, serverPid: number | undefined, ops: number): Promise<void> {
  const db = client.db('bench_standin');
  const queued = ops + 2000;
  const now = Date.now();
  for (const form of ['operator', 'pipeline'] as const) {
    const claims = db.collection(`claims_${form}`);
    await claims.createIndex({ state: 1, priority: -1, nextAttemptAt: 1 });
    for (let from = 0; from < queued; from += 1000) {
      await claims.insertMany(
        Array.from({ length: Math.min(1000, queued - from) }, (_, k) => ({
          state: 'queued',
          priority: (from + k) % 3,
          nextAttemptAt: new Date(now - 60_000 - from - k),
          destKey: `4479${(from + k) % 500}`,
        })),
      );
    }
    const leases = db.collection<{ _id: number }>(`leases_${form}`);
    await leases.insertMany(
      Array.from({ length: 4000 }, (_, k) => ({
        _id: k,
        state: 'locked',
        lock: { owner: 'bench', token: 'batch', at: new Date(now), leaseUntil: new Date(now) },
      })),
    );
  }
  const claims = await compareForms(
    uri,
    serverPid,
    ops,
    (form, i) => claimCommand(`claims_${form}`, form, i),
    (reply) => reply.value !== null,
  );
  console.log(
    `delivery claim over raw OP_MSG (findAndModify on {state, priority, nextAttemptAt} with sort, ${queued} queued, 4 x 16 in flight, alternating rounds): ` +
      `operator $set ${describeForm(claims.operator)}; pipeline $set with $expr $$NOW ${describeForm(claims.pipeline)}`,
  );
  const renewals = await compareForms(
    uri,
    serverPid,
    ops,
    (form, i) => renewCommand(`leases_${form}`, form, i, 4000),
    (reply) => reply.n === 4,
  );
  console.log(
    `lease renewal over raw OP_MSG (update of 4 ids fenced on lock.token, 4 x 16 in flight, alternating rounds): ` +
      `operator $set ${describeForm(renewals.operator)}; pipeline $set {$add: ['$$NOW', ms]} ${describeForm(renewals.pipeline)}`,
  );
}

async function benchWakeup(client: MongoClient, wakeups: number): Promise<void> {
  const db = client.db('bench_standin');
  await db
    .collection('log')
    .drop()
    .catch(() => {});
  await db.createCollection('log', { capped: true, size: 1_000_000 });
  const log = db.collection('log');
  await log.insertOne({ seq: -1, t: 0 });
  const cursor = log.find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 5000 });
  await cursor.next();
  const lat: number[] = [];
  for (let i = 0; i < wakeups; i++) {
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
  const { values } = parseArgs({
    options: {
      docs: { type: 'string', default: '100000' },
      ops: { type: 'string', default: '60000' },
      clients: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '8' },
      wakeups: { type: 'string', default: '50' },
      'delivery-ops': { type: 'string', default: '20000' },
      only: { type: 'string' },
      'server-pid': { type: 'string' },
      uri: { type: 'string' },
    },
  });
  if (values.only !== undefined && values.only !== 'delivery') throw new Error(`--only takes "delivery", got ${values.only}`);
  const docs = Number(values.docs);
  const standin = values.uri ? null : await spawnStandin();
  const uri = values.uri ?? standin!.uri;
  const client = new MongoClient(uri);
  await client.connect();
  try {
    const db = client.db('bench_standin');
    await db.dropDatabase();
    if (values.only !== 'delivery') {
      const single = db.collection('sms_one_client');
      await benchInsert(single, docs, Number(values.concurrency));
      await single.drop();
      const coll = db.collection('sms');
      await benchInsertClients(uri, docs, Number(values.clients), Number(values.concurrency) / 2);
      await benchFindOneAndUpdate(coll, uri, docs, Number(values.ops), Number(values.clients), Number(values.concurrency));
      await benchRawWire(uri, docs, Number(values.ops), 4, 16);
    }
    const serverPid = standin?.proc.pid ?? (values['server-pid'] === undefined ? undefined : Number(values['server-pid']));
    await benchDeliveryWrites(client, uri, serverPid, Number(values['delivery-ops']));
    if (values.only !== 'delivery') await benchWakeup(client, Number(values.wakeups));
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

const clientJob = process.env.BENCH_STANDIN_CLIENT;
const job = clientJob ? (JSON.parse(clientJob) as ClientJob) : undefined;
const entry = job === undefined ? main() : job.mode === 'insert' ? insertClient(job) : fouaClient(job);
entry.catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
