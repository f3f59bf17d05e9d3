import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  decideRoute,
  type RouteEntry,
  type RoutingRequest,
  applyIntakeDecision,
  buildAutoReply,
  timeWindowFrom,
  validateRoute,
  type RouteDocument,
  inTimeWindow,
  parseDays,
  parseTimeWindow,
} from '../../../src/routing/index.ts';
import { decodeText } from '../../../src/codec/index.ts';
import { makeSms } from '../../support/sms-factory.ts';

let n = 0;
const route = (fields: Partial<RouteDocument>): RouteEntry => ({ ...validateRoute({ connectors: ['x'], ...fields }), id: `r${++n}` });
const at = new Date('2026-05-06T12:00:00Z'); // a Wednesday
const ask = (fields: Partial<RoutingRequest> = {}): RoutingRequest => ({
  to: '+447700900123',
  from: '12345',
  account: 'acme',
  intake: 'smpp',
  at,
  ...fields,
});

describe('decideRoute', () => {
  it('longest destination prefix first, then more conditions, then priority', () => {
    const general = route({ prefix: '44', connectors: ['general'], priority: 9 });
    const forAcme = route({ prefix: '44', account: 'acme', connectors: ['acme'] });
    const longer = route({ prefix: '4477', connectors: ['longer'] });
    expect(decideRoute([general, forAcme], ask()).connectors).toEqual(['acme']);
    expect(decideRoute([general, forAcme], ask({ account: 'other' })).connectors).toEqual(['general']);
    expect(decideRoute([general, forAcme, longer], ask()).connectors).toEqual(['longer']);
    const high = route({ prefix: '44', connectors: ['high'], priority: 10 });
    expect(decideRoute([general, high], ask()).connectors).toEqual(['high']);
  });

  it('matches on source prefix (numbers with or without +, sender ids without case), intake and account', () => {
    const bySource = route({ prefix: '', sourcePrefix: '4930', connectors: ['src'] });
    const byName = route({ prefix: '', sourcePrefix: 'Bank', connectors: ['name'] });
    const http = route({ prefix: '', intake: 'http', connectors: ['http'] });
    expect(decideRoute([bySource], ask({ from: '+493012345' })).connectors).toEqual(['src']);
    expect(decideRoute([bySource], ask({ from: '493012345' })).connectors).toEqual(['src']);
    expect(decideRoute([bySource], ask({ from: '12345' })).action).toBe('none');
    expect(decideRoute([byName], ask({ from: 'BANKXYZ' })).connectors).toEqual(['name']);
    expect(decideRoute([http], ask()).action).toBe('none');
    expect(decideRoute([http], ask({ intake: 'http' })).connectors).toEqual(['http']);
    const none = decideRoute([bySource, http], ask({ from: undefined }));
    expect(none.candidates.map((c) => c.reason)).toEqual(['needs a source starting with 4930 (none given)', 'intake smpp is not http']);
  });

  it('a route naming the HLR network wins over any destination prefix', () => {
    const byPrefix = route({ prefix: '4477', connectors: ['old-network'] });
    const byNetwork = route({ prefix: '', network: '23415', connectors: ['new-network'] });
    expect(decideRoute([byPrefix, byNetwork], ask({ network: '23415' })).connectors).toEqual(['new-network']);
    expect(decideRoute([byPrefix, byNetwork], ask({ network: '23410' })).connectors).toEqual(['old-network']);
    expect(decideRoute([byPrefix, byNetwork], ask()).connectors).toEqual(['old-network']);
    expect(decideRoute([byNetwork], ask({ network: ' 23415 ' })).connectors).toEqual(['new-network']);
  });

  it('ignores disabled routes and ESME (MO) routes', () => {
    const off = route({ prefix: '44', connectors: ['off'], enabled: false });
    const mo = { ...validateRoute({ prefix: '4477', esme: 'app' }), id: 'mo' };
    const fallback = route({ prefix: '', connectors: ['default'] });
    const decision = decideRoute([off, mo, fallback], ask());
    expect(decision.connectors).toEqual(['default']);
    expect(decision.candidates.filter((c) => !c.matched).map((c) => c.reason)).toEqual([
      'disabled',
      'routes MO to ESME app, not MT traffic',
    ]);
  });

  it('shares equal routes by weight', () => {
    const a = route({ prefix: '44', connectors: ['a'], weight: 3 });
    const b = route({ prefix: '44', connectors: ['b'], weight: 1 });
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 400; i++) counts[decideRoute([a, b], ask(), () => i / 400).connectors[0]]++;
    expect(counts).toEqual({ a: 300, b: 100 });
    expect(decideRoute([a, b], ask(), () => 0).why.join(' ')).toMatch(/2 routes match equally well; picked by weight \(3 of 4\)/);
  });

  it('says why, in words', () => {
    const decision = decideRoute(
      [
        route({ prefix: '44', connectors: ['a'] }),
        route({ prefix: '4477', connectors: ['b', 'c'], charged: true }),
        route({ prefix: '33' }),
      ],
      ask(),
    );
    expect(decision).toMatchObject({ action: 'deliver', connectors: ['b', 'c'], charged: true });
    expect(decision.why).toEqual([
      '2 of 3 route(s) match +447700900123 from 12345 (account acme)',
      'the best has a longer destination prefix than the next (prefix="44" connectors=a priority=0 weight=1)',
      'deliver over b, then c, after the charging endpoint accepts',
    ]);
    expect(decision.candidates.map((c) => [c.matched, c.reason])).toEqual([
      [true, 'chosen'],
      [true, 'matches, ranks lower'],
      [false, 'destination does not start with 33'],
    ]);
    expect(decideRoute([], ask()).why).toEqual(['no route matches +447700900123 from 12345 (account acme); there are no routes']);
  });

  it('drop and auto-reply decisions carry no connectors and no charge', () => {
    expect(decideRoute([route({ prefix: '4477', connectors: [], action: 'drop' })], ask())).toMatchObject({
      action: 'drop',
      connectors: [],
      charged: false,
    });
    expect(decideRoute([route({ prefix: '', connectors: [], action: 'auto-reply', replyText: 'Closed' })], ask())).toMatchObject({
      action: 'auto-reply',
      replyText: 'Closed',
    });
  });
});

