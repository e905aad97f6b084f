#!/usr/bin/env node
/**
 * The files the CLI runs (`npm run build`, after tsc): the CLI and its two worker threads' entry points, each bundled
 * by esbuild into one CommonJS file beside the others in dist/cli/, third-party packages left external except
 * commander. The shape is about start-up, which every run pays (issue 7; `node -e 0` alone takes ~0.1 s here):
 * - one file: resolving and loading ~60 separate ES modules cost ~60 ms;
 * - commander inside it: every run parses its command line, and loading commander's six files from node_modules
 *   (resolved, read, compiled without a cache) took ~15 ms; bundled, it is read and code-cached with the rest. The
 *   other packages stay outside: they load on first use (cli-table3 for a table, date-fns for a duration, cap for a
 *   live capture). commander requires node:child_process as it loads, for executable subcommands (udptrack has
 *   none), and that module brings node:net and node:dgram, ~8 ms: in the bundle, commander gets a stand-in that
 *   loads the real module on first use (LAZY_CHILD_PROCESS);
 * - CommonJS: Node 20's ES module loader costs ~15 ms more than `require` for the same bundle, on the main thread
 *   and again in each worker;
 * - ASCII only: a single non-ASCII character makes V8 decode the whole source as UTF-8 and keep it as UTF-16
 *   (~8 ms for the CLI). esbuild escapes string literals but not regular expressions, tagged templates or comments;
 *   the rest is escaped here, which means the same in each of those places (`\uXXXX`, the cooked value of a template).
 * - a V8 code cache beside the CLI's bundle (`udptrack.cjs.v8cache`, read by bin/load-bundle.cjs): the bytecode of
 *   every function `analyze --format json` of a fixture compiles, made by running that command once here; ~25 ms
 *   of every run (compiling the bundle, then each function at its first call).
 * - constants as literals (minifySyntax): esbuild replaces a constant by its value where it is declared at the top of a
 *   module that imports nothing. The hot paths index typed arrays with such constants (a flow's record fields,
 *   flow/flow-layout.ts); left as variables of the bundle's module closures, each use is a load the optimizing
 *   compiler cannot fold (issue 7: 4.5 % of a 10M-packet run). INLINED_LAYOUTS lists those modules, and the build
 *   fails if any of their constants is still assigned in a bundle (someone gave the module an import).
 * The bundles keep their whitespace and comments, so a stack trace's line is readable in the bundle.
 */
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';

/** The packages bundled in (see above); every other dependency stays a `require` of node_modules. */
const BUNDLED_PACKAGES = ['commander'];
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const EXTERNAL = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })
  .filter((name) => !BUNDLED_PACKAGES.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

/** [entry compiled by tsc, bundle]. */
const BUNDLES = [
  ['dist/cli/main.js', 'dist/cli/udptrack.cjs'],
  ['dist/pipeline/simulate-worker.js', 'dist/cli/simulate-worker.cjs'],
  ['dist/pipeline/feed-worker.js', 'dist/cli/feed-worker.cjs'],
  // The bin runs this one first: it may start a worker while the CLI's bundle loads (cli/prestart.ts).
  ['dist/cli/prestart.js', 'dist/cli/prestart.cjs'],
];

/** What commander's `require('node:child_process')` gets in the bundle (see above). */
const LAZY_CHILD_PROCESS = `let real;
module.exports = new Proxy({}, { get: (_, name) => (real ??= require('node:child_process'))[name] });`;
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(plugin) {
    plugin.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'udptrack-lazy' } : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: 'udptrack-lazy' }, () => ({ contents: LAZY_CHILD_PROCESS, loader: 'js' }));
  },
};

for (const [entry, outfile] of BUNDLES) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: EXTERNAL,
    plugins: [lazyChildProcessForCommander],
    logLevel: 'warning',
    minifySyntax: true,
    // The sources find files beside themselves through import.meta.url (workers, the capture helper, createRequire);
    // in a CommonJS bundle that is the bundle's own URL.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  const text = readFileSync(outfile, 'utf8');
  writeFileSync(outfile, text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

// Every constant of these modules must have been replaced by its value in every bundle that uses it (see above).
const INLINED_LAYOUTS = ['dist/flow/flow-layout.js', 'dist/pipeline/ring-layout.js'];
for (const layout of INLINED_LAYOUTS) {
  const names = [...readFileSync(layout, 'utf8').matchAll(/^export const ([A-Z][A-Z0-9_]*) =/gm)].map((m) => m[1]);
  if (names.length === 0) throw new Error(`build-bundles: ${layout} exports no constants; is INLINED_LAYOUTS current?`);
  for (const [, outfile] of BUNDLES) {
    const text = readFileSync(outfile, 'utf8');
    const left = names.filter((name) => new RegExp(`\\b${name} = `).test(text));
    if (left.length > 0) {
      throw new Error(`build-bundles: ${outfile} keeps ${left.join(', ')} of ${layout} as variables; that module must import nothing`);
    }
  }
}

// The cache comes from a real run, in a process of its own (the bundle runs its command as it loads).
execFileSync(process.execPath, ['scripts/code-cache-run.cjs', 'dist/cli/udptrack.cjs', 'analyze', '--format', 'json', 'fixtures/pcap/openvpn-idle.pcap'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
