import { ConfigError } from '../domain/errors.ts';
import { parseDays, parseTimeWindow, validTimeZone, type TimeWindow } from './time-window.ts';

/** What a route does with the messages it matches. */
export const RouteAction = Object.freeze({
  /** Forward over the route's connectors (primary first, then backups). */
  deliver: 'deliver',
  /** Refuse: the message ends `rejected` at once, with a REJECTD receipt when one was asked for. */
  drop: 'drop',
  /** Answer the sender with `replyText` as an MO message; the message itself goes nowhere. */
  autoReply: 'auto-reply',
} as const);
export type RouteActionName = (typeof RouteAction)[keyof typeof RouteAction];
export const ROUTE_ACTIONS: readonly RouteActionName[] = Object.freeze(Object.values(RouteAction));

/** How a message reached us: over SMPP from an ESME, or through the HTTP API. */
export const IntakeKind = Object.freeze({ smpp: 'smpp', http: 'http' } as const);
export type IntakeKindName = (typeof IntakeKind)[keyof typeof IntakeKind];
export const INTAKE_KINDS: readonly IntakeKindName[] = Object.freeze(Object.values(IntakeKind));

/** Longest auto-reply text: what fits a few SMS parts (the reply is split like any message). */
export const REPLY_TEXT_MAX = 480;

/**
 * A `routes` document: messages whose destination starts with `prefix` — and that meet every
 * condition the route sets — go to connectors (primary first, then backups), are dropped, or are
 * answered with an auto-reply. Routes naming an ESME route MO traffic (destination prefix only).
 */
export interface RouteDocument {
  prefix: string;
  /** Primary, then backups, in failover order. Empty for ESME routes and for drop/auto-reply. */
  connectors: string[];
  /** MO routes: the system_id of the ESME that receives these destinations. */
  esme?: string;
  /** Among routes that match equally well, the highest priority wins. */
  priority: number;
  /** Among routes that match equally well with the same priority, traffic is shared by weight. */
  weight: number;
  enabled: boolean;
  // Conditions: absent means "any".
  /** The source address starts with this (digits of a number, or the start of a sender id). */
  sourcePrefix?: string;
  /** The system_id of the ESME account that submitted the message. */
  account?: string;
  /** How the message arrived. */
  intake?: IntakeKindName;
  /** The network an HLR lookup reported for the destination (`sms.hlr.network`, e.g. an MCC+MNC): ported-number routing. */
  network?: string;
  /** Local time of day (and days of the week) at which the route applies. */
  timeWindow?: TimeWindow;
  // Action: absent means deliver.
  action?: RouteActionName;
  /** auto-reply: the text sent back to the sender. */
  replyText?: string;
  /** Ask the charging endpoint before each message is delivered; refuse on a negative answer. */
  charged?: boolean;
  createdAt?: Date;
  updatedAt?: Date;
}

/** The route's action, with the default filled in. */
export function actionOf(route: Pick<RouteDocument, 'action'>): RouteActionName {
  return route.action ?? RouteAction.deliver;
}

/** What a CLI or config file may give for a route's time window. */
export interface TimeWindowInput {
  /** `HH:MM-HH:MM` (a window past midnight, e.g. `22:00-06:00`, is fine). */
  window: string;
  /** `mon-fri`, `sat,sun`, …; absent = every day. */
  days?: string;
  /** IANA zone (`Europe/Berlin`); absent = UTC. */
  timeZone?: string;
}

export function timeWindowFrom(input: TimeWindowInput): TimeWindow {
  const window = parseTimeWindow(input.window);
  const days = input.days === undefined || input.days === '' ? undefined : parseDays(input.days);
  const timeZone = input.timeZone === undefined || input.timeZone === '' ? undefined : input.timeZone;
  if (timeZone !== undefined && !validTimeZone(timeZone))
    throw new ConfigError(`Unknown time zone "${timeZone}" (use an IANA name such as Europe/Berlin).`);
  return { ...window, ...(days ? { days } : {}), ...(timeZone ? { timeZone } : {}) };
}

