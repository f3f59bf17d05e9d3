import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';
import { until } from '../../support/until.ts';

const t = useTestDb('inserter_account_changes');
let run: RunningInserter;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  run = await startInserter(t.db, {
    accounts: [{ systemId: 'chg', password: 'pw', sourceAllow: ['ACME'] }],
    inserter: { limitsRefreshMs: 100 },
  });
});

afterAll(async () => {
  await run.stop();
});

describe('account changes while bound', () => {
  it('new limits apply to bound sessions; a disabled account loses its session', async () => {
    const esme = await TestEsme.bound(run.port, 'chg', 'pw');
    expect((await esme.submit({})).command_status).toBe(0);
    await run.accounts.set('chg', { sourceAllow: ['OTHER'] });
    // A submit after the refresh period re-reads the account; the ones after it see the rule.
    await until(async () => (await esme.submit({})).command_status === CommandStatus.ESME_RINVSRCADR, 5_000, 'the new source rule applied');

    await run.accounts.set('chg', { enabled: false });
    await sleep(150);
    await esme.submit({ source_addr: 'OTHER' }).catch(() => undefined);
    await esme.waitClosed(3_000);
    expect(esme.received.some((p) => p.command === 'unbind')).toBe(true);
  });

  it('counts submits and binds in Prometheus metrics', async () => {
    const submits = await run.metrics.registry.getSingleMetricAsString('smsc_submits_total');
    expect(submits).toMatch(/smsc_submits_total\{account="chg",status="ok"\} [1-9]/);
    expect(submits).toMatch(/status="ESME_RINVSRCADR"/);
    const binds = await run.metrics.registry.getSingleMetricAsString('smsc_binds_total');
    expect(binds).toMatch(/side="esme",mode="transceiver",result="ok"/);
  });
});
