import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import { AccountStore } from '../accounts/account-store.ts';
import { addConnector, listConnectors } from '../connectors/connector-admin.ts';
import type { Logger } from '../logging/logger.ts';
import { addRoute, listRoutes } from '../routing/route-admin.ts';
import { ensureSchema } from '../store/collections.ts';
import { connectMongo } from '../store/mongo-client.ts';
import { startEmbeddedMongo, type EmbeddedMongo } from './embedded-mongo.ts';
import { spawnReadyProcess, type ReadyProcess } from './ready-process.ts';
import { DEFAULT_SMPP_TLS_PORT } from '../inserter/tls-files.ts';

export interface AllInOneOptions {
  mongodbUri?: string;
  dbName: string;
  redisUrl?: string;
  dataDir: string;
  mongoPort: number;
  smppPort: number;
  /** SMPP over TLS flags for the inserter (absolute paths); its own checks apply. */
  inserterTls?: { port?: number; cert?: string; key?: string };
  sinkPort: number;
  deliverers: number;
  /** HTTP API and control panel port (`smsc api`); 0 = not started. */
  httpPort: number;
  account: { systemId: string; password: string };
  logger: Logger;
  print: (line: string) => void;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const smscBin = path.join(repoRoot, 'bin/smsc.mjs');
export const DEMO_ACCOUNT = Object.freeze({ systemId: 'demo', password: 'demo' });
/** The simulator's credentials, used only by the seeded default connector. */
const SIM_CONNECTOR = Object.freeze({ name: 'simulator', systemId: 'smsc', password: 'smsc' });

/**
 * `smsc up`: one MongoDB, a downstream simulator, one inserter, N deliverers and the cleanup
 * worker, as child processes of this one; stops them in reverse order of the data flow.
 */
export async function runAllInOne(options: AllInOneOptions, stopSignal: Promise<unknown>): Promise<void> {
  const { logger, print } = options;
  const mongo = await startEmbeddedMongo({ uri: options.mongodbUri, dataDir: options.dataDir, port: options.mongoPort, logger });
  if (mongo.kind === 'standin') {
    print('');
    print('*** WARNING: no mongod could be obtained (offline?). Running on the project\'s MongoDB TEST STAND-IN. ***');
    print(`*** It holds every message in memory (journal in ${path.join(options.dataDir, 'standin')}); not for production. ***`);
    print('*** Set MONGODB_URI to a real MongoDB to run for real. ***');
    print('');
  }
  const children: { name: string; proc: ReadyProcess }[] = [];
  try {
    await seed(mongo, options);
    // The all-in-one is for trying smsc out: without an admin token of the operator's, the control
    // panel gets one for this run, printed below like the demo account.
    const adminToken = process.env.API_ADMIN_TOKEN || (options.httpPort > 0 ? randomBytes(18).toString('base64url') : undefined);
    const env = {
      ...process.env,
      MONGODB_URI: mongo.uri,
      MONGODB_DB: options.dbName,
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      ...(adminToken ? { API_ADMIN_TOKEN: adminToken } : {}),
    };
    const start = async (name: string, args: string[], ready: RegExp) => {
      const proc = await spawnReadyProcess({
        command: process.execPath,
        args: [smscBin, ...args],
        ready,
        name,
        logger,
        env,
        cwd: repoRoot,
        inheritStderr: true,
      });
      children.push({ name, proc });
      proc.exited.then((code) => {
        if (!stopping) logger.error({ process: name, code }, 'a child process exited unexpectedly');
      });
    };
    let stopping = false;
    await start('sink', ['sink', '--port', String(options.sinkPort), '--host', '127.0.0.1', '--dlr', '--dlr-delay-ms', '500', '--latency-ms', '5'], /"listening"/);
    // Independent of each other once the simulator listens: start them together.
    await Promise.all([
      start('inserter', ['inserter', '--smpp-port', String(options.smppPort), ...inserterTlsArgs(options.inserterTls), '--metrics-port', '0'], /inserter listening on/),
      ...Array.from({ length: options.deliverers }, (_, i) => start(`deliverer-${i + 1}`, ['deliverer', '--metrics-port', '0'], /deliverer ready/)),
      start('cleanup', ['cleanup', '--metrics-port', '0'], /cleanup ready/),
      ...(options.httpPort > 0 ? [start('api', ['api', '--http-port', String(options.httpPort), '--metrics-port', '0'], /api listening on/)] : []),
    ]);

    print(`smsc is up. MongoDB: ${mongo.uri} (database ${options.dbName})`);
    // The default demo credentials are printed so a newcomer can use them; a chosen password is not echoed.
    const shownPassword = options.account.password === DEMO_ACCOUNT.password ? options.account.password : '<as given with --account>';
    print(`  SMPP for ESMEs: 127.0.0.1:${options.smppPort}  account ${options.account.systemId} / ${shownPassword}`);
    if (options.inserterTls?.cert) print(`  SMPP over TLS for ESMEs: 127.0.0.1:${options.inserterTls.port ?? DEFAULT_SMPP_TLS_PORT}`);
    print(`  downstream simulator: 127.0.0.1:${options.sinkPort}`);
    if (options.httpPort > 0) {
      const token = process.env.API_ADMIN_TOKEN ? 'your API_ADMIN_TOKEN' : `admin token ${adminToken} (for this run; set API_ADMIN_TOKEN to choose one)`;
      print(`  HTTP API and control panel: http://127.0.0.1:${options.httpPort}/  ${token}; docs at /api/v1/docs`);
    }
    print(`  send one:  npx smsc submit --port ${options.smppPort} --system-id ${options.account.systemId} --password ${shownPassword === DEMO_ACCOUNT.password ? shownPassword : '<password>'} --from 12345 --to 491701234567 --text "Hello" --dlr`);
    print(`  inspect:   npx smsc status   |   mongosh "${mongo.uri}/${options.dbName}"`);
    print('Ctrl-C stops everything.');

    await stopSignal;
    stopping = true;
    print('smsc: shutting down');
  } finally {
    // Intake first, so nothing new arrives while the workers finish; the simulator and the
    // database last, because the others still talk to them while they stop.
    const order = ['inserter', 'api', 'deliverer', 'cleanup', 'sink'];
    for (const prefix of order) {
      await Promise.all(children.filter((c) => c.name.startsWith(prefix)).map((c) => c.proc.stop(15_000)));
    }
    await stopMongo(mongo);
    print('smsc: stopped');
  }
}

function inserterTlsArgs(tls: AllInOneOptions['inserterTls'] = {}): string[] {
  return [
    ...(tls.port !== undefined ? ['--smpp-tls-port', String(tls.port)] : []),
    ...(tls.cert !== undefined ? ['--tls-cert', tls.cert] : []),
    ...(tls.key !== undefined ? ['--tls-key', tls.key] : []),
  ];
}

async function stopMongo(mongo: EmbeddedMongo): Promise<void> {
  await mongo.stop();
}

/** First start on an empty database: the demo account, and the simulator as the default route. */
async function seed(mongo: EmbeddedMongo, options: AllInOneOptions): Promise<void> {
  const client = await connectMongo({ uri: mongo.uri, appName: 'smsc-up' });
  try {
    const db: Db = client.db(options.dbName);
    await ensureSchema(db);
    const accounts = new AccountStore(db);
    if (!(await accounts.get(options.account.systemId))) {
      await accounts.add({ systemId: options.account.systemId, password: options.account.password });
      options.print(`created account ${options.account.systemId}`);
    }
    const now = new Date();
    const connectors = await listConnectors(db);
    if (!connectors.some((c) => c.name === SIM_CONNECTOR.name) && connectors.length === 0) {
      await addConnector(db, { name: SIM_CONNECTOR.name, host: '127.0.0.1', port: options.sinkPort, systemId: SIM_CONNECTOR.systemId, password: SIM_CONNECTOR.password }, now);
      options.print(`created connector ${SIM_CONNECTOR.name} -> 127.0.0.1:${options.sinkPort}`);
    }
    // Only towards the simulator this seed made: a default route to a connector that does not exist would be refused.
    if ((await listRoutes(db)).length === 0 && (await listConnectors(db)).some((c) => c.name === SIM_CONNECTOR.name)) {
      await addRoute(db, { prefix: '', connectors: [SIM_CONNECTOR.name] }, now);
      options.print(`created default route -> ${SIM_CONNECTOR.name}`);
    }
  } finally {
    await client.close();
  }
}
