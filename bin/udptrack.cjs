#!/usr/bin/env node
// The CLI as one bundled CommonJS file (npm run build: tsc, then scripts/build-bundles.mjs, which says why), compiled
// with the code cache the build made for it (load-bundle.cjs).
require('./load-bundle.cjs').loadBundle(require('node:path').join(__dirname, '..', 'dist', 'cli', 'udptrack.cjs'));
