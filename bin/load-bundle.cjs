'use strict';
/**
 * Runs one of the CommonJS bundles of dist/cli/ (scripts/build-bundles.mjs) the way `require` would, but compiled
 * with the V8 code cache the build wrote beside it, `<bundle>.v8cache`: the bytecode of the functions a run uses is
 * read instead of compiled, ~15–20 ms of every run on the benchmark machine (issue 7). V8 rejects a cache made by
 * another Node or V8 build, or for other source, and then compiles as usual; a missing cache file is the same.
 * Node 20 has no compile cache of its own for `require` (module.enableCompileCache is Node 22).
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');

/** The bundle at `file` compiled (not run) as a CommonJS module's function, with `cachedData` if given. */
function compileBundle(file, cachedData) {
  const source = readFileSync(file, 'utf8');
  // The wrapper Node's CommonJS loader gives a module, on the source's first line so line numbers stay the bundle's.
  return new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
}

/**
 * Run the bundle at `file`; returns its exports. `writeCache`: compile without a cache and, when this process
 * exits, write the cache of every function compiled by then (the build runs a representative command this way).
 */
function loadBundle(file, options = {}) {
  let cachedData;
  if (options.writeCache !== true) {
    try {
      cachedData = readFileSync(`${file}.v8cache`);
    } catch {
      // No cache beside the bundle: compile.
    }
  }
  const script = compileBundle(file, cachedData);
  if (options.writeCache === true) process.once('exit', () => writeFileSync(`${file}.v8cache`, script.createCachedData()));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

module.exports = { compileBundle, loadBundle };