describe('time windows', () => {
  it('parses windows and days, and refuses nonsense in one sentence', () => {
    expect(parseTimeWindow('08:00-20:30')).toEqual({ from: 480, to: 1230 });
    expect(parseTimeWindow('22:00-24:00')).toEqual({ from: 1320, to: 1440 });
    expect(parseDays('mon-fri')).toEqual([1, 2, 3, 4, 5]);
    expect(parseDays('fri-mon')).toEqual([0, 1, 5, 6]);
    expect(parseDays('sat,sun')).toEqual([0, 6]);
    expect(() => parseTimeWindow('8-20')).toThrow(/HH:MM-HH:MM/);
    expect(() => parseTimeWindow('10:00-10:00')).toThrow(/empty/);
    expect(() => parseDays('weekdays')).toThrow(/day names/);
    expect(() => timeWindowFrom({ window: '08:00-20:00', timeZone: 'Mars/Olympus' })).toThrow(/Unknown time zone/);
  });

  it("checks the local time in the route's zone, across midnight and by weekday", () => {
    const office = timeWindowFrom({ window: '09:00-17:00', days: 'mon-fri', timeZone: 'Europe/Berlin' });
    expect(inTimeWindow(office, new Date('2026-05-06T07:00:00Z'))).toBe(true); // Wed 09:00 CEST
    expect(inTimeWindow(office, new Date('2026-05-06T06:59:00Z'))).toBe(false);
    expect(inTimeWindow(office, new Date('2026-05-06T15:00:00Z'))).toBe(false); // 17:00: the end is exclusive
    expect(inTimeWindow(office, new Date('2026-05-09T10:00:00Z'))).toBe(false); // Saturday
    const night = timeWindowFrom({ window: '22:00-06:00', days: 'fri' });
    expect(inTimeWindow(night, new Date('2026-05-08T23:00:00Z'))).toBe(true); // Friday night
    expect(inTimeWindow(night, new Date('2026-05-09T05:59:00Z'))).toBe(true); // ...into Saturday morning
    expect(inTimeWindow(night, new Date('2026-05-08T05:00:00Z'))).toBe(false); // Friday morning belongs to Thursday night
    expect(inTimeWindow(night, new Date('2026-05-09T12:00:00Z'))).toBe(false);
  });

  it('a route outside its window does not match', () => {
    const night = route({ prefix: '44', connectors: ['night'], timeWindow: timeWindowFrom({ window: '22:00-06:00' }) });
    const day = route({ prefix: '44', connectors: ['day'] });
    expect(decideRoute([night, day], ask({ at: new Date('2026-05-06T23:30:00Z') })).connectors).toEqual(['night']);
    const noon = decideRoute([night, day], ask());
    expect(noon.connectors).toEqual(['day']);
    expect(noon.candidates[1].reason).toMatch(/^outside 22:00-06:00 UTC at 2026-05-06T12:00:00.000Z$/);
  });
});

