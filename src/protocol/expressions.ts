import type { Document } from 'mongodb';
import type { DbNow } from '../domain/clock.ts';

/**
 * Aggregation expressions the protocol's queries share. Lease ends and expiry are computed on
 * the database's clock (`$$NOW`), so hosts whose clocks disagree still agree on who holds what.
 */

/** `now + ms` on the database's clock (a Date). */
export function later(now: DbNow, ms: number): Document {
  return { $add: [now, ms] };
}

/**
 * A filter clause: the Date at `path` plus `graceMs` is not after now (the lease ran out and its
 * grace too). Written as field <= now - grace, the one form of `$expr` comparison MongoDB can
 * answer from an index (the field alone against a constant; `$$NOW` is folded into one).
 */
export function ranOut(path: string, graceMs: number, now: DbNow): Document {
  return { $expr: { $lte: [`$${path}`, { $subtract: [now, graceMs] }] } };
}

/** A string from our own configuration, kept from being read as a field path or operator. */
export function literal(value: string): Document {
  return { $literal: value };
}

/** The lock a claim or a batch puts on a message: owner, token, when, and a lease on the database's clock. */
export function lockExpression(owner: string, token: string, leaseMs: number, now: DbNow): Document {
  return { owner: literal(owner), token: literal(token), at: now, leaseUntil: later(now, leaseMs) };
}
