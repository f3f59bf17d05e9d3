import { CommandStatus, type CommandStatusName } from '../smpp/command-status.ts';

// Pure decisions of the downstream simulator: what status a submit gets, how long it takes,
// what a receipt says. Randomness is injected so tests can make them deterministic.

export type Random = () => number;

/** Fixed milliseconds, or uniform in [min, max]. */
export type LatencySpec = number | { min: number; max: number };

/** Named outcomes of a submit; any other status by its spec name. */
export const SubmitOutcome = Object.freeze({
  ok: CommandStatus.ESME_ROK,
  throttled: CommandStatus.ESME_RTHROTTLED,
  invalidDest: CommandStatus.ESME_RINVDSTADR,
  systemError: CommandStatus.ESME_RSYSERR,
  queueFull: CommandStatus.ESME_RMSGQFUL,
} as const);

export type SubmitOutcomeName = keyof typeof SubmitOutcome;
export type OutcomeRef = SubmitOutcomeName | CommandStatusName | number;

/** Receipt `stat` words the sink can produce, with their message_state. */
export const ReceiptStat = Object.freeze({
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
  ENROUTE: 1,
} as const);

export type ReceiptStatName = keyof typeof ReceiptStat;

/** Deterministic behaviour for destinations starting with `prefix` (longest prefix wins). */
export interface DestinationRule {
  prefix: string;
  /** submit_sm status for these destinations. */
  status?: OutcomeRef;
  /** Receipt stat for these destinations (when receipts are on). */
  stat?: ReceiptStatName;
  /** Latency override. */
  latencyMs?: LatencySpec;
}

export function resolveStatus(ref: OutcomeRef): number {
  if (typeof ref === 'number') return ref;
  if (ref in SubmitOutcome) return SubmitOutcome[ref as SubmitOutcomeName];
  if (ref in CommandStatus) return CommandStatus[ref as CommandStatusName];
  throw new RangeError(`unknown submit outcome ${ref}`);
}

/** Picks a key by weight; weights <= 0 never win. Falls back to `fallback` when all are zero. */
export function pickWeighted<K extends string>(weights: Partial<Record<K, number>>, random: Random, fallback: K): K {
  let total = 0;
  for (const w of Object.values(weights) as (number | undefined)[]) if (w && w > 0) total += w;
  if (total <= 0) return fallback;
  let point = random() * total;
  for (const [key, w] of Object.entries(weights) as [K, number | undefined][]) {
    if (!w || w <= 0) continue;
    if (point < w) return key;
    point -= w;
  }
  return fallback;
}

export function matchRule(rules: readonly DestinationRule[], dest: string): DestinationRule | undefined {
  let best: DestinationRule | undefined;
  for (const rule of rules) {
    if (dest.startsWith(rule.prefix) && (!best || rule.prefix.length > best.prefix.length)) best = rule;
  }
  return best;
}

export function pickLatency(spec: LatencySpec, random: Random): number {
  if (typeof spec === 'number') return Math.max(0, spec);
  const min = Math.max(0, Math.min(spec.min, spec.max));
  const max = Math.max(spec.min, spec.max);
  return min + Math.round(random() * (max - min));
}

export function validateLatency(spec: LatencySpec, what: string): void {
  const values = typeof spec === 'number' ? [spec] : [spec.min, spec.max];
  for (const v of values) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${what} must be a number >= 0, got ${v}`);
  }
}
