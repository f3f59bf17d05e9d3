import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiErrors } from '../../../src/api/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { ADMIN_TOKEN, startApi, type RunningApi } from './harness.ts';

// Management and status over real HTTP: the admin token opens them, nothing secret comes out.

const t = useTestDb('api_management');
let api: RunningApi;
const repoRoot = path.resolve(import.meta.dirname, '../../..');

beforeAll(async () => {
  api = await startApi(t.db, {
    accounts: [{ systemId: 'esme', password: 'pw' }],
    server: { authRecheckMs: 0, guard: { slowAfter: 100, refuseAfter: 100 } },
  });
}, 60_000);

afterAll(async () => {
  await api?.stop();
});

describe('who may manage', () => {
  it('needs the admin token: an ESME is refused, a wrong token is 401, none configured is 403', async () => {
    expect((await api.call('GET', '/api/v1/accounts', { auth: 'esme:pw' })).json.error.code).toBe('FORBIDDEN');
    expect((await api.call('GET', '/api/v1/accounts', { auth: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/accounts')).status).toBe(401);
    const off = await startApi(t.db, { server: { adminToken: undefined } });
    try {
      const res = await off.call('GET', '/api/v1/status', { auth: `Bearer ${ADMIN_TOKEN}` });
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('MANAGEMENT_DISABLED');
    } finally {
      await off.stop();
    }
  });

  it('locks the address out after repeated wrong passwords, like SMPP binds', async () => {
    const strict = await startApi(t.db, {
      accounts: [{ systemId: 'victim', password: 'right' }],
      server: { guard: { slowAfter: 100, refuseAfter: 4, refuseForMs: 60_000 } },
    });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await strict.call('GET', '/api/v1/messages', { auth: 'victim:wrong' })).status);
      expect(codes).toEqual([401, 401, 401, 401]);
      // Now even the right password is refused for a while.
      const locked = await strict.call('GET', '/api/v1/messages', { auth: 'victim:right' });
      expect(locked.status).toBe(429);
      expect(locked.json.error.code).toBe('AUTH_LOCKED');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await strict.stop();
    }
  });
});

describe('accounts', () => {
  it('creates, reads, changes and removes accounts without ever returning a password or its hash', async () => {
    const created = await api.call('POST', '/api/v1/accounts', {
      auth: 'admin',
      body: { systemId: 'shop', password: 'secret1', tps: 50, sourceAllow: ['SHOP'] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ systemId: 'shop', tps: 50, sourceAllow: ['SHOP'], enabled: true });
    expect((await api.call('POST', '/api/v1/accounts', { auth: 'admin', body: { systemId: 'shop', password: 'x' } })).status).toBe(409);
    expect(
      (await api.call('POST', '/api/v1/accounts', { auth: 'admin', body: { systemId: 'long-password', password: 'toolong12345' } })).status,
    ).toBe(400);
    expect((await api.call('GET', '/api/v1/messages', { auth: 'shop:secret1' })).status).toBe(200);
    const patched = await api.call('PATCH', '/api/v1/accounts/shop', { auth: 'admin', body: { password: 'secret2', maxQueued: 10 } });
    expect(patched.json.maxQueued).toBe(10);
    // The old password stops working (logins are re-checked against the new hash).
    expect((await api.call('GET', '/api/v1/messages', { auth: 'shop:secret1' })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/messages', { auth: 'shop:secret2' })).status).toBe(200);
    const all = [
      created,
      patched,
      await api.call('GET', '/api/v1/accounts', { auth: 'admin' }),
      await api.call('GET', '/api/v1/accounts/shop', { auth: 'admin' }),
    ];
    for (const res of all) {
      expect(res.text).not.toMatch(/password|scrypt\$|secret[12]/i);
    }
    expect((await api.call('PATCH', '/api/v1/accounts/nobody', { auth: 'admin', body: { tps: 1 } })).status).toBe(404);
    expect((await api.call('DELETE', '/api/v1/accounts/shop', { auth: 'admin' })).status).toBe(204);
    expect((await api.call('GET', '/api/v1/accounts/shop', { auth: 'admin' })).status).toBe(404);
    expect((await api.call('DELETE', '/api/v1/accounts/shop', { auth: 'admin' })).status).toBe(404);
  });

  it('turns a disabled account away with 403', async () => {
    await api.call('POST', '/api/v1/accounts', { auth: 'admin', body: { systemId: 'paused', password: 'pw' } });
    await api.call('PATCH', '/api/v1/accounts/paused', { auth: 'admin', body: { enabled: false } });
    const res = await api.call('POST', '/api/v1/messages', { auth: 'paused:pw', body: { to: '447700900123', from: 'ACME', text: 'x' } });
    expect(res.status).toBe(403);
  });
});

describe('connectors', () => {
  it("manages connectors, shows each node's session state, and never returns the password", async () => {
    const body = { name: 'op1', host: '10.0.0.1', port: 2775, systemId: 'smsc', password: 'opsecret' };
    const created = await api.call('POST', '/api/v1/connectors', { auth: 'admin', body });
    expect(created.status).toBe(201);
    expect((await api.call('POST', '/api/v1/connectors', { auth: 'admin', body })).status).toBe(409);
    expect((await api.call('POST', '/api/v1/connectors', { auth: 'admin', body: { ...body, name: 'op2', port: 70000 } })).status).toBe(400);
    const now = new Date();
    await t.db.collection(Collections.nodes).insertOne({
      _id: 'deliverer-a' as never,
      kind: 'deliverer',
      host: 'h',
      pid: 1,
      startedAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
      info: { connectors: { op1: 'BOUND' } },
    });
    const list = await api.call('GET', '/api/v1/connectors', { auth: 'admin' });
    expect(list.json).toEqual([
      expect.objectContaining({ name: 'op1', host: '10.0.0.1', states: [{ node: 'deliverer-a', state: 'BOUND' }] }),
    ]);
    const patched = await api.call('PATCH', '/api/v1/connectors/op1', { auth: 'admin', body: { tps: 25 } });
    expect(patched.json.tps).toBe(25);
    for (const res of [created, list, patched]) expect(res.text).not.toContain('opsecret');
    expect((await api.call('PATCH', '/api/v1/connectors/nope', { auth: 'admin', body: { tps: 1 } })).status).toBe(404);
    const nodes = await api.call('GET', '/api/v1/nodes', { auth: 'admin' });
    expect(nodes.json).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'deliverer-a', kind: 'deliverer', live: true })]));
  });
});

