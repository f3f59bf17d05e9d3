import type { LogLevel } from './fields.ts';

/** What each component receives; it never reads `process.env` itself. */
export interface MongoConfig {
  /** `undefined` when nobody set one: the process edge picks a local default. */
  readonly uri: string | undefined;
  readonly dbName: string;
  readonly writeConcern: 'majority' | number;
  readonly journal: boolean;
  readonly maxPoolSize: number;
}

export interface RedisConfig {
  readonly url: string | undefined;
}

export interface InserterConfig {
  readonly host: string;
  readonly smppPort: number;
  /** SMPP over TLS: listens when tlsCert and tlsKey are set (port 3550 unless set). */
  readonly smppTlsPort: number | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly batchMaxSize: number;
  readonly batchMaxWaitMs: number;
  readonly defaultValidityHours: number;
  readonly maxValidityHours: number;
  readonly windowSize: number;
  readonly enquireLinkMs: number;
  readonly inactivityMs: number;
  readonly bindTimeoutMs: number;
}

export interface DelivererConfig {
  readonly leaseMs: number;
  readonly sweepIntervalMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly unboundRetryMs: number;
  readonly maxAttempts: number;
  readonly refreshMs: number;
  readonly leaseGraceMs: number;
  readonly maxClockOffsetMs: number;
}

export interface ChargingConfig {
  /** Unset: messages on charged routes wait (temporary failure) until one is configured. */
  readonly url: string | undefined;
  readonly timeoutMs: number;
}

export interface CleanupConfig {
  readonly intervalMs: number;
  readonly retentionHours: number;
}

/** How destinations become destKeys (codec/address.ts normaliseDestination). */
export interface AddressConfig {
  readonly countryCode: string | undefined;
  /** '' where national numbers have no trunk prefix. */
  readonly nationalPrefix: string;
  readonly internationalPrefix: string;
  readonly unknownTon: 'international' | 'national';
}

export interface SinkConfig {
  readonly port: number;
  readonly host: string;
}

export interface MetricsConfig {
  /** 0 = no metrics server. */
  readonly port: number;
  readonly host: string;
  /** Queue sampler period; 0 = this process never samples. */
  readonly queueSampleMs: number;
}

export interface NodeConfig {
  readonly name: string | undefined;
  readonly heartbeatMs: number;
  /** SIGTERM/SIGINT to exit, at most. */
  readonly shutdownGraceMs: number;
}

/** `smsc up`: the all-in-one and how it supervises its children. */
export interface UpConfig {
  readonly dataDir: string;
  readonly mongoPort: number;
  readonly deliverers: number;
  readonly restartBaseMs: number;
  readonly restartMaxMs: number;
  readonly maxFailures: number;
  readonly failureWindowMs: number;
}

export interface ApiConfig {
  readonly host: string;
  /** 0 = no HTTP API. */
  readonly httpPort: number;
  /** Bearer token for management; undefined = management refused. Never logged. */
  readonly adminToken: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly bodyLimitBytes: number;
  readonly maxBatch: number;
  readonly idempotencyHours: number;
}

export interface LogConfig {
  readonly level: LogLevel;
}

/** Contact policy (blocklists, opt-out, registration filter): the lists live in MongoDB. */
export interface PolicyConfig {
  readonly refreshMs: number;
}

export type HlrPolicyMode = 'off' | 'reject-unreachable' | 'reverse';
export type HlrFailurePolicy = 'accept' | 'reject' | 'defer';

export interface HlrConfig {
  readonly url: string | undefined;
  readonly policy: HlrPolicyMode;
  readonly timeoutMs: number;
  readonly onTimeout: HlrFailurePolicy;
  readonly cacheTtlS: number;
  readonly routing: boolean;
  readonly maxInFlight: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly token: string | undefined;
  readonly statusField: string;
  readonly reachableValues: string;
  readonly invalidValues: string;
  readonly networkField: string;
  readonly portedField: string;
}

export interface CdrS3Config {
  readonly endpoint: string | undefined;
  readonly bucket: string | undefined;
  readonly prefix: string;
  readonly region: string;
}

export interface CdrConfig {
  readonly dir: string | undefined;
  readonly format: 'jsonl' | 'csv';
  readonly rotateBytes: number;
  readonly rotateSeconds: number;
  readonly numbers: 'mask' | 'hash' | 'clear';
  readonly hashKey: string | undefined;
  readonly perAttempt: boolean;
  readonly pollMs: number;
  readonly lagMs: number;
  readonly s3: CdrS3Config;
}

export interface SmscConfig {
  readonly mongo: MongoConfig;
  readonly redis: RedisConfig;
  readonly inserter: InserterConfig;
  readonly deliverer: DelivererConfig;
  readonly charging: ChargingConfig;
  readonly cleanup: CleanupConfig;
  readonly address: AddressConfig;
  readonly sink: SinkConfig;
  readonly metrics: MetricsConfig;
  readonly node: NodeConfig;
  readonly api: ApiConfig;
  readonly log: LogConfig;
  readonly up: UpConfig;
  readonly policy: PolicyConfig;
  readonly hlr: HlrConfig;
  readonly cdr: CdrConfig;
  /** Where each set value came from (`--db`, `MONGODB_DB`, `file.json: mongo.dbName`); defaults are absent. */
  readonly sources: Readonly<Record<string, string>>;
}

export type ConfigSliceName = Exclude<keyof SmscConfig, 'sources'>;

export const LOCAL_MONGODB_URI = 'mongodb://127.0.0.1:27017';
