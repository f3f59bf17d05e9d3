import { OpsError, OpsErrorCode } from '../ops/errors.ts';

export interface HttpSubmitRequest {
  /** The API's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  systemId: string;
  password: string;
  from: string;
  to: string;
  text: string;
  /** Ask for a delivery receipt and wait until every part is final. */
  dlr: boolean;
  timeoutMs: number;
  /** How often to look at the message while waiting (default 500 ms). */
  pollMs?: number;
}

/** What each part came to once final: DELIVRD, UNDELIV, EXPIRED, REJECTD or DELETED (as in a receipt). */
export interface HttpPartOutcome {
  messageId: string;
  state: string;
  stat: string;
  finalAt: string | null;
}

export interface HttpSubmitResult {
  messageIds: string[];
  parts: number;
  outcomes: HttpPartOutcome[];
}

/** The receipt `stat:` word for each final state. */
const STAT_OF: Readonly<Record<string, string>> = Object.freeze({
  delivered: 'DELIVRD',
  undeliverable: 'UNDELIV',
  expired: 'EXPIRED',
  rejected: 'REJECTD',
  cancelled: 'DELETED',
});

/**
 * `smsc submit --http`: one POST to /api/v1/messages as the account (HTTP Basic); with `dlr`,
 * registered delivery is asked for and each part is read back until it is final.
 */
export async function submitOverHttp(request: HttpSubmitRequest): Promise<HttpSubmitResult> {
  const base = request.url.replace(/\/+$/, '');
  const deadline = Date.now() + request.timeoutMs;
  const authorization = `Basic ${Buffer.from(`${request.systemId}:${request.password}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      });
    } catch (error) {
      throw new OpsError(OpsErrorCode.submitFailed, `Cannot reach the API at ${base} (${(error as Error).message}).`);
    }
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new OpsError(
        OpsErrorCode.submitFailed,
        `${base} answered ${response.status} with something that is not JSON; is it the smsc API?`,
      );
    }
    return { status: response.status, json };
  };

  const posted = await call('POST', '/api/v1/messages', {
    to: request.to,
    from: request.from,
    text: request.text,
    registeredDelivery: request.dlr ? 1 : 0,
  });
  if (posted.status !== 201) {
    const error = posted.json?.error;
    const status = error?.smppStatusName ? ` (${error.smppStatusName})` : '';
    throw new OpsError(
      OpsErrorCode.submitFailed,
      `The API refused the message: HTTP ${posted.status} ${error?.code ?? ''}${status}: ${error?.message ?? 'no reason given'}.`,
    );
  }
  const messageIds: string[] = posted.json.messageIds;
  const result: HttpSubmitResult = { messageIds, parts: posted.json.parts, outcomes: [] };
  if (!request.dlr) return result;

  const pending = new Set(messageIds);
  while (pending.size > 0) {
    for (const messageId of [...pending]) {
      const got = await call('GET', `/api/v1/messages/${messageId}`);
      if (got.status !== 200)
        throw new OpsError(
          OpsErrorCode.submitFailed,
          `Reading ${messageId} back failed: HTTP ${got.status} ${got.json?.error?.message ?? ''}.`,
        );
      const stat = STAT_OF[got.json.state];
      if (stat) {
        pending.delete(messageId);
        result.outcomes.push({ messageId, state: got.json.state, stat, finalAt: got.json.finalAt ?? null });
      }
    }
    if (pending.size === 0) break;
    if (Date.now() + (request.pollMs ?? 500) > deadline) {
      throw new OpsError(
        OpsErrorCode.receiptTimeout,
        `No final outcome within ${Math.round(request.timeoutMs / 1000)} s for ${[...pending].join(', ')} (still in progress; see smsc message <id>).`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, request.pollMs ?? 500));
  }
  result.outcomes.sort((a, b) => messageIds.indexOf(a.messageId) - messageIds.indexOf(b.messageId));
  return result;
}
