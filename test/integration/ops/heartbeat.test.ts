import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/index.ts';
import { HeartbeatWriter, defaultNodeName, type NodeDocument } from '../../../src/nodes/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { until } from '../../support/until.ts';

const t = useTestDb('heartbeat');

describe('HeartbeatWriter', () => {
  it('writes its entry at start, refreshes lastSeenAt and expiresAt each beat, and deletes it on close', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const nodes = t.db.collection<NodeDocument>(Collections.nodes);
    let beats = 0;
    const writer = new HeartbeatWriter({
      db: t.db,
      kind: 'deliverer',
      host: 'box1',
      pid: 4242,
      intervalMs: 60_000,
      clock,
      info: () => ({ connectors: { op1: 'BOUND' }, beats: ++beats }),
    });
    expect(writer.name).toBe('deliverer-box1-4242');
    await writer.start();
    const first = await nodes.findOne({ _id: writer.name });
    expect(first).toMatchObject({
      kind: 'deliverer',
      host: 'box1',
      pid: 4242,
      startedAt: clock.now(),
      lastSeenAt: clock.now(),
      expiresAt: new Date(clock.now().getTime() + 180_000),
      info: { connectors: { op1: 'BOUND' }, beats: 1 },
    });

    clock.advance(10_000);
    await writer.beat();
    const second = await nodes.findOne({ _id: writer.name });
    expect(second?.startedAt).toEqual(first?.startedAt);
    expect(second?.lastSeenAt).toEqual(clock.now());
    expect(second?.expiresAt).toEqual(new Date(clock.now().getTime() + 180_000));
    expect(second?.info?.beats).toBe(2);

    await writer.close();
    await writer.close();
    expect(await nodes.findOne({ _id: writer.name })).toBeNull();
  });

  it('beats on its own period', async () => {
    const writer = new HeartbeatWriter({ db: t.db, kind: 'cleanup', name: 'periodic', intervalMs: 50 });
    await writer.start();
    const nodes = t.db.collection<NodeDocument>(Collections.nodes);
    const before = (await nodes.findOne({ _id: 'periodic' }))!.lastSeenAt;
    await until(
      async () => (await nodes.findOne({ _id: 'periodic' }))!.lastSeenAt.getTime() > before.getTime(),
      5_000,
      'a later heartbeat',
    );
    const after = (await nodes.findOne({ _id: 'periodic' }))!.lastSeenAt;
    await writer.close();
    expect(after.getTime()).toBeGreaterThan(before.getTime());
  });

  it('close does not delete a successor that took over the same name', async () => {
    const nodes = t.db.collection<NodeDocument>(Collections.nodes);
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const old = new HeartbeatWriter({ db: t.db, kind: 'inserter', name: 'ins-1', pid: 1, intervalMs: 60_000, clock });
    await old.start();
    clock.advance(1000);
    const successor = new HeartbeatWriter({ db: t.db, kind: 'inserter', name: 'ins-1', pid: 2, intervalMs: 60_000, clock });
    await successor.start();
    await old.close();
    expect((await nodes.findOne({ _id: 'ins-1' }))?.pid).toBe(2);
    await successor.close();
    expect(await nodes.findOne({ _id: 'ins-1' })).toBeNull();
  });

  it('close before start is harmless', async () => {
    const writer = new HeartbeatWriter({ db: t.db, kind: 'sink' });
    await writer.close();
    expect(defaultNodeName('sink', 'h', 7)).toBe('sink-h-7');
  });
});
