#!/usr/bin/env node
// The CLI as one bundled module (npm run build: tsc, then esbuild over dist/cli/main.js): loading ~60 separate ES
// modules cost ~60 ms of every run's start-up (issue 7).
import '../dist/cli/udptrack.mjs';
