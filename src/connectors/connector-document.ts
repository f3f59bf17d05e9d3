import { ConfigError } from '../errors/smsc-error.ts';

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
  responseTimeoutMs?: number;
  enquireLinkMs?: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export const CONNECTOR_DEFAULTS = Object.freeze({ bind: 'transceiver', tps: 0, window: 10, long: 'udh8', enabled: true } as const);

/** Validates a connector definition; every problem is listed in one sentence. */
export function validateConnector(input: Partial<ConnectorDocument>): ConnectorDocument {
  const doc = { ...CONNECTOR_DEFAULTS, ...input } as ConnectorDocument;
  const problems: string[] = [];
  if (!doc.name || !/^[A-Za-z0-9_.-]{1,64}$/.test(doc.name)) problems.push('name must be 1-64 letters, digits, dots, dashes or underscores');
  if (!doc.host) problems.push('host is required');
  if (!Number.isInteger(doc.port) || doc.port < 1 || doc.port > 65535) problems.push('port must be 1..65535');
  if (!doc.systemId || doc.systemId.length > 15) problems.push('system id must be 1-15 characters');
  if (typeof doc.password !== 'string' || doc.password.length > 8) problems.push('password must be at most 8 characters (SMPP 3.4)');
  if (!(doc.bind in OutboundBindMode)) problems.push(`bind must be one of ${Object.keys(OutboundBindMode).join(', ')}`);
  if (!Number.isFinite(doc.tps) || doc.tps < 0) problems.push('tps must be 0 (unlimited) or more');
  if (!Number.isInteger(doc.window) || doc.window < 1 || doc.window > 1000) problems.push('window must be 1..1000');
  if (!(doc.long in LongForm)) problems.push(`long must be one of ${Object.keys(LongForm).join(', ')}`);
  if (problems.length > 0) throw new ConfigError(`Invalid connector: ${problems.join('; ')}.`);
  return doc;
}

/** Reconnect delays: 5, 10, 20, 40 s, then every 60 s; `scale` shrinks them for tests. */
export function reconnectDelayMs(failures: number, scale = 1): number {
  const steps = [5_000, 10_000, 20_000, 40_000];
  const base = failures < 1 ? steps[0] : (steps[failures - 1] ?? 60_000);
  return Math.max(1, Math.round(base * scale));
}
