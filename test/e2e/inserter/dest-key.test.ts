import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { CommandStatus, connectSmpp, type SmppSession } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnInserter, type InserterChild } from './spawn-inserter.ts';

// The destKey rule through a real inserter configured with a country code: one subscriber,
// submitted under every TON an ESME might use, is stored under one destKey.

const t = useTestDb('dest_key_e2e');
let inserter: InserterChild;
let session: SmppSession | undefined;

beforeAll(async () => {
  await ensureSchema(t.db);
  await new AccountStore(t.db).add({ systemId: 'esme1', password: 'pw' });
  inserter = await spawnInserter(t.uri, t.dbName, [], { ADDRESS_COUNTRY_CODE: '49' });
}, 60_000);

afterAll(async () => {
  await session?.close().catch(() => undefined);
  await inserter?.stop();
});

describe('destKey through the inserter', () => {
  it('one subscriber gets one destKey whatever TON and form the ESME used', async () => {
    session = await connectSmpp({ host: '127.0.0.1', port: inserter.port });
    session.on('error', () => {});
    await session.bind('transceiver', { systemId: 'esme1', password: 'pw' });
    const forms = [
      { ton: 1, addr: '4915112345678' },
      { ton: 0, addr: '4915112345678' },
      { ton: 0, addr: '+4915112345678' },
      { ton: 0, addr: '004915112345678' },
      { ton: 0, addr: '015112345678' },
      { ton: 2, addr: '015112345678' },
      { ton: 2, addr: '15112345678' },
    ];
    const ids: string[] = [];
    for (const dest of forms) {
      const resp = await session.submitSm({
        source: { ton: 5, npi: 0, addr: 'ACME' },
        dest: { ...dest, npi: 1 },
        shortMessage: Buffer.from('hi'),
      });
      ids.push(resp.messageId);
    }
    const stored = await t.db
      .collection(Collections.sms)
      .find({ messageId: { $in: ids } })
      .toArray();
    expect(stored).toHaveLength(forms.length);
    expect(new Set(stored.map((d) => d.destKey))).toEqual(new Set(['+4915112345678']));
    // The address as the ESME wrote it is kept beside the key.
    expect(stored.map((d) => d.dest.ton).sort()).toEqual([0, 0, 0, 0, 1, 2, 2]);
    // A short code stays one, and a national number that cannot be one is refused.
    const short = await session.submitSm({
      source: { ton: 5, npi: 0, addr: 'ACME' },
      dest: { ton: 0, npi: 1, addr: '22022' },
      shortMessage: Buffer.from('hi'),
    });
    expect((await t.db.collection(Collections.sms).findOne({ messageId: short.messageId }))?.destKey).toBe('22022');
    await expect(
      session.submitSm({
        source: { ton: 5, npi: 0, addr: 'ACME' },
        dest: { ton: 2, npi: 1, addr: '0123' },
        shortMessage: Buffer.from('hi'),
      }),
    ).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RINVDSTADR,
    });
  }, 30_000);
});
