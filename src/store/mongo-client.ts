import { MongoClient, type WriteConcernSettings } from 'mongodb';
import { mongoUriOf } from '../config/slices.ts';
import type { MongoConfig } from '../config/types.ts';
import { SmscError } from '../domain/errors.ts';

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

export function redactUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Connects to the configured MongoDB for a process or a command; an unreachable server becomes
 * one sentence (credentials in the URI redacted) instead of a driver stack trace.
 */
export async function connectConfiguredMongo(
  mongo: MongoConfig,
  options: { appName: string; maxPoolSize?: number; monitorCommands?: boolean },
): Promise<MongoClient> {
  const uri = mongoUriOf(mongo);
  try {
    return await connectMongo({
      uri,
      appName: options.appName,
      maxPoolSize: options.maxPoolSize ?? mongo.maxPoolSize,
      monitorCommands: options.monitorCommands,
    });
  } catch (error) {
    throw new SmscError(
      'MONGO_UNREACHABLE',
      `Cannot reach MongoDB at ${redactUri(uri)} (${(error as Error).message}); set MONGODB_URI or --mongodb-uri.`,
      { cause: error },
    );
  }
}
