import type { WriteConcernSettings } from 'mongodb';
import type { AddressOptions } from '../codec/address.ts';
import { LOCAL_MONGODB_URI, type AddressConfig, type MongoConfig } from './types.ts';

/** The URI to connect to: the configured one, else a mongod on this machine. */
export function mongoUriOf(mongo: MongoConfig): string {
  return mongo.uri ?? LOCAL_MONGODB_URI;
}

/** The write concern every acknowledged store uses. */
export function writeConcernOf(mongo: MongoConfig): WriteConcernSettings {
  return Object.freeze({ w: mongo.writeConcern, j: mongo.journal });
}

/** The destKey rule's settings, as codec/address.ts takes them. */
export function addressOptionsOf(address: AddressConfig): AddressOptions {
  return Object.freeze({
    ...(address.countryCode !== undefined ? { countryCode: address.countryCode } : {}),
    nationalPrefix: address.nationalPrefix,
    internationalPrefix: address.internationalPrefix,
    unknownTon: address.unknownTon,
  });
}
