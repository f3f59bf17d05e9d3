import { MongoClient, type ServerHeartbeatSucceededEvent } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnStandin, type StandinChild } from './spawn-standin.ts';
import { until } from './until.ts';

/**
 * The SDAM streaming protocol (awaitable hello with exhaust replies), as mongod 4.4+ speaks it:
 * a driver's monitor keeps a connection open and hears of a dead server when it closes, instead of
 * at its next poll (heartbeatFrequencyMS, 10 s by default). Health checks rely on that.
 */
describe('stand-in: streaming hello', () => {
  let server: StandinChild | undefined;
  let client: MongoClient | undefined;
  afterEach(async () => {
    await client?.close();
    server?.proc.kill('SIGKILL');
    await server?.exited;
  });

  it('streams awaited heartbeats, and the driver marks a killed server unknown at once', async () => {
    server = await spawnStandin(['--port', '0']);
    client = new MongoClient(server.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 2_000 });
    const beats: { awaited: boolean; at: number }[] = [];
    client.on('serverHeartbeatSucceeded', (event: ServerHeartbeatSucceededEvent) => beats.push({ awaited: event.awaited, at: Date.now() }));
    await client.connect();
    await client.db('t').collection('c').insertOne({ a: 1 });
    await until(() => beats.filter((b) => b.awaited).length >= 3, 10_000, 'three awaited heartbeats');
    // The awaited replies come at the pace of maxAwaitTimeMS (the heartbeat frequency), not at once.
    const awaited = beats.filter((b) => b.awaited);
    expect(awaited[2]!.at - awaited[1]!.at).toBeGreaterThanOrEqual(400);

    await client.close();
    // Now at the default frequency (10 s): only the stream can tell within a few seconds.
    client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 2_000 });
    const types: string[] = [];
    let awaitedStarted = false;
    client.on('topologyDescriptionChanged', (event) => types.push(...[...event.newDescription.servers.values()].map((s) => s.type)));
    client.on('serverHeartbeatStarted', (event) => (awaitedStarted ||= event.awaited));
    await client.connect();
    await until(() => types.includes('Standalone') && awaitedStarted, 5_000, 'standalone with an awaited hello');
    const killedAt = Date.now();
    server.proc.kill('SIGKILL');
    await server.exited;
    await until(() => types.at(-1) === 'Unknown', 5_000, 'server marked Unknown');
    expect(Date.now() - killedAt).toBeLessThan(5_000);
  });

  it('answers an awaitable hello for another topologyVersion at once', async () => {
    server = await spawnStandin(['--port', '0']);
    client = new MongoClient(server.uri);
    const admin = client.db('admin');
    const first = await admin.command({ hello: 1 });
    expect(first.topologyVersion?.processId).toBeDefined();
    const started = Date.now();
    const stale = await admin.command({
      hello: 1,
      topologyVersion: { processId: first.topologyVersion.processId, counter: first.topologyVersion.counter + 1 },
      maxAwaitTimeMS: 5_000,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stale.topologyVersion.processId.equals(first.topologyVersion.processId)).toBe(true);
    // The current one waits the given time (no exhaustAllowed on a plain command: a single reply).
    const waitStarted = Date.now();
    await admin.command({ hello: 1, topologyVersion: first.topologyVersion, maxAwaitTimeMS: 300 });
    expect(Date.now() - waitStarted).toBeGreaterThanOrEqual(280);
  });
});
