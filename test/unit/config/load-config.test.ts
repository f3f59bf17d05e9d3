import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/domain/index.ts';
import { CONFIG_FIELDS, ConfigValidationError, loadConfig, mongoUriOf, writeConcernOf } from '../../../src/config/index.ts';

function files(map: Record<string, string>): (file: string) => string {
  return (file) => {
    const hit = Object.entries(map).find(([name]) => file.endsWith(name));
    if (!hit) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return hit[1];
  };
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    return (error as ConfigValidationError).problems;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    const config = loadConfig({ env: {}, flags: {} });
    expect(config.mongo).toEqual({ uri: undefined, dbName: 'smsc', writeConcern: 'majority', journal: true, maxPoolSize: 20 });
    expect(config.redis.url).toBeUndefined();
    expect(config.inserter.smppPort).toBe(2775);
    expect(config.sink.port).toBe(2776);
    expect(config.metrics.port).toBe(0);
    expect(config.log.level).toBe('info');
    expect(config.deliverer.batchSize).toBe(4);
    expect(config.sources).toEqual({});
    expect(mongoUriOf(config.mongo)).toBe('mongodb://127.0.0.1:27017');
    expect(writeConcernOf(config.mongo)).toEqual({ w: 'majority', j: true });
  });

  it('every field default passes its own validation and has a slice in the result', () => {
    const config = loadConfig({ env: {} }) as unknown as Record<string, Record<string, unknown>>;
    for (const field of CONFIG_FIELDS) {
      const [slice, key] = field.path.split('.');
      expect(config[slice], field.path).toBeDefined();
      expect(key in config[slice], field.path).toBe(true);
    }
  });

  it('takes flags over environment over file over defaults', () => {
    const readFile = files({
      'smsc.json': JSON.stringify({ mongo: { dbName: 'fromfile', maxPoolSize: 7 }, inserter: { smppPort: 3000 }, metrics: { port: 9000 } }),
    });
    const config = loadConfig({
      flags: { config: 'smsc.json', smppPort: 4000 },
      env: { SMPP_PORT: '3500', MONGODB_DB: 'fromenv', METRICS_PORT: '9100' },
      readFile,
    });
    expect(config.inserter.smppPort).toBe(4000);
    expect(config.mongo.dbName).toBe('fromenv');
    expect(config.mongo.maxPoolSize).toBe(7);
    expect(config.metrics.port).toBe(9100);
    expect(config.sources['inserter.smppPort']).toBe('--smpp-port');
    expect(config.sources['mongo.dbName']).toBe('MONGODB_DB');
    expect(config.sources['mongo.maxPoolSize']).toBe('smsc.json: mongo.maxPoolSize');
  });

  it('reads the file named by SMSC_CONFIG, and --config wins over it', () => {
    const readFile = files({ 'a.json': '{"mongo":{"dbName":"a"}}', 'b.json': '{"mongo":{"dbName":"b"}}' });
    expect(loadConfig({ env: { SMSC_CONFIG: 'a.json' }, readFile }).mongo.dbName).toBe('a');
    expect(loadConfig({ env: { SMSC_CONFIG: 'a.json' }, flags: { config: 'b.json' }, readFile }).mongo.dbName).toBe('b');
  });

  it('treats empty environment variables as unset (compose files often pass VAR=)', () => {
    const config = loadConfig({ env: { MONGODB_URI: '', REDIS_URL: '', SMPP_PORT: '' } });
    expect(config.mongo.uri).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.inserter.smppPort).toBe(2775);
  });

  it('accepts the URIs and converts strings from the environment', () => {
    const config = loadConfig({
      env: {
        MONGODB_URI: 'mongodb://a:27017,b:27017/?replicaSet=rs0',
        REDIS_URL: 'redis://redis:6379',
        MONGODB_JOURNAL: 'false',
        MONGODB_WRITE_CONCERN: '1',
        LOG_LEVEL: 'DEBUG',
      },
    });
    expect(config.mongo.uri).toBe('mongodb://a:27017,b:27017/?replicaSet=rs0');
    expect(config.redis.url).toBe('redis://redis:6379');
    expect(config.mongo.journal).toBe(false);
    expect(config.mongo.writeConcern).toBe(1);
    expect(config.log.level).toBe('debug');
  });

  it('lists every problem in one error, naming where each value came from', () => {
    const readFile = files({ 'c.json': JSON.stringify({ deliverer: { batchSize: 0 }, mongo: { colour: 'blue' }, extra: {} }) });
    const problems = problemsOf(() =>
      loadConfig({
        flags: { config: 'c.json', metricsPort: 70000 },
        env: { SMPP_PORT: 'abc', MONGODB_URI: 'postgres://u:secret@h/db', MONGODB_DB: 'a.b', LOG_LEVEL: 'loud' },
        readFile,
      }),
    );
    const text = problems.join('\n');
    expect(text).toContain('SMPP_PORT must be a port number (0-65535), got "abc"');
    expect(text).toContain('--metrics-port must be a port number');
    expect(text).toContain('MONGODB_URI must be a MongoDB connection string');
    expect(text).toContain('MONGODB_DB must be a database name');
    expect(text).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
    expect(text).toContain('c.json: deliverer.batchSize must be an integer from 1 to 100');
    expect(text).toContain('unknown setting "mongo.colour"');
    expect(text).toContain('unknown section "extra"');
    expect(text).not.toContain('secret');
    expect(problems).toHaveLength(8);
  });

  it('reports an unreadable or malformed config file as a problem', () => {
    expect(problemsOf(() => loadConfig({ flags: { config: 'missing.json' }, readFile: files({}) }))[0]).toMatch(
      /--config names missing\.json, which cannot be read \(ENOENT\)/,
    );
    expect(problemsOf(() => loadConfig({ flags: { config: 'x.json' }, readFile: files({ 'x.json': '{nope' }) }))[0]).toMatch(
      /x\.json is not valid JSON/,
    );
    expect(problemsOf(() => loadConfig({ flags: { config: 'x.json' }, readFile: files({ 'x.json': '[1]' }) }))[0]).toMatch(
      /must hold a JSON object/,
    );
  });

  it('checks settings against each other', () => {
    const problems = problemsOf(() => loadConfig({ env: { DELIVERER_RETRY_BASE_MS: '20000', DELIVERER_RETRY_MAX_MS: '10000' } }));
    expect(problems).toEqual(['deliverer.retryBaseMs (20000) must not exceed deliverer.retryMaxMs (10000)']);
    expect(problemsOf(() => loadConfig({ env: { METRICS_QUEUE_SAMPLE_MS: '500' } }))).toEqual([
      'metrics.queueSampleMs (500) must be 0 (off) or at least 1000',
    ]);
    expect(loadConfig({ env: { METRICS_QUEUE_SAMPLE_MS: '0' } }).metrics.queueSampleMs).toBe(0);
    expect(loadConfig({ env: {} }).metrics.queueSampleMs).toBe(15_000);
  });

  it('reads the destKey settings: digits, none for no trunk prefix, and refuses what is no prefix', () => {
    expect(loadConfig({ env: {} }).address).toEqual({
      countryCode: undefined,
      nationalPrefix: '0',
      internationalPrefix: '00',
      unknownTon: 'international',
    });
    expect(
      loadConfig({
        env: {
          ADDRESS_COUNTRY_CODE: '1',
          ADDRESS_NATIONAL_PREFIX: '1',
          ADDRESS_INTERNATIONAL_PREFIX: '011',
          ADDRESS_UNKNOWN_TON: 'national',
        },
      }).address,
    ).toEqual({
      countryCode: '1',
      nationalPrefix: '1',
      internationalPrefix: '011',
      unknownTon: 'national',
    });
    expect(loadConfig({ env: { ADDRESS_NATIONAL_PREFIX: 'none' } }).address.nationalPrefix).toBe('');
    expect(
      loadConfig({
        flags: { config: 'a.json' },
        readFile: files({ 'a.json': JSON.stringify({ address: { countryCode: 45, nationalPrefix: '' } }) }),
      }).address,
    ).toMatchObject({
      countryCode: '45',
      nationalPrefix: '',
    });
    expect(
      problemsOf(() =>
        loadConfig({ env: { ADDRESS_COUNTRY_CODE: '049', ADDRESS_INTERNATIONAL_PREFIX: 'none', ADDRESS_UNKNOWN_TON: 'guess' } }),
      ),
    ).toEqual([
      'ADDRESS_COUNTRY_CODE must be 1-3 digits not starting with 0, got "049"',
      'ADDRESS_INTERNATIONAL_PREFIX must be 1-4 digits, got "none"',
      'ADDRESS_UNKNOWN_TON must be one of international, national, got "guess"',
    ]);
  });

  it('checks a numeric process option alike whether it comes from a flag, the environment or the file', () => {
    const readFile = files({ 'c.json': JSON.stringify({ deliverer: { concurrency: 0, leaseMs: -3 }, node: { shutdownGraceMs: 50 } }) });
    expect(problemsOf(() => loadConfig({ flags: { lanes: 0, leaseMs: -3, shutdownGraceMs: 50 } }))).toEqual([
      '--lease-ms must be an integer from 1000 to 3600000, got -3',
      '--lanes must be an integer from 1 to 1000, got 0',
      '--shutdown-grace-ms must be an integer from 1000 to 600000, got 50',
    ]);
    expect(
      problemsOf(() => loadConfig({ env: { DELIVERER_CONCURRENCY: '0', DELIVERER_LEASE_MS: '-3', SHUTDOWN_GRACE_MS: '50' } })),
    ).toEqual([
      'DELIVERER_LEASE_MS must be an integer from 1000 to 3600000, got "-3"',
      'DELIVERER_CONCURRENCY must be an integer from 1 to 1000, got "0"',
      'SHUTDOWN_GRACE_MS must be an integer from 1000 to 600000, got "50"',
    ]);
    expect(problemsOf(() => loadConfig({ flags: { config: 'c.json' }, readFile }))).toEqual([
      'c.json: deliverer.leaseMs must be an integer from 1000 to 3600000, got -3',
      'c.json: deliverer.concurrency must be an integer from 1 to 1000, got 0',
      'c.json: node.shutdownGraceMs must be an integer from 1000 to 600000, got 50',
    ]);
    // yargs turns `--lanes abc` into NaN: refused, not taken for a number.
    expect(problemsOf(() => loadConfig({ flags: { lanes: Number.NaN } }))).toEqual(['--lanes must be an integer from 1 to 1000, got NaN']);
    const ok = loadConfig({ flags: { lanes: 8, leaseMs: 5000, maxAttempts: 3, retentionHours: 2, shutdownGraceMs: 4000 } });
    expect([
      ok.deliverer.concurrency,
      ok.deliverer.leaseMs,
      ok.deliverer.maxAttempts,
      ok.cleanup.retentionHours,
      ok.node.shutdownGraceMs,
    ]).toEqual([8, 5000, 3, 2, 4000]);
  });

  it('reads the inserter session flags by names no other command uses (connector add has its own --window)', () => {
    // `smsc connector add --window 0 --enquire-link-ms 500` goes through the same config loader.
    expect(loadConfig({ flags: { window: 0, enquireLinkMs: 500 } }).inserter).toMatchObject({ windowSize: 100, enquireLinkMs: 30_000 });
    expect(loadConfig({ flags: { smppWindow: 5, smppEnquireLinkMs: 0 } }).inserter).toMatchObject({ windowSize: 5, enquireLinkMs: 0 });
  });

  it('checks the restart backoff of smsc up against itself', () => {
    expect(problemsOf(() => loadConfig({ flags: { restartBaseMs: 5000, restartMaxMs: 1000 } }))).toEqual([
      'up.restartBaseMs (5000) must not exceed up.restartMaxMs (1000)',
    ]);
    const config = loadConfig({ env: {} });
    expect(config.up).toEqual({
      dataDir: './data',
      mongoPort: 27017,
      deliverers: 2,
      restartBaseMs: 1000,
      restartMaxMs: 30_000,
      maxFailures: 5,
      failureWindowMs: 60_000,
    });
    expect(config.node.shutdownGraceMs).toBe(10_000);
  });

  it('freezes the whole result', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.mongo)).toBe(true);
    expect(Object.isFrozen(config.sources)).toBe(true);
    expect(() => {
      (config.mongo as { dbName: string }).dbName = 'other';
    }).toThrow(TypeError);
  });
});
