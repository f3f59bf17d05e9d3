import { afterAll, describe, expect, inject, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnInserter, type InserterChild } from './spawn-inserter.ts';
import { until } from '../../support/until.ts';

const t = useTestDb('inserter_shutdown');
const children: InserterChild[] = [];

afterAll(async () => {
  for (const child of children) await child.stop('SIGKILL');
});

describe('inserter shutdown on SIGTERM', () => {
  it('stops intake, answers and stores what it read, unbinds, and exits within the grace period', async () => {
    await ensureSchema(t.db);
    await new AccountStore(t.db).add({ systemId: 'esme', password: 'pw' });
    const child = await spawnInserter(inject('mongoUri'), t.dbName, ['--shutdown-grace-ms', '5000']);
    children.push(child);
    const clients = await Promise.all([TestEsme.bound(child.port, 'esme', 'pw'), TestEsme.bound(child.port, 'esme', 'pw')]);
    const acked = new Map<string, string>();
    let answered = 0;
    let running = true;
    let seq = 0;
    const loops = clients.flatMap((client) =>
      Array.from({ length: 10 }, async () => {
        while (running && !client.closed) {
          const text = `s-${seq++}`;
          try {
            const resp = await client.submit({ short_message: Buffer.from(text) }, 8_000);
            answered++;
            if (resp.command_status === 0) acked.set(text, resp.message_id as string);
          } catch {
            return;
          }
        }
      }),
    );
    await until(() => acked.size >= 200, 30_000, '200 acknowledged submits');

    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    const termAt = Date.now();
    child.child.kill('SIGTERM');
    const { code, at } = await exited;
    running = false;
    await Promise.all(loops);

    expect(code).toBe(0);
    expect(at - termAt).toBeLessThan(5_000 + 1_000);
    // Each bound session was told to unbind.
    for (const client of clients) expect(client.received.some((pdu) => pdu.command === 'unbind')).toBe(true);
    // Whatever was acknowledged is stored, under the same id.
    const docs = await t.db
      .collection<SmsDocument>('sms')
      .find({}, { projection: { messageId: 1, 'payload.shortMessage': 1 } })
      .toArray();
    const stored = new Map(docs.map((d) => [Buffer.from(d.payload.shortMessage.buffer).toString(), d.messageId]));
    expect([...acked].filter(([text, id]) => stored.get(text) !== id)).toEqual([]);
    expect(answered).toBeGreaterThanOrEqual(acked.size);
    // Nothing listens any more.
    await expect(TestEsme.connect(child.port)).rejects.toThrow();
    for (const client of clients) client.close();
  });
});
