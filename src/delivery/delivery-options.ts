import { ConfigError } from '../domain/errors.ts';

/** Tunables of the delivery protocol; every process of one deployment should agree on them. */
export interface DeliveryOptions {
  /** How long a claim (message or destination lock) stays valid without renewal. Default 30 s. */
  leaseMs: number;
  /** At most this many messages per destination per batch (the protocol's 4). */
  batchSize: number;
  /** First retry delay; doubles per attempt. Default 1 min. */
  backoffBaseMs: number;
  /** Retry delay cap. Default 1 h. */
  backoffMaxMs: number;
  /** After this many attempts a message is undeliverable. Default 30 (about a day at the 1 h cap). */
  maxAttempts: number;
  /** Entries kept in a message's `history`. */
  historyLimit: number;
  /**
   * How long after a lease ran out (on the database's clock) a destination or message may be
   * taken over. At least the tolerated clock offset (`maxClockOffsetMs`), for the few places that
   * still use host time. Default 2 s.
   */
  leaseGraceMs: number;
  /**
   * How long a destination waits when none of its message's connectors is bound here (no attempt
   * is counted), before it is tried again. Default 10 s.
   */
  unboundRetryMs: number;
}

export const DEFAULT_DELIVERY_OPTIONS: Readonly<DeliveryOptions> = Object.freeze({
  leaseMs: 30_000,
  batchSize: 4,
  backoffBaseMs: 60_000,
  backoffMaxMs: 3_600_000,
  maxAttempts: 30,
  historyLimit: 20,
  leaseGraceMs: 2000,
  unboundRetryMs: 10_000,
});

/** Fills defaults and rejects nonsense with every problem listed. */
export function resolveDeliveryOptions(partial: Partial<DeliveryOptions> = {}): Readonly<DeliveryOptions> {
  const options = { ...DEFAULT_DELIVERY_OPTIONS, ...stripUndefined(partial) };
  const problems: string[] = [];
  const positive = (name: keyof DeliveryOptions) => {
    if (!Number.isFinite(options[name]) || options[name] <= 0) problems.push(`${name} must be a positive number (got ${options[name]})`);
  };
  (['leaseMs', 'batchSize', 'backoffBaseMs', 'backoffMaxMs', 'maxAttempts', 'historyLimit', 'unboundRetryMs'] as const).forEach(positive);
  if (!Number.isFinite(options.leaseGraceMs) || options.leaseGraceMs < 0)
    problems.push(`leaseGraceMs must be 0 or more (got ${options.leaseGraceMs})`);
  if (options.backoffMaxMs < options.backoffBaseMs) problems.push('backoffMaxMs must not be below backoffBaseMs');
  if (problems.length > 0) throw new ConfigError(`Invalid delivery options: ${problems.join('; ')}.`);
  return Object.freeze(options);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Delay before attempt number `attempts + 1`, given `attempts` made so far (>= 1). */
export function backoffMs(attempts: number, options: Pick<DeliveryOptions, 'backoffBaseMs' | 'backoffMaxMs'>): number {
  const exponent = Math.max(0, attempts - 1);
  // 2^exponent overflows to Infinity long before it matters; the cap handles it.
  return Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.min(exponent, 40));
}
