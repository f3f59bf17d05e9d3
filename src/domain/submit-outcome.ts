import type { SmsDocument } from './sms-document.ts';

/** What happened to one submit to a downstream (or one deliver_sm to an ESME). */
export type SubmitOutcome =
  /** `otherRemoteIds`: further parts when one stored message left as several submits. */
  | { kind: 'accepted'; connector: string; remoteId: string; otherRemoteIds?: string[] }
  /** `acceptedParts`: remote ids of the parts the downstream took before a later part failed. */
  | { kind: 'temporary'; connector?: string; status?: number; error: string; acceptedParts?: string[] }
  | { kind: 'permanent'; connector?: string; status?: number; error: string; acceptedParts?: string[] }
  /** The target went away before this message was tried (an ESME unbound): not an attempt, back to the queue. */
  | { kind: 'unavailable'; error: string }
  /** Nothing this process could send it over (no connector of its route bound): not an attempt; the destination waits. */
  | { kind: 'waiting'; error: string };

export type SubmitOutcomeKind = SubmitOutcome['kind'];

/**
 * Why no session could be chosen: permanent (no route), temporary (an attempt, retried with
 * backoff), unavailable (not served here: back to the queue, no attempt), or waiting (none of its
 * route's connectors is bound: our side, not the message's, so no attempt either; the destination
 * waits `unboundRetryMs` and is tried again, in order).
 */
export type SelectFailure =
  | { kind: 'permanent'; connector?: string; status?: number; error: string }
  | { kind: 'temporary'; connector?: string; status?: number; error: string }
  | { kind: 'unavailable'; error: string }
  | { kind: 'waiting'; error: string };

/** What the delivery round gives a session for one message. */
export interface SubmitContext {
  /** Aborted when the batch must stop (shutdown, lease lost). */
  signal: AbortSignal;
  /** Parts an earlier attempt already delivered over this session's connector: send only the rest. */
  skipParts: number;
  /**
   * Called before each part goes on the wire with the longest the session may wait for its
   * answer; false = the lease is no longer safe for that: send nothing more (the rest is retried).
   */
  beforePart(responseTimeoutMs: number): Promise<number | false>;
  /** Called as each part's response arrives, so its correlation is stored at once. */
  onPartAccepted(remoteId: string): void;
}

/** One downstream session chosen for a batch: every message of the batch leaves over it. */
export interface OutboundSession {
  readonly connector: string;
  submit(sms: SmsDocument, context: SubmitContext): Promise<SubmitOutcome>;
}

/**
 * One kind of target for the delivery round (outbound connectors, bound ESMEs, …): chooses the
 * session for a destination's batch (routing, failover) or says why there is none.
 */
export interface Sender {
  /** What acceptance means: `submitted` (awaiting the downstream's receipt) or `delivered` (final: the target is the recipient). */
  readonly acceptedState: 'submitted' | 'delivered';
  /** Whether accepted remote ids are correlated for receipts (connectors: yes; ESMEs: no). */
  readonly correlates: boolean;
  select(first: SmsDocument, signal: AbortSignal): Promise<OutboundSession | SelectFailure>;
}

export function isSession(value: OutboundSession | SelectFailure): value is OutboundSession {
  return !('kind' in value);
}
