import { Long, ObjectId, UUID, type Document } from 'bson';
import { CommandError, ErrorCode } from '../errors.ts';
import type { CommandContext, CommandHandler } from './context.ts';

export const SERVER_VERSION = '7.0.14';
const VERSION_ARRAY = [7, 0, 14, 0];
const MAX_BSON = 16 * 1024 * 1024;

/**
 * hello, as MongoDB answers it, including the awaitable form drivers monitor with (the SDAM
 * streaming protocol): a request carrying the server's current `topologyVersion` and
 * `maxAwaitTimeMS` is answered when the topology changes or that time has passed. The monitor's
 * connection therefore stays open, and a server that dies is noticed when it closes, not at the
 * next poll (heartbeatFrequencyMS, 10 s by default).
 */
async function hello(cmd: Document, ctx: CommandContext): Promise<Document> {
  // The handshake's client metadata names the application (the fail point's appName filter).
  const app = (cmd.client as { application?: { name?: unknown } } | undefined)?.application?.name;
  if (ctx.client.appName === null && typeof app === 'string') ctx.client.appName = app;
  const waitMs = awaitableWaitMs(cmd, ctx);
  if (waitMs > 0) await waitOrClose(waitMs, ctx.closed);
  return {
    ismaster: true,
    isWritablePrimary: true,
    helloOk: true,
    maxBsonObjectSize: MAX_BSON,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    topologyVersion: ctx.server.topologyVersion,
    ok: 1,
  };
}

/** How long an awaitable hello waits: 0 unless it names the current topologyVersion (a stale one is answered at once). */
function awaitableWaitMs(cmd: Document, ctx: CommandContext): number {
  const known = cmd.topologyVersion as { processId?: unknown; counter?: unknown } | undefined;
  if (known === undefined || cmd.maxAwaitTimeMS === undefined) return 0;
  const maxAwait = Number(cmd.maxAwaitTimeMS);
  if (!Number.isFinite(maxAwait) || maxAwait < 0)
    throw new CommandError(ErrorCode.BadValue, 'maxAwaitTimeMS must be a non-negative integer');
  const current = ctx.server.topologyVersion;
  const sameProcess = known.processId instanceof ObjectId && known.processId.equals(current.processId);
  const sameCounter = Long.fromValue((known.counter ?? -1) as number | Long).equals(current.counter);
  return sameProcess && sameCounter ? maxAwait : 0;
}

function waitOrClose(ms: number, closed: AbortSignal): Promise<void> {
  if (closed.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      closed.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    closed.addEventListener('abort', done, { once: true });
  });
}

function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: '0000000000000000000000000000000000000000',
    modules: [],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: VERSION_ARRAY,
    openssl: { running: 'disabled', compiled: 'disabled' },
    buildEnvironment: {},
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON,
    storageEngines: ['inMemory'],
    ok: 1,
  };
}

function getParameter(cmd: Document): Document {
  const out: Document = {};
  if (cmd.featureCompatibilityVersion !== undefined) out.featureCompatibilityVersion = { version: '7.0' };
  if (cmd.ttlMonitorSleepSecs !== undefined) out.ttlMonitorSleepSecs = 60;
  if (cmd.getParameter === '*') out.featureCompatibilityVersion = { version: '7.0' };
  return { ...out, ok: 1 };
}

function serverStatus(_cmd: Document, ctx: CommandContext): Document {
  const uptimeMs = Date.now() - ctx.server.startedAt;
  const mem = process.memoryUsage();
  return {
    host: `127.0.0.1:${ctx.server.port()}`,
    version: SERVER_VERSION,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMs / 1000),
    uptimeMillis: Long.fromNumber(uptimeMs),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMs / 1000)),
    localTime: new Date(),
    connections: { current: ctx.server.connections(), available: 1000, totalCreated: ctx.connectionId },
    mem: { bits: 64, resident: Math.round(mem.rss / 1048576), virtual: Math.round(mem.rss / 1048576), supported: true },
    metrics: { cursor: { open: { total: Long.fromNumber(ctx.server.cursors.size) } } },
    storageEngine: { name: 'inMemory', supportsCommittedReads: false, persistent: ctx.server.journal !== null },
    ok: 1,
  };
}

