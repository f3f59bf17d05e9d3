import { ConfigError } from '../errors/smsc-error.ts';

/** A `routes` document: destinations starting with `prefix` go to connectors (primary first) or to an ESME. */
export interface RouteDocument {
  prefix: string;
  /** Primary, then backups, in failover order. Empty for ESME routes. */
  connectors: string[];
  /** MO routes: the system_id of the ESME that receives these destinations. */
  esme?: string;
  /** Among routes with the same prefix, the highest priority wins. */
  priority: number;
  /** Among routes with the same prefix and priority, traffic is shared by weight. */
  weight: number;
  enabled: boolean;
  createdAt?: Date;
  updatedAt?: Date;
}

export function validateRoute(input: Partial<RouteDocument>): RouteDocument {
  const doc: RouteDocument = { connectors: [], priority: 0, weight: 1, enabled: true, prefix: '', ...input };
  const problems: string[] = [];
  if (typeof doc.prefix !== 'string' || !/^[0-9]*$/.test(doc.prefix)) problems.push('prefix must be digits (empty for the default route)');
  if (doc.connectors.length === 0 && !doc.esme) problems.push('name a connector or an ESME');
  if (doc.connectors.length > 0 && doc.esme) problems.push('a route goes to connectors or to an ESME, not both');
  if (!Number.isInteger(doc.priority)) problems.push('priority must be an integer');
  if (!Number.isFinite(doc.weight) || doc.weight <= 0) problems.push('weight must be positive');
  if (problems.length > 0) throw new ConfigError(`Invalid route: ${problems.join('; ')}.`);
  return doc;
}

/**
 * The route for `destKey`: longest matching prefix, then highest priority, then a choice by
 * weight among equals (`random` in [0,1)). Disabled routes are ignored.
 */
export function pickRoute<R extends RouteDocument>(routes: readonly R[], destKey: string, random: () => number = Math.random): R | null {
  // Prefixes are digits; international destKeys carry a '+' (E.164) that a prefix never names.
  const digits = destKey.startsWith('+') ? destKey.slice(1) : destKey;
  let best: R[] = [];
  for (const route of routes) {
    if (route.enabled === false || !digits.startsWith(route.prefix)) continue;
    const current = best[0];
    if (!current || route.prefix.length > current.prefix.length || (route.prefix.length === current.prefix.length && route.priority > current.priority)) {
      best = [route];
    } else if (route.prefix.length === current.prefix.length && route.priority === current.priority) {
      best.push(route);
    }
  }
  if (best.length <= 1) return best[0] ?? null;
  const total = best.reduce((sum, r) => sum + r.weight, 0);
  let point = random() * total;
  for (const route of best) {
    point -= route.weight;
    if (point < 0) return route;
  }
  return best[best.length - 1];
}
