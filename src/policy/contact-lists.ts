import type { Collection, Db, ObjectId } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import { ConfigError } from '../domain/errors.ts';

/**
 * The contact lists: numbers and prefixes an account (or everybody, `account: ''`) may not send
 * to (`block`), and the registered destinations of accounts in registration-filter mode (`allow`).
 * Stored in `contactLists`; every change also bumps one version document in `policyState`, with
 * the change itself in a short log, so every process's cache catches up with one cheap read.
 */
export const CONTACT_LISTS = 'contactLists';
export const POLICY_STATE = 'policyState';
/** `_id` of the version document in `policyState`. */
export const CONTACT_LISTS_VERSION_ID = 'contactLists';
/** Changes kept in the version document; a cache further behind reloads the whole list. */
export const CHANGE_LOG_LENGTH = 500;

export const ListKind = Object.freeze({ block: 'block', allow: 'allow' } as const);
export type ListKindName = (typeof ListKind)[keyof typeof ListKind];

export type EntryMatch = 'number' | 'prefix';

/** Who put an entry there: an operator (CLI/API) or a subscriber's opt-out MO. */
export type EntrySource = 'operator' | 'optout';

export interface ContactListEntry {
  _id?: ObjectId;
  list: ListKindName;
  /** '' = every account (global). */
  account: string;
  match: EntryMatch;
  /** Digits only (a leading + and separators removed). */
  value: string;
  source: EntrySource;
  createdAt: Date;
}

/** What the cache needs of an entry (and what the change log carries). */
export type EntryKey = Pick<ContactListEntry, 'list' | 'account' | 'match' | 'value'> & { source?: EntrySource };

export interface ListChange {
  version: number;
  op: 'add' | 'remove';
  entry: EntryKey;
}

export interface VersionDocument {
  _id: string;
  version: number;
  changes: ListChange[];
  updatedAt: Date;
}

/** `+44 7700-900123` → `447700900123`; anything but digits after that is refused. */
export function normaliseListValue(raw: string, match: EntryMatch): string {
  const digits = raw
    .trim()
    .replace(/^\+/, '')
    .replace(/[\s().-]/g, '');
  if (!/^\d+$/.test(digits) || digits.length > 20 || (match === 'number' && digits.length < 3)) {
    throw new ConfigError(
      `${match === 'number' ? '--number' : '--prefix'} must be ${match === 'number' ? '3 to 20 digits' : '1 to 20 digits'} (a leading + and separators are ignored), got ${JSON.stringify(raw)}.`,
    );
  }
  return digits;
}

/** Digits of a normalised destination key (`+447700900123` → `447700900123`). */
export function digitsOf(destKey: string): string {
  return destKey.startsWith('+') ? destKey.slice(1) : destKey;
}

/**
 * Adds, removes and lists entries. Each change is written to `contactLists` first and then
 * announced in the version document, so a cache that reloads because of the announcement sees it.
 */
export class ContactListStore {
  readonly #entries: Collection<ContactListEntry>;
  readonly #state: Collection<VersionDocument>;
  readonly #clock: Clock;

  constructor(db: Db, options: { clock?: Clock } = {}) {
    this.#entries = db.collection<ContactListEntry>(CONTACT_LISTS);
    this.#state = db.collection<VersionDocument>(POLICY_STATE);
    this.#clock = options.clock ?? systemClock;
  }

  /** Creates the unique index (idempotent). */
  static async ensureSchema(db: Db): Promise<void> {
    await db
      .collection(CONTACT_LISTS)
      .createIndexes([{ key: { list: 1, account: 1, match: 1, value: 1 }, name: 'list_account_match_value', unique: true }]);
  }

