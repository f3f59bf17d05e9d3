import { defineConfig } from 'vitest/config';

// The stand-in's own tests, run alone with `npm test -w @smsc/standin` (the root `npm test` runs them too).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
