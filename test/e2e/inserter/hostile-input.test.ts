import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { useTestDb } from '../../support/mongo.ts';
import { rssMiB, spawnInserter, type InserterChild } from './spawn-inserter.ts';

const t = useTestDb('inserter_hostile');
const children: InserterChild[] = [];
const CONNECTIONS = 1200;
const WAVE = 100;

afterAll(async () => {
  for (const child of children) await child.stop('SIGKILL');
});

function header(length: number, commandId: number, seq = 1): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length >>> 0, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

/** One hostile payload per kind; all of them must be survivable. */
function hostilePayload(i: number): Buffer {
  switch (i % 7) {
    case 0:
      return randomBytes(16 + (i % 2000)); // noise
    case 1:
      return Buffer.concat([header(200, 0x00000004), randomBytes(40)]); // truncated submit_sm
    case 2:
      return header(0x7fffffff, 0x00000004); // absurd command_length
    case 3:
      return header(8, 0x00000015); // command_length below the header size
    case 4:
      return Buffer.concat([header(16 + 20, 0x00000009), Buffer.from('sys\0pw')]); // bind body without its NULs
    case 5: {
      // Many PDUs before any bind.
      const parts = [];
      for (let k = 0; k < 200; k++) parts.push(header(16, 0x00000004, k + 1));
      return Buffer.concat(parts);
    }
    default:
      return Buffer.concat([header(1_000_000, 0x00000004), randomBytes(4096)]); // oversized, streaming
  }
}

function attack(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => {});
    socket.on('connect', () => {
      socket.write(payload);
      setTimeout(done, 100);
    });
  });
}

describe('hostile input', () => {
  it('survives thousands of bad connections; a normal ESME still works and memory returns near baseline', async () => {
    await ensureSchema(t.db);
    await new AccountStore(t.db).add({ systemId: 'good', password: 'pw' });
    const child = await spawnInserter(inject('mongoUri'), t.dbName, [], { NODE_OPTIONS: '--max-old-space-size=256' });
    children.push(child);
    const warm = await TestEsme.bound(child.port, 'good', 'pw');
    expect((await warm.submit({})).command_status).toBe(0);
    warm.close();
    await new Promise((r) => setTimeout(r, 500));
    const baseline = await rssMiB(child.pid);

    for (let wave = 0; wave < CONNECTIONS / WAVE; wave++) {
      await Promise.all(Array.from({ length: WAVE }, (_, k) => attack(child.port, hostilePayload(wave * WAVE + k))));
    }
    expect(child.child.exitCode).toBeNull();

    const esme = await TestEsme.bound(child.port, 'good', 'pw');
    const resp = await esme.submit({ short_message: Buffer.from('still here') });
    expect(resp.command_status).toBe(0);
    expect(await t.db.collection('sms').countDocuments({ messageId: resp.message_id as string })).toBe(1);
    esme.close();

    await new Promise((r) => setTimeout(r, 2_000));
    const after = await rssMiB(child.pid);
    process.stdout.write(`[hostile] ${CONNECTIONS} connections; RSS baseline ${baseline.toFixed(1)} MiB, after ${after.toFixed(1)} MiB\n`);
    expect(after).toBeLessThan(baseline + 64);
  });
});
