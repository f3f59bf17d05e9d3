import type { Collection, Db } from 'mongodb';
import type { AccountDocument } from './account.ts';
import { Collections } from '../store/collections.ts';

export interface CallbackSettings {
  /** Where the account's receipts and MO go; undefined = only messages that name a URL get callbacks. */
  url: string | undefined;
  secret: string | undefined;
}

/**
 * Which accounts take their receipts and MO as HTTP callbacks, where, and the key their callbacks
 * are signed with: the accounts with a `callbackUrl` or a `callbackSecret`, read at most every
 * `refreshMs` (one query for all of them: they are few), so an `account set --callback-url` takes
 * effect within that time in every process.
 */
export class CallbackAccounts {
  readonly #accounts: Collection<AccountDocument>;
  readonly #refreshMs: number;
  #cache = new Map<string, CallbackSettings>();
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(db: Db, options: { refreshMs?: number } = {}) {
    this.#accounts = db.collection<AccountDocument>(Collections.accounts);
    this.#refreshMs = options.refreshMs ?? 5000;
  }

  /** The account's callback settings, or null when it has none (its traffic goes over SMPP). */
  async get(systemId: string): Promise<CallbackSettings | null> {
    await this.#refresh();
    return this.#cache.get(systemId) ?? null;
  }

  async #refresh(): Promise<void> {
    if (Date.now() - this.#loadedAt < this.#refreshMs) return;
    this.#loading ??= (async () => {
      try {
        const docs = await this.#accounts
          .find(
            {
              $or: [{ callbackUrl: { $type: 'string', $ne: '' } }, { callbackSecret: { $type: 'string', $ne: '' } }],
              enabled: { $ne: false },
            },
            { projection: { systemId: 1, callbackUrl: 1, callbackSecret: 1 } },
          )
          .toArray();
        this.#cache = new Map(
          docs.map((doc) => [doc.systemId, { url: doc.callbackUrl || undefined, secret: doc.callbackSecret || undefined }]),
        );
        this.#loadedAt = Date.now();
      } catch (error) {
        // Keep what we have; only a process that never read the accounts has nothing to go on.
        if (this.#loadedAt === -Infinity) throw error;
      } finally {
        this.#loading = undefined;
      }
    })();
    await this.#loading;
  }
}
