#!/usr/bin/env node
// The CLI as one bundled CommonJS file (npm run build: tsc, then scripts/build-bundles.mjs, which says why).
require('../dist/cli/udptrack.cjs');
