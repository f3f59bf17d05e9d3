import net from 'node:net';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectSmpp,
  CommandStatus,
  type ShortMessage,
  SmppClosedError,
  SmppConnectError,
  SmppError,
  SmppTimeoutError,
  createSmppServer,
  type SmppServer,
  type SmppServerOptions,
  type SmppSession,
} from '../../../src/smpp/index.ts';
import { until } from '../../support/until.ts';
import { delay, rawConnect, type RawClient } from './helpers.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(options: SmppServerOptions, onSession: (s: SmppSession) => void): Promise<SmppServer> {
  const s = await createSmppServer({ port: 0, host: '127.0.0.1', closeGraceMs: 200, closeTimeoutMs: 200, ...options }, onSession);
  cleanups.push(() => s.close());
  return s;
}

/** An SMSC made of the bare library that records requests and answers only when told. */
function rawSmsc(): Promise<{ port: number; requests: smpp.PDU[]; sessions: smpp.Session[]; close(): Promise<void> }> {
  const requests: smpp.PDU[] = [];
  const sessions: smpp.Session[] = [];
  const srv = smpp.createServer({}, (session) => {
    sessions.push(session);
    session.on('error', () => {});
    session.on('pdu', (pdu: smpp.PDU) => {
      if (pdu.command.startsWith('bind_')) session.send(pdu.response({ system_id: 'RAW' }));
      else if (!pdu.isResponse()) requests.push(pdu);
    });
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const close = () =>
        new Promise<void>((r) => {
          for (const s of sessions) s.socket.destroy();
          srv.close(() => r());
        });
      cleanups.push(close);
      resolve({ port: (srv.address() as net.AddressInfo).port, requests, sessions, close });
    });
  });
}

async function raw(port: number): Promise<RawClient> {
  const c = await rawConnect(port);
  cleanups.push(() => c.close());
  return c;
}

