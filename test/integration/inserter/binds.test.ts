import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';

const t = useTestDb('inserter_binds');
let run: RunningInserter;
const esmes: TestEsme[] = [];

async function connect(): Promise<TestEsme> {
  const esme = await TestEsme.connect(run.port);
  esmes.push(esme);
  return esme;
}

beforeAll(async () => {
  run = await startInserter(t.db, {
    accounts: [
      { systemId: 'acme', password: 'pw', maxBinds: 2 },
      { systemId: 'off', password: 'pw' },
      { systemId: 'guarded', password: 'right' },
    ],
    inserter: { bindGuard: { slowAfter: 2, refuseAfter: 4, refuseForMs: 60_000, maxDelayMs: 50 } },
  });
  await run.accounts.set('off', { enabled: false });
});

afterAll(async () => {
  for (const esme of esmes) esme.close();
  await run.stop();
});

describe('inserter binds', () => {
  for (const mode of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
    it(`${mode} with good credentials answers OK with our system_id`, async () => {
      const esme = await connect();
      const resp = await esme.request(mode, { system_id: 'acme', password: 'pw' });
      expect(resp.command).toBe(`${mode}_resp`);
      expect(resp.command_status).toBe(0);
      expect(resp.system_id).toBe('smsc');
      await esme.request('unbind');
      await esme.waitClosed();
    });
  }

  it('sc_interface_version goes only to ESMEs that announced 3.4', async () => {
    const v34 = await connect();
    const resp34 = await v34.request('bind_transceiver', { system_id: 'acme', password: 'pw', interface_version: 0x34 });
    expect(resp34.sc_interface_version).toBe(0x34);
    const v33 = await connect();
    const resp33 = await v33.request('bind_transceiver', { system_id: 'acme', password: 'pw', interface_version: 0x33 });
    expect(resp33.command_status).toBe(0);
    expect(resp33.sc_interface_version).toBeUndefined();
    v34.close();
    v33.close();
    await Promise.all([v34.waitClosed(), v33.waitClosed()]);
    await new Promise((r) => setTimeout(r, 50));
  });

  it('unknown system_id -> ESME_RINVSYSID, wrong password -> ESME_RINVPASWD, disabled -> ESME_RBINDFAIL', async () => {
    const esme = await connect();
    expect((await esme.request('bind_transceiver', { system_id: 'ghost', password: 'pw' })).command_status).toBe(
      CommandStatus.ESME_RINVSYSID,
    );
    expect((await esme.request('bind_transceiver', { system_id: 'acme', password: 'bad' })).command_status).toBe(
      CommandStatus.ESME_RINVPASWD,
    );
    expect((await esme.request('bind_transceiver', { system_id: 'off', password: 'pw' })).command_status).toBe(
      CommandStatus.ESME_RBINDFAIL,
    );
  });

  it('a second bind on a bound session -> ESME_RALYBND', async () => {
    const esme = await connect();
    expect((await esme.request('bind_transmitter', { system_id: 'acme', password: 'pw' })).command_status).toBe(0);
    expect((await esme.request('bind_transmitter', { system_id: 'acme', password: 'pw' })).command_status).toBe(CommandStatus.ESME_RALYBND);
    esme.close();
    await esme.waitClosed();
  });

  it('beyond max binds -> ESME_RBINDFAIL; a slot frees when a session closes', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    expect((await a.request('bind_transmitter', { system_id: 'acme', password: 'pw' })).command_status).toBe(0);
    expect((await b.request('bind_transmitter', { system_id: 'acme', password: 'pw' })).command_status).toBe(0);
    expect((await c.request('bind_transmitter', { system_id: 'acme', password: 'pw' })).command_status).toBe(CommandStatus.ESME_RBINDFAIL);
    a.close();
    await a.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    expect((await c.request('bind_transmitter', { system_id: 'acme', password: 'pw' })).command_status).toBe(0);
    b.close();
    c.close();
    await Promise.all([b.waitClosed(), c.waitClosed()]);
    await new Promise((r) => setTimeout(r, 50));
  });

  it('PDUs before a bind get generic_nack ESME_RINVBNDSTS; unknown commands ESME_RINVCMDID', async () => {
    const esme = await connect();
    const before = await esme.submit({});
    expect(before.command).toBe('generic_nack');
    expect(before.command_status).toBe(CommandStatus.ESME_RINVBNDSTS);
    // enquire_link is allowed in any state.
    expect((await esme.request('enquire_link')).command_status).toBe(0);
    expect((await esme.request('bind_transceiver', { system_id: 'acme', password: 'pw' })).command_status).toBe(0);
    // A well-formed header with an unknown command_id.
    const raw = Buffer.alloc(16);
    raw.writeUInt32BE(16, 0);
    raw.writeUInt32BE(0x00000777, 4);
    raw.writeUInt32BE(0, 8);
    raw.writeUInt32BE(4242, 12);
    const nack = new Promise<{ command: string; status: number; seq: number }>((resolve) => {
      esme.session.on('pdu', (pdu) => {
        if (pdu.sequence_number === 4242) resolve({ command: pdu.command, status: pdu.command_status, seq: pdu.sequence_number });
      });
    });
    esme.writeRaw(raw);
    expect(await nack).toEqual({ command: 'generic_nack', status: CommandStatus.ESME_RINVCMDID, seq: 4242 });
    // The session carries on afterwards.
    expect((await esme.submit({})).command_status).toBe(0);
    esme.close();
    await esme.waitClosed();
  });

  it('a receiver may not submit (ESME_RINVBNDSTS)', async () => {
    const esme = await connect();
    expect((await esme.request('bind_receiver', { system_id: 'acme', password: 'pw' })).command_status).toBe(0);
    expect((await esme.submit({})).command_status).toBe(CommandStatus.ESME_RINVBNDSTS);
    esme.close();
    await esme.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
  });

  it('repeated failures are slowed down and then refused, even with the right password', async () => {
    const esme = await connect();
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      expect((await esme.request('bind_transceiver', { system_id: 'guarded', password: 'wrong' })).command_status).toBe(
        CommandStatus.ESME_RINVPASWD,
      );
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(50); // the 3rd and 4th attempts were delayed
    const other = await connect();
    expect((await other.request('bind_transceiver', { system_id: 'guarded', password: 'right' })).command_status).toBe(
      CommandStatus.ESME_RBINDFAIL,
    );
  });
});
