import { CommandStatus } from './command-status.ts';
import { SmppMalformedPduError } from './errors.ts';
import { HEADER_LENGTH } from './pdu.ts';

/**
 * Cuts a TCP byte stream into PDU frames, checking command_length before anything is buffered
 * for it: below 16 or above `maxPduLength` is fatal (the stream cannot be resynchronised).
 * Memory held is bounded by maxPduLength plus one socket chunk.
 */
export class PduFramer {
  readonly maxPduLength: number;
  #buffer: Buffer = Buffer.alloc(0);
  #offset = 0;

  constructor(maxPduLength: number) {
    if (!Number.isInteger(maxPduLength) || maxPduLength < HEADER_LENGTH) {
      throw new RangeError(`maxPduLength must be an integer >= ${HEADER_LENGTH}`);
    }
    this.maxPduLength = maxPduLength;
  }

  get buffered(): number {
    return this.#buffer.length - this.#offset;
  }

  push(chunk: Buffer): void {
    if (this.#offset >= this.#buffer.length) {
      this.#buffer = chunk;
    } else {
      this.#buffer = Buffer.concat([this.#buffer.subarray(this.#offset), chunk]);
    }
    this.#offset = 0;
  }

  /** Drops whatever is buffered (after a fatal error nothing more is read). */
  clear(): void {
    this.#buffer = Buffer.alloc(0);
    this.#offset = 0;
  }

  /**
   * The next complete frame (a view of exactly command_length bytes), or null when more bytes
   * are needed. Throws a fatal SmppMalformedPduError carrying whatever header could be read.
   */
  next(): Buffer | null {
    const available = this.#buffer.length - this.#offset;
    if (available < 4) return null;
    const at = this.#offset;
    const commandLength = this.#buffer.readUInt32BE(at);
    if (commandLength < HEADER_LENGTH) {
      // The header may still be there (a peer that got the length wrong); when it is, the nack
      // can name the sequence number. Waiting for more bytes could wait forever.
      const header = available >= HEADER_LENGTH ? this.#header(at) : {};
      throw new SmppMalformedPduError(
        CommandStatus.ESME_RINVCMDLEN,
        `command_length ${commandLength} is below the 16-octet header`,
        header,
      );
    }
    if (commandLength > this.maxPduLength) {
      if (available < HEADER_LENGTH) return null;
      throw new SmppMalformedPduError(
        CommandStatus.ESME_RINVCMDLEN,
        `command_length ${commandLength} exceeds the maximum of ${this.maxPduLength}`,
        this.#header(at),
      );
    }
    if (available < commandLength) return null;
    this.#offset += commandLength;
    return this.#buffer.subarray(at, at + commandLength);
  }

  #header(at: number): { commandId: number; sequenceNumber: number } {
    return {
      commandId: this.#buffer.readUInt32BE(at + 4),
      sequenceNumber: this.#buffer.readUInt32BE(at + 12),
    };
  }
}
