import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, inject } from 'vitest';

export interface TestDb {
  client: MongoClient;
  db: Db;
  uri: string;
  dbName: string;
}

/**
 * Gives the calling test file a database of its own on the harness's MongoDB, dropped at the end.
 * Use the returned object's fields inside tests (they are filled in by beforeAll).
 */
export function useTestDb(label = 'smsc'): TestDb {
  const handle = {} as TestDb;
  beforeAll(async () => {
    handle.uri = inject('mongoUri');
    handle.dbName = `test_${label.replace(/[^a-zA-Z0-9_]/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
    handle.client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
    await handle.client.connect();
    handle.db = handle.client.db(handle.dbName);
  });
  afterAll(async () => {
    if (!handle.client) return;
    await handle.db.dropDatabase().catch(() => {});
    await handle.client.close();
  });
  return handle;
}

/** The harness's Redis URL, or '' when none is available (tests then skip with a reason). */
export function testRedisUrl(): string {
  return inject('redisUrl');
}
