import { MongoClient, type WriteConcernSettings } from 'mongodb';

/** Store-before-ack means a write counts only once a majority has journaled it. */
export const DEFAULT_WRITE_CONCERN: Readonly<WriteConcernSettings> = Object.freeze({ w: 'majority', j: true });

export interface MongoOptions {
  uri: string;
  appName?: string;
  /** Pool size: inserters group-commit, so a small pool serves them. */
  maxPoolSize?: number;
  monitorCommands?: boolean;
}

/** The process entry point owns the client; library classes receive a Db and never close it. */
export async function connectMongo(options: MongoOptions): Promise<MongoClient> {
  const client = new MongoClient(options.uri, {
    appName: options.appName ?? 'smsc',
    maxPoolSize: options.maxPoolSize ?? 20,
    serverSelectionTimeoutMS: 10_000,
    monitorCommands: options.monitorCommands ?? false,
  });
  await client.connect();
  return client;
}
