import type { Db, MongoClient } from 'mongodb';
import type { Argv } from 'yargs';
import { loadConfig } from '../config/load-config.ts';
import type { SmscConfig } from '../config/types.ts';
import type { Clock } from '../domain/clock.ts';
import { configureLogging, type LogSettings } from '../logging/log-settings.ts';

/**
 * Options every command spells the same way. None has a yargs default: an absent flag must
 * fall through to the environment, then the config file, then the config defaults.
 */
export interface StoreArgs {
  config?: string;
  mongodbUri?: string;
  db?: string;
  redisUrl?: string;
  logLevel?: string;
}

export interface MetricsArgs {
  metricsPort?: number;
}

export interface JsonArgs {
  json?: boolean;
}

const STORE_GROUP = 'Store and config:';

/** `--config`, `--mongodb-uri`, `--db`, `--log-level`: what any command that touches MongoDB takes. */
export function withStoreOptions<T>(yargs: Argv<T>): Argv<T & StoreArgs> {
  return yargs
    .option('config', {
      type: 'string',
      describe: 'JSON config file (also SMSC_CONFIG); flags and environment override it',
      group: STORE_GROUP,
      requiresArg: true,
    })
    .option('mongodb-uri', {
      type: 'string',
      describe: 'MongoDB connection string (also MONGODB_URI)',
      group: STORE_GROUP,
      requiresArg: true,
    })
    .option('db', {
      type: 'string',
      describe: 'Database name (also MONGODB_DB; default smsc)',
      group: STORE_GROUP,
      requiresArg: true,
    })
    .option('log-level', {
      type: 'string',
      describe: 'fatal|error|warn|info|debug|trace|silent (also LOG_LEVEL)',
      group: STORE_GROUP,
      requiresArg: true,
    }) as unknown as Argv<T & StoreArgs>;
}

/** `--redis-url`: for processes that share TPS caps. */
export function withRedisOption<T>(yargs: Argv<T>): Argv<T & { redisUrl?: string }> {
  return yargs.option('redis-url', {
    type: 'string',
    describe: 'Redis for TPS caps shared by replicas (also REDIS_URL)',
    group: STORE_GROUP,
    requiresArg: true,
  }) as unknown as Argv<T & { redisUrl?: string }>;
}

/** `--metrics-port`: every long-running process. */
export function withMetricsOption<T>(yargs: Argv<T>): Argv<T & MetricsArgs> {
  return yargs.option('metrics-port', {
    type: 'number',
    describe: 'Serve Prometheus /metrics on this port; 0 = off (also METRICS_PORT)',
    requiresArg: true,
  }) as unknown as Argv<T & MetricsArgs>;
}

/** `--shutdown-grace-ms`: every long-running process. */
export function withShutdownOption<T>(yargs: Argv<T>): Argv<T & { shutdownGraceMs?: number }> {
  return yargs.option('shutdown-grace-ms', {
    type: 'number',
    describe: 'Longest a SIGTERM/SIGINT shutdown takes (also SHUTDOWN_GRACE_MS; default 10000)',
    requiresArg: true,
  }) as unknown as Argv<T & { shutdownGraceMs?: number }>;
}

/** `--json`: machine-readable output for scripts. */
export function withJsonOption<T>(yargs: Argv<T>): Argv<T & JsonArgs> {
  return yargs.option('json', {
    type: 'boolean',
    describe: 'Print JSON for scripts',
  }) as unknown as Argv<T & JsonArgs>;
}

/**
 * The process edge: this is the one place the CLI reads the environment. The logging settings go
 * to the logger from here (the logger itself reads nothing), before any command creates a logger.
 */
export function configFromArgv(
  argv: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SmscConfig {
  const config = loadConfig({ flags: argv, env });
  configureLogging(logSettingsOf(config.log, process.stdout.isTTY === true));
  return config;
}

/**
 * For commands with no store options (`smsc sink`): the logging settings from LOG_LEVEL and
 * LOG_FORMAT alone, checked as the config checks them, handed to the logger.
 */
export function configureLoggingFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): void {
  const config = loadConfig({ env: { LOG_LEVEL: env.LOG_LEVEL, LOG_FORMAT: env.LOG_FORMAT } });
  configureLogging(logSettingsOf(config.log, process.stdout.isTTY === true));
}

/** `log.*` as the logger takes it: `auto` is pretty for a person at a terminal, JSON lines otherwise. */
export function logSettingsOf(log: SmscConfig['log'], terminal: boolean): LogSettings {
  return { level: log.level, format: log.format === 'auto' ? (terminal ? 'pretty' : 'json') : log.format };
}

/** Runs `fn` with the configured database and always closes the client this opened. */
export async function withStore<T>(config: SmscConfig, appName: string, fn: (db: Db, client: MongoClient) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: commands without a database (sms-info, dlr-parse) never load the driver.
  const { connectConfiguredMongo } = await import('../store/mongo-client.ts');
  const client = await connectConfiguredMongo(config.mongo, { appName, maxPoolSize: Math.min(config.mongo.maxPoolSize, 5) });
  try {
    return await fn(client.db(config.mongo.dbName), client);
  } finally {
    await client.close();
  }
}

/** Writes one line (or a JSON document) to stdout; commands print through this so tests can capture it. */
export type Printer = (text: string) => void;
export const stdoutPrinter: Printer = (text) => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

/** What a command's `run…` function takes besides its arguments: tests capture the output and pass the environment and clock. */
export interface CommandDeps {
  print?: Printer;
  clock?: Clock;
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A command that reads one report from the configured store and prints it: as plain JSON with
 * `--json` (for scripts), else as the text `format` makes. Returns the report.
 */
export async function printStoreReport<T>(
  argv: StoreArgs & JsonArgs,
  deps: CommandDeps,
  appName: string,
  read: (db: Db) => Promise<T>,
  format: (report: T) => string,
): Promise<T> {
  const config = configFromArgv(argv as unknown as Record<string, unknown>, deps.env);
  const report = await withStore(config, appName, read);
  // Loaded here, as the driver is in withStore: commands without a database never load it.
  const { toJsonText } = await import('../ops/plain-json.ts');
  (deps.print ?? stdoutPrinter)(argv.json ? toJsonText(report) : format(report));
  return report;
}

/** A `list` action's output: the JSON array with `--json`, else one line per item, or `empty` when there is none. */
export function printList<T>(
  print: Printer,
  json: boolean | undefined,
  items: readonly T[],
  empty: string,
  line: (item: T) => string,
): void {
  if (json) print(JSON.stringify(items));
  else if (items.length === 0) print(empty);
  else for (const item of items) print(line(item));
}
