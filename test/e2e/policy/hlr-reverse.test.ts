import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { parseReceipt } from '../../../src/codec/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import { testRedisUrl, useTestDb } from '../../support/mongo.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { until } from '../../support/until.ts';
import { spawnInserter, type InserterChild } from '../inserter/spawn-inserter.ts';

// The seed's reverse mode with real processes (`smsc hlr-sim`, an inserter configured by its
// environment, Redis): a valid number is refused with ESME_RINVDSTADR; an invalid or absent one
// is accepted and its ESME gets a DELIVRD receipt, without any delivery.

const t = useTestDb('hlr_reverse_e2e');
const redisUrl = testRedisUrl();
const repoRoot = path.resolve(import.meta.dirname, '../../..');
let sim: ReadyProcess;
let inserter: InserterChild;
const esmes: TestEsme[] = [];

beforeAll(async () => {
  if (!redisUrl) return;
  await ensureSchema(t.db);
  await new AccountStore(t.db, { scryptCost: { N: 1024, r: 8, p: 1 } }).add({ systemId: 'rev', password: 'pw' });
  sim = await spawnUntilReady(
    process.execPath,
    [path.join(repoRoot, 'bin/smsc.mjs'), 'hlr-sim', '--port', '0', '--reachable', '4477', '--invalid', '4479'],
    /"event":"listening".*"port":(\d+)/,
    { cwd: repoRoot },
  );
  inserter = await spawnInserter(
    t.uri,
    t.dbName,
    ['--hlr-url', `http://127.0.0.1:${sim.match[1]}/lookup?msisdn={msisdn}`, '--hlr-policy', 'reverse'],
    { REDIS_URL: redisUrl, HLR_CACHE_TTL_S: '60' },
  );
}, 60_000);

afterAll(async () => {
  for (const e of esmes) e.close();
  await inserter?.stop();
  await sim?.stop();
});

describe.skipIf(!redisUrl)('HLR reverse mode', () => {
  it('valid → ESME_RINVDSTADR; invalid or absent → accepted, final, with a DELIVRD receipt', async () => {
    const esme = await TestEsme.bound(inserter.port, 'rev', 'pw');
    esmes.push(esme);
    const submit = (to: string) => esme.submit({ destination_addr: to, registered_delivery: 1, short_message: Buffer.from('hi') }, 10_000);
    expect((await submit('447700600001')).command_status).toBe(CommandStatus.ESME_RINVDSTADR);
    const invalid = await submit('447900600001');
    const absent = await submit('447800600001');
    expect(invalid.command_status).toBe(0);
    expect(absent.command_status).toBe(0);
    const ids = [invalid.message_id as string, absent.message_id as string];
    const receipts = () => esme.received.filter((p) => p.command === 'deliver_sm' && (Number(p.esm_class) & 0x04) !== 0);
    await until(() => receipts().length >= 2, 15_000, 'two receipts');
    // The smpp package hands short_message over as {message} (decoded) or a Buffer.
    const textOf = (sm: unknown) => (Buffer.isBuffer(sm) ? sm.toString('latin1') : String((sm as { message: unknown }).message));
    const parsed = receipts().map((p) => parseReceipt(textOf(p.short_message)));
    expect(parsed.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const r of parsed) expect(r.stat).toBe('DELIVRD');
    const docs = await t.db
      .collection('sms')
      .find({ messageId: { $in: ids } })
      .toArray();
    expect(docs.map((d) => [d.state, d.attempts, d.hlr.status]).sort()).toEqual([
      ['delivered', 0, 'invalid'],
      ['delivered', 0, 'unreachable'],
    ]);
    // Nothing was stored for the refused number.
    expect(await t.db.collection('sms').countDocuments({ destKey: '+447700600001' })).toBe(0);
  }, 30_000);
});
