import { describe, expect, it } from 'vitest';
import { reconnectDelayMs, validateConnector, isPermanentStatus } from '../../../src/connectors/index.ts';
import { pickRoute, validateRoute, type RouteDocument } from '../../../src/routing/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';

const route = (prefix: string, connectors: string[], extra: Partial<RouteDocument> = {}): RouteDocument => ({
  prefix,
  connectors,
  priority: 0,
  weight: 1,
  enabled: true,
  ...extra,
});

describe('routing', () => {
  const routes = [
    route('', ['default']),
    route('49', ['de']),
    route('4915', ['de-mobile']),
    route('4915', ['de-mobile-hi'], { priority: 5 }),
    route('491', ['off'], { enabled: false, priority: 99 }),
  ];

  it('longest prefix first, then priority', () => {
    expect(pickRoute(routes, '4915112345')?.connectors).toEqual(['de-mobile-hi']);
    expect(pickRoute(routes, '4930123')?.connectors).toEqual(['de']);
    expect(pickRoute(routes, '4412345')?.connectors).toEqual(['default']);
    expect(pickRoute(routes.slice(1), '4412345')).toBeNull();
  });

  it('matches international destKeys (+E.164) by their digits', () => {
    expect(pickRoute(routes, '+4915112345')?.connectors).toEqual(['de-mobile-hi']);
    expect(pickRoute(routes, '+4930123')?.connectors).toEqual(['de']);
    expect(pickRoute(routes, '+4412345')?.connectors).toEqual(['default']);
  });

  it('weight shares traffic among equals', () => {
    const equal = [route('44', ['a'], { weight: 3 }), route('44', ['b'], { weight: 1 })];
    let seed = 0;
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) counts[pickRoute(equal, '447', () => (seed++ % 400) / 400)!.connectors[0]]++;
    expect(counts).toEqual({ a: 300, b: 100 });
  });

  it('validates routes and connectors with precise sentences', () => {
    expect(() => validateRoute({ prefix: '4a' })).toThrow(/prefix must be digits.*name a connector/);
    expect(() => validateRoute({ prefix: '1', connectors: ['x'], esme: 'y' })).toThrow(/not both/);
    expect(validateConnector({ name: 'op1', host: 'h', port: 2775, systemId: 'me', password: 'pw' })).toMatchObject({
      bind: 'transceiver',
      window: 10,
      long: 'udh8',
      tps: 0,
    });
    expect(() =>
      validateConnector({ name: 'op 1', host: '', port: 0, systemId: 'me', password: 'way-too-long', long: 'x' as never }),
    ).toThrow(/name.*host.*port.*password.*long/);
  });
});

describe('connector policy', () => {
  it('reconnects after 5, 10, 20, 40, then every 60 s, scalable for tests', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => reconnectDelayMs(n) / 1000)).toEqual([5, 10, 20, 40, 60, 60]);
    expect(reconnectDelayMs(2, 0.01)).toBe(100);
  });

  it('classifies downstream statuses', () => {
    expect(isPermanentStatus(CommandStatus.ESME_RINVDSTADR)).toBe(true);
    expect(isPermanentStatus(CommandStatus.ESME_RTHROTTLED)).toBe(false);
    expect(isPermanentStatus(CommandStatus.ESME_RMSGQFUL)).toBe(false);
    expect(isPermanentStatus(CommandStatus.ESME_RSYSERR)).toBe(false);
  });
});
