import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';

const t = useTestDb('inserter_bind_flood');
let run: RunningInserter;
const esmes: TestEsme[] = [];

beforeAll(async () => {
  run = await startInserter(t.db, {
    accounts: [{ systemId: 'target', password: 'right' }],
    inserter: { bindGuard: { refuseAfter: 1000 } },
    // The production cost: a check takes long enough that the whole burst arrives during the first ones.
    scryptCost: { N: 16384, r: 8, p: 1 },
  });
});

afterAll(async () => {
  for (const esme of esmes) esme.close();
  await run.stop();
});

describe('parallel bind flood', () => {
  it('checks only a few passwords at once per address; the rest are refused without hashing', async () => {
    const clients = await Promise.all(Array.from({ length: 40 }, () => TestEsme.connect(run.port)));
    esmes.push(...clients);
    const statuses = (
      await Promise.all(clients.map((c) => c.request('bind_transceiver', { system_id: 'target', password: 'wrong' }, 10_000)))
    ).map((r) => r.command_status);
    const checked = statuses.filter((s) => s === CommandStatus.ESME_RINVPASWD).length;
    expect(checked).toBeGreaterThanOrEqual(1);
    // At most 4 checks at once per address: on a loaded machine the burst can spread over three
    // rounds of checks, never over ten (without the guard all 40 are checked).
    expect(checked).toBeLessThanOrEqual(12);
    expect(statuses.filter((s) => s === CommandStatus.ESME_RBINDFAIL).length).toBe(40 - checked);
  });
});
