import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ConfigError } from '../domain/errors.ts';
import type { MessageIdForms } from '../receipts/remote-ids.ts';
import type { SmppClientTls } from '../smpp/client.ts';

/** How long messages leave over a connector. */
export const LongForm = Object.freeze({ sar: 'sar', udh8: 'udh8', udh16: 'udh16', payload: 'payload' } as const);
export type LongFormName = (typeof LongForm)[keyof typeof LongForm];

export const OutboundBindMode = Object.freeze({ transceiver: 'transceiver', transmitter: 'transmitter' } as const);
export type OutboundBindModeName = (typeof OutboundBindMode)[keyof typeof OutboundBindMode];

/** A `connectors` document: one outbound SMPP client session to a downstream SMSC. */
export interface ConnectorDocument {
  name: string;
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  bind: OutboundBindModeName;
  /** Submits per second across all worker replicas; 0 = unlimited. */
  tps: number;
  /** Outstanding submits at once on the session. */
  window: number;
  long: LongFormName;
  enabled: boolean;
  /** How long a submit waits for its response before it counts as a temporary failure. Default 10 s. */
  responseTimeoutMs?: number;
  /** enquire_link after this much silence (0 = never); the session is dropped after three times it. Default 30 s. */
  enquireLinkMs?: number;
  /** How the downstream writes message ids in submit_sm_resp and in receipts (see remote-ids.ts). */
  messageIdForm?: MessageIdForms;
  /** SMPP over TLS. */
  tls?: boolean;
  /** PEM of the CA(s) the downstream's certificate must chain to; absent = the system's trusted CAs. */
  tlsCa?: string;
  /** Client certificate and its private key (PEM), for downstreams that ask for one. */
  tlsCert?: string;
  tlsKey?: string;
  /** Do not verify the downstream's certificate (self-signed test peers): encrypted, not authenticated. */
  tlsInsecure?: boolean;
  /** The name the downstream's certificate must carry, when it differs from `host`. */
  tlsServername?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

export const CONNECTOR_DEFAULTS = Object.freeze({ bind: 'transceiver', tps: 0, window: 10, long: 'udh8', enabled: true } as const);

/** Validates a connector definition; every problem is listed in one sentence. */
export function validateConnector(input: Partial<ConnectorDocument>): ConnectorDocument {
  const doc = { ...CONNECTOR_DEFAULTS, ...input } as ConnectorDocument;
  const problems: string[] = [];
  if (!doc.name || !/^[A-Za-z0-9_.-]{1,64}$/.test(doc.name))
    problems.push('name must be 1-64 letters, digits, dots, dashes or underscores');
  if (!doc.host) problems.push('host is required');
  if (!Number.isInteger(doc.port) || doc.port < 1 || doc.port > 65535) problems.push('port must be 1..65535');
  if (!doc.systemId || doc.systemId.length > 15) problems.push('system id must be 1-15 characters');
  if (typeof doc.password !== 'string' || doc.password.length > 8) problems.push('password must be at most 8 characters (SMPP 3.4)');
  if (!(doc.bind in OutboundBindMode)) problems.push(`bind must be one of ${Object.keys(OutboundBindMode).join(', ')}`);
  if (!Number.isFinite(doc.tps) || doc.tps < 0) problems.push('tps must be 0 (unlimited) or more');
  if (!Number.isInteger(doc.window) || doc.window < 1 || doc.window > 1000) problems.push('window must be 1..1000');
  if (!(doc.long in LongForm)) problems.push(`long must be one of ${Object.keys(LongForm).join(', ')}`);
  if (doc.systemType !== undefined && (typeof doc.systemType !== 'string' || doc.systemType.length > 12))
    problems.push('system type must be at most 12 characters');
  if (
    doc.responseTimeoutMs !== undefined &&
    (!Number.isInteger(doc.responseTimeoutMs) || doc.responseTimeoutMs < 100 || doc.responseTimeoutMs > 300_000)
  ) {
    problems.push('response timeout must be 100..300000 ms');
  }
  if (
    doc.enquireLinkMs !== undefined &&
    (!Number.isInteger(doc.enquireLinkMs) || (doc.enquireLinkMs !== 0 && (doc.enquireLinkMs < 1000 || doc.enquireLinkMs > 3_600_000)))
  ) {
    problems.push('enquire-link interval must be 0 (never) or 1000..3600000 ms');
  }
  if (doc.messageIdForm !== undefined) problems.push(...messageIdFormProblems(doc.messageIdForm));
  problems.push(...tlsProblems(doc));
  if (problems.length > 0) throw new ConfigError(`Invalid connector: ${problems.join('; ')}.`);
  return doc;
}

const ID_FORMATS = ['string', 'hex', 'decimal'];

function messageIdFormProblems(forms: MessageIdForms): string[] {
  const problems: string[] = [];
  for (const side of ['submit', 'receipt'] as const) {
    const form = forms[side];
    if (form === undefined) continue;
    const format = typeof form === 'string' ? form : form?.format;
    if (!ID_FORMATS.includes(format)) problems.push(`message id form (${side}) must be one of ${ID_FORMATS.join(', ')}`);
    else if (typeof form === 'object' && format !== 'string' && (form.ignoreCase || form.stripLeadingZeros))
      problems.push(`message id form (${side}): ignore-case and strip-zeros apply to string ids only`);
  }
  return problems;
}

function tlsProblems(doc: ConnectorDocument): string[] {
  const problems: string[] = [];
  const settings = (['tlsCa', 'tlsCert', 'tlsKey', 'tlsInsecure', 'tlsServername'] as const).filter((k) => doc[k] !== undefined);
  if (!doc.tls) {
    if (settings.length > 0) problems.push(`${settings.join(', ')} need tls`);
    return problems;
  }
  if (doc.tlsCa !== undefined && !isCertificate(doc.tlsCa)) problems.push('the TLS CA must be a PEM certificate');
  if ((doc.tlsCert === undefined) !== (doc.tlsKey === undefined)) problems.push('a TLS client certificate and its key go together');
  if (doc.tlsCert !== undefined && !isCertificate(doc.tlsCert)) problems.push('the TLS client certificate must be a PEM certificate');
  if (doc.tlsKey !== undefined && !isPrivateKey(doc.tlsKey)) problems.push('the TLS client key must be a PEM private key (unencrypted)');
  if (doc.tlsServername !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(doc.tlsServername))
    problems.push('the TLS server name must be a host name');
  return problems;
}

function isCertificate(pem: string): boolean {
  try {
    return typeof pem === 'string' && new X509Certificate(pem) !== undefined;
  } catch {
    return false;
  }
}

function isPrivateKey(pem: string): boolean {
  try {
    return typeof pem === 'string' && createPrivateKey(pem) !== undefined;
  } catch {
    return false;
  }
}

/** A certificate as `connector list` shows it: subject, fingerprint and expiry, never the PEM. */
export function certificateSummary(pem: string): string {
  try {
    const cert = new X509Certificate(pem);
    return `${cert.subject.replaceAll('\n', ', ')} (sha256 ${cert.fingerprint256.slice(0, 23)}…, valid to ${new Date(cert.validTo).toISOString().slice(0, 10)})`;
  } catch {
    return 'unreadable certificate';
  }
}

/** Reconnect delays: 5, 10, 20, 40 s, then every 60 s; `scale` shrinks them for tests. */
export function reconnectDelayMs(failures: number, scale = 1): number {
  const steps = [5_000, 10_000, 20_000, 40_000];
  const base = failures < 1 ? steps[0] : (steps[failures - 1] ?? 60_000);
  return Math.max(1, Math.round(base * scale));
}

/** How `connectSmpp` opens this connector's TLS session; undefined for plain TCP. */
export function tlsOptionsOf(doc: ConnectorDocument): SmppClientTls | undefined {
  if (!doc.tls) return undefined;
  return {
    rejectUnauthorized: doc.tlsInsecure !== true,
    ...(doc.tlsCa !== undefined ? { ca: doc.tlsCa } : {}),
    ...(doc.tlsCert !== undefined ? { cert: doc.tlsCert, key: doc.tlsKey } : {}),
    ...(doc.tlsServername !== undefined ? { servername: doc.tlsServername } : {}),
  };
}