  /** Adds an entry; false when it was already there (nothing changes then). */
  async add(key: EntryKey): Promise<boolean> {
    const entry = { ...key, source: key.source ?? 'operator' };
    // filter:  the entry's identity {list, account, match, value}, upsert
    // update:  {$setOnInsert: the entry, createdAt} (an existing one is left as is)
    // returns: upsertedCount 1 when it is new; then the change is announced (#announce).
    // safe:    the unique index: of two concurrent adds one upserts, the other either matches it or
    //          gets a duplicate key (treated as "already there"); a repeat changes nothing. The
    //          entry and its announcement are two writes: a crash between them leaves running
    //          caches without the change until their periodic full reload (default 10 min).
    try {
      const result = await this.#entries.updateOne(
        { list: entry.list, account: entry.account, match: entry.match, value: entry.value },
        { $setOnInsert: { ...entry, createdAt: this.#clock.now() } },
        { upsert: true },
      );
      if (result.upsertedCount === 0) return false;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
    await this.#announce('add', entry);
    return true;
  }

  /** Removes an entry; false when there was none. */
  async remove(key: EntryKey): Promise<boolean> {
    // filter:  the entry's identity {list, account, match, value}
    // delete:  that entry; returns deletedCount (0 = nothing to remove), then announces it.
    // safe:    one document by a unique key: of racing removes one deletes and announces; a repeat
    //          finds nothing. A crash before the announcement: as for add.
    const result = await this.#entries.deleteOne({ list: key.list, account: key.account, match: key.match, value: key.value });
    if (result.deletedCount === 0) return false;
    await this.#announce('remove', { list: key.list, account: key.account, match: key.match, value: key.value });
    return true;
  }

  async list(filter: { list: ListKindName; account?: string }): Promise<ContactListEntry[]> {
    const query: Record<string, unknown> = { list: filter.list };
    if (filter.account !== undefined) query.account = filter.account;
    return this.#entries
      .find(query, { projection: { _id: 0 } })
      .sort({ account: 1, match: 1, value: 1 })
      .toArray();
  }

  /** Every entry, for a cache's full load. */
  all(): Promise<ContactListEntry[]> {
    return this.#entries.find({}, { projection: { _id: 0, list: 1, account: 1, match: 1, value: 1, source: 1 } }).toArray();
  }

  async currentVersion(): Promise<number> {
    return (await this.#state.findOne({ _id: CONTACT_LISTS_VERSION_ID }, { projection: { version: 1 } }))?.version ?? 0;
  }

  /** The current version, and the changes after `since` when the log still holds them all. */
  async changesSince(since: number): Promise<{ version: number; changes: ListChange[] | null }> {
    const version = await this.currentVersion();
    if (version === since) return { version, changes: [] };
    const behind = version - since;
    if (behind < 0 || behind > CHANGE_LOG_LENGTH) return { version, changes: null };
    const doc = await this.#state.findOne({ _id: CONTACT_LISTS_VERSION_ID }, { projection: { version: 1, changes: { $slice: -behind } } });
    const changes = (doc?.changes ?? []).filter((c) => c.version > since).sort((a, b) => a.version - b.version);
    // A gap (a log written out of order by concurrent writers) means: reload everything.
    const complete = changes.length === doc!.version - since && changes.every((c, i) => c.version === since + i + 1);
    return { version: doc!.version, changes: complete ? changes : null };
  }

  async #announce(op: ListChange['op'], entry: EntryKey): Promise<void> {
    // filter:  {_id: the version document}, upsert
    // update:  pipeline {$set: {version: version + 1, updatedAt: $$NOW, changes: the change appended
    //          (capped at CHANGE_LOG_LENGTH)}}. Pipeline form: the change needs the new version
    //          number, which only the server knows.
    // returns: nothing.
    // safe:    one atomic single-document write, so the version and its change are seen together
    //          and racing announcements get distinct versions. Only the very first announcement
    //          can race on the upsert: the loser gets a duplicate key (thrown to add/remove, whose
    //          entry is then stored but not announced: the caches' full reload picks it up).
    await this.#state.updateOne(
      { _id: CONTACT_LISTS_VERSION_ID },
      [
        {
          $set: {
            version: { $add: [{ $ifNull: ['$version', 0] }, 1] },
            updatedAt: '$$NOW',
            changes: {
              $slice: [
                {
                  $concatArrays: [
                    { $ifNull: ['$changes', []] },
                    [
                      {
                        version: { $add: [{ $ifNull: ['$version', 0] }, 1] },
                        op: { $literal: op },
                        entry: {
                          $literal: {
                            list: entry.list,
                            account: entry.account,
                            match: entry.match,
                            value: entry.value,
                            ...(entry.source ? { source: entry.source } : {}),
                          },
                        },
                      },
                    ],
                  ],
                },
                -CHANGE_LOG_LENGTH,
              ],
            },
          },
        },
      ],
      { upsert: true },
    );
  }
}
