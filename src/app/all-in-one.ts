import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Db, MongoClient } from 'mongodb';
import { AccountStore } from '../accounts/account-store.ts';
import type { SmscConfig } from '../config/types.ts';
import { addConnector, listConnectors } from '../connectors/connector-admin.ts';
import { SmscError } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { startMetricsServer, type MetricsServer } from '../observability/metrics-server.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { HeartbeatWriter } from '../nodes/heartbeat.ts';
import { addRoute, listRoutes } from '../routing/route-admin.ts';
import { ensureSchema } from '../store/collections.ts';
import { connectMongo, redactUri } from '../store/mongo-client.ts';
import { startEmbeddedMongo, type EmbeddedMongo } from './embedded-mongo.ts';
import { setHealth, setRegistry } from './set-observability.ts';
import { Supervisor, type ChildSpec } from './supervisor.ts';
import { acquireUpLock, type UpLock } from './up-lock.ts';
import { packageRoot } from '../util/package-root.ts';
import { DEFAULT_SMPP_TLS_PORT } from '../inserter/tls-files.ts';

export interface AllInOneOptions {
  /** Validated config: mongo, redis, inserter.smppPort, sink.port, metrics, node, up. */
  config: SmscConfig;
  account: { systemId: string; password: string };
  /** A `--config` file given to `up`: its children read it too. */
  configFile?: string;
  logger: Logger;
  print: (line: string) => void;
}

const smscBin = path.join(packageRoot, 'bin/smsc.mjs');
export const DEMO_ACCOUNT = Object.freeze({ systemId: 'demo', password: 'demo' });
/** The simulator's credentials, used only by the seeded default connector. */
const SIM_CONNECTOR = Object.freeze({ name: 'simulator', systemId: 'smsc', password: 'smsc' });

/**
 * `smsc up`: one MongoDB, a downstream simulator, one inserter, N deliverers and the cleanup
 * worker, as supervised child processes of this one (restarted when they die, see Supervisor;
 * ended with it, see parent-tether.ts); stops them in reverse order of the data flow. A second
 * `up` on the same data directory refuses before it touches anything (up-lock.ts).
 */
