import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { QueueDepthSampler } from '../../../src/metrics/queue-depth-sampler.ts';
import { registry } from '../../../src/metrics/metrics.ts';
import { Collections } from '../../../src/store/collections.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSms } from './sms-fixtures.ts';

const t = useTestDb('ops_sampler');

describe('QueueDepthSampler', () => {
  it('publishes queue depth by state, due count and the oldest due age', async () => {
    const now = new Date(Date.UTC(2026, 2, 1, 10));
    const clock = new ManualClock(now);
    await t.db.collection(Collections.sms).insertMany([
      makeSms(now, { nextAttemptAt: new Date(now.getTime() - 120_000) }),
      makeSms(now, { nextAttemptAt: new Date(now.getTime() + 120_000) }),
      makeSms(now, { state: 'delivered' }),
    ]);
    const sampler = new QueueDepthSampler({ db: t.db, clock, intervalMs: 60_000 });
    await sampler.start();
    await sampler.close();
    await sampler.close();
    const text = await registry.metrics();
    expect(text).toContain('smsc_queue_depth{state="queued"} 2');
    expect(text).toContain('smsc_queue_depth{state="delivered"} 1');
    expect(text).toContain('smsc_queue_depth{state="locked"} 0');
    expect(text).toContain('smsc_queue_due_messages 1');
    expect(text).toContain('smsc_queue_oldest_due_seconds 120');
  });
});
