import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAccount, type AccountArgs, runContactList, type ContactListArgs } from '../../../src/cli/index.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ContactListStore, createIntakePolicy, type IntakePolicyHandle } from '../../../src/policy/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from '../inserter/harness.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// One metric set for the components this file builds (fresh per file: counts never mix with another's).
const metrics = createMetrics();

// Two inserters on one database, each with its own contact-list cache (as two replicas would
// be); every outcome is read from what an ESME gets back over SMPP.

const t = useTestDb('contact_policy');
const runs: RunningInserter[] = [];
const handles: IntakePolicyHandle[] = [];
const esmes: TestEsme[] = [];
const config = loadConfig({ env: {} });

async function inserter(): Promise<RunningInserter> {
  const handle = await createIntakePolicy(config, { db: t.db, logger: silentLogger, metrics });
  handles.push(handle);
  const run = await startInserter(t.db, {
    accounts: [
      { systemId: 'acme', password: 'pw' },
      { systemId: 'beta', password: 'pw' },
      { systemId: 'reg', password: 'pw', registeredOnly: true },
    ],
    deps: { intakePolicy: handle.policy, optOut: handle.optOut },
    metrics,
  });
  runs.push(run);
  return run;
}

async function esme(run: RunningInserter, systemId: string): Promise<TestEsme> {
  const e = await TestEsme.bound(run.port, systemId, 'pw');
  esmes.push(e);
  return e;
}

const cli = (list: 'block' | 'allow', args: Partial<ContactListArgs>, out: string[] = []) =>
  runContactList(list, { action: 'list', ...args } as ContactListArgs, {
    env: { MONGODB_URI: t.uri, MONGODB_DB: t.dbName },
    print: (l) => out.push(l),
  });

const status = async (e: TestEsme, to: string) => (await e.submit({ destination_addr: to })).command_status;

async function refusals(reason: string, account: string): Promise<number> {
  const metric = await metrics.policyRefusalsTotal.get();
  return metric.values.filter((v) => v.labels.reason === reason && v.labels.account === account).reduce((n, v) => n + v.value, 0);
}

let a: RunningInserter;
let b: RunningInserter;

beforeAll(async () => {
  a = await inserter();
  b = await inserter();
}, 30_000);

afterAll(async () => {
  for (const e of esmes) e.close();
  for (const h of handles) h.close();
  for (const run of runs) await run.stop();
});

