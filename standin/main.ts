import { parseArgs } from 'node:util';
import { DbPathInUseError } from './dbpath-lock.ts';
import { startStandin } from './server.ts';

const USAGE = `Usage: npm run mongo:standin -- [--port N] [--host ADDR] [--dbpath DIR] [--ttl-monitor-ms MS]

A MongoDB wire-protocol stand-in for tests (standalone MongoDB 7.0, no auth).
  --port N            TCP port (0 picks a free port; default 27017)
  --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --dbpath DIR        keep data in DIR (append-only journal; DIR/mongod.lock keeps one
                      server per directory: a second one exits with code 100, as mongod
                      does); memory only without it
  --ttl-monitor-ms MS how often expired TTL documents are deleted (default 60000)
  --slowms MS         log commands that take MS or longer to stderr (off by default)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        dbpath: { type: 'string' },
        'ttl-monitor-ms': { type: 'string' },
        slowms: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 27017 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0-65535, got ${String(values.port)}`);
  const ttl = values['ttl-monitor-ms'] === undefined ? undefined : Number(values['ttl-monitor-ms']);
  if (ttl !== undefined && !(ttl > 0)) fail(`--ttl-monitor-ms must be a positive number, got ${String(values['ttl-monitor-ms'])}`);
  const slowMs = values.slowms === undefined ? undefined : Number(values.slowms);
  if (slowMs !== undefined && !(slowMs >= 0)) fail(`--slowms must be a number >= 0, got ${String(values.slowms)}`);
  const standin = await startStandin({
    slowMs,
    port,
    host: typeof values.host === 'string' ? values.host : undefined,
    dbpath: typeof values.dbpath === 'string' ? values.dbpath : undefined,
    ttlMonitorIntervalMs: ttl,
  });
  process.stdout.write(`MongoDB stand-in listening on ${standin.uri}\n`);
  const stop = (): void => {
    void standin.close().then(() => {
      process.exitCode = 0;
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`standin: ${(err as Error)?.message ?? String(err)}\n`);
  // mongod ends with 100 (EXIT_UNCAUGHT) when its dbpath is in use.
  process.exitCode = err instanceof DbPathInUseError ? 100 : 1;
});
