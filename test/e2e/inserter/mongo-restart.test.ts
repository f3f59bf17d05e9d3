import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import { TestEsme } from '../../integration/inserter/harness.ts';
import { freePort } from '../../support/free-port.ts';
import { spawnStandin, type StandinChild } from '../../../standin/test/spawn-standin.ts';
import { spawnInserter, type InserterChild } from './spawn-inserter.ts';
import { until } from '../../support/until.ts';

/**
 * MongoDB itself crashes (SIGKILL) under submit load and comes back on the same port and data
 * directory. The test runs its own server so it can kill it: the project's stand-in with a journal
 * (`--dbpath`), whatever server the rest of the suite uses.
 */
describe('an inserter across a crash and restart of MongoDB', () => {
  const dbName = 'inserter_e2e_mongo_restart';
  const dbpath = mkdtempSync(path.join(tmpdir(), 'smsc-inserter-restart-'));
  let server: StandinChild | undefined;
  let inserter: InserterChild | undefined;
  const clients: TestEsme[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    await inserter?.stop('SIGKILL');
    server?.proc.kill('SIGKILL');
    await server?.exited;
    rmSync(dbpath, { recursive: true, force: true });
  });

  it('keeps every acknowledged message, answers every submit, stores none twice, and takes submits again once MongoDB is back', async () => {
    const port = await freePort();
    const serverArgs = ['--port', String(port), '--dbpath', dbpath];
    server = await spawnStandin(serverArgs);
    const setup = new MongoClient(server.uri);
    await ensureSchema(setup.db(dbName));
    await new AccountStore(setup.db(dbName)).add({ systemId: 'load', password: 'pw', maxBinds: 4 });
    await setup.close();
    inserter = await spawnInserter(server.uri, dbName);
    clients.push(...(await Promise.all([TestEsme.bound(inserter.port, 'load', 'pw'), TestEsme.bound(inserter.port, 'load', 'pw')])));

    const acked = new Map<string, string>();
    const failedStatuses = new Map<number, number>();
    let unanswered = 0;
    let ackedAfterRestart = 0;
    let restarted = false;
    let running = true;
    let seq = 0;
    const loops = clients.flatMap((client, c) =>
      Array.from({ length: 10 }, async () => {
        while (running) {
          const text = `r-${c}-${seq++}`;
          try {
            const resp = await client.submit({ short_message: Buffer.from(text) }, 25_000);
            if (resp.command_status === 0) {
              acked.set(text, resp.message_id as string);
              if (restarted) ackedAfterRestart++;
            } else {
              failedStatuses.set(resp.command_status, (failedStatuses.get(resp.command_status) ?? 0) + 1);
            }
          } catch {
            unanswered++;
          }
        }
      }),
    );

    await until(() => acked.size >= 300, 20_000, '300 acknowledged submits');
    server.proc.kill('SIGKILL');
    await server.exited;
    const ackedBeforeCrash = acked.size;
    await new Promise((r) => setTimeout(r, 1500));
    server = await spawnStandin(serverArgs);
    restarted = true;
    await until(() => ackedAfterRestart >= 300, 30_000, '300 acknowledged submits after the restart');
    running = false;
    await Promise.all(loops);

    const check = new MongoClient(server.uri);
    try {
      const docs = await check
        .db(dbName)
        .collection<SmsDocument>('sms')
        .find({}, { projection: { messageId: 1, 'payload.shortMessage': 1 } })
        .toArray();
      const idsByText = new Map<string, string[]>();
      for (const doc of docs) {
        const text = Buffer.from(doc.payload.shortMessage.buffer).toString();
        idsByText.set(text, [...(idsByText.get(text) ?? []), doc.messageId]);
      }
      const lost = [...acked].filter(([text, id]) => !(idsByText.get(text) ?? []).includes(id));
      const twice = [...idsByText].filter(([, ids]) => ids.length > 1);
      console.log(
        `[inserter mongo-restart] acknowledged ${acked.size} (${ackedBeforeCrash} before the crash), failed ${JSON.stringify(Object.fromEntries(failedStatuses))}, ` +
          `unanswered ${unanswered}, stored ${docs.length}`,
      );
      expect(lost).toEqual([]);
      expect(twice).toEqual([]);
      // An outage shorter than the store timeout (10 s) delays submits instead of refusing them: the
      // batches cut off by the crash are sent again, and a duplicate _id tells which were stored.
      // The batches cut off by the crash are sent again (a duplicate _id tells which were stored), so
      // an outage shorter than the store timeout (10 s) only delays submits. On a slow machine the
      // restart can take longer: then the refusal is ESME_RSYSERR, and a refused message may have
      // been stored by the attempt in flight at the deadline (the ESME resubmits: at least once).
      const refused = [...failedStatuses.values()].reduce((a, b) => a + b, 0);
      if (refused > 0)
        console.log(
          inserter
            .output()
            .split('\n')
            .filter((l) => l.includes('store write'))
            .slice(0, 5)
            .join('\n'),
        );
      expect([...failedStatuses.keys()].every((status) => status === 0x08)).toBe(true);
      expect(docs.length - acked.size).toBeLessThanOrEqual(refused);
      expect(unanswered).toBe(0);
      expect(inserter.child.exitCode).toBeNull();
    } finally {
      await check.close();
    }
  }, 120_000);
});
