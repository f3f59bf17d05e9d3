#!/usr/bin/env node
// The package's `bin`: runs the compiled CLI in dist/ (`npm run build`; `npm install` and
// `npm start` build it). Sources changed after the build are named on stderr, not silently run.
import { buildState } from './build.mjs';

const { state, newer } = buildState();
if (state === 'missing') {
  process.stderr.write('smsc: not built yet: run `npm run build` (npm install does it)\n');
  process.exitCode = 1;
} else {
  if (state === 'stale') process.stderr.write(`smsc: warning: ${newer} changed since the last build; run \`npm run build\` to run it\n`);
  const { main } = await import('../dist/src/cli/main.js');
  await main(process.argv.slice(2));
}
