import {
  actionOf,
  conditionCount,
  pickByWeight,
  RouteAction,
  type IntakeKindName,
  type RouteActionName,
  type RouteDocument,
} from './route-document.ts';
import { describeTimeWindow, inTimeWindow } from './time-window.ts';

/** A route as routing sees it: the stored document and, when it came from MongoDB, its id. */
export type RouteEntry = RouteDocument & { id?: string };

/** What a routing decision is asked about one message (or one `smsc route simulate`). */
export interface RoutingRequest {
  /** The destination: its destKey, or the number as written (a leading '+' is ignored). */
  to: string;
  /** The source address or sender id. */
  from?: string;
  /** system_id of the submitting account. */
  account?: string;
  /** How the message arrived (default smpp). */
  intake?: IntakeKindName;
  /** The destination's network as an HLR reported it (MCC+MNC), when a lookup was made. */
  network?: string;
  /** When the decision is made (time windows are checked against it). */
  at: Date;
}

export interface CandidateVerdict {
  id?: string;
  route: string;
  matched: boolean;
  /** Why it does not match, or how it ranks when it does. */
  reason: string;
}

/** The outcome of routing one message, with the reasons in words for `route simulate`. */
export interface RoutingDecision {
  /** `none`: no route matches (a message is then undeliverable). */
  action: RouteActionName | 'none';
  route?: RouteEntry;
  /** deliver: connectors in failover order. */
  connectors: string[];
  /** deliver: ask the charging endpoint first. */
  charged: boolean;
  replyText?: string;
  /** Why this decision, one sentence per line. */
  why: string[];
  /** Every route considered, in the order they rank (the chosen one first). */
  candidates: CandidateVerdict[];
}

/**
 * How well a matching route fits, compared field by field (higher wins):
 * 1. a route naming the network the HLR reported (a ported number belongs to its new network,
 *    whatever its prefix says);
 * 2. the longest destination prefix;
 * 3. the most conditions set (source prefix, account, intake, network, time window): a route for
 *    one account beats the general route for the same prefix;
 * 4. the longest source prefix;
 * 5. priority.
 * Routes equal on all five share the traffic by weight.
 */
function rankOf(route: RouteEntry, request: RoutingRequest): number[] {
  const network = route.network !== undefined && sameNetwork(route.network, request.network) ? 1 : 0;
  return [network, route.prefix.length, conditionCount(route), route.sourcePrefix?.length ?? 0, route.priority];
}

const RANK_WORDS = [
  'it names the network the HLR reported (ported number)',
  'a longer destination prefix',
  'more conditions',
  'a longer source prefix',
  'a higher priority',
];

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Network names as HLR providers write them: case and surrounding blanks do not matter. */
function sameNetwork(a: string, b: string | undefined): boolean {
  return b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}

function digitsOf(address: string): string {
  return address.startsWith('+') ? address.slice(1) : address;
}

/** Why `route` does not apply to `request`, or null when it does. */
export function mismatchOf(route: RouteEntry, request: RoutingRequest): string | null {
  if (route.enabled === false) return 'disabled';
  if (route.esme) return `routes MO to ESME ${route.esme}, not MT traffic`;
  if (!digitsOf(request.to).startsWith(route.prefix)) return `destination does not start with ${route.prefix}`;
  if (route.sourcePrefix !== undefined) {
    if (request.from === undefined) return `needs a source starting with ${route.sourcePrefix} (none given)`;
    if (!digitsOf(request.from).toLowerCase().startsWith(digitsOf(route.sourcePrefix).toLowerCase()))
      return `source ${request.from} does not start with ${route.sourcePrefix}`;
  }
  if (route.account !== undefined && route.account !== request.account)
    return `account ${request.account ?? '(none given)'} is not ${route.account}`;
  if (route.intake !== undefined && route.intake !== (request.intake ?? 'smpp'))
    return `intake ${request.intake ?? 'smpp'} is not ${route.intake}`;
  if (route.network !== undefined && !sameNetwork(route.network, request.network)) {
    return request.network === undefined
      ? `needs HLR network ${route.network} (no lookup result)`
      : `HLR network ${request.network} is not ${route.network}`;
  }
  if (route.timeWindow && !inTimeWindow(route.timeWindow, request.at))
    return `outside ${describeTimeWindow(route.timeWindow)} at ${request.at.toISOString()}`;
  return null;
}

