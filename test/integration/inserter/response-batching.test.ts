import net from 'node:net';
import smpp from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDb } from '../../support/mongo.ts';
import { until } from '../../support/until.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';

const t = useTestDb('inserter_response_batching');
let run: RunningInserter;

beforeAll(async () => {
  run = await startInserter(t.db, { accounts: [{ systemId: 'acme', password: 'pw' }] });
});

afterAll(async () => {
  await run.stop();
});

/** Runs `act` while recording, per write the inserter's sockets hand to the kernel, how many frames it carries. */
async function recordingServerWrites(act: () => Promise<void>): Promise<number[]> {
  const proto = net.Socket.prototype as unknown as {
    _write: (this: net.Socket, ...args: unknown[]) => void;
    _writev: (this: net.Socket, chunks: unknown[], done: unknown) => void;
  };
  const { _write: write, _writev: writev } = proto;
  const writes: number[] = [];
  proto._write = function (...args) {
    if (this.localPort === run.port) writes.push(1);
    write.apply(this, args);
  };
  proto._writev = function (chunks, done) {
    if (this.localPort === run.port) writes.push(chunks.length);
    writev.call(this, chunks, done);
  };
  try {
    await act();
  } finally {
    proto._write = write;
    proto._writev = writev;
  }
  return writes;
}

describe('response batching', () => {
  it('the responses to a burst stored in one group commit leave in one write', async () => {
    const esme = await TestEsme.bound(run.port, 'acme', 'pw');
    const burst = Array.from({ length: 20 }, (_, i) =>
      new smpp.PDU('submit_sm', {
        sequence_number: 1000 + i,
        source_addr: 'ACME',
        source_addr_ton: 5,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '447700900123',
        short_message: Buffer.from(`burst ${i}`),
      }).toBuffer(),
    );
    const responses = () => esme.received.filter((p) => p.command === 'submit_sm_resp' && p.sequence_number >= 1000);
    const writes = await recordingServerWrites(async () => {
      esme.session.socket.write(Buffer.concat(burst)); // one segment: read, decoded and stored together
      await until(() => responses().length === 20, 10_000, 'the 20 responses');
    });
    expect(responses().map((p) => p.command_status)).toEqual(Array(20).fill(0));
    expect(await t.db.collection('sms').countDocuments({ account: 'acme' })).toBe(20);
    expect(writes).toEqual([20]);
    esme.close();
  });
});
