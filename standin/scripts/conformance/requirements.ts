import type { MongoClient } from 'mongodb';
import { match, MatchError } from './matcher.ts';

/** What the runner learned about the server once, used to evaluate every runOnRequirement. */
export interface ServerInfo {
  version: string;
  topology: 'single' | 'replicaset' | 'sharded' | 'load-balanced';
  serverless: boolean;
  auth: boolean;
  /** Fetches server parameters with getParameter (only when a requirement asks for them). */
  getParameters: (names: string[]) => Promise<Record<string, unknown>>;
}

export interface RunOnRequirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: 'require' | 'forbid' | 'allow';
  serverParameters?: Record<string, unknown>;
  auth?: boolean;
  authMechanism?: string;
  csfle?: unknown;
}

/** Version strings compared component by component; missing components count as 0, suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .split('-')[0]
      .split('.')
      .map((p) => Number.parseInt(p, 10) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Why a single requirement is not met, or undefined when it is. */
export async function unmetReason(req: RunOnRequirement, server: ServerInfo): Promise<string | undefined> {
  if (req.minServerVersion && compareVersions(server.version, req.minServerVersion) < 0) {
    return `server ${server.version} < minServerVersion ${req.minServerVersion}`;
  }
  if (req.maxServerVersion && compareVersions(server.version, req.maxServerVersion) > 0) {
    return `server ${server.version} > maxServerVersion ${req.maxServerVersion}`;
  }
  if (req.topologies && !req.topologies.includes(server.topology)) {
    return `topology ${server.topology} not in [${req.topologies.join(', ')}]`;
  }
  if (req.serverless === 'require' && !server.serverless) return 'requires serverless';
  if (req.serverless === 'forbid' && server.serverless) return 'forbids serverless';
  if (req.auth === true && !server.auth) return 'requires auth';
  if (req.auth === false && server.auth) return 'requires no auth';
  if (req.authMechanism) return `requires authMechanism ${req.authMechanism}`;
  if (req.csfle !== undefined && req.csfle !== false) return 'requires CSFLE';
  if (req.serverParameters) {
    const names = Object.keys(req.serverParameters);
    let actual: Record<string, unknown>;
    try {
      actual = await server.getParameters(names);
    } catch (error) {
      return `getParameter failed: ${(error as Error).message}`;
    }
    try {
      match(req.serverParameters, actual, true);
    } catch (error) {
      if (error instanceof MatchError) return `serverParameters ${error.message}`;
      throw error;
    }
  }
  return undefined;
}

/** Undefined when at least one requirement (or none given) is met; otherwise the reasons. */
export async function requirementsUnmet(reqs: RunOnRequirement[] | undefined, server: ServerInfo): Promise<string | undefined> {
  if (!reqs || reqs.length === 0) return undefined;
  const reasons: string[] = [];
  for (const req of reqs) {
    const reason = await unmetReason(req, server);
    if (reason === undefined) return undefined;
    reasons.push(reason);
  }
  return `runOnRequirements not met: ${reasons.join('; ')}`;
}

/** Reads version and topology through the internal client. */
export async function discoverServer(client: MongoClient, uri: string): Promise<ServerInfo> {
  const admin = client.db('admin');
  const buildInfo = await admin.command({ buildInfo: 1 });
  const hello = await admin.command({ hello: 1 }).catch(() => admin.command({ isMaster: 1 }));
  let topology: ServerInfo['topology'] = 'single';
  if (hello.msg === 'isdbgrid') topology = 'sharded';
  else if (hello.setName) topology = 'replicaset';
  else if (hello.serviceId) topology = 'load-balanced';
  const auth = /^mongodb(\+srv)?:\/\/[^/@]+@/.test(uri);
  return {
    version: String(buildInfo.version),
    topology,
    // Atlas Serverless is not something this runner is pointed at.
    serverless: false,
    auth,
    getParameters: async (names) => {
      const cmd: Record<string, unknown> = { getParameter: 1 };
      for (const n of names) cmd[n] = 1;
      return admin.command(cmd);
    },
  };
}
