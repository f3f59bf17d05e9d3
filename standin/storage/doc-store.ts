import { serialize } from 'bson';
import { decodeDocument } from '../bson-decode.ts';

export type Doc = Record<string, unknown>;

/** How many recently read documents stay decoded. */
const DECODED_CACHE_SIZE = 256;

/**
 * A collection's documents by record id, each kept as its BSON bytes rather than as a tree of
 * JavaScript objects: with a few hundred thousand documents stored, marking and copying the
 * object trees stalled every connection for tens of milliseconds at a time. The bytes are held
 * in a one-byte string, which the collector marks without looking inside. Held as Buffers
 * (external memory), they made full collections come every 1.5-2.5 s under bench:submit's
 * insert load and the half-load p99 worse than with objects.
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

  *[Symbol.iterator](): Generator<[number, Doc]> {
    for (const rid of this.bytes.keys()) yield [rid, this.get(rid)!];
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
