// node scripts/code-cache-run.cjs BUNDLE ARGS...: run BUNDLE's command ARGS as the bin would, then write
// BUNDLE.v8cache (bin/load-bundle.cjs) with every function the run compiled. Called by scripts/build-bundles.mjs.
const { resolve } = require('node:path');

const bundle = resolve(process.argv[2]);
// The bundle reads its arguments from process.argv[2] on, as when the bin runs it.
process.argv.splice(1, 2, bundle);
require('../bin/load-bundle.cjs').loadBundle(bundle, { writeCache: true });
