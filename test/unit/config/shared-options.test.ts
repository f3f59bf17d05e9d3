import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { withJsonOption, withMetricsOption, withRedisOption, withStoreOptions } from '../../../src/cli/index.ts';

async function parse(args: string[]): Promise<Record<string, unknown>> {
  const cli = withJsonOption(withMetricsOption(withRedisOption(withStoreOptions(yargs(args)))))
    .strict()
    .exitProcess(false);
  return (await cli.parseAsync()) as Record<string, unknown>;
}

describe('shared CLI options', () => {
  it('feed the config loader under the flag names it knows, over the environment', async () => {
    const argv = await parse([
      '--mongodb-uri',
      'mongodb://db:27017',
      '--db',
      'ops',
      '--redis-url',
      'redis://r:6379',
      '--metrics-port',
      '9464',
      '--log-level',
      'warn',
      '--json',
    ]);
    const config = loadConfig({ flags: argv, env: { MONGODB_DB: 'ignored', METRICS_PORT: '1' } });
    expect(config.mongo.uri).toBe('mongodb://db:27017');
    expect(config.mongo.dbName).toBe('ops');
    expect(config.redis.url).toBe('redis://r:6379');
    expect(config.metrics.port).toBe(9464);
    expect(config.log.level).toBe('warn');
    expect(argv.json).toBe(true);
  });

  it('leave absent flags undefined so the environment still applies', async () => {
    const argv = await parse([]);
    expect(argv.db).toBeUndefined();
    expect(argv.metricsPort).toBeUndefined();
    expect(loadConfig({ flags: argv, env: { MONGODB_DB: 'fromenv', METRICS_PORT: '9100' } }).mongo.dbName).toBe('fromenv');
  });

  it('a non-numeric --metrics-port becomes a config problem, not a crash', async () => {
    const argv = await parse(['--metrics-port', 'abc']);
    expect(() => loadConfig({ flags: argv, env: {} })).toThrow(/--metrics-port must be a port number \(0-65535\), got NaN/);
  });
});
