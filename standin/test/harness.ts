import { afterAll, beforeAll } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { startStandin, type RunningStandin, type StandinOptions } from '../server.ts';

export interface StandinHarness {
  standin: RunningStandin;
  client: MongoClient;
  db: Db;
}

/** Starts an in-process stand-in and a real driver client for one test file. */
export function useStandin(options: StandinOptions = {}, dbName = 'standin_test'): StandinHarness {
  const h = {} as StandinHarness;
  beforeAll(async () => {
    h.standin = await startStandin({ port: 0, ...options });
    h.client = new MongoClient(h.standin.uri, { serverSelectionTimeoutMS: 5000 });
    await h.client.connect();
    h.db = h.client.db(dbName);
  });
  afterAll(async () => {
    await h.client?.close();
    await h.standin?.close();
  });
  return h;
}