describe('routes and the simulator', () => {
  it('simulates with the router, and an edited route shows at once', async () => {
    const add = (body: unknown) => api.call('POST', '/api/v1/routes', { auth: 'admin', body });
    await api.call('POST', '/api/v1/connectors', {
      auth: 'admin',
      body: { name: 'op2', host: '10.0.0.2', port: 2775, systemId: 'smsc', password: 'x' },
    });
    const def = await add({ prefix: '', connectors: ['op1'] });
    expect(def.status).toBe(201);
    const uk = await add({ prefix: '44', connectors: ['op2', 'op1'] });
    expect(uk.status).toBe(201);
    expect((await add({ prefix: '4x', connectors: ['op1'] })).status).toBe(400);
    const unknown = await add({ prefix: '45', connectors: ['nope'] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain('nope');
    const simulate = (body: Record<string, unknown>) => api.call('POST', '/api/v1/routes/simulate', { auth: 'admin', body });

    const first = await simulate({ to: '+447700900123', account: 'esme' });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      destKey: '+447700900123',
      action: 'deliver',
      route: { id: uk.json.id, prefix: '44' },
      connectors: ['op2', 'op1'],
      account: 'esme',
    });
    // op2 is not bound anywhere; op1 is (the node from the connectors test): the backup carries it.
    expect(first.json.connector).toBe('op1');
    expect(first.json.reason).toContain('backup');
    expect(first.json.candidates[0]).toMatchObject({ id: uk.json.id, matched: true, reason: 'chosen' });

    // A route for HTTP intake only, and one for this account only: the simulator asks the router.
    const httpOnly = await add({ prefix: '44', intake: 'http', action: 'drop' });
    expect(httpOnly.status).toBe(201);
    expect((await simulate({ to: '+447700900123', intake: 'http' })).json).toMatchObject({
      action: 'drop',
      route: { id: httpOnly.json.id },
    });
    expect((await simulate({ to: '+447700900123', intake: 'smpp' })).json.route.id).toBe(uk.json.id);
    await api.call('DELETE', `/api/v1/routes/${httpOnly.json.id}`, { auth: 'admin' });

    const edited = await api.call('PATCH', `/api/v1/routes/${uk.json.id}`, { auth: 'admin', body: { enabled: false } });
    expect(edited.status).toBe(200);
    const after = await simulate({ to: '+447700900123' });
    expect(after.json.route.id).toBe(def.json.id);
    expect(after.json.connector).toBe('op1');

    const windowed = await api.call('PATCH', `/api/v1/routes/${uk.json.id}`, {
      auth: 'admin',
      body: { enabled: true, timeWindow: { window: '22:00-06:00' } },
    });
    expect(windowed.json.timeWindow).toMatchObject({ from: 22 * 60, to: 6 * 60 });
    expect((await simulate({ to: '+447700900123', at: '2030-01-01T12:00:00Z' })).json.route.id).toBe(def.json.id);
    expect((await simulate({ to: '+447700900123', at: '2030-01-01T23:00:00Z' })).json.route.id).toBe(uk.json.id);
    const cleared = await api.call('PATCH', `/api/v1/routes/${uk.json.id}`, { auth: 'admin', body: { timeWindow: null } });
    expect(cleared.json.timeWindow).toBeUndefined();
    expect(
      (await api.call('PATCH', `/api/v1/routes/${uk.json.id}`, { auth: 'admin', body: { timeWindow: { window: '25:00-26:00' } } })).status,
    ).toBe(400);

    const fr = await simulate({ to: '+33612345678' });
    expect(fr.json.route.prefix).toBe('');
    expect((await api.call('DELETE', `/api/v1/routes/${def.json.id}`, { auth: 'admin' })).status).toBe(204);
    const none = await simulate({ to: '+33612345678' });
    expect(none.json).toMatchObject({ action: 'none', route: null, connector: null });
    expect(none.json.reason).toContain('no route');
    expect((await simulate({ to: 'not a number' })).status).toBe(400);
    expect((await api.call('PATCH', `/api/v1/routes/${def.json.id}`, { auth: 'admin', body: { weight: 2 } })).status).toBe(404);
  });
});

