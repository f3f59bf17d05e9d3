import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSmpp, CommandStatus, SmppError } from '../../../src/smpp/index.ts';

// `smsc sink` as a real child process, through the package's bin (the compiled CLI).
const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = path.join(ROOT, 'bin/smsc.mjs');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function runSink(args: string[]): { child: ChildProcess; lines: AsyncIterableIterator<string> } {
  const child = spawn(process.execPath, [BIN, 'sink', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function nextJson(lines: AsyncIterableIterator<string>): Promise<Record<string, any>> {
  const { value, done } = await lines.next();
  if (done) throw new Error('sink ended');
  return JSON.parse(value) as Record<string, any>;
}

describe('smsc sink (child process)', () => {
  it('prints its port, a JSON line per message, and its counters on SIGTERM', async () => {
    const { child, lines } = runSink(['--port', '0', '--host', '127.0.0.1', '--print', '--rule', '4477=invalidDest', '--latency-ms', '5']);
    const ready = await nextJson(lines);
    expect(ready).toMatchObject({ event: 'listening', host: '127.0.0.1' });
    const session = await connectSmpp({ host: '127.0.0.1', port: ready.port as number });
    await session.bind('transmitter', { systemId: 'cli', password: 'x' });
    const ok = await session.submitSm({ dest: { addr: '3312' }, shortMessage: Buffer.from('hi there') });
    const failed = await session.submitSm({ dest: { addr: '44771' } }).catch((e: unknown) => e);
    expect((failed as SmppError).commandStatus).toBe(CommandStatus.ESME_RINVDSTADR);
    const first = await nextJson(lines);
    expect(first).toMatchObject({ event: 'message', to: '3312', text: 'hi there', status: 0, messageId: ok.messageId, systemId: 'cli' });
    expect((await nextJson(lines)).status).toBe(CommandStatus.ESME_RINVDSTADR);
    await session.close();
    child.kill('SIGTERM');
    const closed = await nextJson(lines);
    expect(closed).toMatchObject({ event: 'closed', counters: { submits: 2, accepted: 1, rejected: { ESME_RINVDSTADR: 1 } } });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses contradictory options with one sentence and a non-zero exit', async () => {
    const { child } = runSink(['--port', '0', '--fail-rate', '0.7', '--throttle-rate', '0.5']);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/add up to more than 1/);
  });
});
