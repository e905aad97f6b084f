#!/usr/bin/env node
/**
 * profile-top.mjs - summarize a V8 .cpuprofile (from `node --cpu-prof`) by function: self time and total
 * (inclusive) time, as milliseconds and percentages of all samples.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/udptrack.cjs analyze --format json --no-progress F > /dev/null
 *   node scripts/profile-top.mjs /tmp/prof/*.cpuprofile [--top 25] [--by function|file] [--json]
 *
 * Paths under the project are shown relative to it; node: internals and (garbage collector), (program), (idle)
 * are kept as V8 names them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let top = 25, by = 'function', json = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--by') by = args[++i];
  else if (args[i] === '--json') json = true;
  else files.push(args[i]);
}
if (!files.length) {
  process.stderr.write('usage: node scripts/profile-top.mjs PROFILE.cpuprofile [--top N] [--by function|file] [--json]\n');
  process.exit(2);
}

function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT + '/')) u = u.slice(ROOT.length + 1);
  return u;
}

const self = new Map(), total = new Map();
let allUs = 0;
for (const file of files) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const cf = n.callFrame;
    const url = shortUrl(cf.url);
    if (by === 'file') return url || cf.functionName || '(native)';
    const name = cf.functionName || '(anonymous)';
    return url ? `${name}  ${url}:${cf.lineNumber + 1}` : name;
  };
  const keyOf = new Map(p.nodes.map((n) => [n.id, key(n)]));
  const deltas = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the gap after a sample to it (as DevTools does)
    const us = i + 1 < deltas.length ? deltas[i + 1] : 0;
    if (us <= 0) continue;
    allUs += us;
    const id = p.samples[i];
    const k = keyOf.get(id);
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const kk = keyOf.get(n);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + us);
    }
  }
}

const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
  .map(([k, us]) => ({ fn: k, self_ms: us / 1000, self_pct: (100 * us) / allUs, total_pct: (100 * (total.get(k) ?? 0)) / allUs }));
const incl = [...total.entries()].filter(([k]) => !/^\((root|program|garbage collector|idle)\)/.test(k))
  .sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => ({ fn: k, total_ms: us / 1000, total_pct: (100 * us) / allUs }));

if (json) {
  process.stdout.write(JSON.stringify({ sampled_ms: allUs / 1000, self: rows, inclusive: incl }, null, 2) + '\n');
} else {
  let s = `${(allUs / 1000).toFixed(0)} ms sampled in ${files.length} profile(s)\n\nTop self time\n  self %  total %   self ms  function\n`;
  for (const r of rows) s += `  ${r.self_pct.toFixed(1).padStart(6)}  ${r.total_pct.toFixed(1).padStart(7)}  ${r.self_ms.toFixed(0).padStart(8)}  ${r.fn}\n`;
  s += `\nTop total (inclusive) time\n  total %  total ms  function\n`;
  for (const r of incl) s += `  ${r.total_pct.toFixed(1).padStart(7)}  ${r.total_ms.toFixed(0).padStart(8)}  ${r.fn}\n`;
  process.stdout.write(s);
}