describe('status', () => {
  it('reports the queue by state and by connector, and the smsc status report', async () => {
    const sent = await api.call('POST', '/api/v1/messages', { auth: 'esme:pw', body: { to: '447700900123', from: 'ACME', text: 'x' } });
    expect(sent.status).toBe(201);
    const queue = await api.call('GET', '/api/v1/queue', { auth: 'admin' });
    expect(queue.status).toBe(200);
    expect(queue.json.byState.queued).toBeGreaterThanOrEqual(1);
    expect(queue.json.backlog).toBeGreaterThanOrEqual(1);
    expect(queue.json.arrivalsPerSecond).toBeGreaterThan(0);
    expect(queue.json.byConnector).toEqual(expect.arrayContaining([{ connector: null, state: 'queued', count: expect.any(Number) }]));
    const status = await api.call('GET', '/api/v1/status', { auth: 'admin' });
    expect(status.json).toMatchObject({
      queue: { byState: { queued: expect.any(Number) } },
      locks: expect.any(Object),
      nodes: expect.any(Array),
      connectors: expect.any(Array),
    });
  });
});

describe('documentation', () => {
  it('serves an OpenAPI document naming every endpoint, with camelCase components, and an interactive page', async () => {
    const doc = await api.call('GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.json.paths);
    for (const p of [
      '/api/v1/messages',
      '/api/v1/messages/{messageId}',
      '/api/v1/accounts',
      '/api/v1/connectors',
      '/api/v1/routes',
      '/api/v1/routes/simulate',
      '/api/v1/nodes',
      '/api/v1/queue',
      '/api/v1/status',
    ]) {
      expect(paths).toContain(p);
    }
    expect(Object.keys(doc.json.paths['/api/v1/messages/{messageId}'])).toEqual(expect.arrayContaining(['get', 'delete']));
    const schemas = doc.json.components.schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['MessageRequest', 'Message', 'MessageDetail', 'ErrorResponse', 'RouteSimulation']),
    );
    const names = new Set<string>();
    const walk = (node: unknown) => {
      if (!node || typeof node !== 'object') return;
      const props = (node as { properties?: Record<string, unknown> }).properties;
      if (props)
        for (const [name, value] of Object.entries(props)) {
          names.add(name);
          walk(value);
        }
      for (const value of Object.values(node)) walk(value);
    };
    walk(schemas);
    for (const name of names) expect(name, 'field names are camelCase').toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(JSON.stringify(doc.json)).not.toContain('def-');
    const page = await fetch(`${api.url}/api/v1/docs/static/index.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger');
  });

  it("keeps the README's table of API errors in step with the code", () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### API errors'));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(ApiErrors).map(([code, e]) => [code, e.status])));
  });

  it('answers an unknown path with the JSON error shape', async () => {
    const res = await api.call('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('NOT_FOUND');
  });
});

describe('TLS', () => {
  it('serves HTTPS when a certificate is configured', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'smsc-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'],
        { stdio: 'ignore' },
      );
      const secure = await startApi(t.db, { server: { tls: { cert: readFileSync(cert), key: readFileSync(key) } } });
      try {
        expect(secure.url).toMatch(/^https:/);
        const status = await new Promise<number>((resolve, reject) => {
          https
            .get(`${secure.url}/api/v1/openapi.json`, { ca: readFileSync(cert), rejectUnauthorized: false }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        });
        expect(status).toBe(200);
        // Plain HTTP on the TLS port gets no API.
        await expect(fetch(secure.url.replace('https:', 'http:') + '/api/v1/openapi.json')).rejects.toThrow();
      } finally {
        await secure.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