/** One line that says what a route matches and does (`route list`, `route simulate`). */
export function describeRoute(route: RouteEntry): string {
  const parts = [`prefix="${route.prefix}"`];
  if (route.sourcePrefix !== undefined) parts.push(`source-prefix=${route.sourcePrefix}`);
  if (route.account !== undefined) parts.push(`account=${route.account}`);
  if (route.intake !== undefined) parts.push(`intake=${route.intake}`);
  if (route.network !== undefined) parts.push(`network=${route.network}`);
  if (route.timeWindow) parts.push(`window=${describeTimeWindow(route.timeWindow).replaceAll(' ', '/')}`);
  const action = actionOf(route);
  if (route.esme) parts.push(`esme=${route.esme}`);
  else if (action === RouteAction.deliver) parts.push(`connectors=${route.connectors.join(',')}`);
  else parts.push(`action=${action}`);
  if (action === RouteAction.autoReply) parts.push(`reply=${JSON.stringify(route.replyText ?? '')}`);
  if (route.charged) parts.push('charged');
  parts.push(`priority=${route.priority}`, `weight=${route.weight}`);
  if (route.enabled === false) parts.push('disabled');
  return parts.join(' ');
}

/**
 * THE routing decision for MT traffic: the deliverer (per message, at delivery), the inserter
 * (drop and auto-reply at intake), `smsc route simulate` and the HTTP API all call this, so they
 * cannot disagree. Pure: routes, request and the random source for weights come in.
 */
export function decideRoute(routes: readonly RouteEntry[], request: RoutingRequest, random: () => number = Math.random): RoutingDecision {
  const matching: { route: RouteEntry; rank: number[] }[] = [];
  const rejected: CandidateVerdict[] = [];
  for (const route of routes) {
    const mismatch = mismatchOf(route, request);
    if (mismatch === null) matching.push({ route, rank: rankOf(route, request) });
    else rejected.push({ ...(route.id ? { id: route.id } : {}), route: describeRoute(route), matched: false, reason: mismatch });
  }
  matching.sort((a, b) => compareRanks(b.rank, a.rank));
  const subject = `${request.to}${request.from !== undefined ? ` from ${request.from}` : ''}${request.account !== undefined ? ` (account ${request.account})` : ''}`;
  if (matching.length === 0) {
    return {
      action: 'none',
      connectors: [],
      charged: false,
      why: [`no route matches ${subject}${routes.length > 0 ? `; ${routes.length} route(s) checked` : '; there are no routes'}`],
      candidates: rejected,
    };
  }
  const top = matching.filter((m) => compareRanks(m.rank, matching[0].rank) === 0);
  const route = pickByWeight(
    top.map((m) => m.route),
    random,
  )!;
  const why = [`${matching.length} of ${routes.length} route(s) match ${subject}`];
  const runnerUp = matching[top.length];
  if (runnerUp) {
    const field = matching[0].rank.findIndex((value, i) => value !== runnerUp.rank[i]);
    why.push(`the best has ${RANK_WORDS[field]} than the next (${describeRoute(runnerUp.route)})`);
  }
  if (top.length > 1) {
    const total = top.reduce((sum, m) => sum + m.route.weight, 0);
    why.push(`${top.length} routes match equally well; picked by weight (${route.weight} of ${total})`);
  }
  const action = actionOf(route);
  if (action === RouteAction.deliver)
    why.push(`deliver over ${route.connectors.join(', then ')}${route.charged ? ', after the charging endpoint accepts' : ''}`);
  else if (action === RouteAction.drop) why.push('drop: rejected at once, REJECTD receipt when one was asked for');
  else why.push('auto-reply: the sender gets the reply text as an MO message; nothing is delivered');
  const candidates: CandidateVerdict[] = matching.map((m) => ({
    ...(m.route.id ? { id: m.route.id } : {}),
    route: describeRoute(m.route),
    matched: true,
    reason:
      m.route === route
        ? 'chosen'
        : top.some((t) => t.route === m.route)
          ? 'equal (not picked by weight this time)'
          : 'matches, ranks lower',
  }));
  // The chosen route first, then the rest of the matching ones, then those that did not match.
  candidates.sort((a, b) => (b.reason === 'chosen' ? 1 : 0) - (a.reason === 'chosen' ? 1 : 0));
  return {
    action,
    route,
    connectors: action === RouteAction.deliver ? [...route.connectors] : [],
    charged: action === RouteAction.deliver && route.charged === true,
    ...(action === RouteAction.autoReply ? { replyText: route.replyText } : {}),
    why,
    candidates: [...candidates, ...rejected],
  };
}
