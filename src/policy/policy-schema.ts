import type { Db } from 'mongodb';
import { Collections } from '../store/collections.ts';
import { ContactListStore } from './contact-lists.ts';

/** The indexes of the contact policy (idempotent; every process that uses it calls this at start). */
export async function ensurePolicySchema(db: Db): Promise<void> {
  await ContactListStore.ensureSchema(db);
  // An MO to a short code finds the account that owns it.
  await db.collection(Collections.accounts).createIndexes([{ key: { 'optout.shortcode': 1 }, name: 'optout_shortcode', sparse: true }]);
}