describe('SMPP server adapter with an independent ESME (bare smpp package)', () => {
  it('binds, submits and answers with the handler message id; the handler sees raw bytes and TLVs', async () => {
    const seen: ShortMessage[] = [];
    const srv = await server({}, (s) => {
      s.handle('bind', (req) => {
        expect(req.systemId).toBe('esme1');
        expect(req.password).toBe('secret');
        expect(req.mode).toBe('transceiver');
        return { systemId: 'SMSC' };
      });
      s.handle('submitSm', (msg) => {
        seen.push(msg);
        return { messageId: `id-${seen.length}` };
      });
    });
    const c = await raw(srv.port);
    const bind = await c.call('bind_transceiver', { system_id: 'esme1', password: 'secret' });
    expect(bind.command_status).toBe(0);
    expect(bind.system_id).toBe('SMSC');
    const bytes = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0xc8, 0xff, 0x00]);
    const resp = await c.call('submit_sm', {
      source_addr: '12345',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0x40,
      registered_delivery: 1,
      data_coding: 4,
      short_message: bytes,
      user_message_reference: 77,
    });
    expect(resp.command).toBe('submit_sm_resp');
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toBe('id-1');
    expect(seen).toHaveLength(1);
    expect(seen[0].dest).toEqual({ ton: 1, npi: 1, addr: '447700900123' });
    expect(seen[0].source.addr).toBe('12345');
    expect(seen[0].esmClass).toBe(0x40);
    expect(seen[0].dataCoding).toBe(4);
    expect(seen[0].registeredDelivery).toBe(1);
    expect(seen[0].shortMessage.equals(bytes)).toBe(true);
    expect(seen[0].tlvs.userMessageReference).toBe(77);
  });

  it('answers a handler SmppError with its status and any other error with ESME_RSYSERR', async () => {
    const srv = await server({}, (s) => {
      s.handle('bind', () => ({ systemId: 'SMSC' }));
      s.handle('submitSm', (msg) => {
        if (msg.dest.addr === '1') throw new SmppError(CommandStatus.ESME_RTHROTTLED);
        throw new Error('database down');
      });
    });
    const c = await raw(srv.port);
    await c.call('bind_transmitter', { system_id: 'a', password: 'b' });
    expect((await c.call('submit_sm', { destination_addr: '1' })).command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    const r = await c.call('submit_sm', { destination_addr: '2' });
    expect(r.command).toBe('submit_sm_resp');
    expect(r.command_status).toBe(CommandStatus.ESME_RSYSERR);
  });

  it('refuses PDUs before bind (generic_nack ESME_RINVBNDSTS), a second bind (ESME_RALYBND) and submits from a receiver', async () => {
    const srv = await server({}, (s) => {
      s.handle('bind', () => ({ systemId: 'SMSC' }));
      s.handle('submitSm', () => ({ messageId: 'x' }));
    });
    const c = await raw(srv.port);
    const early = await c.call('submit_sm', { destination_addr: '1' });
    expect(early.command).toBe('generic_nack');
    expect(early.command_status).toBe(CommandStatus.ESME_RINVBNDSTS);
    expect((await c.call('bind_receiver', { system_id: 'a' })).command_status).toBe(0);
    expect((await c.call('bind_transmitter', { system_id: 'a' })).command_status).toBe(CommandStatus.ESME_RALYBND);
    const fromReceiver = await c.call('submit_sm', { destination_addr: '1' });
    expect(fromReceiver.command).toBe('submit_sm_resp');
    expect(fromReceiver.command_status).toBe(CommandStatus.ESME_RINVBNDSTS);
  });

  it('answers enquire_link and an unhandled known command; unbind gets unbind_resp and the connection closes', async () => {
    const srv = await server({}, (s) => s.handle('bind', () => ({ systemId: 'SMSC' })));
    const c = await raw(srv.port);
    expect((await c.call('enquire_link')).command).toBe('enquire_link_resp');
    await c.call('bind_transceiver', { system_id: 'a' });
    const q = await c.call('query_sm', { message_id: '1' });
    expect(q.command).toBe('query_sm_resp');
    expect(q.command_status).toBe(CommandStatus.ESME_RINVCMDID);
    const closed = new Promise<void>((r) => c.session.socket.once('close', () => r()));
    expect((await c.call('unbind')).command).toBe('unbind_resp');
    await closed;
    await until(() => srv.sessions.size === 0, 2_000, 'server to forget the session');
  });

  it("answers requests already read before honouring the peer's unbind", async () => {
    const srv = await server({}, (s) => {
      s.handle('bind', () => ({ systemId: 'S' }));
      s.handle('submitSm', async () => {
        await delay(100);
        return { messageId: 'slow' };
      });
    });
    const c = await raw(srv.port);
    await c.call('bind_transceiver', { system_id: 'a' });
    const closed = new Promise<void>((r) => c.session.socket.once('close', () => r()));
    const [submit, unbind] = await Promise.all([c.call('submit_sm', { destination_addr: '1' }), c.call('unbind')]);
    await closed;
    expect(submit).toMatchObject({ command: 'submit_sm_resp', command_status: 0, message_id: 'slow' });
    expect(unbind.command).toBe('unbind_resp');
    expect(c.received.map((p) => p.command)).toEqual(['bind_transceiver_resp', 'submit_sm_resp', 'unbind_resp']);
  });

  it('close() answers in-flight requests, then unbinds', async () => {
    const srv = await createSmppServer({ port: 0, host: '127.0.0.1', closeTimeoutMs: 1_000 }, (s) => {
      s.handle('bind', () => ({ systemId: 'S' }));
      s.handle('submitSm', async () => {
        await delay(100);
        return { messageId: 'done' };
      });
    });
    const c = await raw(srv.port);
    c.session.on('unbind', (pdu: smpp.PDU) => c.session.send(pdu.response()));
    await c.call('bind_transceiver', { system_id: 'a' });
    const submit = c.call('submit_sm', { destination_addr: '1' });
    await until(() => [...srv.sessions][0]?.inboundPending === 1, 5_000, 'one request in the handler');
    await srv.close();
    expect((await submit).message_id).toBe('done');
    expect(c.received.map((p) => p.command)).toEqual(['bind_transceiver_resp', 'submit_sm_resp', 'unbind']);
  });

  it('after pauseReading, close() still reads the unbind_resp and refuses requests it had not dispatched', async () => {
    let handled = 0;
    let session: SmppSession | undefined;
    // A long close timeout, so "the unbind_resp was read" and "close waited for the timeout"
    // stay far apart even on a loaded machine.
    const srv = await server({ closeTimeoutMs: 8_000 }, (s) => {
      session = s;
      s.handle('bind', () => ({ systemId: 'S' }));
      s.handle('submitSm', () => ({ messageId: String(++handled) }));
    });
    const c = await raw(srv.port);
    c.session.on('unbind', (pdu: smpp.PDU) => c.session.send(pdu.response()));
    await c.call('bind_transceiver', { system_id: 'a' });
    session!.pauseReading();
    const late = c.call('submit_sm', { destination_addr: '1' });
    await delay(50);
    expect(handled).toBe(0);
    const started = Date.now();
    await session!.close();
    expect(Date.now() - started).toBeLessThan(6_000); // the unbind_resp was read, no timeout
    expect((await late).command_status).toBe(CommandStatus.ESME_RINVBNDSTS);
    expect(handled).toBe(0);
  });

  it('close() unbinds bound sessions and stops accepting', async () => {
    const srv = await createSmppServer({ port: 0, host: '127.0.0.1', closeTimeoutMs: 500 }, (s) =>
      s.handle('bind', () => ({ systemId: 'S' })),
    );
    const c = await raw(srv.port);
    c.session.on('unbind', (pdu: smpp.PDU) => c.session.send(pdu.response()));
    await c.call('bind_transceiver', { system_id: 'a' });
    const closed = new Promise<void>((r) => c.session.socket.once('close', () => r()));
    await srv.close();
    await closed;
    expect(c.received.some((p) => p.command === 'unbind')).toBe(true);
    await expect(rawConnect(srv.port)).rejects.toThrow();
  });

  it('pauses reading when too many inbound requests are unanswered and resumes as they drain', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const gates: (() => void)[] = [];
    const srv = await server({ maxInboundPending: 4 }, (s) => {
      s.handle('bind', () => ({ systemId: 'S' }));
      s.handle('submitSm', async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => gates.push(r));
        active--;
        return { messageId: String(calls) };
      });
    });
    const c = await raw(srv.port);
    await c.call('bind_transmitter', { system_id: 'a' });
    const all = Array.from({ length: 20 }, (_, i) => c.call('submit_sm', { destination_addr: String(i) }));
    await until(() => calls === 4, 2_000, '4 handler calls');
    await delay(100);
    expect(calls).toBe(4); // the other 16 wait in the socket, not in memory as started work
    const session = [...srv.sessions][0];
    expect(session.inboundPending).toBe(4);
    expect(session.lib.socket.isPaused()).toBe(true); // the kernel buffers the rest, not us
    while (gates.length || calls < 20) {
      gates.splice(0).forEach((g) => g());
      await delay(5);
    }
    gates.splice(0).forEach((g) => g());
    const responses = await Promise.all(all);
    expect(responses.every((r) => r.command_status === 0)).toBe(true);
    expect(maxActive).toBe(4);
  });
});