export async function runAllInOne(options: AllInOneOptions, stopSignal: Promise<unknown>): Promise<void> {
  const { logger, print, config } = options;
  const smppPort = config.inserter.smppPort;
  const sinkPort = config.sink.port;
  const lock = acquireUpLock(config.up.dataDir, { smppPort, sinkPort });
  // up's own metrics (its children have theirs; /metrics of up serves them all together).
  const upMetrics = createMetrics();
  const supervisor = new Supervisor({
    logger,
    metrics: upMetrics,
    restartBaseMs: config.up.restartBaseMs,
    restartMaxMs: config.up.restartMaxMs,
    maxFailures: config.up.maxFailures,
    failureWindowMs: config.up.failureWindowMs,
  });
  let mongo: EmbeddedMongo | undefined;
  let client: MongoClient | undefined;
  let heartbeat: HeartbeatWriter | undefined;
  let metrics: MetricsServer | undefined;
  let failure: SmscError | undefined;
  try {
    // Before anything starts: a port another process holds is one clear line, not a child's failure.
    await assertPortFree(smppPort, config.inserter.host, 'SMPP port (--smpp-port)');
    await assertPortFree(sinkPort, '127.0.0.1', 'simulator port (--sink-port)');
    await assertPortFree(config.metrics.port, config.metrics.host, 'metrics port (--metrics-port)');
    await assertPortFree(config.api.httpPort, config.api.host, 'HTTP API port (--http-port)');
    mongo = await startEmbeddedMongo({ uri: config.mongo.uri, dataDir: config.up.dataDir, port: config.up.mongoPort, logger, supervisor });
    if (mongo.kind === 'standin') {
      print('');
      print("*** WARNING: no mongod could be obtained (offline?). Running on the project's MongoDB TEST STAND-IN. ***");
      print(`*** It holds every message in memory (journal in ${path.join(config.up.dataDir, 'standin')}); not for production. ***`);
      print('*** Set MONGODB_URI to a real MongoDB to run for real. ***');
      print('');
    }
    // The all-in-one is for trying smsc out: without an admin token of the operator's, the control
    // panel gets one for this run, printed below like the demo account.
    const httpPort = config.api.httpPort;
    const adminToken = config.api.adminToken ?? (httpPort > 0 ? randomBytes(18).toString('base64url') : undefined);
    client = await connectMongo({ uri: mongo.uri, appName: 'smsc-up', maxPoolSize: 2 });
    const db = client.db(config.mongo.dbName);
    await seed(db, sinkPort, options);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MONGODB_URI: mongo.uri,
      MONGODB_DB: config.mongo.dbName,
      SHUTDOWN_GRACE_MS: String(config.node.shutdownGraceMs),
      // up's log level (--log-level, LOG_LEVEL or its config file) is its children's too.
      LOG_LEVEL: config.log.level,
      ...(config.redis.url ? { REDIS_URL: config.redis.url } : {}),
      ...(options.configFile ? { SMSC_CONFIG: path.resolve(options.configFile) } : {}),
      ...(adminToken ? { API_ADMIN_TOKEN: adminToken } : {}),
      // The children run in the package's directory: a relative journal directory means up's.
      ...(config.cdr.dir ? { CDR_DIR: path.resolve(config.cdr.dir) } : {}),
    };
    // A name given to `up` is its own; each child keeps its default (kind-host-pid), unique in `nodes`.
    delete env.SMSC_NODE_NAME;
    const child = (name: string, kind: string, args: string[], ready: RegExp): ChildSpec => ({
      name,
      kind,
      command: process.execPath,
      args: [smscBin, ...args],
      ready,
      env,
      cwd: packageRoot,
      inheritStderr: true,
    });
    const deliverers = Array.from({ length: config.up.deliverers }, (_, i) => `deliverer-${i + 1}`);
    await supervisor.start(
      child(
        'sink',
        'sink',
        ['sink', '--port', String(sinkPort), '--host', '127.0.0.1', '--dlr', '--dlr-delay-ms', '500', '--latency-ms', '5'],
        /"listening"/,
      ),
    );
    // Independent of each other once the simulator listens: start them together.
    const [inserter] = await Promise.all([
      supervisor.start(
        child(
          'inserter',
          'inserter',
          ['inserter', '--smpp-port', String(smppPort), ...inserterTlsArgs(config), '--metrics-port', '0'],
          /inserter listening on [^\s]+:(\d+)/,
        ),
      ),
      ...deliverers.map((name) => supervisor.start(child(name, 'deliverer', ['deliverer', '--metrics-port', '0'], /deliverer ready/))),
      supervisor.start(child('cleanup', 'cleanup', ['cleanup', '--metrics-port', '0'], /cleanup ready/)),
      ...(httpPort > 0
        ? [supervisor.start(child('api', 'api', ['api', '--http-port', String(httpPort), '--metrics-port', '0'], /api listening on/))]
        : []),
      // The CDR journal (issue 16) when a journal directory is configured (CDR_DIR or the config file).
      ...(config.cdr.dir ? [supervisor.start(child('cdr', 'cdr', ['cdr', 'journal', '--metrics-port', '0'], /cdr journal ready/))] : []),
    ]);

    // With --smpp-port 0 the inserter picked one; a restart keeps that one.
    const smppListening = Number(inserter.match[1]);
    if (smppPort === 0)
      supervisor.respec(
        'inserter',
        child(
          'inserter',
          'inserter',
          ['inserter', '--smpp-port', String(smppListening), ...inserterTlsArgs(config), '--metrics-port', '0'],
          /inserter listening on [^\s]+:(\d+)/,
        ),
      );
    upMetrics.collectProcessMetrics();
    metrics = await startMetricsServer({
      port: config.metrics.port,
      host: config.metrics.host,
      logger,
      registry: () => setRegistry(supervisor, upMetrics.registry),
      health: () => setHealth(supervisor),
    });
    heartbeat = new HeartbeatWriter({
      db,
      kind: 'up',
      ...(config.node.name ? { name: config.node.name } : {}),
      intervalMs: config.node.heartbeatMs,
      logger,
      health: supervisor.health,
      info: () => ({
        dataDir: path.resolve(config.up.dataDir),
        mongo: redactUri(mongo!.uri),
        smppPort: smppListening,
        sinkPort,
        ...(metrics?.port ? { metricsPort: metrics.port } : {}),
        children: supervisor.list(),
      }),
    });
    await heartbeat.start();

    print(`smsc is up. MongoDB: ${mongo.uri} (database ${config.mongo.dbName})`);
    // The default demo credentials are printed so a newcomer can use them; a chosen password is not echoed.
    const shownPassword = options.account.password === DEMO_ACCOUNT.password ? options.account.password : '<as given with --account>';
    print(`  SMPP for ESMEs: 127.0.0.1:${smppListening}  account ${options.account.systemId} / ${shownPassword}`);
    print(`  downstream simulator: 127.0.0.1:${sinkPort}`);
    if (config.inserter.tlsCert) print(`  SMPP over TLS for ESMEs: 127.0.0.1:${config.inserter.smppTlsPort ?? DEFAULT_SMPP_TLS_PORT}`);
    if (httpPort > 0) {
      const token = config.api.adminToken
        ? 'your API_ADMIN_TOKEN'
        : `admin token ${adminToken} (for this run; set API_ADMIN_TOKEN to choose one)`;
      print(`  HTTP API and control panel: http://127.0.0.1:${httpPort}/  ${token}; docs at /api/v1/docs`);
    }
    if (metrics.port) print(`  metrics and health of the whole set: http://127.0.0.1:${metrics.port}/metrics  /healthz`);
    print(
      `  send one:  npx smsc submit --port ${smppListening} --system-id ${options.account.systemId} --password ${shownPassword === DEMO_ACCOUNT.password ? shownPassword : '<password>'} --from 12345 --to 491701234567 --text "Hello" --dlr`,
    );
    print(`  inspect:   npx smsc status   |   mongosh "${mongo.uri}/${config.mongo.dbName}"`);
    print('Ctrl-C stops everything.');

    failure = await Promise.race([stopSignal.then(() => undefined), supervisor.failed]);
    // A failure is the process's one closing line (the CLI prints it once everything has stopped).
    if (!failure) print('smsc: shutting down');
  } finally {
    await stopAll(supervisor, { mongo, client, heartbeat, metrics, lock, graceMs: config.node.shutdownGraceMs, logger });
    print('smsc: stopped');
  }
  if (failure) throw failure;
}

