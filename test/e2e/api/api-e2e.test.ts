import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { verifyCallbackSignature } from '../../../src/callbacks/index.ts';
import { runHttpSubmit } from '../../../src/cli/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { validateConnector } from '../../../src/connectors/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { freePort } from '../../support/free-port.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { routeAllTo, startDeliverer } from '../delivery/harness.ts';

// The whole path with real processes: `smsc api` and a deliverer as children, the downstream
// simulator (with receipts) and `smsc submit --http` in this process, and the control
// panel driven in Debian's Chromium (headless, never downloaded). Screenshots go to
// test-artifacts/screenshots (git-ignored).

const t = useTestDb('api_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const screenshots = path.join(repoRoot, 'test-artifacts', 'screenshots');
const ADMIN_TOKEN = 'panel-test-token-0123456789';
const CHROMIUM = '/usr/bin/chromium';

let sink: Sink;
let deliverer: ReadyProcess;
let api: ReadyProcess;
let apiUrl = '';

beforeAll(async () => {
  await ensureSchema(t.db);
  await new AccountStore(t.db).add({ systemId: 'webapp', password: 'pw' });
  await new AccountStore(t.db).add({
    systemId: 'hooked',
    password: 'pw',
    callbackUrl: 'http://127.0.0.1:9/unused',
    callbackSecret: 'e2e-callback-secret-0123456789',
  });
  sink = await startSink({ port: 0, receipts: { enabled: true, delayMs: 200 } });
  await routeAllTo(t.db, sink.port);
  // A second connector (never bound) for the route editor to point at.
  await t.db
    .collection(Collections.connectors)
    .insertOne({ ...validateConnector({ name: 'backup1', host: '127.0.0.1', port: 1, systemId: 'smsc', password: 'pw', enabled: false }) });
  const port = await freePort();
  const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', SMSC_HEARTBEAT_MS: '500' };
  [deliverer, api] = await Promise.all([
    startDeliverer(t.uri, t.dbName, [], { SMSC_HEARTBEAT_MS: '500' }),
    spawnUntilReady(
      process.execPath,
      [path.join(repoRoot, 'bin/smsc.mjs'), 'api', '--mongodb-uri', t.uri, '--db', t.dbName, '--http-port', String(port)],
      /api listening on (\S+)/,
      {
        cwd: repoRoot,
        // Generous: on a loaded machine a cold start through tsx takes a while.
        timeoutMs: 90_000,
        env: { ...env, API_ADMIN_TOKEN: ADMIN_TOKEN, API_HOST: '127.0.0.1' },
      },
    ),
  ]);
  apiUrl = api.match[1];
}, 120_000);

afterAll(async () => {
  const code = api ? await api.stop() : 0;
  await deliverer?.stop();
  await sink?.close();
  // A clean SIGTERM shutdown of the API process exits 0.
  expect(code).toBe(0);
});

describe('smsc api as a process', () => {
  it('smsc submit --http --dlr stores through the API and waits for the delivered outcome', async () => {
    const lines: string[] = [];
    await runHttpSubmit(
      {
        http: true,
        url: apiUrl,
        systemId: 'webapp',
        password: 'pw',
        from: '12345',
        to: '447700900111',
        text: 'Hello over HTTP',
        dlr: true,
        json: true,
        timeout: 40,
        host: '',
        port: 0,
        long: 'udh8',
      },
      { print: (line) => lines.push(line) },
    );
    const result = JSON.parse(lines.join('\n')) as { messageIds: string[]; outcomes: { messageId: string; stat: string }[] };
    expect(result.messageIds).toHaveLength(1);
    expect(result.outcomes).toEqual([expect.objectContaining({ messageId: result.messageIds[0], stat: 'DELIVRD' })]);
    expect(sink.received.some((m) => m.text === 'Hello over HTTP' && m.dest.addr === '447700900111')).toBe(true);
  }, 60_000);

  it('posts the receipt of a message to the callback URL it named, signed with the account secret', async () => {
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const secret = 'e2e-callback-secret-0123456789';
      // Every process reads callback accounts at most every 5 s: this one existed (with another URL)
      // before any receipt was made; a message may name the URL its receipts go to.
      const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const sent = await fetch(`${apiUrl}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('hooked:pw').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+447700900112', from: '12345', text: 'call me back', callbackUrl }),
      });
      expect(sent.status).toBe(201);
      const { messageId } = (await sent.json()) as { messageId: string };
      await expect.poll(() => received.length, { timeout: 40_000, interval: 200 }).toBeGreaterThanOrEqual(1);
      const event = JSON.parse(received[0].body);
      expect(event).toMatchObject({ type: 'receipt', account: 'hooked', receipt: { messageId, stat: 'DELIVRD', final: true } });
      expect(verifyCallbackSignature(secret, received[0].body, received[0].headers['x-smsc-signature'] as string)).toBe(true);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 60_000);

  it('smsc submit --http says why in one sentence when the API refuses', async () => {
    const refused = runHttpSubmit(
      {
        http: true,
        url: apiUrl,
        systemId: 'webapp',
        password: 'wrong',
        from: '12345',
        to: '447700900111',
        text: 'x',
        timeout: 10,
        host: '',
        port: 0,
        long: 'udh8',
      },
      { print: () => undefined },
    );
    await expect(refused).rejects.toThrow(/^The API refused the message: HTTP 401 UNAUTHORIZED: /);
  }, 30_000);
});

describe('the control panel in Chromium', () => {
  let userDataDir = '';
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    userDataDir = mkdtempSync(path.join(tmpdir(), 'smsc-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1200, height: 900 },
    });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => console.error('[panel error]', error.message));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('signs in, shows throughput, connectors and nodes', async () => {
    await page.goto(`${apiUrl}/`);
    await page.locator('#token').fill('not-the-token-at-all');
    await page.locator('#login-form button').click();
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('UNAUTHORIZED');
    await page.locator('#token').fill(ADMIN_TOKEN);
    await page.locator('#login-form button').click();
    await page.locator('#overview').waitFor({ state: 'visible' });
    // The deliverer reports its session to the simulator once bound.
    await page.locator('tr[data-connector="sink"] .connector-states', { hasText: 'BOUND' }).waitFor({ timeout: 30_000 });
    await page.locator('#nodes tr', { hasText: 'deliverer' }).waitFor();
    await page.locator('#nodes tr', { hasText: 'api' }).waitFor();
    // Two samples draw a line.
    await expect
      .poll(async () => ((await page.locator('#chart-backlog').getAttribute('points')) ?? '').split(' ').length, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: path.join(screenshots, 'panel-overview.png'), fullPage: true });
  }, 60_000);

  it('sends a test message and shows it delivered with its receipt', async () => {
    await page.locator('nav button[data-tab="send"]').click();
    await page.locator('#send-form input[name="account"]').fill('webapp');
    await page.locator('#send-form input[name="to"]').fill('+447700900222');
    await page.locator('#send-form textarea[name="text"]').fill('Hello from Chromium');
    await page.locator('#send-form button[type="submit"]').click();
    const link = page.locator('#sent-id');
    await link.waitFor();
    const messageId = (await link.textContent())!.trim();
    expect(messageId).toMatch(/^[0-9a-f]{24}$/);
    await link.click();
    await page.locator('#detail-state', { hasText: 'delivered' }).waitFor({ timeout: 30_000 });
    await page.locator('#receipts li[data-receipt="downstream"]').first().waitFor();
    await expect.poll(() => page.locator('#timeline li').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#detail-fields').textContent()).toContain('Hello from Chromium');
    expect(sink.received.some((m) => m.text === 'Hello from Chromium')).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'panel-message-delivered.png'), fullPage: true });

    // The search finds it too.
    await page.locator('#search-form input[name="to"]').fill('+447700900222');
    await page.locator('#search-form button[type="submit"]').click();
    await page.locator(`#results tr[data-message-id="${messageId}"]`).waitFor();
  }, 60_000);

  it('edits a route and the simulator reflects it', async () => {
    await page.locator('nav button[data-tab="routes"]').click();
    await page.locator('#route-table tr[data-route=""]').waitFor();
    const simulate = async (to: string) => {
      await page.locator('#simulate-form input[name="to"]').fill(to);
      await page.locator('#simulate-form button').click();
      await page.locator('#sim-connector').waitFor();
    };
    await simulate('+447700900333');
    await expect.poll(() => page.locator('#sim-connector').textContent()).toBe('sink');

    // A more specific route to another connector wins once added.
    const row = page.locator('#route-table tr[data-route="new"]');
    await row.locator('input[name="prefix"]').fill('4477');
    await row.locator('input[name="connectors"]').fill('backup1');
    await row.locator('button.save').click();
    await page.locator('#route-table tr[data-route="4477"]').waitFor();
    await page.locator('#simulate-form button').click();
    await expect.poll(() => page.locator('#sim-connector').textContent()).toBe('backup1');
    expect(await page.locator('#sim-reason').textContent()).toContain('deliver over backup1');

    // Disabled again: the default route carries it.
    const added = page.locator('#route-table tr[data-route="4477"]');
    await added.locator('input[name="enabled"]').uncheck();
    await added.locator('button.save').click();
    await expect.poll(() => page.locator('#route-result').textContent()).toBe('route saved');
    await page.locator('#simulate-form button').click();
    await expect.poll(() => page.locator('#sim-connector').textContent()).toBe('sink');
    await page.screenshot({ path: path.join(screenshots, 'panel-routes.png'), fullPage: true });
  }, 60_000);
});