const SOURCE_PREFIX = /^\+?[0-9A-Za-z .&'_-]{1,20}$/;

/** Validates a route definition; every problem is listed in one sentence. */
export function validateRoute(input: Partial<RouteDocument>): RouteDocument {
  const doc: RouteDocument = { connectors: [], priority: 0, weight: 1, enabled: true, prefix: '', ...input };
  const action = actionOf(doc);
  const problems: string[] = [];
  if (typeof doc.prefix !== 'string' || !/^[0-9]*$/.test(doc.prefix)) problems.push('prefix must be digits (empty for the default route)');
  if (!ROUTE_ACTIONS.includes(action)) problems.push(`action must be one of ${ROUTE_ACTIONS.join(', ')}`);
  if (action === RouteAction.deliver) {
    if (doc.connectors.length === 0 && !doc.esme) problems.push('name a connector or an ESME');
    if (doc.connectors.length > 0 && doc.esme) problems.push('a route goes to connectors or to an ESME, not both');
  } else {
    if (doc.connectors.length > 0 || doc.esme) problems.push(`a ${action} route names no connector or ESME`);
    if (doc.charged) problems.push(`a ${action} route delivers nothing, so it cannot be charged`);
  }
  if (action === RouteAction.autoReply) {
    if (typeof doc.replyText !== 'string' || doc.replyText.trim() === '') problems.push('an auto-reply route needs a reply text');
    else if (doc.replyText.length > REPLY_TEXT_MAX) problems.push(`the reply text must be at most ${REPLY_TEXT_MAX} characters`);
  } else if (doc.replyText !== undefined) {
    problems.push('a reply text belongs to an auto-reply route');
  }
  if (doc.esme && hasConditions(doc)) problems.push('an ESME (MO) route matches on the destination prefix only');
  if (doc.esme && doc.charged) problems.push('an ESME (MO) route cannot be charged');
  if (doc.sourcePrefix !== undefined && !SOURCE_PREFIX.test(doc.sourcePrefix))
    problems.push('source prefix must be 1-20 digits or sender-id characters');
  if (doc.account !== undefined && (typeof doc.account !== 'string' || doc.account === '' || doc.account.length > 15))
    problems.push('account must be a system_id (1-15 characters)');
  if (doc.intake !== undefined && !INTAKE_KINDS.includes(doc.intake)) problems.push(`intake must be one of ${INTAKE_KINDS.join(', ')}`);
  if (doc.network !== undefined && !/^[A-Za-z0-9][A-Za-z0-9 _.&-]{0,31}$/.test(doc.network))
    problems.push('network must be a network name or MCC+MNC as the HLR reports it (1-32 letters, digits, spaces, . _ & -)');
  if (!Number.isInteger(doc.priority)) problems.push('priority must be an integer');
  if (!Number.isFinite(doc.weight) || doc.weight <= 0) problems.push('weight must be positive');
  if (problems.length > 0) throw new ConfigError(`Invalid route: ${problems.join('; ')}.`);
  return doc;
}

/** Whether the route sets any condition besides the destination prefix. */
export function hasConditions(route: RouteDocument): boolean {
  return conditionCount(route) > 0;
}

/** How many conditions besides the destination prefix the route sets (its specificity). */
export function conditionCount(route: RouteDocument): number {
  return [route.sourcePrefix, route.account, route.intake, route.network, route.timeWindow].filter((c) => c !== undefined).length;
}

/**
 * The route for `destKey` by destination prefix alone: longest matching prefix, then highest
 * priority, then a choice by weight among equals (`random` in [0,1)). Disabled routes are
 * ignored. MO routing uses it (ESME routes carry no other condition); MT routing goes through
 * `decideRoute`, which weighs every condition.
 */
export function pickRoute<R extends RouteDocument>(routes: readonly R[], destKey: string, random: () => number = Math.random): R | null {
  // Prefixes are digits; international destKeys carry a '+' (E.164) that a prefix never names.
  const digits = destKey.startsWith('+') ? destKey.slice(1) : destKey;
  let best: R[] = [];
  for (const route of routes) {
    if (route.enabled === false || !digits.startsWith(route.prefix)) continue;
    const current = best[0];
    if (
      !current ||
      route.prefix.length > current.prefix.length ||
      (route.prefix.length === current.prefix.length && route.priority > current.priority)
    ) {
      best = [route];
    } else if (route.prefix.length === current.prefix.length && route.priority === current.priority) {
      best.push(route);
    }
  }
  return pickByWeight(best, random);
}

/** One of `routes`, with a chance proportional to its weight. */
export function pickByWeight<R extends Pick<RouteDocument, 'weight'>>(routes: readonly R[], random: () => number = Math.random): R | null {
  if (routes.length <= 1) return routes[0] ?? null;
  const total = routes.reduce((sum, r) => sum + r.weight, 0);
  let point = random() * total;
  for (const route of routes) {
    point -= route.weight;
    if (point < 0) return route;
  }
  return routes[routes.length - 1];
}
