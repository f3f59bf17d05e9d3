import type { Db } from 'mongodb';
import { Collections, INDEXES, ensureSchema, type CollectionName } from '../store/collections.ts';

export interface IndexInfo {
  name: string;
  key: Record<string, unknown>;
  unique?: boolean;
  expireAfterSeconds?: number;
  /** Part of the schema smsc expects (as opposed to one an operator added). */
  expected: boolean;
}

export interface CollectionIndexes {
  collection: CollectionName;
  capped?: boolean;
  indexes: IndexInfo[];
  /** Expected index names not present (should be empty after ensureSchema). */
  missing: string[];
}

/** `smsc indexes`: creates what is missing (idempotent), then reports what exists. */
export async function ensureAndDescribeIndexes(db: Db, options: { eventsSizeBytes?: number } = {}): Promise<CollectionIndexes[]> {
  await ensureSchema(db, options);
  return describeIndexes(db);
}

export async function describeIndexes(db: Db): Promise<CollectionIndexes[]> {
  const infos = await db.listCollections({}, { nameOnly: false }).toArray();
  const byName = new Map(infos.map((c) => [c.name, c as { name: string; options?: { capped?: boolean } }]));
  const out: CollectionIndexes[] = [];
  for (const collection of Object.values(Collections)) {
    const expected = INDEXES.filter((i) => i.collection === collection).map((i) => i.name);
    const info = byName.get(collection);
    const existing = info ? await db.collection(collection).listIndexes().toArray() : [];
    out.push({
      collection,
      ...(info?.options?.capped ? { capped: true } : {}),
      indexes: existing.map((i) => ({
        name: String(i.name),
        key: i.key as Record<string, unknown>,
        ...(i.unique ? { unique: true } : {}),
        ...(typeof i.expireAfterSeconds === 'number' ? { expireAfterSeconds: i.expireAfterSeconds } : {}),
        expected: i.name === '_id_' || expected.includes(String(i.name)),
      })),
      missing: expected.filter((name) => !existing.some((i) => i.name === name)),
    });
  }
  return out;
}

export function formatIndexes(report: CollectionIndexes[]): string {
  const lines: string[] = [];
  for (const c of report) {
    lines.push(`${c.collection}${c.capped ? ' (capped)' : ''}`);
    if (c.indexes.length === 0) lines.push('  (collection not created yet; created with its first document)');
    for (const i of c.indexes) {
      const flags = [
        i.unique ? 'unique' : '',
        i.expireAfterSeconds !== undefined ? `TTL ${i.expireAfterSeconds}s` : '',
        i.expected ? '' : 'not smsc’s',
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(`  ${i.name.padEnd(26)} ${JSON.stringify(i.key)}${flags ? `  (${flags})` : ''}`);
    }
    for (const name of c.missing) lines.push(`  ${name.padEnd(26)} MISSING`);
  }
  const missing = report.reduce((n, c) => n + c.missing.length, 0);
  lines.push('');
  lines.push(missing === 0 ? 'All expected indexes exist.' : `${missing} expected index(es) missing.`);
  return lines.join('\n');
}
