/**
 * Every setting smsc reads, in one table: where it lives in the config (`path`), the environment
 * variable and CLI flag that can set it, its kind (how a raw value is checked and converted)
 * and its default. The README's configuration reference is this table.
 */
export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

export type FieldKind =
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'mongoUri' }
  | { type: 'redisUrl' }
  | { type: 'httpUrl' }
  | { type: 'dbName' }
  | { type: 'port' }
  | { type: 'int'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  /** A string of digits (a dialling prefix); `none` stands for '' where empty is allowed. */
  | { type: 'digits'; minLength: number; maxLength: number; noLeadingZero?: boolean; none?: boolean }
  | { type: 'writeConcern' }
  /** A secret string: never echoed in a problem, at least `minLength` characters. */
  | { type: 'secret'; minLength: number };

export interface ConfigField {
  /** `slice.key`: the place in the config object and in a config file. */
  path: string;
  kind: FieldKind;
  env?: string;
  /** Kebab-case CLI flag; read from yargs' argv under its camelCase name. */
  flag?: string;
  /** `undefined` means "not set" (the setting is optional). */
  default: string | number | boolean | undefined;
  doc: string;
}

const PORT: FieldKind = { type: 'port' };
const ms = (min: number, max: number): FieldKind => ({ type: 'int', min, max });

const FIELD_LIST: ConfigField[] = [
  // mongo
  {
    path: 'mongo.uri',
    kind: { type: 'mongoUri' },
    env: 'MONGODB_URI',
    flag: 'mongodb-uri',
    default: undefined,
    doc: 'MongoDB connection string; unset means "local default" (mongodb://127.0.0.1:27017, or an embedded one for `smsc up`).',
  },
  { path: 'mongo.dbName', kind: { type: 'dbName' }, env: 'MONGODB_DB', flag: 'db', default: 'smsc', doc: 'Database name.' },
  {
    path: 'mongo.writeConcern',
    kind: { type: 'writeConcern' },
    env: 'MONGODB_WRITE_CONCERN',
    default: 'majority',
    doc: 'Write concern `w` for stored messages: "majority" or a number of members.',
  },
  {
    path: 'mongo.journal',
    kind: { type: 'boolean' },
    env: 'MONGODB_JOURNAL',
    default: true,
    doc: 'Wait for the journal before acknowledging a submit.',
  },
  {
    path: 'mongo.maxPoolSize',
    kind: { type: 'int', min: 1, max: 1000 },
    env: 'MONGODB_MAX_POOL_SIZE',
    default: 20,
    doc: 'Connection pool size per process.',
  },
  // redis
  {
    path: 'redis.url',
    kind: { type: 'redisUrl' },
    env: 'REDIS_URL',
    flag: 'redis-url',
    default: undefined,
    doc: 'Redis for TPS caps shared by all replicas; unset means per-process caps.',
  },
  // inserter
  {
    path: 'inserter.host',
    kind: { type: 'string', nonEmpty: true },
    env: 'SMPP_HOST',
    default: '0.0.0.0',
    doc: 'Address the inserter listens on.',
  },
  { path: 'inserter.smppPort', kind: PORT, env: 'SMPP_PORT', flag: 'smpp-port', default: 2775, doc: 'SMPP port for ESMEs.' },
  {
    path: 'inserter.smppTlsPort',
    kind: PORT,
    env: 'SMPP_TLS_PORT',
    flag: 'smpp-tls-port',
    default: undefined,
    doc: 'SMPP over TLS port for ESMEs, beside the plain one; needs the certificate and key (3550 when they are set and this is not).',
  },
  {
    path: 'inserter.tlsCert',
    kind: { type: 'string', nonEmpty: true },
    env: 'SMPP_TLS_CERT',
    flag: 'tls-cert',
    default: undefined,
    doc: "PEM file with the TLS listener's certificate (chain).",
  },
  {
    path: 'inserter.tlsKey',
    kind: { type: 'string', nonEmpty: true },
    env: 'SMPP_TLS_KEY',
    flag: 'tls-key',
    default: undefined,
    doc: "PEM file with the TLS listener's private key.",
  },
  {
    path: 'inserter.batchMaxSize',
    kind: { type: 'int', min: 1, max: 10_000 },
    env: 'INSERTER_BATCH_MAX_SIZE',
    default: 100,
    doc: 'Most submits stored by one insert (group commit).',
  },
  {
    path: 'inserter.batchMaxWaitMs',
    kind: ms(0, 1000),
    env: 'INSERTER_BATCH_MAX_WAIT_MS',
    default: 0,
    doc: 'When no insert is in flight, how long a submit waits for others to share its insert (0: none; batches form from what arrives while an insert is in flight).',
  },
  {
    path: 'inserter.defaultValidityHours',
    kind: { type: 'int', min: 1, max: 24 * 30 },
    env: 'DEFAULT_VALIDITY_HOURS',
    default: 24,
    doc: 'Validity of a message that names none.',
  },
  {
    path: 'inserter.maxValidityHours',
    kind: { type: 'int', min: 1, max: 24 * 365 },
    env: 'MAX_VALIDITY_HOURS',
    flag: 'max-validity-hours',
    default: 168,
    doc: 'Furthest validity_period / schedule_delivery_time accepted.',
  },
  {
    path: 'inserter.windowSize',
    kind: { type: 'int', min: 1, max: 10_000 },
    env: 'SMPP_WINDOW',
    flag: 'smpp-window',
    default: 100,
    doc: 'Unanswered PDUs per ESME session before reading pauses.',
  },
  {
    path: 'inserter.enquireLinkMs',
    kind: ms(0, 3_600_000),
    env: 'SMPP_ENQUIRE_LINK_MS',
    flag: 'smpp-enquire-link-ms',
    default: 30_000,
    doc: 'Send enquire_link to an ESME after this much silence; 0 = never.',
  },
  {
    path: 'inserter.inactivityMs',
    kind: ms(0, 86_400_000),
    env: 'SMPP_INACTIVITY_MS',
    flag: 'inactivity-ms',
    default: 90_000,
    doc: 'Close an ESME session silent this long; 0 = never.',
  },
  {
    path: 'inserter.bindTimeoutMs',
    kind: ms(100, 3_600_000),
    env: 'SMPP_BIND_TIMEOUT_MS',
    flag: 'bind-timeout-ms',
    default: 30_000,
    doc: 'Close a connection that has not bound within this.',
  },
  // deliverer
  {
    path: 'deliverer.leaseMs',
    kind: ms(1000, 3_600_000),
    env: 'DELIVERER_LEASE_MS',
    flag: 'lease-ms',
    default: 30_000,
    doc: "Lease of a message or destination lock (on MongoDB's clock); renewed every third of it while delivering.",
  },
  {
    path: 'deliverer.sweepIntervalMs',
    kind: ms(100, 3_600_000),
    env: 'DELIVERER_SWEEP_INTERVAL_MS',
    default: 5_000,
    doc: 'Safety sweep for due work a notification missed.',
  },
  {
    path: 'deliverer.batchSize',
    kind: { type: 'int', min: 1, max: 100 },
    env: 'DELIVERER_BATCH_SIZE',
    default: 4,
    doc: 'Most messages delivered to one destination per round.',
  },
  {
    path: 'deliverer.concurrency',
    kind: { type: 'int', min: 1, max: 1000 },
    env: 'DELIVERER_CONCURRENCY',
    flag: 'lanes',
    default: 32,
    doc: 'Destinations a deliverer works on at once (lanes).',
  },
  {
    path: 'deliverer.maxAttempts',
    kind: { type: 'int', min: 1, max: 10_000 },
    env: 'DELIVERER_MAX_ATTEMPTS',
    flag: 'max-attempts',
    default: 30,
    doc: 'Attempts before a message is undeliverable (deliverers and cleanup).',
  },
  {
    path: 'deliverer.refreshMs',
    kind: ms(100, 3_600_000),
    env: 'DELIVERER_REFRESH_MS',
    flag: 'refresh-ms',
    default: 2_000,
    doc: 'How often a deliverer re-reads routes and connectors.',
  },
  {
    path: 'deliverer.retryBaseMs',
    kind: ms(100, 86_400_000),
    env: 'DELIVERER_RETRY_BASE_MS',
    default: 60_000,
    doc: 'First retry delay after a temporary failure (doubles per attempt).',
  },
  {
    path: 'deliverer.retryMaxMs',
    kind: ms(1000, 86_400_000),
    env: 'DELIVERER_RETRY_MAX_MS',
    default: 3_600_000,
    doc: 'Longest retry delay.',
  },
  {
    path: 'deliverer.unboundRetryMs',
    kind: ms(100, 3_600_000),
    env: 'DELIVERER_UNBOUND_RETRY_MS',
    default: 10_000,
    doc: 'How long a destination waits, without using an attempt, while none of its connectors is bound.',
  },
  {
    path: 'deliverer.leaseGraceMs',
    kind: ms(0, 600_000),
    env: 'DELIVERER_LEASE_GRACE_MS',
    default: 2_000,
    doc: 'How long after a lease ran out it may be taken over (at least the tolerated clock offset).',
  },
  {
    path: 'deliverer.maxClockOffsetMs',
    kind: ms(0, 600_000),
    env: 'DELIVERER_MAX_CLOCK_OFFSET_MS',
    default: 2_000,
    doc: "A deliverer whose clock is further than this from MongoDB's delivers nothing until fixed.",
  },
  // charging (routes marked charged)
  {
    path: 'charging.url',
    kind: { type: 'httpUrl' },
    env: 'CHARGING_URL',
    flag: 'charging-url',
    default: undefined,
    doc: 'HTTP JSON endpoint asked before a message on a charged route is delivered; unset: such messages wait.',
  },
  {
    path: 'charging.timeoutMs',
    kind: ms(100, 60_000),
    env: 'CHARGING_TIMEOUT_MS',
    default: 5_000,
    doc: 'Longest wait for the charging endpoint; no answer in time means try again later.',
  },
  // cleanup
  {
    path: 'cleanup.intervalMs',
    kind: ms(100, 86_400_000),
    env: 'CLEANUP_INTERVAL_MS',
    default: 60_000,
    doc: 'Pause between cleanup passes (daemon mode).',
  },
  {
    path: 'cleanup.retentionHours',
    kind: { type: 'int', min: 1, max: 24 * 3650 },
    env: 'CLEANUP_RETENTION_HOURS',
    flag: 'retention-hours',
    default: 168,
    doc: 'How long messages in a final state are kept.',
  },
  // address (destKey normalisation: README "Destination keys")
  {
    path: 'address.countryCode',
    kind: { type: 'digits', minLength: 1, maxLength: 3, noLeadingZero: true },
    env: 'ADDRESS_COUNTRY_CODE',
    default: undefined,
    doc: 'Country calling code of national numbers (e.g. 49); unset means national numbers keep their national form.',
  },
  {
    path: 'address.nationalPrefix',
    kind: { type: 'digits', minLength: 1, maxLength: 3, none: true },
    env: 'ADDRESS_NATIONAL_PREFIX',
    default: '0',
    doc: 'Trunk prefix of national numbers; `none` where there is none.',
  },
  {
    path: 'address.internationalPrefix',
    kind: { type: 'digits', minLength: 1, maxLength: 4 },
    env: 'ADDRESS_INTERNATIONAL_PREFIX',
    default: '00',
    doc: 'Prefix dialled before international numbers (00, 011 in NANP).',
  },
  {
    path: 'address.unknownTon',
    kind: { type: 'enum', values: ['international', 'national'] },
    env: 'ADDRESS_UNKNOWN_TON',
    default: 'international',
    doc: 'How a TON 0 number of 7-15 digits without a prefix is read.',
  },
  // sink (downstream simulator)
  { path: 'sink.port', kind: PORT, env: 'SINK_PORT', flag: 'sink-port', default: 2776, doc: 'SMPP port of the downstream simulator.' },
  {
    path: 'sink.host',
    kind: { type: 'string', nonEmpty: true },
    env: 'SINK_HOST',
    default: '127.0.0.1',
    doc: 'Address the simulator listens on (0.0.0.0 in containers).',
  },
  // metrics
  {
    path: 'metrics.port',
    kind: PORT,
    env: 'METRICS_PORT',
    flag: 'metrics-port',
    default: 0,
    doc: 'Prometheus /metrics port; 0 turns it off.',
  },
  {
    path: 'metrics.host',
    kind: { type: 'string', nonEmpty: true },
    env: 'METRICS_HOST',
    default: '0.0.0.0',
    doc: 'Address the metrics server listens on.',
  },
  {
    path: 'metrics.queueSampleMs',
    kind: ms(0, 3_600_000),
    env: 'METRICS_QUEUE_SAMPLE_MS',
    default: 15_000,
    doc: 'How often the queue gauges are sampled, by the one process holding the `queue-sampler` lease; 0 keeps this process out of it.',
  },
  // node (heartbeats)
  {
    path: 'node.name',
    kind: { type: 'string', nonEmpty: true },
    env: 'SMSC_NODE_NAME',
    flag: 'node-name',
    default: undefined,
    doc: 'Name in `nodes`; unset means kind-host-pid.',
  },
  {
    path: 'node.heartbeatMs',
    kind: ms(100, 3_600_000),
    env: 'SMSC_HEARTBEAT_MS',
    default: 10_000,
    doc: 'Heartbeat period; an entry expires after three missed beats.',
  },
  {
    path: 'node.shutdownGraceMs',
    kind: ms(1000, 600_000),
    env: 'SHUTDOWN_GRACE_MS',
    flag: 'shutdown-grace-ms',
    default: 10_000,
    doc: 'Longest a SIGTERM/SIGINT shutdown takes; work not finished by then is left to the leases.',
  },
  // up (the all-in-one)
  {
    path: 'up.dataDir',
    kind: { type: 'string', nonEmpty: true },
    env: 'SMSC_DATA_DIR',
    flag: 'data-dir',
    default: './data',
    doc: 'Where `smsc up` keeps the embedded MongoDB and its lock file.',
  },
  {
    path: 'up.mongoPort',
    kind: PORT,
    env: 'SMSC_MONGO_PORT',
    flag: 'mongo-port',
    default: 27017,
    doc: 'Port of the embedded MongoDB (another is picked when taken; 0 = any).',
  },
  {
    path: 'up.deliverers',
    kind: { type: 'int', min: 0, max: 64 },
    env: 'SMSC_DELIVERERS',
    flag: 'deliverers',
    default: 2,
    doc: 'Delivery worker processes `smsc up` runs.',
  },
  {
    path: 'up.restartBaseMs',
    kind: ms(10, 60_000),
    env: 'SMSC_RESTART_BASE_MS',
    flag: 'restart-base-ms',
    default: 1_000,
    doc: 'First pause before a child that exited is restarted; doubles per failure.',
  },
  {
    path: 'up.restartMaxMs',
    kind: ms(10, 600_000),
    env: 'SMSC_RESTART_MAX_MS',
    flag: 'restart-max-ms',
    default: 30_000,
    doc: 'Longest pause before a restart.',
  },
  {
    path: 'up.maxFailures',
    kind: { type: 'int', min: 1, max: 1000 },
    env: 'SMSC_MAX_FAILURES',
    flag: 'max-failures',
    default: 5,
    doc: 'A child that fails this often within `up.failureWindowMs` stops the whole set.',
  },
  {
    path: 'up.failureWindowMs',
    kind: ms(1000, 3_600_000),
    env: 'SMSC_FAILURE_WINDOW_MS',
    default: 60_000,
    doc: 'Window in which `up.maxFailures` failures of one child stop the set.',
  },
  // api (HTTP API and web control panel)
  {
    path: 'api.host',
    kind: { type: 'string', nonEmpty: true },
    env: 'API_HOST',
    default: '0.0.0.0',
    doc: 'Address the HTTP API listens on.',
  },
  {
    path: 'api.httpPort',
    kind: PORT,
    env: 'HTTP_PORT',
    flag: 'http-port',
    default: 8080,
    doc: 'HTTP API and control panel port; 0 turns the API off.',
  },
  {
    path: 'api.adminToken',
    kind: { type: 'secret', minLength: 16 },
    env: 'API_ADMIN_TOKEN',
    default: undefined,
    doc: 'Bearer token for management endpoints and the control panel (at least 16 characters); unset means management is refused.',
  },
  {
    path: 'api.tlsCert',
    kind: { type: 'string', nonEmpty: true },
    env: 'API_TLS_CERT',
    default: undefined,
    doc: 'PEM certificate file: the API serves HTTPS when set (with api.tlsKey).',
  },
  {
    path: 'api.tlsKey',
    kind: { type: 'string', nonEmpty: true },
    env: 'API_TLS_KEY',
    default: undefined,
    doc: 'PEM private key file for api.tlsCert.',
  },
  {
    path: 'api.bodyLimitBytes',
    kind: { type: 'int', min: 1024, max: 64 * 1024 * 1024 },
    env: 'API_BODY_LIMIT_BYTES',
    default: 1_048_576,
    doc: 'Largest request body accepted (413 beyond).',
  },
  {
    path: 'api.maxBatch',
    kind: { type: 'int', min: 1, max: 10_000 },
    env: 'API_MAX_BATCH',
    default: 1000,
    doc: 'Most messages in one batch POST.',
  },
  {
    path: 'api.idempotencyHours',
    kind: { type: 'int', min: 1, max: 24 * 30 },
    env: 'API_IDEMPOTENCY_HOURS',
    default: 24,
    doc: 'How long an Idempotency-Key answer is kept.',
  },
  // log
  {
    path: 'log.level',
    kind: { type: 'enum', values: LOG_LEVELS },
    env: 'LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    doc: 'pino log level.',
  },

  // ---- Intake policy, HLR lookups and the CDR journal (issue 16) ----
  // contact policy (blocklists, opt-out, registration filter; the lists live in MongoDB)
  {
    path: 'policy.refreshMs',
    kind: ms(100, 60_000),
    env: 'POLICY_REFRESH_MS',
    default: 1_000,
    doc: "How often each process checks the contact lists' version document for changes.",
  },
  // hlr
  {
    path: 'hlr.url',
    kind: { type: 'httpUrl' },
    env: 'HLR_URL',
    flag: 'hlr-url',
    default: undefined,
    doc: 'HLR provider (HTTP JSON GET); `{msisdn}` in it is replaced by the number, else `msisdn=` is added to the query. Unset: no lookups.',
  },
  {
    path: 'hlr.policy',
    kind: { type: 'enum', values: ['off', 'reject-unreachable', 'reverse'] },
    env: 'HLR_POLICY',
    flag: 'hlr-policy',
    default: 'off',
    doc: 'off: no lookup before the ack; reject-unreachable: refuse numbers the HLR says are unreachable or invalid; reverse: refuse reachable numbers, accept the rest as delivered.',
  },
  {
    path: 'hlr.timeoutMs',
    kind: ms(10, 60_000),
    env: 'HLR_TIMEOUT_MS',
    flag: 'hlr-timeout-ms',
    default: 2_000,
    doc: 'Longest wait for the HLR provider.',
  },
  {
    path: 'hlr.onTimeout',
    kind: { type: 'enum', values: ['accept', 'reject', 'defer'] },
    env: 'HLR_ON_TIMEOUT',
    flag: 'hlr-on-timeout',
    default: 'accept',
    doc: 'When a lookup times out or fails: accept the message, reject it (ESME_RX_P_APPN) or defer it (ESME_RX_T_APPN: the ESME resubmits later).',
  },
  {
    path: 'hlr.cacheTtlS',
    kind: { type: 'int', min: 0, max: 30 * 86_400 },
    env: 'HLR_CACHE_TTL_S',
    flag: 'hlr-cache-ttl-s',
    default: 86_400,
    doc: 'How long a lookup result is cached (Redis when REDIS_URL is set, else per process); 0 = no cache.',
  },
  {
    path: 'hlr.routing',
    kind: { type: 'boolean' },
    env: 'HLR_ROUTING',
    flag: 'hlr-routing',
    default: false,
    doc: 'Also look numbers up after the ack when the policy does not, to store the serving network (`sms.hlr.network`) for routing.',
  },
  {
    path: 'hlr.maxInFlight',
    kind: { type: 'int', min: 1, max: 100_000 },
    env: 'HLR_MAX_IN_FLIGHT',
    default: 256,
    doc: 'HLR requests in flight at once per process; beyond it a lookup counts as an error.',
  },
  {
    path: 'hlr.username',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_USERNAME',
    default: undefined,
    doc: 'HTTP Basic user for the provider (with hlr.password).',
  },
  {
    path: 'hlr.password',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_PASSWORD',
    default: undefined,
    doc: 'HTTP Basic password for the provider; never logged.',
  },
  {
    path: 'hlr.token',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_TOKEN',
    default: undefined,
    doc: 'Bearer token for the provider; never logged.',
  },
  {
    path: 'hlr.statusField',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_STATUS_FIELD',
    default: 'status',
    doc: 'Field (dotted path) of the answer that says whether the number is reachable.',
  },
  {
    path: 'hlr.reachableValues',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_REACHABLE_VALUES',
    default: 'reachable',
    doc: 'Comma-separated values of the status field that mean reachable (any case).',
  },
  {
    path: 'hlr.invalidValues',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_INVALID_VALUES',
    default: 'invalid',
    doc: 'Comma-separated values of the status field that mean the number does not exist; any other value is unreachable.',
  },
  {
    path: 'hlr.networkField',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_NETWORK_FIELD',
    default: 'network',
    doc: 'Field (dotted path) naming the serving network (e.g. its MCCMNC), stored for ported-number routing.',
  },
  {
    path: 'hlr.portedField',
    kind: { type: 'string', nonEmpty: true },
    env: 'HLR_PORTED_FIELD',
    default: 'ported',
    doc: 'Field (dotted path) that is true when the number was ported.',
  },
  // cdr journal
  {
    path: 'cdr.dir',
    kind: { type: 'string', nonEmpty: true },
    env: 'CDR_DIR',
    flag: 'cdr-dir',
    default: undefined,
    doc: 'Directory of the CDR journal files; unset: no journal.',
  },
  {
    path: 'cdr.format',
    kind: { type: 'enum', values: ['jsonl', 'csv'] },
    env: 'CDR_FORMAT',
    flag: 'cdr-format',
    default: 'jsonl',
    doc: 'CDR file format.',
  },
  {
    path: 'cdr.rotateBytes',
    kind: { type: 'int', min: 1_024, max: 1_000_000_000_000 },
    env: 'CDR_ROTATE_BYTES',
    flag: 'cdr-rotate-bytes',
    default: 64 * 1024 * 1024,
    doc: 'A CDR file is closed, compressed and queued for upload at this size…',
  },
  {
    path: 'cdr.rotateSeconds',
    kind: { type: 'int', min: 1, max: 7 * 86_400 },
    env: 'CDR_ROTATE_SECONDS',
    flag: 'cdr-rotate-seconds',
    default: 3_600,
    doc: '…or this long after it was opened.',
  },
  {
    path: 'cdr.numbers',
    kind: { type: 'enum', values: ['mask', 'hash', 'clear'] },
    env: 'CDR_NUMBERS',
    flag: 'cdr-numbers',
    default: 'mask',
    doc: 'How CDRs show phone numbers: masked (4477009****), hashed (HMAC-SHA-256 with cdr.hashKey, else SHA-256) or in clear.',
  },
  {
    path: 'cdr.hashKey',
    kind: { type: 'string', nonEmpty: true },
    env: 'CDR_HASH_KEY',
    default: undefined,
    doc: 'Secret for hashed numbers, so they cannot be reversed by hashing every number; never logged.',
  },
  {
    path: 'cdr.perAttempt',
    kind: { type: 'boolean' },
    env: 'CDR_PER_ATTEMPT',
    flag: 'cdr-per-attempt',
    default: false,
    doc: 'Also write one record per delivery attempt (from the message history) when the message is final.',
  },
  {
    path: 'cdr.pollMs',
    kind: ms(50, 600_000),
    env: 'CDR_POLL_MS',
    default: 1_000,
    doc: 'Pause between journal passes over newly final messages.',
  },
  {
    path: 'cdr.lagMs',
    kind: ms(0, 86_400_000),
    env: 'CDR_LAG_MS',
    default: 60_000,
    doc: 'How far behind its high-water mark each pass looks again, for final writes that became visible late.',
  },
  {
    path: 'cdr.s3.endpoint',
    kind: { type: 'httpUrl' },
    env: 'CDR_S3_ENDPOINT',
    flag: 'cdr-s3-endpoint',
    default: undefined,
    doc: "S3-compatible endpoint (unset: AWS S3). Credentials come from the AWS SDK's usual sources (AWS_ACCESS_KEY_ID, …).",
  },
  {
    path: 'cdr.s3.bucket',
    kind: { type: 'string', nonEmpty: true },
    env: 'CDR_S3_BUCKET',
    flag: 'cdr-s3-bucket',
    default: undefined,
    doc: 'Bucket the closed CDR files are uploaded to; unset: files stay in cdr.dir.',
  },
  {
    path: 'cdr.s3.prefix',
    kind: { type: 'string' },
    env: 'CDR_S3_PREFIX',
    flag: 'cdr-s3-prefix',
    default: 'cdr/',
    doc: 'Key prefix of uploaded CDR files.',
  },
  {
    path: 'cdr.s3.region',
    kind: { type: 'string', nonEmpty: true },
    env: 'CDR_S3_REGION',
    default: 'us-east-1',
    doc: 'Region for request signing.',
  },
];

export const CONFIG_FIELDS: readonly Readonly<ConfigField>[] = Object.freeze(FIELD_LIST.map((f) => Object.freeze(f)));

/** The environment variable naming a JSON config file (`--config` wins over it). */
export const CONFIG_FILE_ENV = 'SMSC_CONFIG';
