import { deserialize, serialize, type Document } from 'bson';
import { decodeDocument } from './bson-decode.ts';

export const OpCode = Object.freeze({
  Reply: 1,
  Query: 2004,
  Compressed: 2012,
  Msg: 2013,
} as const);

export const MsgFlag = Object.freeze({
  ChecksumPresent: 1,
  MoreToCome: 2,
  ExhaustAllowed: 1 << 16,
} as const);

export const MAX_MESSAGE_BYTES = 48_000_000;

export interface Request {
  requestId: number;
  opCode: number;
  /** The command document, with OP_MSG document sequences merged in. */
  command: Document;
  moreToCome: boolean;
  /** OP_MSG exhaustAllowed: the client accepts a stream of replies (moreToCome) to this one request. */
  exhaustAllowed: boolean;
  /** For OP_QUERY: "db.$cmd". */
  fullCollectionName?: string;
}

export class WireError extends Error {}

function readCString(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new WireError('unterminated cstring');
  return [buf.toString('utf8', at, end), end + 1];
}

/**
 * On a decoded `documents` sequence (an array): each document's bytes as the client sent them,
 * where those are exactly what would be stored (the `_id` field first), else undefined. The insert
 * command stores them, which saves encoding each inserted document again. (The driver sends
 * document sequences for insertMany and bulk writes; insertOne's document is in the body.)
 */
const SENT_BYTES = Symbol('sentBytes');

/** The bytes the client sent for documents[i], when they can be stored as they are. */
export function sentBytesOf(documents: unknown[], i: number): Buffer | undefined {
  return (documents as { [SENT_BYTES]?: Array<Buffer | undefined> })[SENT_BYTES]?.[i];
}

/** True when a BSON document's first element is named `_id`. */
function startsWithId(bytes: Buffer, at: number): boolean {
  // int32 length, then the element's type byte (0 ends an empty document), then its name.
  return bytes[at + 4] !== 0 && bytes[at + 5] === 0x5f && bytes[at + 6] === 0x69 && bytes[at + 7] === 0x64 && bytes[at + 8] === 0;
}

/** Parses one complete message (header included). */
export function parseMessage(buf: Buffer): Request {
  const length = buf.readInt32LE(0);
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  if (opCode === OpCode.Msg) {
    const flags = buf.readUInt32LE(16);
    const end = flags & MsgFlag.ChecksumPresent ? length - 4 : length;
    let at = 20;
    let command: Document | undefined;
    const sequences: Array<[string, Document[]]> = [];
    while (at < end) {
      const kind = buf[at++];
      if (kind === 0) {
        const size = buf.readInt32LE(at);
        command = decodeDocument(buf, at, end);
        at += size;
      } else if (kind === 1) {
        const size = buf.readInt32LE(at);
        const secEnd = at + size;
        const [id, docsAt] = readCString(buf, at + 4);
        const docs: Document[] = [];
        // Inserted documents keep _id first, as MongoDB stores them (drivers append it).
        const idFirst = id === 'documents';
        const sent: Array<Buffer | undefined> = [];
        let p = docsAt;
        while (p < secEnd) {
          const dsize = buf.readInt32LE(p);
          docs.push(decodeDocument(buf, p, secEnd, idFirst));
          if (idFirst) sent.push(startsWithId(buf, p) ? buf.subarray(p, p + dsize) : undefined);
          p += dsize;
        }
        if (idFirst) Object.defineProperty(docs, SENT_BYTES, { value: sent });
        sequences.push([id, docs]);
        at = secEnd;
      } else {
        throw new WireError(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (command === undefined) throw new WireError('OP_MSG without a body section');
    for (const [id, docs] of sequences) {
      const existing = command[id];
      command[id] = Array.isArray(existing) ? [...existing, ...docs] : docs;
    }
    return {
      requestId,
      opCode,
      command,
      moreToCome: (flags & MsgFlag.MoreToCome) !== 0,
      exhaustAllowed: (flags & MsgFlag.ExhaustAllowed) !== 0,
    };
  }
  if (opCode === OpCode.Query) {
    let at = 20;
    const [fullCollectionName, next] = readCString(buf, at);
    at = next + 8;
    const size = buf.readInt32LE(at);
    const command = deserialize(buf.subarray(at, at + size));
    return { requestId, opCode, command, moreToCome: false, exhaustAllowed: false, fullCollectionName };
  }
  throw new WireError(`unsupported opCode ${opCode}`);
}

let nextResponseId = 1;

/** The requestID an encoded message carries (the next reply of an exhaust stream answers it). */
export function requestIdOf(message: Buffer): number {
  return message.readInt32LE(4);
}

function header(length: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** An OP_MSG reply with one kind-0 section; `flags` MoreToCome marks one reply of an exhaust stream. */
export function encodeMsgReply(responseTo: number, body: Document, flags = 0): Buffer {
  const bson = serialize(body);
  const out = Buffer.allocUnsafe(21 + bson.length);
  out.writeInt32LE(21 + bson.length, 0);
  out.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OpCode.Msg, 12);
  out.writeUInt32LE(flags, 16);
  out[20] = 0; // section kind 0: the body
  out.set(bson, 21);
  return out;
}

/** An OP_REPLY to a legacy OP_QUERY (only the handshake uses it). */
export function encodeOpReply(responseTo: number, body: Document): Buffer {
  const bson = serialize(body);
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(8, 0); // AwaitCapable
  fields.writeInt32LE(1, 16); // numberReturned; cursorId and startingFrom stay 0
  return Buffer.concat([header(16 + 20 + bson.length, responseTo, OpCode.Reply), fields, bson]);
}

/** Splits a byte stream into whole messages. */
export class MessageReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < 4) break;
      if (this.pending[0].length < 4) this.flatten();
      const length = this.pending[0].readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE_BYTES) throw new WireError(`invalid message length ${length}`);
      if (this.pendingBytes < length) break;
      this.flatten();
      const all = this.pending[0];
      out.push(all.subarray(0, length));
      const rest = all.subarray(length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return out;
  }

  private flatten(): void {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending)];
  }
}
