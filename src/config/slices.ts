import type { WriteConcernSettings } from 'mongodb';
import { LOCAL_MONGODB_URI, type MongoConfig } from './types.ts';

/** The URI to connect to: the configured one, else a mongod on this machine. */
export function mongoUriOf(mongo: MongoConfig): string {
  return mongo.uri ?? LOCAL_MONGODB_URI;
}

/** The write concern every acknowledged store uses. */
export function writeConcernOf(mongo: MongoConfig): WriteConcernSettings {
  return Object.freeze({ w: mongo.writeConcern, j: mongo.journal });
}
