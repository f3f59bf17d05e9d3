import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { routeAllTo, startDeliverer } from '../delivery/harness.ts';
import { until } from '../../support/until.ts';
import { spawnInserter, type InserterChild } from '../inserter/spawn-inserter.ts';

// The opt-out flow with real processes: `smsc sink` (the operator) sends a subscriber's "STOP"
// to the account's short code; the deliverer's connector takes the MO, the subscriber lands on
// the account's blocklist, the reply goes back out through the sink, and the inserter refuses
// the account's next message to that subscriber.

const t = useTestDb('optout_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const SUBSCRIBER = '491709000001';
let sink: ReadyProcess;
let inserter: InserterChild;
let deliverer: ReadyProcess;
const esmes: TestEsme[] = [];

const sinkEvents = () =>
  sink
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  await ensureSchema(t.db);
  const accounts = new AccountStore(t.db, { scryptCost: { N: 1024, r: 8, p: 1 } });
  await accounts.add({ systemId: 'shop', password: 'pw', optout: { shortcode: '5550', reply: 'You are unsubscribed.' } });
  await accounts.add({ systemId: 'other', password: 'pw' });
  sink = await spawnUntilReady(
    process.execPath,
    [path.join(repoRoot, 'bin/smsc.mjs'), 'sink', '--port', '0', '--host', '127.0.0.1', '--mo-stdin', '--print'],
    /"event":"listening","port":(\d+)/,
    {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  await routeAllTo(t.db, Number(sink.match[1]));
  // MO to the short code goes to the shop's ESME too.
  await t.db
    .collection(Collections.routes)
    .insertOne({ prefix: '5550', connectors: [], esme: 'shop', priority: 0, weight: 1, enabled: true });
  [inserter, deliverer] = await Promise.all([
    spawnInserter(t.uri, t.dbName, [], { POLICY_REFRESH_MS: '500' }),
    startDeliverer(t.uri, t.dbName),
  ]);
}, 60_000);

afterAll(async () => {
  for (const e of esmes) e.close();
  await Promise.all([inserter?.stop(), deliverer?.stop()]);
  await sink?.stop();
});

describe('opt-out end to end', () => {
  it('STOP from the sink blocks the subscriber for that account, answers with the reply text, and reaches the ESME', async () => {
    const shop = await TestEsme.bound(inserter.port, 'shop', 'pw');
    esmes.push(shop);
    expect((await shop.submit({ destination_addr: SUBSCRIBER })).command_status).toBe(0);

    // The sink sends the MO once the deliverer's connector has bound to it: one try at a time,
    // the next only after the sink answered the previous one (mo-error while nothing is bound).
    let written = 0;
    await until(
      () => {
        const answers = sinkEvents().filter((e) => e.event === 'mo-sent' || e.event === 'mo-error');
        if (answers.some((e) => e.event === 'mo-sent')) return true;
        if (answers.length === written) {
          sink.child.stdin!.write(`${JSON.stringify({ from: SUBSCRIBER, to: '5550', text: 'Stop' })}\n`);
          written++;
        }
        return false;
      },
      30_000,
      'MO accepted by the SMSC',
    );
    expect(sinkEvents().filter((e) => e.event === 'mo-sent')).toHaveLength(1);

    await until(
      async () =>
        (await t.db.collection('contactLists').countDocuments({ list: 'block', account: 'shop', value: SUBSCRIBER, source: 'optout' })) ===
        1,
      10_000,
      'subscriber on the blocklist',
    );
    // The reply leaves through the sink, from the short code to the subscriber.
    await until(
      () => sinkEvents().some((e) => e.event === 'message' && e.from === '5550' && e.to === SUBSCRIBER),
      15_000,
      'reply at the sink',
    );
    expect(sinkEvents().find((e) => e.event === 'message' && e.from === '5550')).toMatchObject({ text: 'You are unsubscribed.' });
    // The MO itself reaches the shop's ESME (it may want to know).
    await until(() => shop.received.some((p) => p.command === 'deliver_sm' && p.source_addr === SUBSCRIBER), 15_000, 'MO at the ESME');

    // From now on the shop's messages to the subscriber are refused (the inserter's cache follows within a second or so)…
    await until(
      async () => (await shop.submit({ destination_addr: SUBSCRIBER })).command_status === 0x0b,
      5_000,
      'the shop refused after the opt-out',
    );
    // …while another account may still send to the subscriber.
    const other = await TestEsme.bound(inserter.port, 'other', 'pw');
    esmes.push(other);
    expect((await other.submit({ destination_addr: SUBSCRIBER })).command_status).toBe(0);
  }, 60_000);
});
