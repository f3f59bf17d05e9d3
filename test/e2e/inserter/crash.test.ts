import { afterAll, describe, expect, inject, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnInserter, type InserterChild } from './spawn-inserter.ts';

const t = useTestDb('inserter_crash');
const children: InserterChild[] = [];

afterAll(async () => {
  for (const child of children) await child.stop('SIGKILL');
});

interface Load {
  acked: Map<string, string>;
  sent: number;
  stop(): Promise<void>;
}

/** Keeps `inFlight` submits outstanding per client, each with a unique text; records acknowledged ones. */
function load(clients: TestEsme[], inFlight: number): Load {
  const acked = new Map<string, string>();
  let running = true;
  let seq = 0;
  const state = { sent: 0 };
  const loops = clients.flatMap((client, c) =>
    Array.from({ length: inFlight }, async () => {
      while (running && !client.closed) {
        const text = `m-${c}-${seq++}`;
        state.sent++;
        try {
          const resp = await client.submit({ short_message: Buffer.from(text) }, 3_000);
          if (resp.command_status === 0) acked.set(text, resp.message_id as string);
        } catch {
          return; // connection gone
        }
      }
    }),
  );
  return {
    acked,
    get sent() {
      return state.sent;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('inserter crash (SIGKILL under load)', () => {
  it('loses no acknowledged message and stores none twice', async () => {
    await ensureSchema(t.db);
    await new AccountStore(t.db).add({ systemId: 'load', password: 'pw', maxBinds: 8 });
    const child = await spawnInserter(inject('mongoUri'), t.dbName);
    children.push(child);
    const clients = await Promise.all(Array.from({ length: 3 }, () => TestEsme.bound(child.port, 'load', 'pw')));
    const traffic = load(clients, 20);
    // Let it run until a good number are acknowledged, then kill it mid-stream.
    const deadline = Date.now() + 15_000;
    while (traffic.acked.size < 1500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.child.kill('SIGKILL');
    await child.stop('SIGKILL');
    await traffic.stop();
    for (const c of clients) c.close();

    const acked = traffic.acked;
    expect(acked.size).toBeGreaterThan(100);
    const docs = await t.db
      .collection<SmsDocument>('sms')
      .find({}, { projection: { messageId: 1, 'payload.shortMessage': 1 } })
      .toArray();
    const byText = new Map<string, string[]>();
    for (const doc of docs) {
      const text = Buffer.from(doc.payload.shortMessage.buffer).toString();
      byText.set(text, [...(byText.get(text) ?? []), doc.messageId]);
    }
    // Every acknowledged message is stored, under the id the ESME was given.
    const missing = [...acked].filter(([text, id]) => !(byText.get(text) ?? []).includes(id));
    expect(missing).toEqual([]);
    // No submit stored twice.
    const twice = [...byText].filter(([, ids]) => ids.length > 1);
    expect(twice).toEqual([]);
    process.stdout.write(
      `[crash test] sent ${traffic.sent}, acknowledged ${acked.size}, stored ${docs.length} (stored but unacknowledged: ${docs.length - acked.size})\n`,
    );
  });
});
