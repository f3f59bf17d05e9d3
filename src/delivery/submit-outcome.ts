import type { SmsDocument } from '../store/sms-document.ts';

/** What happened to one submit to a downstream. */
export type SubmitOutcome =
  /** `otherRemoteIds`: further parts when one stored message left as several submits. */
  | { kind: 'accepted'; connector: string; remoteId: string; otherRemoteIds?: string[] }
  | { kind: 'temporary'; connector?: string; status?: number; error: string }
  | { kind: 'permanent'; connector?: string; status?: number; error: string };

export type SubmitOutcomeKind = SubmitOutcome['kind'];

/** One downstream session chosen for a batch: every message of the batch leaves over it. */
export interface OutboundSession {
  readonly connector: string;
  submit(sms: SmsDocument, signal: AbortSignal): Promise<SubmitOutcome>;
}

/**
 * Chooses the session for a destination's batch (routing, failover). Returns an outcome instead
 * when nothing can carry it (no route: permanent; no bound connector: temporary).
 */
export interface Sender {
  select(first: SmsDocument, signal: AbortSignal): Promise<OutboundSession | Exclude<SubmitOutcome, { kind: 'accepted' }>>;
}

export function isOutcome(value: OutboundSession | SubmitOutcome): value is SubmitOutcome {
  return 'kind' in value;
}
