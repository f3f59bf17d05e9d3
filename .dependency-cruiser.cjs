// The layer rules, checked by `npm run lint:deps` (and in `.ci/run`). README "Code layout" says
// what the layers are; these rules keep the arrows pointing the right way (downwards).
// `npm run lint:deps` also runs scripts/check-folder-cycles.mjs: no two src/ folders may import
// each other through any path (dependency-cruiser's folder rules see only the leaf folders).
// Module cycles that exist today are listed in .dependency-cruiser-known-violations.json (made with
// `npm run lint:deps:baseline`) and ignored, so only a new cycle fails.

/**
 * The layers of src/, bottom first. A folder imports only folders of its own layer or below;
 * inside one layer, the folder-cycle check keeps the arrows one way.
 */
const LAYERS = [
  ['domain', ['domain']],
  ['foundation', ['logging', 'util', 'metrics', 'codec', 'config', 'smpp', 'throttle']],
  ['store', ['store']],
  ['records', ['protocol', 'accounts', 'hlr', 'nodes']],
  ['decisions', ['submission', 'receipts', 'routing', 'policy']],
  ['flows', ['delivery', 'inserter', 'connectors', 'esme-delivery', 'callbacks', 'mo', 'cleanup', 'cdr']],
  ['edges', ['api', 'ops', 'observability', 'tools', 'sink']],
  ['app', ['app']],
  ['cli', ['cli']],
];

const folders = (names) => `^src/(${names.join('|')})/`;

/** One rule per layer: nothing in it imports a folder of a higher layer (or a src/ folder no layer lists). */
const layerRules = LAYERS.map(([layer, own], index) => {
  const allowed = LAYERS.slice(0, index + 1).flatMap(([, names]) => names);
  return {
    name: `layer-${layer}`,
    comment: `src/ layer "${layer}" (${own.join(', ')}) imports only its own layer and the ones below: ${allowed.join(', ')}.`,
    severity: 'error',
    from: { path: folders(own) },
    to: { path: '^src/', pathNot: folders(allowed) },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'every-src-file-in-a-layer',
      comment: 'Every module of src/ sits in one of the LAYERS folders (a new folder gets a place in the list).',
      severity: 'error',
      from: { path: '^src/', pathNot: folders(LAYERS.flatMap(([, names]) => names)) },
      to: {},
    },
    {
      name: 'domain-imports-nothing',
      comment:
        'src/domain/ (the sms document, states and their SMPP message_state, errors with codes, the clock) imports nothing else from src/.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'store-imports-only-domain',
      comment:
        'src/store/ (client, collections and indexes, group commit) imports only the domain, plus the logger type and ' +
        'its config slice: no SMPP, no metrics (it is handed callbacks instead).',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(store|domain|logging|config)/' },
    },
    {
      name: 'metrics-registry-at-the-bottom',
      comment:
        'src/metrics/ is the registry and the metric definitions only: it imports nothing from src/ (servers and samplers are in src/observability/).',
      severity: 'error',
      from: { path: '^src/metrics/' },
      to: { path: '^src/', pathNot: '^src/metrics/' },
    },
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
      name: 'tests-through-public-modules',
      comment:
        "Tests (test/, test/support and fixtures included) import product code only through a folder's public module, " +
        'src/<folder>/index.ts, so a file can move inside its folder without touching the tests.',
      severity: 'error',
      from: { path: '^test/' },
      to: { path: '^src/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'no-own-public-module',
      comment:
        "A src/ module never imports its own folder's index.ts: the index imports the folder's modules, so that " +
        'would be an ESM cycle (bindings read before they are initialised at load).',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/$1/index\\.ts$' },
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
