import net from 'node:net';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSmpp, CommandId, createSmppServer, type SmppServer, type SmppSession } from '../../../src/smpp/index.ts';
import { delay, parseHeader, rawConnect, rawSocket } from './helpers.ts';
import { until } from '../../support/until.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function liveServer(): Promise<{ server: SmppServer; closeReasons: string[] }> {
  const closeReasons: string[] = [];
  const server = await createSmppServer(
    { port: 0, host: '127.0.0.1', enquireLinkIntervalMs: 60, inactivityTimeoutMs: 300, closeTimeoutMs: 100 },
    (s: SmppSession) => {
      s.handle('bind', () => ({ systemId: 'S' }));
      s.on('close', (reason) => closeReasons.push(reason));
    },
  );
  cleanups.push(() => server.close());
  return { server, closeReasons };
}

describe('enquire_link liveness', () => {
  it('sends enquire_link to an idle peer and closes it when it stays silent past the timeout', async () => {
    const { server, closeReasons } = await liveServer();
    const sock = await rawSocket(server.port);
    cleanups.push(() => void sock.socket.destroy());
    const started = Date.now();
    await sock.waitBytes(16, 1_000);
    expect(parseHeader(sock.bytes()).id).toBe(CommandId.enquire_link);
    await sock.closed;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
    await delay(20);
    expect(closeReasons).toEqual(['inactivity timeout']);
  });

  it('keeps a peer that answers enquire_link', async () => {
    const { server, closeReasons } = await liveServer();
    const c = await rawConnect(server.port);
    cleanups.push(() => c.close());
    c.session.on('enquire_link', (pdu: smpp.PDU) => c.session.send(pdu.response()));
    await c.call('bind_transceiver', { system_id: 'a' });
    await until(() => c.received.filter((p) => p.command === 'enquire_link').length >= 3, 10_000, 'three enquire_links');
    expect(c.session.socket.destroyed).toBe(false);
    expect(c.received.filter((p) => p.command === 'enquire_link').length).toBeGreaterThanOrEqual(3);
    expect(closeReasons).toEqual([]);
  });

  it('a client session closes a silent SMSC (dead-link detection)', async () => {
    const sockets: net.Socket[] = [];
    // An SMSC that answers the bind and then goes quiet, as a hung peer would.
    const srv = net.createServer((sock) => {
      sockets.push(sock);
      sock.on('error', () => {});
      sock.once('data', (d) => {
        const seq = d.readUInt32BE(12);
        const resp = new smpp.PDU('bind_transceiver_resp', { sequence_number: seq, system_id: 'X' }).toBuffer();
        sock.write(resp);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          sockets.forEach((s) => s.destroy());
          srv.close(() => r());
        }),
    );
    const client = await connectSmpp({
      host: '127.0.0.1',
      port: (srv.address() as net.AddressInfo).port,
      enquireLinkIntervalMs: 50,
      inactivityTimeoutMs: 250,
      responseTimeoutMs: 1_000,
    });
    await client.bind('transceiver', { systemId: 'a', password: 'b' });
    const reason = await new Promise<string>((r) => client.once('close', r));
    expect(reason).toBe('inactivity timeout');
  });
});
