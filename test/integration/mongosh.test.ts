import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect, beforeAll } from 'vitest';
import { useTestDb } from '../support/mongo.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MONGOSH = path.join(repoRoot, 'node_modules', '.bin', 'mongosh');
// mongosh needs a few seconds to start on a busy two-core machine.
const MONGOSH_TIMEOUT_MS = 90_000;

interface ShellRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The harness URI with the test's own database as its path (query options kept). */
function uriWithDatabase(uri: string, dbName: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`not a MongoDB URI: ${uri}`);
  return `${m[1]}/${dbName}${m[2] ?? ''}`;
}

function mongosh(uri: string, script: string): Promise<ShellRun> {
  return new Promise((resolve) => {
    execFile(
      MONGOSH,
      [uri, '--quiet', '--norc', '--eval', script],
      // No colours, no telemetry prompt; Node 20 makes mongosh print a deprecation warning on stderr.
      { timeout: MONGOSH_TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1', MONGOSH_NO_TELEMETRY: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Output of a run, failing the test with everything mongosh said when it exited non-zero. */
function expectSuccess(run: ShellRun): string {
  if (run.code !== 0) throw new Error(`mongosh exited ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return run.stdout;
}

/** The text between `@@name` markers printed by a script. */
function section(stdout: string, name: string): string {
  const start = stdout.indexOf(`@@${name}\n`);
  if (start < 0) throw new Error(`no section ${name} in:\n${stdout}`);
  const rest = stdout.slice(start + name.length + 3);
  const end = rest.indexOf('@@');
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

describe('mongosh against the test MongoDB', () => {
  const t = useTestDb('mongosh');
  let uri = '';

  beforeAll(async () => {
    uri = uriWithDatabase(t.uri, t.dbName);
    await t.db.collection<{ _id: number; name: string; n: number; kind: string }>('c').insertMany([
      { _id: 1, name: 'alpha', n: 10, kind: 'x' },
      { _id: 2, name: 'beta', n: 20, kind: 'y' },
      { _id: 3, name: 'gamma', n: 30, kind: 'x' },
    ]);
    await t.db.collection('c').createIndex({ name: 1 }, { unique: true, name: 'name_unique' });
    await t.db.collection<{ _id: string }>('other').insertOne({ _id: 'o' });
  });

  it(
    'lists collections with `show collections`',
    async () => {
      const out = expectSuccess(await mongosh(uri, 'show collections'));
      const names = out
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      expect(names.sort()).toEqual(['c', 'other']);
    },
    MONGOSH_TIMEOUT_MS,
  );

  it(
    'answers find().limit(2), countDocuments, getIndexes, stats and aggregate in one script',
    async () => {
      const script = [
        "print('@@find'); print(db.c.find().limit(2));",
        "print('@@count'); print(db.c.countDocuments({}));",
        "print('@@countFiltered'); print(db.c.countDocuments({ kind: 'x' }));",
        "print('@@indexesShell'); print(db.c.getIndexes());",
        "print('@@indexes'); print(EJSON.stringify(db.c.getIndexes()));",
        "print('@@stats'); print(EJSON.stringify(db.stats()));",
        "print('@@aggregateShell'); print(db.c.aggregate([{ $group: { _id: '$kind', total: { $sum: '$n' } } }, { $sort: { _id: 1 } }]));",
        "print('@@aggregate'); print(EJSON.stringify(db.c.aggregate([{ $match: { n: { $gte: 20 } } }, { $project: { _id: 0, name: 1 } }, { $sort: { name: -1 } }]).toArray()));",
        "print('@@end');",
      ].join('\n');
      const out = expectSuccess(await mongosh(uri, script));

      // The shell's own document format, two of the three seeded documents.
      const seeded = [
        "{ _id: 1, name: 'alpha', n: 10, kind: 'x' }",
        "{ _id: 2, name: 'beta', n: 20, kind: 'y' }",
        "{ _id: 3, name: 'gamma', n: 30, kind: 'x' }",
      ];
      const found = section(out, 'find');
      expect(seeded.filter((d) => found.includes(d))).toHaveLength(2);
      expect(found.match(/\{ _id: /g)).toHaveLength(2);

      expect(section(out, 'count')).toBe('3');
      expect(section(out, 'countFiltered')).toBe('2');

      expect(section(out, 'indexesShell')).toContain("{ v: 2, key: { _id: 1 }, name: '_id_' }");
      expect(section(out, 'indexesShell')).toContain("{ v: 2, key: { name: 1 }, name: 'name_unique', unique: true }");
      const indexes = JSON.parse(section(out, 'indexes')) as { name: string; key: Record<string, number>; unique?: boolean }[];
      expect(indexes.map((i) => i.name).sort()).toEqual(['_id_', 'name_unique']);

      const stats = JSON.parse(section(out, 'stats')) as Record<string, unknown>;
      expect(stats).toMatchObject({ db: t.dbName, collections: 2, objects: 4, indexes: 3, ok: 1 });

      expect(section(out, 'aggregateShell')).toBe("[ { _id: 'x', total: 40 }, { _id: 'y', total: 20 } ]");
      expect(JSON.parse(section(out, 'aggregate'))).toEqual([{ name: 'gamma' }, { name: 'beta' }]);
    },
    MONGOSH_TIMEOUT_MS,
  );

  it(
    'exits non-zero when a command fails, so the checks above can fail',
    async () => {
      const run = await mongosh(uri, 'db.nosuch.getIndexes()');
      expect(run.code).not.toBe(0);
      expect(run.stderr + run.stdout).toMatch(/MongoServerError|ns does not exist|NamespaceNotFound/i);
    },
    MONGOSH_TIMEOUT_MS,
  );
});
