import type { TestProject } from 'vitest/node';
import { build, buildState } from '../../bin/build.mjs';
import { startRedisForTests } from './redis-provider.ts';
import { startMongoForTests } from './mongo-provider.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    mongoKind: 'uri' | 'memory-server' | 'standin';
    redisUrl: string;
  }
}

/** Runs once per test run: picks a MongoDB and a Redis and hands their URIs to every test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Tests import the TypeScript sources, but every process they spawn (bin/smsc.mjs, the workers)
  // runs the compiled build, as in production: so the build must match the sources under test.
  const state = buildState();
  if (state.state !== 'fresh') {
    process.stdout.write(`[test harness] building dist/ (${state.state === 'stale' ? `${state.newer} changed` : 'no build yet'})\n`);
    build();
  }
  const mongo = await startMongoForTests();
  const redis = await startRedisForTests();
  process.stdout.write(`[test harness] MongoDB: ${mongo.description}\n`);
  process.stdout.write(`[test harness] Redis: ${redis.description}\n`);
  project.provide('mongoUri', mongo.uri);
  project.provide('mongoKind', mongo.kind);
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
    await mongo.stop();
  };
}
