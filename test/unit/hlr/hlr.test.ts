import { describe, expect, it } from 'vitest';
import { MemoryHlrCache, HlrError, HlrHttpClient, valueList, type HlrLookup, HlrService, simulatedAnswer } from '../../../src/hlr/index.ts';
import { IntakePolicy, type HlrPolicySettings } from '../../../src/policy/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

describe('HLR client field mapping', () => {
  it('reads the default answer shape', () => {
    const client = new HlrHttpClient({ url: 'http://x/{msisdn}', timeoutMs: 100 });
    expect(client.read({ status: 'REACHABLE', network: '23415', ported: false })).toEqual({
      status: 'reachable',
      network: '23415',
      ported: false,
    });
    expect(client.read({ status: 'invalid' })).toEqual({ status: 'invalid' });
    expect(client.read({ status: 'absent', network: 26201 })).toEqual({ status: 'unreachable', network: '26201' });
    expect(() => client.read({ nothing: 1 })).toThrow(HlrError);
    expect(() => client.read('not json')).toThrow(/no usable "status"/);
  });

  it('maps a provider with its own field names and values (dotted paths, numbers, yes/no)', () => {
    const client = new HlrHttpClient({
      url: 'http://x',
      timeoutMs: 100,
      mapping: {
        statusField: 'result.present',
        reachableValues: valueList('yes, Y'),
        invalidValues: valueList('na'),
        networkField: 'result.mccmnc',
        portedField: 'result.ported',
      },
    });
    expect(client.read({ result: { present: 'yes', mccmnc: '23410', ported: 'yes' } })).toEqual({
      status: 'reachable',
      network: '23410',
      ported: true,
    });
    expect(client.read({ result: { present: 'no' } })).toEqual({ status: 'unreachable' });
    expect(client.read({ result: { present: 'NA', ported: 0 } })).toEqual({ status: 'invalid', ported: false });
  });

  it('puts the number into the URL', () => {
    expect(new HlrHttpClient({ url: 'http://h/lookup/{msisdn}?k=1', timeoutMs: 1 }).urlFor('447700900123')).toBe(
      'http://h/lookup/447700900123?k=1',
    );
    expect(new HlrHttpClient({ url: 'http://h/lookup?k=1', timeoutMs: 1 }).urlFor('4477')).toBe('http://h/lookup?k=1&msisdn=4477');
    expect(new HlrHttpClient({ url: 'http://h/lookup', timeoutMs: 1 }).urlFor('4477')).toBe('http://h/lookup?msisdn=4477');
  });
});

describe('hlr-sim answers', () => {
  it('reachable by prefix, invalid wins, networks by longest prefix', () => {
    const options = {
      reachable: ['4477'],
      invalid: ['44779'],
      networks: { '4477': 'A', '447755': 'B' },
      ported: ['447755'],
      fail: ['4466'],
    };
    expect(simulatedAnswer(options, '+447700000001')).toEqual({ msisdn: '447700000001', status: 'reachable', network: 'A', ported: false });
    expect(simulatedAnswer(options, '447755000001')).toEqual({ msisdn: '447755000001', status: 'reachable', network: 'B', ported: true });
    expect(simulatedAnswer(options, '447790000001')).toMatchObject({ status: 'invalid' });
    expect(simulatedAnswer(options, '447800000001')).toMatchObject({ status: 'unreachable' });
    expect(simulatedAnswer(options, '446600000001')).toBe('fail');
    expect(simulatedAnswer({}, '123456')).toMatchObject({ status: 'reachable' });
  });
});

describe('memory HLR cache', () => {
  it('forgets an answer when its TTL runs out and stays bounded', async () => {
    let now = 0;
    const cache = new MemoryHlrCache({ maxEntries: 2, now: () => now });
    await cache.set('1', { status: 'reachable' }, 10);
    expect(await cache.get('1')).toEqual({ status: 'reachable' });
    now = 10_000;
    expect(await cache.get('1')).toBeUndefined();
    await cache.set('a', { status: 'invalid' }, 10);
    await cache.set('b', { status: 'invalid' }, 10);
    await cache.set('c', { status: 'invalid' }, 10);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBeDefined();
  });
});

/** An HLR service whose provider answers from a table (no I/O), counting requests. */
function serviceAnswering(answers: Record<string, HlrLookup | 'throw'>) {
  const calls: string[] = [];
  const client = {
    lookup: async (msisdn: string) => {
      calls.push(msisdn);
      const answer = answers[msisdn];
      if (!answer || answer === 'throw') throw new HlrError('HLR_FAILED', 'down');
      if (answer.outcome === 'timeout') throw new HlrError('HLR_TIMEOUT', 'slow');
      if (answer.outcome !== 'ok') throw new HlrError('HLR_FAILED', 'down');
      return answer.result;
    },
  };
  return { service: new HlrService(client, new MemoryHlrCache(), { cacheTtlS: 60, metrics: createMetrics() }), calls };
}

describe('HLR policy decisions (the seed table)', () => {
  const answers: Record<string, HlrLookup> = {
    '4471': { outcome: 'ok', result: { status: 'reachable' }, cached: false },
    '4472': { outcome: 'ok', result: { status: 'unreachable' }, cached: false },
    '4473': { outcome: 'ok', result: { status: 'invalid' }, cached: false },
    '4474': { outcome: 'timeout', error: 'slow' },
  };
  const decide = async (settings: HlrPolicySettings, number: string) => {
    const { service } = serviceAnswering(answers);
    const decision = await new IntakePolicy({ hlr: service, hlrPolicy: settings, metrics: createMetrics() }).check({
      account: 'a',
      destKey: `+${number}`,
      intake: 'test',
    });
    return decision.verdict === 'refuse' ? decision.status : decision.verdict;
  };

  it('reject-unreachable accepts only reachable numbers', async () => {
    const s: HlrPolicySettings = { mode: 'reject-unreachable', onTimeout: 'accept', routing: false };
    expect(await decide(s, '4471')).toBe('accept');
    expect(await decide(s, '4472')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await decide(s, '4473')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await decide(s, '4474')).toBe('accept');
  });

  it('reverse refuses valid numbers and accepts the others as delivered', async () => {
    const s: HlrPolicySettings = { mode: 'reverse', onTimeout: 'accept', routing: false };
    expect(await decide(s, '4471')).toBe(CommandStatus.ESME_RINVDSTADR);
    expect(await decide(s, '4472')).toBe('delivered');
    expect(await decide(s, '4473')).toBe('delivered');
    expect(await decide(s, '4474')).toBe('delivered');
    expect(await decide({ ...s, onTimeout: 'reject' }, '4474')).toBe(CommandStatus.ESME_RX_P_APPN);
    expect(await decide({ ...s, onTimeout: 'defer' }, '4474')).toBe(CommandStatus.ESME_RX_T_APPN);
  });

  it('off looks nothing up and answers synchronously', () => {
    const { service, calls } = serviceAnswering(answers);
    const decision = new IntakePolicy({
      hlr: service,
      hlrPolicy: { mode: 'off', onTimeout: 'reject', routing: false },
      metrics: createMetrics(),
    }).check({
      account: 'a',
      destKey: '+4471',
      intake: 'test',
    });
    expect(decision).toEqual({ verdict: 'accept' });
    expect(calls).toEqual([]);
  });

  it('concurrent lookups of one number share one request', async () => {
    const { service, calls } = serviceAnswering(answers);
    const results = await Promise.all([service.lookup('4471'), service.lookup('4471'), service.lookup('4471')]);
    expect(results.every((r) => r.outcome === 'ok')).toBe(true);
    expect(calls).toEqual(['4471']);
  });
});
