import type { Db } from 'mongodb';
import { ConfigError } from '../errors/smsc-error.ts';
import { Collections } from '../store/collections.ts';
import { validateConnector, type ConnectorDocument } from './connector-document.ts';
import { isDuplicateKeyError } from '../store/mongo-errors.ts';

export type ConnectorView = Omit<ConnectorDocument, 'password'>;

function view(doc: ConnectorDocument): ConnectorView {
  const { password: _p, ...rest } = doc;
  return rest;
}

export async function addConnector(db: Db, input: Partial<ConnectorDocument>, now: Date): Promise<ConnectorView> {
  const doc = validateConnector({ ...input, createdAt: now, updatedAt: now });
  try {
    await db.collection<ConnectorDocument>(Collections.connectors).insertOne({ ...doc });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new ConfigError(`A connector named ${doc.name} already exists; use \`smsc connector set\`.`);
    throw error;
  }
  return view(doc);
}

export async function setConnector(db: Db, name: string, changes: Partial<ConnectorDocument>, now: Date): Promise<ConnectorView> {
  const collection = db.collection<ConnectorDocument>(Collections.connectors);
  const current = await collection.findOne({ name }, { projection: { _id: 0 } });
  if (!current) throw new ConfigError(`No connector named ${name}.`);
  const next = validateConnector({ ...current, ...changes, name, updatedAt: now });
  await collection.replaceOne({ name }, next);
  return view(next);
}

export async function removeConnector(db: Db, name: string): Promise<void> {
  const result = await db.collection(Collections.connectors).deleteOne({ name });
  if (result.deletedCount === 0) throw new ConfigError(`No connector named ${name}.`);
}

export async function listConnectors(db: Db): Promise<ConnectorView[]> {
  const docs = await db.collection<ConnectorDocument>(Collections.connectors).find({}, { projection: { _id: 0 } }).sort({ name: 1 }).toArray();
  return docs.map(view);
}
