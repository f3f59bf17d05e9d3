import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { validateConnector } from '../../../src/connectors/index.ts';
import { validateRoute } from '../../../src/routing/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { CHEAP_SCRYPT } from '../../integration/inserter/harness.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls-certificates.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');

/**
 * `smsc route` and `smsc connector` as an operator runs them (real child processes). Each start
 * costs seconds on a loaded machine, so fixtures go straight into the database and independent
 * commands run side by side.
 */
describe('smsc route and connector: rules, references and every connector field', () => {
  const handle = useTestDb('routing_cli');
  let certs: TestCertificates;
  const smsc = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [path.join(repoRoot, 'bin/smsc.mjs'), ...args, '--mongodb-uri', handle.uri, '--db', handle.dbName],
        {
          cwd: repoRoot,
          env: { ...process.env, LOG_LEVEL: 'warn' },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const routes = () => handle.db.collection(Collections.routes);
  const connectors = () => handle.db.collection(Collections.connectors);

  beforeAll(async () => {
    certs = makeTestCertificates();
    await ensureSchema(handle.db);
    await new AccountStore(handle.db, { scryptCost: CHEAP_SCRYPT }).add({ systemId: 'acme', password: 'pw' });
    await connectors().insertMany(
      ['op1', 'op2'].map((name) => ({ ...validateConnector({ name, host: '127.0.0.1', port: 2775, systemId: 'me', password: 'pw' }) })),
    );
  });

  afterAll(() => certs?.remove());

  it('route add takes the new matches and actions, and refuses what does not exist', async () => {
    const [charged, drop, reply, unknown, esme] = await Promise.all([
      smsc(
        'route',
        'add',
        '--prefix',
        '44',
        '--account',
        'acme',
        '--source-prefix',
        '4930',
        '--connector',
        'op1',
        '--backup',
        'op2',
        '--charged',
        '--time-window',
        '08:00-20:00',
        '--days',
        'mon-fri',
        '--time-zone',
        'Europe/London',
        '--json',
      ),
      smsc('route', 'add', '--prefix', '4490', '--action', 'drop', '--json'),
      smsc('route', 'add', '--prefix', '4412345', '--action', 'auto-reply', '--reply-text', 'Closed for good'),
      smsc('route', 'add', '--prefix', '33', '--connector', 'nosuch', '--account', 'ghost'),
      smsc('route', 'add', '--prefix', '12345', '--esme', 'nobody'),
    ]);
    expect(charged.code, charged.stderr).toBe(0);
    expect(JSON.parse(charged.stdout)).toMatchObject({
      prefix: '44',
      account: 'acme',
      sourcePrefix: '4930',
      connectors: ['op1', 'op2'],
      charged: true,
      timeWindow: { from: 480, to: 1200, days: [1, 2, 3, 4, 5], timeZone: 'Europe/London' },
    });
    expect(JSON.parse(drop.stdout)).toMatchObject({ prefix: '4490', action: 'drop', connectors: [] });
    expect(reply.stdout).toMatch(/^Added route [0-9a-f]{24} prefix="4412345" action=auto-reply reply="Closed for good"/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'smsc: Route refused: no connector named nosuch (see `smsc connector list`); no account with system_id ghost (see `smsc account list`).\n',
    );
    expect(esme.stderr).toMatch(/^smsc: Route refused: no ESME account with system_id nobody/);
    expect(await routes().countDocuments()).toBe(3);
  }, 120_000);

  it('route simulate prints the decision and why, in words or JSON', async () => {
    await routes().insertOne({ ...validateRoute({ prefix: '', connectors: ['op2'] }) });
    const [text, json] = await Promise.all([
      smsc('route', 'simulate', '--to', '+449012345678', '--from', '12345', '--account', 'acme'),
      smsc(
        'route',
        'simulate',
        '--to',
        '+447700900123',
        '--from',
        '+493012345',
        '--account',
        'acme',
        '--at',
        '2026-05-06T10:00:00Z',
        '--json',
      ),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^decision: drop \(rejected, REJECTD receipt\)\nroute: {4}[0-9a-f]{24} prefix="4490" action=drop/);
    expect(text.stdout).toContain('the best has a longer destination prefix than the next (prefix="" connectors=op2');
    expect(text.stdout).toMatch(
      /no {6}[0-9a-f]{24} prefix="44" source-prefix=4930 account=acme .* — source 12345 does not start with 4930/,
    );
    const decision = JSON.parse(json.stdout);
    expect(decision).toMatchObject({
      action: 'deliver',
      connectors: ['op1', 'op2'],
      charged: true,
      route: { prefix: '44', account: 'acme' },
    });
    expect(decision.why[1]).toBe('the best has a longer destination prefix than the next (prefix="" connectors=op2 priority=0 weight=1)');
  }, 120_000);

  it('connector remove refuses while routes use it; --force says what it removed', async () => {
    await routes().insertOne({ ...validateRoute({ prefix: '31', connectors: ['op2'] }) });
    const refused = await smsc('connector', 'remove', '--name', 'op2');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^smsc: Connector op2 is used by 3 route\(s\): .*prefix "31" -> op2.* use --force/);
    expect(await connectors().countDocuments({ name: 'op2' })).toBe(1);
    const forced = await smsc('connector', 'remove', '--name', 'op2', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    const lines = forced.stdout.trim().split('\n');
    expect(lines[0]).toBe('Removed connector op2.');
    expect(lines.filter((l) => l.startsWith('Removed route '))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('Changed route '))).toEqual([expect.stringMatching(/prefix "44" -> op1,op2\) now -> op1\.$/)]);
    expect(await routes().countDocuments({ connectors: 'op2' })).toBe(0);
    expect(await connectors().countDocuments({ name: 'op2' })).toBe(0);
  }, 120_000);

  it('connector add|set reach every stored field, validate them, and never print secrets', async () => {
    const [added, help] = await Promise.all([
      smsc(
        'connector',
        'add',
        '--name',
        'full',
        '--host',
        'smsc.example',
        '--port',
        '3550',
        '--system-id',
        'me',
        '--password',
        's3cret',
        '--system-type',
        'VMA',
        '--bind',
        'transmitter',
        '--tps',
        '50',
        '--window',
        '20',
        '--long',
        'sar',
        '--enquire-link-ms',
        '15000',
        '--response-timeout-ms',
        '4000',
        '--message-id-form',
        'hex:decimal',
        '--tls',
        '--tls-ca',
        certs.files.ca,
        '--tls-cert',
        certs.files.clientCert,
        '--tls-key',
        certs.files.clientKey,
        '--tls-servername',
        'smsc.example.net',
        '--enabled',
        'false',
        '--json',
      ),
      smsc('connector', '--help'),
    ]);
    expect(added.code, added.stderr).toBe(0);
    const view = JSON.parse(added.stdout);
    expect(view).toMatchObject({
      name: 'full',
      systemType: 'VMA',
      bind: 'transmitter',
      tps: 50,
      window: 20,
      long: 'sar',
      enquireLinkMs: 15000,
      responseTimeoutMs: 4000,
      messageIdForm: { submit: 'hex', receipt: 'decimal' },
      tls: true,
      tlsServername: 'smsc.example.net',
      tlsKey: 'set',
      enabled: false,
      tlsCa: expect.stringMatching(/^CN=ca \(sha256 /),
      tlsCert: expect.stringMatching(/^CN=smsc-client \(sha256 /),
    });
    expect(added.stdout).not.toContain('s3cret');
    expect(added.stdout).not.toContain('PRIVATE KEY');
    const stored = await connectors().findOne({ name: 'full' });
    expect(stored).toMatchObject({ password: 's3cret', tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey });
    for (const flag of [
      '--system-type',
      '--enquire-link-ms',
      '--response-timeout-ms',
      '--message-id-form',
      '--tls ',
      '--tls-ca',
      '--tls-cert',
      '--tls-key',
      '--tls-insecure',
      '--tls-servername',
      '--force',
      '--bind',
      '--long',
      '--window',
      '--tps',
    ]) {
      expect(help.stdout, flag).toContain(flag);
    }

    const set = await smsc(
      'connector',
      'set',
      '--name',
      'full',
      '--no-tls',
      '--window',
      '5',
      '--system-type',
      '',
      '--message-id-form',
      'string+ignore-case',
      '--json',
    );
    expect(set.code, set.stderr).toBe(0);
    const after = await connectors().findOne({ name: 'full' }, { projection: { _id: 0 } });
    expect(after).toMatchObject({ window: 5, messageIdForm: { submit: { format: 'string', ignoreCase: true } } });
    for (const gone of ['tls', 'tlsCa', 'tlsCert', 'tlsKey', 'tlsServername', 'systemType']) expect(after, gone).not.toHaveProperty(gone);
    // Every problem in one sentence.
    const invalid = await smsc('connector', 'set', '--name', 'full', '--window', '0', '--enquire-link-ms', '10', '--tls-insecure');
    expect(invalid.stderr).toMatch(
      /^smsc: Invalid connector: window must be 1\.\.1000; enquire-link interval must be 0 \(never\) or 1000\.\.3600000 ms; tlsInsecure need tls\.$/m,
    );
  }, 120_000);
});
