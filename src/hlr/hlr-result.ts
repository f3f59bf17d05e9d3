import type { SmsHlrField } from '../domain/sms-document.ts';

/** What an HLR said about a number, reduced to what the policy and routing need. */
export const HlrStatus = Object.freeze({
  /** The subscriber exists and is attached: a message would reach it now. */
  reachable: 'reachable',
  /** The number exists but the subscriber is absent (switched off, out of coverage, …). */
  unreachable: 'unreachable',
  /** No such subscriber (unallocated number, not a mobile number, …). */
  invalid: 'invalid',
} as const);
export type HlrStatusName = (typeof HlrStatus)[keyof typeof HlrStatus];

export interface HlrResult {
  status: HlrStatusName;
  /** The serving network as the provider names it (e.g. an MCCMNC), when it says. */
  network?: string;
  ported?: boolean;
}

/** A lookup as the policy sees it: an answer (fresh or cached) or why there is none. */
export type HlrLookup = { outcome: 'ok'; result: HlrResult; cached: boolean } | { outcome: 'timeout' | 'error'; error: string };

/** Stored on the `sms` document as `hlr` (see src/domain/sms-document.ts). */
export type { SmsHlrField };

export function hlrFieldOf(lookup: HlrLookup, at: Date): SmsHlrField {
  if (lookup.outcome !== 'ok') return { status: lookup.outcome, at };
  const field: SmsHlrField = { status: lookup.result.status, at, cached: lookup.cached };
  if (lookup.result.network !== undefined) field.network = lookup.result.network;
  if (lookup.result.ported !== undefined) field.ported = lookup.result.ported;
  return field;
}