/**
 * Intake first, so nothing new arrives while the workers finish; the simulator and the
 * database last, because the others still talk to them while they stop. All of it within
 * about one grace period: a group that takes its whole grace leaves the later ones a second each.
 */
async function stopAll(
  supervisor: Supervisor,
  parts: {
    mongo?: EmbeddedMongo;
    client?: MongoClient;
    heartbeat?: HeartbeatWriter;
    metrics?: MetricsServer;
    lock: UpLock;
    graceMs: number;
    logger: Logger;
  },
): Promise<void> {
  supervisor.stopRestarting();
  const deadline = Date.now() + parts.graceMs + 2_000;
  const left = () => Math.max(1_000, deadline - Date.now());
  const names = supervisor.names();
  for (const kind of ['inserter', 'api', 'deliverer', 'cleanup', 'cdr', 'sink']) {
    await supervisor.stop(
      names.filter((n) => n.startsWith(kind)),
      left(),
    );
  }
  await parts.metrics?.close();
  await Promise.race([parts.heartbeat?.close(), sleep(1_000)]);
  await Promise.race([parts.client?.close(), sleep(1_000)]);
  await parts.mongo?.stop(left()).catch((error: unknown) => parts.logger.warn({ err: error }, 'stopping MongoDB failed'));
  parts.lock.release();
}

/** First start on an empty database: the demo account, and the simulator as the default route. */
async function seed(db: Db, sinkPort: number, options: AllInOneOptions): Promise<void> {
  await ensureSchema(db);
  const accounts = new AccountStore(db);
  if (!(await accounts.get(options.account.systemId))) {
    await accounts.add({ systemId: options.account.systemId, password: options.account.password });
    options.print(`created account ${options.account.systemId}`);
  }
  const now = new Date();
  const connectors = await listConnectors(db);
  if (!connectors.some((c) => c.name === SIM_CONNECTOR.name) && connectors.length === 0) {
    await addConnector(
      db,
      { name: SIM_CONNECTOR.name, host: '127.0.0.1', port: sinkPort, systemId: SIM_CONNECTOR.systemId, password: SIM_CONNECTOR.password },
      now,
    );
    options.print(`created connector ${SIM_CONNECTOR.name} -> 127.0.0.1:${sinkPort}`);
  }
  // Only towards the simulator this seed made: a default route to a connector that does not exist would be refused.
  if ((await listRoutes(db)).length === 0 && (await listConnectors(db)).some((c) => c.name === SIM_CONNECTOR.name)) {
    await addRoute(db, { prefix: '', connectors: [SIM_CONNECTOR.name] }, now);
    options.print(`created default route -> ${SIM_CONNECTOR.name}`);
  }
}

/** The inserter's SMPP-over-TLS flags, certificate paths made absolute (the children run in the repository). */
function inserterTlsArgs(config: SmscConfig): string[] {
  const { smppTlsPort, tlsCert, tlsKey } = config.inserter;
  return [
    ...(smppTlsPort !== undefined ? ['--smpp-tls-port', String(smppTlsPort)] : []),
    ...(tlsCert !== undefined ? ['--tls-cert', path.resolve(tlsCert)] : []),
    ...(tlsKey !== undefined ? ['--tls-key', path.resolve(tlsKey)] : []),
  ];
}

/** Binds and releases the port; 0 (any port) is always free. */
async function assertPortFree(port: number, host: string, what: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new SmscError(
              'PORT_IN_USE',
              `The ${what} ${port} is in use on ${host}: is smsc already running, or another program on that port?`,
            )
          : error,
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
