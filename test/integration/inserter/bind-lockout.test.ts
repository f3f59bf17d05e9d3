import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';

// Other loopback addresses (127.0.0.2, 127.0.0.3) play clients on other machines: the inserter
// sees each as its own remote address.

const t = useTestDb('inserter_bind_lockout');
let run: RunningInserter;
const esmes: TestEsme[] = [];

async function bind(from: string, systemId: string, password: string): Promise<number> {
  const esme = await TestEsme.connect(run.port, from);
  esmes.push(esme);
  return (await esme.request('bind_transceiver', { system_id: systemId, password }, 10_000)).command_status;
}

beforeAll(async () => {
  run = await startInserter(t.db, {
    accounts: [
      { systemId: 'cust', password: 'right' },
      { systemId: 'trusting', password: 'right', trustedAddresses: ['127.0.0.3', '10.9.0.0/16'] },
    ],
    inserter: { bindGuard: { slowAfter: 2, refuseAfter: 4, refuseForMs: 60_000, maxDelayMs: 50 } },
  });
});

afterAll(async () => {
  for (const esme of esmes) esme.close();
  await run.stop();
});

describe('bind lockout', () => {
  it('an attacker guessing a system_id locks only its own address; the customer elsewhere still binds', async () => {
    const attempts: number[] = [];
    for (let i = 0; i < 6; i++) attempts.push(await bind('127.0.0.2', 'cust', `wrong${i}`));
    expect(attempts.slice(0, 4)).toEqual(Array(4).fill(CommandStatus.ESME_RINVPASWD));
    expect(attempts.slice(4)).toEqual([CommandStatus.ESME_RBINDFAIL, CommandStatus.ESME_RBINDFAIL]);
    // Even the right password is refused from the guessing address, and so is any other system_id from it…
    expect(await bind('127.0.0.2', 'cust', 'right')).toBe(CommandStatus.ESME_RBINDFAIL);
    expect(await bind('127.0.0.2', 'trusting', 'right')).toBe(CommandStatus.ESME_RBINDFAIL);
    // …while the real ESME binds from its own address (slowed down, not locked out).
    expect(await bind('127.0.0.1', 'cust', 'right')).toBe(CommandStatus.ESME_ROK);
    // Many guessing addresses together still only slow the system_id down.
    for (let i = 0; i < 4; i++) await bind(`127.0.1.${i + 1}`, 'cust', 'nope');
    expect(await bind('127.0.0.1', 'cust', 'right')).toBe(CommandStatus.ESME_ROK);
  });

  it("binds from an account's trusted addresses are never locked, however many fail", async () => {
    for (let i = 0; i < 8; i++) expect(await bind('127.0.0.3', 'trusting', 'wrong')).toBe(CommandStatus.ESME_RINVPASWD);
    expect(await bind('127.0.0.3', 'trusting', 'right')).toBe(CommandStatus.ESME_ROK);
    // The same failures from an address the account does not trust lock that address.
    for (let i = 0; i < 4; i++) expect(await bind('127.0.0.4', 'trusting', 'wrong')).toBe(CommandStatus.ESME_RINVPASWD);
    expect(await bind('127.0.0.4', 'trusting', 'right')).toBe(CommandStatus.ESME_RBINDFAIL);
  });
});