function hostInfo(): Document {
  return {
    system: { currentTime: new Date(), hostname: '127.0.0.1', cpuAddrSize: 64, numCores: 1, cpuArch: process.arch },
    os: { type: process.platform, name: process.platform, version: '' },
    extra: {},
    ok: 1,
  };
}

function listDatabases(cmd: Document, ctx: CommandContext): Document {
  const names = ctx.server.catalog.databaseNames();
  const databases = names.map((name) => {
    let size = 0;
    for (const c of ctx.server.catalog.collections(name)) size += c.dataSize();
    return { name, sizeOnDisk: size, empty: size === 0 };
  });
  if (cmd.nameOnly === true) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  return { databases, totalSize: databases.reduce((s, d) => s + d.sizeOnDisk, 0), totalSizeMb: 0, ok: 1 };
}

function connectionStatus(): Document {
  return { authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 };
}

function whatsmyuri(_cmd: Document, ctx: CommandContext): Document {
  return { you: ctx.remote, ok: 1 };
}

function atlasVersion(): Document {
  throw new CommandError(ErrorCode.CommandNotFound, "no such command: 'atlasVersion'");
}

function transactionsUnsupported(): Document {
  throw new CommandError(ErrorCode.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
}

function adminOnly(name: string, ctx: CommandContext): void {
  if (ctx.db !== 'admin') throw new CommandError(ErrorCode.Unauthorized, `${name} may only be run against the admin database.`);
}

function ok(): Document {
  return { ok: 1 };
}

function getLog(cmd: Document): Document {
  if (cmd.getLog === '*') return { names: ['global', 'startupWarnings'], ok: 1 };
  return { totalLinesWritten: 0, log: [], ok: 1 };
}

function getCmdLineOpts(): Document {
  return { argv: ['mongod'], parsed: {}, ok: 1 };
}

function lockInfo(): Document {
  return { lockInfo: [], ok: 1 };
}

function currentOp(): Document {
  return { inprog: [], ok: 1 };
}

function getFreeMonitoringStatus(): Document {
  return { state: 'disabled', ok: 1 };
}

function setParameter(cmd: Document, ctx: CommandContext): Document {
  if (typeof cmd.ttlMonitorSleepSecs === 'number') ctx.server.ttl.setInterval(cmd.ttlMonitorSleepSecs * 1000);
  return { was: {}, ok: 1 };
}

/** A private test hook: run one TTL sweep now. */
function runTtlSweep(_cmd: Document, ctx: CommandContext): Document {
  return { deleted: ctx.server.ttl.sweep(), ok: 1 };
}

export const adminCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  buildInfo,
  buildinfo: buildInfo,
  ping: ok,
  getParameter,
  setParameter,
  getLog,
  hostInfo,
  serverStatus,
  listDatabases,
  connectionStatus,
  whatsmyuri,
  atlasVersion,
  endSessions: ok,
  killAllSessions: ok,
  killSessions: ok,
  killAllSessionsByPattern: ok,
  refreshSessions: ok,
  startSession: () => ({ id: { id: new UUID() }, timeoutMinutes: 30, ok: 1 }),
  abortTransaction: transactionsUnsupported,
  commitTransaction: transactionsUnsupported,
  getCmdLineOpts,
  lockInfo,
  currentOp,
  getFreeMonitoringStatus,
  logout: ok,
  fsync: ok,
  standinTtlSweep: runTtlSweep,
  configureFailPoint: (cmd, ctx) => {
    adminOnly('configureFailPoint', ctx);
    return ctx.server.failPoints.configure(cmd);
  },
  waitForFailPoint: (cmd, ctx) => {
    adminOnly('waitForFailPoint', ctx);
    return ctx.server.failPoints.waitFor(cmd);
  },
};