describe('validateRoute', () => {
  it('lists every problem of a route in one sentence', () => {
    expect(() => validateRoute({ prefix: '44', action: 'drop', connectors: ['x'], charged: true })).toThrow(
      /a drop route names no connector or ESME; a drop route delivers nothing, so it cannot be charged/,
    );
    expect(() => validateRoute({ prefix: '44', action: 'auto-reply' })).toThrow(/needs a reply text/);
    expect(() => validateRoute({ prefix: '44', connectors: ['x'], replyText: 'hi' })).toThrow(/reply text belongs to an auto-reply route/);
    expect(() => validateRoute({ prefix: '44', esme: 'app', account: 'acme' })).toThrow(
      /ESME \(MO\) route matches on the destination prefix only/,
    );
    expect(() =>
      validateRoute({ prefix: '44', connectors: ['x'], intake: 'fax' as never, network: '', sourcePrefix: 'x'.repeat(21) }),
    ).toThrow(/source prefix.*intake must be one of smpp, http.*network must be/);
    expect(() => validateRoute({ prefix: '44', action: 'forward' as never })).toThrow(/action must be one of deliver, drop, auto-reply/);
  });
});

describe('intake decisions', () => {
  const routeId = new ObjectId().toHexString();
  it('drop makes every part final `rejected`, flagged for one receipt each when asked', () => {
    const parts = [makeSms({ registeredDelivery: 1 }), makeSms({ registeredDelivery: 1 })];
    const now = new Date();
    const stored = applyIntakeDecision(
      parts,
      {
        action: 'drop',
        route: { ...validateRoute({ prefix: '', action: 'drop' }), id: routeId },
        connectors: [],
        charged: false,
        why: [],
        candidates: [],
      },
      now,
    );
    expect(stored).toHaveLength(2);
    for (const doc of stored!) {
      expect(doc).toMatchObject({
        state: 'rejected',
        finalAt: now,
        receiptDue: true,
        routing: { route: routeId, action: 'drop' },
        error: { message: `dropped by route ${routeId}` },
      });
      expect(doc.history).toEqual([
        { at: now, by: 'routing', outcome: 'dropped', error: `dropped by route ${routeId}`, detail: `route ${routeId}` },
      ]);
    }
    const quiet = applyIntakeDecision(
      [makeSms({ registeredDelivery: 0 })],
      { action: 'drop', connectors: [], charged: false, why: [], candidates: [] },
      now,
    );
    expect(quiet![0]).not.toHaveProperty('receiptDue');
  });

  it('deliver and none leave the documents alone', () => {
    for (const action of ['deliver', 'none'] as const)
      expect(
        applyIntakeDecision([makeSms()], { action, connectors: ['x'], charged: false, why: [], candidates: [] }, new Date()),
      ).toBeUndefined();
  });

  it('auto-reply: the original is answered (delivered) and the reply goes back to its ESME, with ids derived from the original', () => {
    const original = makeSms({
      account: 'acme',
      source: { ton: 1, npi: 1, addr: '447700900001' },
      dest: { ton: 0, npi: 1, addr: '12345' },
      destKey: '12345',
      registeredDelivery: 1,
    });
    const now = new Date();
    const docs = applyIntakeDecision(
      [original],
      { action: 'auto-reply', replyText: 'Closed today', connectors: [], charged: false, why: [], candidates: [] },
      now,
    )!;
    expect(docs).toHaveLength(2);
    expect(docs[0]).toMatchObject({ state: 'delivered', receiptDue: true, routing: { action: 'auto-reply' } });
    const reply = docs[1];
    expect(reply).toMatchObject({
      direction: 'mo',
      account: '@smsc',
      state: 'queued',
      target: { kind: 'esme', systemId: 'acme' },
      source: { addr: '12345' },
      dest: { addr: '447700900001' },
      destKey: 'esme:acme:12345',
    });
    expect(decodeText(Buffer.from(reply.payload.shortMessage.buffer), reply.payload.dataCoding)).toBe('Closed today');
    // The same submission stored twice makes the same reply id (a duplicate key, not a second reply).
    expect(buildAutoReply(original, 'Closed today', now)[0]._id.equals(reply._id)).toBe(true);
  });
});