describe('contact policy through SMPP', () => {
  it('refuses a destination on the global blocklist (number or prefix) with ESME_RINVDSTADR, for every account, counted by reason', async () => {
    await cli('block', { action: 'add', number: '+44 7700 900111' });
    await cli('block', { action: 'add', prefix: '4479' });
    await handles[0].contactLists.refresh();
    const acme = await esme(a, 'acme');
    const beta = await esme(a, 'beta');
    const before = await refusals('blocklist', 'acme');
    expect(await status(acme, '447700900111')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await status(beta, '+447700900111')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await status(acme, '447912345678')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await status(acme, '447700900112')).toBe(CommandStatus.ESME_ROK);
    expect(await refusals('blocklist', 'acme')).toBe(before + 2);
    // Nothing refused was stored.
    expect(await t.db.collection('sms').countDocuments({ destKey: { $in: ['+447700900111', '+447912345678'] } })).toBe(0);
  });

  it("an account's own blocklist refuses only that account's messages", async () => {
    await cli('block', { action: 'add', account: 'acme', number: '491701110000' });
    await handles[0].contactLists.refresh();
    const acme = await esme(a, 'acme');
    const beta = await esme(a, 'beta');
    expect(await status(acme, '491701110000')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await status(beta, '491701110000')).toBe(CommandStatus.ESME_ROK);
  });

  it('a subscriber who opted out is refused for that account (reason optout), not for others', async () => {
    await new ContactListStore(t.db).add({ list: 'block', account: 'acme', match: 'number', value: '491702220000', source: 'optout' });
    await handles[0].contactLists.refresh();
    const acme = await esme(a, 'acme');
    const beta = await esme(a, 'beta');
    const before = await refusals('optout', 'acme');
    expect(await status(acme, '491702220000')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await status(beta, '491702220000')).toBe(CommandStatus.ESME_ROK);
    expect(await refusals('optout', 'acme')).toBe(before + 1);
    const out: string[] = [];
    await cli('block', { action: 'list', account: 'acme' }, out);
    expect(out.join('\n')).toContain('account=acme\tnumber=491702220000\t(opted out)');
  });

  it('registration filter: an account in registered-only mode may send only to its allowlist (ESME_RPROHIBITED otherwise)', async () => {
    const reg = await esme(a, 'reg');
    expect(await status(reg, '491703330000')).toBe(CommandStatus.ESME_RPROHIBITED);
    await cli('allow', { action: 'add', account: 'reg', number: '491703330000' });
    await cli('allow', { action: 'add', account: 'reg', prefix: '4917044' });
    await handles[0].contactLists.refresh();
    expect(await status(reg, '491703330000')).toBe(CommandStatus.ESME_ROK);
    expect(await status(reg, '491704412345')).toBe(CommandStatus.ESME_ROK);
    expect(await status(reg, '491705550000')).toBe(CommandStatus.ESME_RPROHIBITED);
    // The blocklist still applies to registered destinations.
    expect(await status(reg, '447700900111')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await refusals('not-registered', 'reg')).toBe(2);
    // Other accounts are not filtered.
    expect(await status(await esme(a, 'beta'), '491705550000')).toBe(CommandStatus.ESME_ROK);
  });

  it('submit_multi lists refused destinations as unsuccessful and stores the rest', async () => {
    const acme = await esme(a, 'acme');
    const resp = await acme.request('submit_multi', {
      source_addr: 'ACME',
      source_addr_ton: 5,
      dest_address: [
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900111' },
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '491706660000' },
      ],
      short_message: Buffer.from('multi'),
    });
    expect(resp.command_status).toBe(0);
    expect(resp.unsuccess_sme).toEqual([
      expect.objectContaining({ destination_addr: '447700900111', error_status_code: CommandStatus.ESME_RINVDSTADR }),
    ]);
    expect(await t.db.collection('sms').countDocuments({ destKey: '+491706660000' })).toBe(1);
  });

  it('a change made with the CLI is seen by a second inserter within 5 s (added, then removed)', async () => {
    const onB = await esme(b, 'beta');
    expect(await status(onB, '491707770000')).toBe(CommandStatus.ESME_ROK);
    await cli('block', { action: 'add', number: '491707770000' });
    await until(
      async () => (await status(onB, '491707770000')) === CommandStatus.ESME_RINVDSTADR,
      5_000,
      'the block seen by the second inserter',
    );
    await cli('block', { action: 'remove', number: '491707770000' });
    await until(
      async () => (await status(onB, '491707770000')) === CommandStatus.ESME_ROK,
      5_000,
      'the removal seen by the second inserter',
    );
    // Followed by the change log, not by reloading everything.
    expect(handles[1].contactLists.stats.changesApplied).toBeGreaterThan(0);
  }, 20_000);

  it('the CLI checks its input and says what it did', async () => {
    const out: string[] = [];
    await expect(cli('block', { action: 'add' })).rejects.toThrow(/exactly one of --number and --prefix/);
    await expect(cli('block', { action: 'add', number: '12ab' })).rejects.toThrow(/--number must be 3 to 20 digits/);
    await expect(cli('block', { action: 'remove', number: '999999' })).rejects.toThrow(/is not on blocklist of the global list/);
    await cli('block', { action: 'add', prefix: '4479' }, out);
    expect(out.at(-1)).toBe('prefix 4479 was already on blocklist of the global list');
    await cli('block', { action: 'list', json: true }, out);
    const listed = JSON.parse(out.at(-1)!) as { account: string; match: string; value: string }[];
    expect(
      listed
        .filter((e) => e.account === '')
        .map((e) => `${e.match}:${e.value}`)
        .sort(),
    ).toEqual(['number:447700900111', 'prefix:4479']);
  });

  it('account set takes the opt-out and registration settings', async () => {
    const out: string[] = [];
    const run = (args: Partial<AccountArgs>) =>
      runAccount({ action: 'list', ...args } as AccountArgs, {
        env: { MONGODB_URI: t.uri, MONGODB_DB: t.dbName },
        print: (l) => out.push(l),
      });
    await run({
      action: 'set',
      systemId: 'beta',
      optoutShortcode: '5550',
      optoutReply: 'You are unsubscribed.',
      registeredOnly: true,
      trustedAddress: ['192.0.2.0/24'],
    });
    expect(out.at(-1)).toContain(
      'registered-only  optout-shortcode=5550  optout-reply="You are unsubscribed."  trusted-address=192.0.2.0/24',
    );
    await run({ action: 'set', systemId: 'beta', optoutReply: 'Bye', optoutKeywords: ['stop', 'halt'] });
    expect(out.at(-1)).toContain('optout-shortcode=5550  optout-reply="Bye"  optout-keywords=STOP,HALT');
    await expect(run({ action: 'set', systemId: 'acme', optoutReply: 'x' })).rejects.toThrow(/no opt-out short code/);
    await expect(run({ action: 'set', systemId: 'beta', trustedAddress: ['10.0.0.0/33'] })).rejects.toThrow(/--trusted-address/);
    await run({ action: 'set', systemId: 'beta', optoutShortcode: '', registeredOnly: false });
    expect(out.at(-1)).not.toContain('optout');
  });
});
