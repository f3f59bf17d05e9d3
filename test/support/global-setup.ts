import type { TestProject } from 'vitest/node';
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
