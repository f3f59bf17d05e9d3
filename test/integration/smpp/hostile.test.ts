import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId, createSmppServer, type SmppServer } from '../../../src/smpp/index.ts';
import { frame, rawConnect, rawSocket } from './helpers.ts';
import { until } from '../../support/until.ts';

// Many connections of garbage, truncated PDUs and oversized lengths at once: every one ends,
// nothing is left buffered, and a normal ESME still binds and submits afterwards.

let server: SmppServer;
let submits = 0;
beforeAll(async () => {
  server = await createSmppServer(
    { port: 0, host: '127.0.0.1', maxPduLength: 4096, closeTimeoutMs: 300, inactivityTimeoutMs: 1_000, enquireLinkIntervalMs: 0 },
    (s) => {
      s.handle('bind', () => ({ systemId: 'S' }));
      s.handle('submitSm', () => ({ messageId: String(++submits) }));
    },
  );
});
afterAll(() => server.close());

function hostileBytes(i: number): Buffer {
  switch (i % 4) {
    case 0:
      return randomBytes(1 + (i % 300));
    case 1: {
      const f = frame(CommandId.submit_sm, i, randomBytes(40));
      return f.subarray(0, 10 + (i % 20)); // truncated, then silence
    }
    case 2: {
      const f = frame(CommandId.submit_sm, i);
      f.writeUInt32BE(0x7fffffff, 0); // oversized
      return f;
    }
    default:
      return frame(CommandId.submit_sm, i, randomBytes(30)); // well framed, garbage body
  }
}

describe('hostile input', () => {
  it('survives 300 hostile connections and keeps serving a normal ESME', async () => {
    const before = process.memoryUsage().heapUsed;
    const socks = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const sock = await rawSocket(server.port);
        sock.write(hostileBytes(i));
        return sock;
      }),
    );
    // Every hostile connection is closed by the server: at once for bad framing or garbage,
    // after the inactivity timeout for a truncated PDU followed by silence.
    await Promise.all(socks.map((s) => s.closed));
    await until(() => server.sessions.size === 0, 5_000, 'the server to forget the hostile sessions');
    expect(server.sessions.size).toBe(0);
    const c = await rawConnect(server.port);
    expect((await c.call('bind_transmitter', { system_id: 'ok' })).command_status).toBe(0);
    const resp = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('still here') });
    expect(resp.command_status).toBe(0);
    await c.close();
    global.gc?.();
    // Generous: this is about "bounded", not a number; sessions and buffers are gone.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });
});
