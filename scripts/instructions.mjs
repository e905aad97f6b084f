#!/usr/bin/env node
/**
 * instructions.mjs - count the instructions a udptrack command executes, by function, under valgrind's callgrind:
 * the one measure on this VM that does not drift (wall time moves 10-30 % from minute to minute; instruction counts
 * repeat within ~0.3 %). V8 runs with --single-threaded (compilation on the main thread, so the count is
 * deterministic and includes it) and --perf-basic-prof, whose map names the JIT code: each optimized function is
 * counted with everything the compiler inlined into it.
 *
 *   node scripts/instructions.mjs [--top 40] -- analyze --format json F.pcap
 *   node scripts/instructions.mjs --marginal SMALL.pcap -- analyze --format json BIG.pcap
 *
 * --marginal runs the command a second time with SMALL in place of the last argument and prints the difference per
 * function: the steady per-packet cost, without start-up and compilation. Counts ignore cache misses: confirm a
 * change in wall time with scripts/bench-ab.mjs before believing it (issue 7 has changes that saved instructions
 * and no time, and the reverse).
 *
 * Needs valgrind (apt-get install valgrind); a 1M-packet analyze takes about two minutes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dash = args.indexOf('--');
if (dash < 0 || dash === args.length - 1) {
  process.stderr.write('usage: node scripts/instructions.mjs [--top N] [--marginal SMALL_INPUT] -- udptrack-args...\n');
  process.exit(2);
}
const own = args.slice(0, dash);
const command = args.slice(dash + 1);
let top = 40;
let marginal;
for (let i = 0; i < own.length; i++) {
  if (own[i] === '--top') top = Number(own[++i]);
  else if (own[i] === '--marginal') marginal = own[++i];
}

/** Run the command under callgrind; returns instructions by function name. */
function measure(commandArgs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udptrack-cg-'));
  const out = path.join(dir, 'callgrind.out');
  const result = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--dump-instr=yes', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', '--perf-basic-prof', path.join(ROOT, 'bin/udptrack.cjs'), ...commandArgs],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.error !== undefined || !fs.existsSync(out)) {
    process.stderr.write(`valgrind failed: ${result.error?.message ?? result.stderr.split('\n').slice(-5).join('\n')}\n`);
    process.exit(2);
  }
  const map = path.join('/tmp', `perf-${readPid(out)}.map`);
  const costs = attribute(out, fs.existsSync(map) ? fs.readFileSync(map, 'utf8') : '');
  fs.rmSync(dir, { recursive: true, force: true });
  if (fs.existsSync(map)) fs.rmSync(map);
  return costs;
}

function readPid(file) {
  const head = fs.readFileSync(file, 'utf8').slice(0, 4096);
  return /^pid: (\d+)/m.exec(head)?.[1];
}

/** JIT code ranges from the perf map, later entries winning where the code space was reused. */
function codeRanges(mapText) {
  const entries = mapText
    .split('\n')
    .filter(Boolean)
    .map((line, order) => {
      const [start, size, ...name] = line.split(' ');
      const from = parseInt(start, 16);
      return { from, to: from + parseInt(size, 16), order, name: name.join(' ').replace(/ file:\/\/\S+/, '') };
    })
    .sort((a, b) => a.from - b.from);
  return (address) => {
    let best;
    // Binary search for the last range starting at or before the address, then look back over overlaps.
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].from <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    for (let i = hi; i >= 0 && i > hi - 64; i--) {
      const e = entries[i];
      if (address < e.to && (best === undefined || e.order > best.order)) best = e;
    }
    return best?.name;
  };
}

/** Self instructions per function from a callgrind file written with --dump-instr=yes. */
function attribute(file, mapText) {
  const lookup = codeRanges(mapText);
  const names = new Map();
  const objects = new Map();
  const costs = new Map();
  let fn = '?';
  let ob = '?';
  let last = 0;
  let afterCall = false;
  const name = (table, line, prefix) => {
    const m = new RegExp(`^${prefix}=\\((\\d+)\\)(?: (.*))?`).exec(line);
    if (m === null) return undefined;
    if (m[2] !== undefined) table.set(m[1], m[2]);
    return table.get(m[1]);
  };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = name(names, line, 'fn') ?? '?';
    else if (line.startsWith('ob=')) ob = name(objects, line, 'ob') ?? '?';
    else if (line.startsWith('cfn=')) name(names, line, 'cfn');
    else if (line.startsWith('cob=')) name(objects, line, 'cob');
    else if (line.startsWith('calls=')) afterCall = true;
    else if (/^[0-9+*-]/.test(line)) {
      const parts = line.split(' ');
      const at = parts[0];
      last = at.startsWith('0x') ? parseInt(at, 16) : at[0] === '+' ? last + Number(at.slice(1)) : at[0] === '-' ? last - Number(at.slice(1)) : last;
      if (afterCall) {
        afterCall = false; // a call's inclusive cost: counted where it is spent
        continue;
      }
      if (parts.length < 3) continue;
      const key = lookup(last) ?? `${path.basename(ob)}:${fn}`;
      costs.set(key, (costs.get(key) ?? 0) + Number(parts[2]));
    }
  }
  return costs;
}

function print(costs, label) {
  const total = [...costs.values()].reduce((a, b) => a + b, 0);
  console.log(`${label}: ${(total / 1e6).toFixed(0)}M instructions`);
  for (const [key, value] of [...costs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(value / 1e6).toFixed(1).padStart(9)}M ${((100 * value) / total).toFixed(1).padStart(5)}%  ${key.slice(0, 110)}`);
  }
}

const big = measure(command);
if (marginal === undefined) {
  print(big, command.join(' '));
} else {
  const small = measure([...command.slice(0, -1), marginal]);
  const difference = new Map();
  for (const key of new Set([...big.keys(), ...small.keys()])) difference.set(key, (big.get(key) ?? 0) - (small.get(key) ?? 0));
  print(difference, `${command.at(-1)} minus ${marginal}`);
}
