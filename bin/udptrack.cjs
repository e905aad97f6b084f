#!/usr/bin/env node
// The CLI as one bundled CommonJS file (npm run build: tsc, then scripts/build-bundles.mjs, which says why), compiled
// with the code cache the build made for it (load-bundle.cjs). First, before it loads, the worker an analyze or a
// simulate of a big file will want is started (src/cli/prestart.ts), so the two start side by side.
const { join } = require('node:path');
const bundles = join(__dirname, '..', 'dist', 'cli');
require(join(bundles, 'prestart.cjs')).prestartForCommandLine(process.argv.slice(2));
require('./load-bundle.cjs').loadBundle(join(bundles, 'udptrack.cjs'));
