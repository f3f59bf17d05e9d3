/**
 * Runs MongoDB's unified-format CRUD specification tests through the real `mongodb` driver.
 *
 *   npm run test:conformance [-- --spec DIR] [--uri URI] [--extended] [--grep TEXT]
 *
 * Against `--uri` or MONGODB_URI when given, else against a stand-in it starts itself.
 * Prints one line per test and ends with `N passed, M failed, K skipped`; exits 1 when a test failed.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { listSpecFiles, loadTestFile, SpecLoadError, type TestFile } from './conformance/loader.ts';
import { discoverServer } from './conformance/requirements.ts';
import { killAllSessions, runFile, type RunnerContext, type TestOutcome } from './conformance/runner.ts';
import { startStandin, type StandinProcess } from './conformance/standin-process.ts';
import { formatOutcome, Tally } from './conformance/report.ts';

const standinRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(standinRoot, '..');

const USAGE = `usage: npm run test:conformance -- [--spec DIR] [--uri URI] [--extended] [--grep TEXT] [--timeout MS]
  --spec DIR    directory of unified-format JSON files (default ../shared/mongo-spec/crud)
  --uri URI     server to test (default MONGODB_URI, else a stand-in started for the run)
  --extended    also run DIR/extended/*.json
  --grep TEXT   only tests whose file name or description contains TEXT
  --timeout MS  upper bound for one test (default 30000)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string' },
      uri: { type: 'string' },
      extended: { type: 'boolean', default: false },
      grep: { type: 'string' },
      timeout: { type: 'string', default: '30000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const specDir = resolve(values.spec ?? join(repoRoot, '..', 'shared', 'mongo-spec', 'crud'));
  if (!existsSync(specDir)) {
    process.stderr.write(`spec directory not found: ${specDir}\n`);
    return 2;
  }
  const testTimeoutMs = Number(values.timeout);
  if (!Number.isFinite(testTimeoutMs) || testTimeoutMs <= 0) {
    process.stderr.write(`--timeout must be a positive number of milliseconds\n${USAGE}\n`);
    return 2;
  }

  const sets: { label: string; dir: string }[] = [{ label: 'core', dir: specDir }];
  if (values.extended) {
    const extendedDir = join(specDir, 'extended');
    if (!existsSync(extendedDir)) {
      process.stderr.write(`--extended given but ${extendedDir} does not exist\n`);
      return 2;
    }
    sets.push({ label: 'extended', dir: extendedDir });
  }

  let standin: StandinProcess | undefined;
  let uri = values.uri ?? process.env.MONGODB_URI;
  if (!uri) {
    standin = await startStandin(standinRoot);
    uri = standin.uri;
    process.stdout.write(`started the stand-in at ${uri}\n`);
  } else {
    process.stdout.write(`testing ${uri.replace(/\/\/[^@/]*@/, '//***@')}\n`);
  }

  const internal = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  const total = new Tally();
  try {
    await internal.connect();
    const server = await discoverServer(internal, uri);
    process.stdout.write(`server ${server.version}, topology ${server.topology}\n`);
    const warning = await killAllSessions(internal);
    if (warning) process.stdout.write(`warning: ${warning}\n`);
    const ctx: RunnerContext = { uri, internal, server, testTimeoutMs };
    const grep = values.grep?.toLowerCase();
    for (const set of sets) {
      const tally = new Tally();
      const onResult = (r: TestOutcome) => {
        tally.add(r);
        total.add(r);
        process.stdout.write(`${formatOutcome(r)}\n`);
      };
      for (const entry of listSpecFiles(set.dir, dirname(specDir))) {
        let file: TestFile;
        try {
          file = loadTestFile(entry.path, entry.name);
        } catch (error) {
          if (!(error instanceof SpecLoadError)) throw error;
          onResult({ file: entry.name, test: '(file)', status: 'fail', detail: error.message });
          continue;
        }
        if (grep) {
          const wanted = file.tests.filter((t) => `${file.name} ${t.description}`.toLowerCase().includes(grep));
          if (wanted.length === 0) continue;
          file = { ...file, tests: wanted };
        }
        await runFile(file, ctx, onResult);
      }
      if (sets.length > 1) process.stdout.write(`${set.label}: ${tally.summary()}\n`);
    }
  } finally {
    await internal.close().catch(() => undefined);
    if (standin) await standin.stop();
  }
  process.stdout.write(`${total.summary()}\n`);
  return total.failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`conformance runner failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 2;
  },
);
