import { serialize } from 'bson';
import { decodeDocument } from '../bson-decode.ts';

export type Doc = Record<string, unknown>;

/**
 * On a decoded `documents` sequence (an array): each document's bytes as the client sent them,
 * where those are exactly what would be stored (the `_id` field first), else undefined. Storing
 * them saves encoding each inserted document again.
 */
export const SENT_BYTES = Symbol('sentBytes');

/** The bytes the client sent for documents[i], when they can be stored as they are. */
export function sentBytesOf(documents: unknown[], i: number): Buffer | undefined {
  return (documents as { [SENT_BYTES]?: Array<Buffer | undefined> })[SENT_BYTES]?.[i];
}

/** True when a BSON document's first element is named `_id`. */
export function startsWithId(bytes: Buffer, at: number): boolean {
  // int32 length, then the element's type byte (0 ends an empty document), then its name.
  return bytes[at + 4] !== 0 && bytes[at + 5] === 0x5f && bytes[at + 6] === 0x69 && bytes[at + 7] === 0x64 && bytes[at + 8] === 0;
}

/** How many recently read documents stay decoded. */
const DECODED_CACHE_SIZE = 256;

/**
 * A collection's documents by record id, each kept as its BSON bytes rather than as a tree of
 * JavaScript objects: with a few hundred thousand documents stored, marking and copying the
 * object trees stalled every connection for tens of milliseconds at a time. The bytes are held
 * in a one-byte string, which the collector marks without looking inside; as Buffers they would
 * count as external memory, whose growth alone starts a full collection every few seconds
 * under a steady insert load.
 *
 * `get` decodes (into exactly what bson's `deserialize` returns) and remembers the most recently
 * read documents, so one command that reads a document and then replaces it sees the same object
 * twice; the index maintenance relies on that identity to skip indexes whose inputs an update
 * left alone. Documents handed out are shared and must not be mutated (as before).
 */
export class DocStore {
  /** BSON bytes as one-byte strings: see the class comment. */
  private readonly bytes = new Map<number, string>();
  private readonly decoded = new Map<number, Doc>();
  private storedBytes = 0;

  get size(): number {
    return this.bytes.size;
  }

  /** The sum of the stored documents' BSON sizes. */
  get totalBytes(): number {
    return this.storedBytes;
  }

  has(rid: number): boolean {
    return this.bytes.has(rid);
  }

  get(rid: number): Doc | undefined {
    const hit = this.decoded.get(rid);
    if (hit !== undefined) return hit;
    const s = this.bytes.get(rid);
    if (s === undefined) return undefined;
    // A fresh buffer: decoded binaries are views of it and must not change later.
    const b = Buffer.from(s, 'latin1');
    const doc = decodeDocument(b, 0, b.length) as Doc;
    this.remember(rid, doc);
    return doc;
  }

  /** The BSON size of the document at rid (0 when absent). */
  sizeOf(rid: number): number {
    return this.bytes.get(rid)?.length ?? 0;
  }

  /**
   * Stores `doc` at rid (replacing what was there) and returns its BSON size. `sent` are the bytes
   * `doc` was decoded from, when the caller has them: they are stored instead of encoding `doc`.
   */
  set(rid: number, doc: Doc, sent?: Buffer): number {
    const b = (sent ?? (serialize(doc) as Buffer)).toString('latin1');
    const prev = this.bytes.get(rid);
    if (prev !== undefined) this.storedBytes -= prev.length;
    this.bytes.set(rid, b);
    this.storedBytes += b.length;
    // Not remembered: a document just written is rarely read again soon, and every one kept
    // decoded for a while under an insert load was garbage that had outlived the young generation.
    this.decoded.delete(rid);
    return b.length;
  }

  delete(rid: number): boolean {
    const prev = this.bytes.get(rid);
    if (prev === undefined) return false;
    this.storedBytes -= prev.length;
    this.bytes.delete(rid);
    this.decoded.delete(rid);
    return true;
  }

  /** Record ids in insertion order. */
  keys(): IterableIterator<number> {
    return this.bytes.keys();
  }

  *values(): Generator<Doc> {
    for (const rid of this.bytes.keys()) yield this.get(rid)!;
  }

  *entries(): Generator<[number, Doc]> {
    for (const rid of this.bytes.keys()) yield [rid, this.get(rid)!];
  }

  [Symbol.iterator](): Generator<[number, Doc]> {
    return this.entries();
  }

  private remember(rid: number, doc: Doc): void {
    if (this.decoded.size >= DECODED_CACHE_SIZE) {
      // Oldest first: a Map iterates in insertion order.
      for (const oldest of this.decoded.keys()) {
        this.decoded.delete(oldest);
        break;
      }
    }
    this.decoded.set(rid, doc);
  }
}
