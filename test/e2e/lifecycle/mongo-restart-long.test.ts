import { describe, expect, it } from 'vitest';
import { runMongoOutage } from './outage.ts';

/**
 * The longer stop of issue 13: 45 s, longer than the driver's server selection timeout (10 s),
 * the deliverers' lease (30 s) and the heartbeats' TTL (30 s). Its own file, so it runs beside the
 * other files rather than after them.
 */
describe('the process set across a MongoDB restart 45 s after a SIGKILL under load', () => {
  it('says 503 during the outage, delivers again within 30 s of MongoDB being back, and delivers every acknowledged message without being restarted', async () => {
    const result = await runMongoOutage('long', 45_000);
    console.log(`[mongo-restart 45 s] ${JSON.stringify(result)}`);
    expect(result.ackedTotal).toBeGreaterThan(result.ackedBefore);
  }, 300_000);
});
