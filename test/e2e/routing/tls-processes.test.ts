import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSmpp } from '../../../src/smpp/index.ts';
import { AccountStore } from '../../../src/accounts/index.ts';
import { validateRoute } from '../../../src/routing/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { CHEAP_SCRYPT } from '../../integration/inserter/harness.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls-certificates.ts';
import { startDeliverer } from '../delivery/harness.ts';
import { until } from '../../support/until.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const smscBin = path.join(repoRoot, 'bin/smsc.mjs');

describe('SMPP over TLS between real processes', () => {
  const handle = useTestDb('routing_tls_e2e');
  let certs: TestCertificates;
  const procs: ReadyProcess[] = [];
  const env = () => ({ ...process.env, MONGODB_URI: handle.uri, MONGODB_DB: handle.dbName, LOG_LEVEL: 'warn', REDIS_URL: '' });
  const smsc = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [smscBin, ...args], { cwd: repoRoot, env: env() });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    certs = makeTestCertificates();
    await ensureSchema(handle.db);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    certs?.remove();
  });

  it('an ESME submits over TLS to the inserter; a connector delivers over TLS to `smsc sink --tls-cert`', async () => {
    // Independent of each other: started together (the machine is shared and slow).
    const [sink, inserter] = await Promise.all([
      spawnUntilReady(
        process.execPath,
        [
          smscBin,
          'sink',
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--tls-cert',
          certs.files.serverCert,
          '--tls-key',
          certs.files.serverKey,
          '--print',
        ],
        /"event":"listening","port":(\d+)[^\n]*"tls":true/,
        {
          cwd: repoRoot,
          env: env(),
        },
      ),
      spawnUntilReady(
        process.execPath,
        [
          smscBin,
          'inserter',
          '--smpp-port',
          '0',
          '--smpp-tls-port',
          '0',
          '--tls-cert',
          certs.files.serverCert,
          '--tls-key',
          certs.files.serverKey,
        ],
        /inserter listening on [^\s:]+:(\d+), SMPP over TLS on [^\s:]+:(\d+)/,
        { cwd: repoRoot, env: { ...env(), SMPP_HOST: '127.0.0.1' } },
      ),
      new AccountStore(handle.db, { scryptCost: CHEAP_SCRYPT }).add({ systemId: 'acme', password: 'pw' }),
    ]);
    procs.push(sink, inserter);
    const tlsPort = Number(inserter.match[2]);
    // The connector as an operator adds it: TLS, verified against our CA's PEM file.
    const added = await smsc(
      'connector',
      'add',
      '--name',
      'secure',
      '--host',
      '127.0.0.1',
      '--port',
      sink.match[1],
      '--system-id',
      'smsc',
      '--password',
      'pw',
      '--tls',
      '--tls-ca',
      certs.files.ca,
    );
    expect(added.code, added.stderr).toBe(0);
    await handle.db.collection(Collections.routes).insertOne({ ...validateRoute({ prefix: '', connectors: ['secure'] }) });
    procs.push(await startDeliverer(handle.uri, handle.dbName));

    const esme = await connectSmpp({ host: '127.0.0.1', port: tlsPort, tls: { ca: certs.ca }, connectTimeoutMs: 10_000 });
    esme.on('error', () => {});
    await esme.bind('transceiver', { systemId: 'acme', password: 'pw' });
    await esme.submitSm({
      source: { ton: 1, npi: 1, addr: '447700900001' },
      dest: { ton: 1, npi: 1, addr: '447700900002' },
      shortMessage: Buffer.from('end to end over tls'),
    });
    await until(() => sink.output().includes('"text":"end to end over tls"'), 20_000, 'the sink printing the message');
    await esme.close();
  }, 90_000);

  it('a certificate that cannot be read stops the inserter with one clear line and a non-zero code', async () => {
    const result = await run(
      process.execPath,
      [smscBin, 'inserter', '--smpp-port', '0', '--tls-cert', path.join(certs.dir, 'missing.pem'), '--tls-key', certs.files.serverKey],
      { cwd: repoRoot, env: env() },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toMatch(/^smsc: The TLS certificate file .*missing\.pem cannot be read \(ENOENT\)\.$/);
  }, 60_000);
});
