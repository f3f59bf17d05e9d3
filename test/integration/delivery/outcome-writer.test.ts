import { MongoClient, ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/index.ts';
import { LeaseManager, OutcomeWriter } from '../../../src/delivery/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ensureSchema } from '../../../src/store/index.ts';
import { until } from '../../support/until.ts';
import { useTestDb } from '../../support/mongo.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

describe('OutcomeWriter: a batch finished in two stages', () => {
  const handle = useTestDb('outcome_writer');
  const appName = 'outcome-writer-victim';
  let victim: MongoClient;
  let db: Db;

  beforeAll(async () => {
    await ensureSchema(handle.db);
    victim = new MongoClient(handle.uri, { appName });
    await victim.connect();
    db = victim.db(handle.dbName);
  });

  afterAll(async () => {
    await handle.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    await victim?.close();
  });

  /** A writer whose `command` writes fail (failCommand, this file's client only), finishing one batch of `destKey`. */
  async function finishWhileFailing(command: string, destKey: string, token: string) {
    const metrics = createMetrics();
    const leases = new LeaseManager(db, systemClock, silentLogger, { leaseMs: 30_000, metrics });
    const writer = new OutcomeWriter(db, leases, silentLogger, metrics);
    await handle.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: [command], appName, errorCode: 8, errorLabels: [] },
    });
    const lease = leases.hold(destKey, token, systemClock.monotonic());
    const finishing = writer.finishInStages({ lease, updates: [{ id: new ObjectId(), token, update: { $set: { state: 'submitted' } } }] });
    return { leases, writer, finishing };
  }

  it('reports the outcomes as not stored when the writer gives up before they land, so the caller gives back what it holds', async () => {
    const { leases, writer, finishing } = await finishWhileFailing('update', '4917000', 'token-1');
    // Retrying with backoff meanwhile; closing ends the retries.
    await until(() => writer.stats.failures >= 1, 5000, 'a failed outcome write');
    writer.close();
    await expect(finishing.stored).rejects.toThrow();
    await expect(finishing.released).rejects.toThrow();
    await handle.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    await leases.close();
  });

  it('resolves `stored` once the outcomes land, before the destination is released', async () => {
    const { leases, writer, finishing } = await finishWhileFailing('delete', '4917001', 'token-2');
    // The release keeps failing; the outcomes are stored all the same.
    // (1: its one write matched nothing, as the message does not exist: fenced off, which is still stored.)
    await expect(finishing.stored).resolves.toBe(1);
    let released = false;
    void finishing.released.then(() => (released = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(released).toBe(false);
    await handle.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    await expect(finishing.released).resolves.toBe(1);
    writer.close();
    await leases.close();
  });
});