describe('SMPP client adapter', () => {
  it('binds and submits to our own server, which delivers back over the same session', async () => {
    const delivered: ShortMessage[] = [];
    let serverSession: SmppSession | undefined;
    const srv = await server({}, (s) => {
      serverSession = s;
      s.handle('bind', () => ({ systemId: 'SMSC', scInterfaceVersion: 0x34 }));
      s.handle('submitSm', (msg) => ({ messageId: `m-${msg.dest.addr}` }));
    });
    const client = await connectSmpp({ host: '127.0.0.1', port: srv.port });
    cleanups.push(() => client.close());
    client.handle('deliverSm', (msg) => {
      delivered.push(msg);
    });
    const bound = await client.bind('transceiver', { systemId: 'conn', password: 'pw' });
    expect(bound).toEqual({ systemId: 'SMSC', scInterfaceVersion: 0x34 });
    expect(client.bindMode).toBe('transceiver');
    expect(await client.submitSm({ dest: { addr: '555' }, shortMessage: Buffer.from('hi') })).toEqual({ messageId: 'm-555' });
    await until(() => serverSession?.bindMode === 'transceiver', 5_000, 'bound as transceiver');
    await serverSession!.deliverSm({
      source: { addr: '555' },
      dest: { addr: '100' },
      esmClass: 0x04,
      shortMessage: Buffer.from('id:1 stat:DELIVRD'),
      tlvs: { receiptedMessageId: 'm-555', messageState: 2, networkErrorCode: Buffer.from([3, 0, 0]) },
    });
    expect(delivered).toHaveLength(1);
    expect(delivered[0].esmClass).toBe(0x04);
    expect(delivered[0].shortMessage.toString()).toBe('id:1 stat:DELIVRD');
    expect(delivered[0].tlvs.receiptedMessageId).toBe('m-555');
    expect(delivered[0].tlvs.messageState).toBe(2);
    expect(delivered[0].tlvs.networkErrorCode).toEqual(Buffer.from([3, 0, 0]));
  });

  it('rejects a non-zero response with SmppError carrying the status', async () => {
    const srv = await server({}, (s) => {
      s.handle('bind', (req) => {
        if (req.password !== 'good') throw new SmppError(CommandStatus.ESME_RINVPASWD);
        return { systemId: 'S' };
      });
    });
    const client = await connectSmpp({ host: '127.0.0.1', port: srv.port });
    cleanups.push(() => client.close());
    const error = await client.bind('transmitter', { systemId: 'a', password: 'bad' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmppError);
    expect((error as SmppError).commandStatus).toBe(CommandStatus.ESME_RINVPASWD);
    expect(client.bindMode).toBeNull();
  });

  it('times out a request the peer never answers, and frees its window slot', async () => {
    const smsc = await rawSmsc();
    const client = await connectSmpp({ host: '127.0.0.1', port: smsc.port, windowSize: 1, responseTimeoutMs: 150 });
    cleanups.push(() => client.destroy());
    await client.bind('transmitter', { systemId: 'a', password: 'b' });
    const started = Date.now();
    await expect(client.submitSm({ dest: { addr: '1' } })).rejects.toBeInstanceOf(SmppTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(client.outstanding).toBe(0);
    // The slot is free again: a second submit goes out (and times out too).
    await expect(client.submitSm({ dest: { addr: '2' } })).rejects.toBeInstanceOf(SmppTimeoutError);
    expect(smsc.requests.map((p) => p.destination_addr)).toEqual(['1', '2']);
  });

  it('rejects pending requests when the session closes', async () => {
    const smsc = await rawSmsc();
    const client = await connectSmpp({ host: '127.0.0.1', port: smsc.port, responseTimeoutMs: 5_000 });
    await client.bind('transmitter', { systemId: 'a', password: 'b' });
    const pending = [client.submitSm({ dest: { addr: '1' } }), client.submitSm({ dest: { addr: '2' } })];
    await until(() => smsc.requests.length === 2, 5_000, 'two requests at the SMSC');
    for (const s of smsc.sessions) s.socket.destroy();
    for (const p of pending) await expect(p).rejects.toBeInstanceOf(SmppClosedError);
    expect(client.state).toBe('closed');
    await expect(client.submitSm({ dest: { addr: '3' } })).rejects.toBeInstanceOf(SmppClosedError);
  });

  it('sends at most windowSize requests before responses come back', async () => {
    const smsc = await rawSmsc();
    const client = await connectSmpp({ host: '127.0.0.1', port: smsc.port, windowSize: 2, responseTimeoutMs: 5_000 });
    cleanups.push(() => client.destroy());
    await client.bind('transmitter', { systemId: 'a', password: 'b' });
    const results = [1, 2, 3, 4].map((n) => client.submitSm({ dest: { addr: String(n) } }));
    await until(() => smsc.requests.length === 2, 5_000, 'two requests at the SMSC');
    await delay(100);
    expect(smsc.requests).toHaveLength(2);
    expect(client.outstanding).toBe(2);
    const session = smsc.sessions[0];
    session.send(smsc.requests[0].response({ message_id: 'A' }));
    await until(() => smsc.requests.length === 3, 5_000, 'three requests at the SMSC');
    await delay(50);
    expect(smsc.requests).toHaveLength(3);
    for (const req of smsc.requests.slice(1)) session.send(req.response({ message_id: String(req.destination_addr) }));
    await until(() => smsc.requests.length === 4, 5_000, 'four requests at the SMSC');
    session.send(smsc.requests[3].response({ message_id: 'D' }));
    expect(await Promise.all(results)).toEqual([{ messageId: 'A' }, { messageId: '2' }, { messageId: '3' }, { messageId: 'D' }]);
  });

  it('numbers requests 1..0x7FFFFFFF and wraps to 1', async () => {
    const smsc = await rawSmsc();
    const client = await connectSmpp({ host: '127.0.0.1', port: smsc.port, responseTimeoutMs: 100 });
    cleanups.push(() => client.destroy());
    await client.bind('transmitter', { systemId: 'a', password: 'b' });
    client.lib.sequence = 0x7ffffffe;
    await Promise.allSettled([client.submitSm({ dest: { addr: '1' } }), client.submitSm({ dest: { addr: '2' } })]);
    expect(smsc.requests.map((p) => p.sequence_number)).toEqual([0x7fffffff, 1]);
  });

  it('reports a refused connection as SmppConnectError, without crashing', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(connectSmpp({ host: '127.0.0.1', port })).rejects.toBeInstanceOf(SmppConnectError);
  });
});
