import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandStatus, SmppMalformedPduError, PduFramer } from '../../../src/smpp/index.ts';

function pdu(seq: number, bodyLength: number): Buffer {
  const b = Buffer.alloc(16 + bodyLength, 0xab);
  b.writeUInt32BE(16 + bodyLength, 0);
  b.writeUInt32BE(0x15, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

describe('PduFramer', () => {
  it('yields the same frames however the stream is chunked (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 64 }),
        (bodies, chunk) => {
          const frames = bodies.map((len, i) => pdu(i + 1, len));
          const stream = Buffer.concat(frames);
          const framer = new PduFramer(1024);
          const out: Buffer[] = [];
          for (let at = 0; at < stream.length; at += chunk) {
            framer.push(stream.subarray(at, at + chunk));
            for (let f = framer.next(); f; f = framer.next()) out.push(Buffer.from(f));
          }
          expect(out).toEqual(frames);
          expect(framer.buffered).toBe(0);
        },
      ),
    );
  });

  it('waits for more bytes on a partial header or body', () => {
    const framer = new PduFramer(1024);
    const whole = pdu(1, 10);
    framer.push(whole.subarray(0, 3));
    expect(framer.next()).toBeNull();
    framer.push(whole.subarray(3, 20));
    expect(framer.next()).toBeNull();
    framer.push(whole.subarray(20));
    expect(framer.next()).toEqual(whole);
  });

  it('rejects command_length below 16 at once, with the header when it is there', () => {
    const framer = new PduFramer(1024);
    const bad = pdu(77, 0);
    bad.writeUInt32BE(12, 0);
    framer.push(bad);
    const error = (() => {
      try {
        framer.next();
      } catch (e) {
        return e as SmppMalformedPduError;
      }
    })();
    expect(error).toBeInstanceOf(SmppMalformedPduError);
    expect(error?.commandStatus).toBe(CommandStatus.ESME_RINVCMDLEN);
    expect(error?.sequenceNumber).toBe(77);
    expect(error?.fatal).toBe(true);
  });

  it('rejects command_length above the maximum without buffering the body', () => {
    const framer = new PduFramer(100);
    const header = pdu(5, 0);
    header.writeUInt32BE(1_000_000, 0);
    framer.push(header);
    expect(() => framer.next()).toThrow(/exceeds the maximum of 100/);
  });

  it('refuses a maximum below the header size', () => {
    expect(() => new PduFramer(10)).toThrow(RangeError);
  });
});
