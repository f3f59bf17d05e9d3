// The layer rules, checked by `npm run lint:deps` (and in `.ci/run`). README "Code layout" says
// what the layers are; these rules keep the arrows pointing the right way.
// Cycles that exist today are listed in .dependency-cruiser-known-violations.json (made with
// `npm run lint:deps:baseline`) and ignored, so only a new cycle fails.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-app-outside-entry-points',
      comment:
        'src/app/ wires processes; only the CLI, the thin workers/ entries, tests and scripts start them. ' +
        'A library (or the stand-in) that imports app/ climbs back up the layers.',
      severity: 'error',
      from: { pathNot: '^(src/app|src/cli|workers|test|scripts)/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'protocol-depends-on-store-and-domain',
      comment:
        'src/protocol/ (the state-changing queries of the message lifecycle) depends only on the store, ' +
        'the domain (sms document, states, errors, clock) and packages.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: ['^src/protocol/', '^src/store/', '^src/domain/', 'node_modules'],
      },
    },
    {
      name: 'product-not-on-standin-or-tests',
      comment: 'Product code relies on documented MongoDB behaviour, never on the stand-in, and never on test code.',
      severity: 'error',
      from: { path: '^(src|workers)/' },
      to: { path: '^(standin|test)/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles. The cycles that exist today are in the known-violations baseline.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|data|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
  },
};
