#!/usr/bin/env node
/**
 * bench-ab.mjs - this checkout's build against another revision's, in alternating runs of one command. On a shared
 * machine whose speed drifts by 10-30 % from minute to minute (the benchmark VM), only runs taken in turns compare
 * two builds; separate `npm run bench` runs do not.
 *
 *   node scripts/bench-ab.mjs --base 8111e24 --runs 9 -- analyze --format json .bench-cache/udp-1000000p-....pcap
 *
 * Builds the base revision in a temporary directory (git archive, node_modules linked to this checkout's, npm run
 * build), builds this checkout (npm run build), then runs `node bin/udptrack.cjs ARGS` from each, A B A B ..., output
 * to /dev/null, and prints the median, min and max wall time, peak RSS and mean CPU of each, the ratio of the
 * medians, and the paired view: the median of each pair's ratio (wall and CPU) and how many pairs each build won.
 * The temporary directory is removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split < 0 ? argv : argv.slice(0, split);
const command = split < 0 ? [] : argv.slice(split + 1);
const option = (name, fallback) => {
  const at = own.indexOf(name);
  return at < 0 ? fallback : own[at + 1];
};
const base = option('--base', undefined);
const runs = Number(option('--runs', '9'));
if (base === undefined || command.length === 0 || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write('usage: node scripts/bench-ab.mjs --base REV [--runs N] -- UDPTRACK-ARGS...\n');
  process.exit(2);
}
if (!fs.existsSync('/usr/bin/time')) {
  process.stderr.write('bench-ab: needs GNU time at /usr/bin/time (apt-get install time)\n');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udptrack-ab-'));
try {
  process.stderr.write(`building ${base} in ${dir} and this checkout ...\n`);
  const archive = execFileSync('git', ['-C', ROOT, 'archive', base], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync('npm', ['run', '-s', 'build'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

  const builds = [
    { name: 'this checkout', bin: binIn(ROOT), wall: [], cpu: [], rssKb: [] },
    { name: base, bin: binIn(dir), wall: [], cpu: [], rssKb: [] },
  ];
  const timing = path.join(dir, 'time.txt');
  for (let i = 0; i < runs; i++) {
    // Alternate which build goes first, so neither always runs on a warmer (or cooler) machine.
    const order = i % 2 === 0 ? builds : [...builds].reverse();
    for (const build of order) {
      const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timing, process.execPath, build.bin, ...command], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      if (result.status !== 0) throw new Error(`${build.name}: exit ${result.status}`);
      const [wall, user, sys, rssKb] = fs.readFileSync(timing, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      build.wall.push(wall);
      build.cpu.push(user + sys);
      build.rssKb.push(rssKb);
    }
    process.stderr.write(`  run ${i + 1}/${runs}: ${builds.map((b) => `${b.wall.at(-1).toFixed(2)} s`).join(' vs ')}\n`);
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  for (const b of builds) {
    const mean = b.cpu.reduce((s, v) => s + v, 0) / b.cpu.length;
    process.stdout.write(
      `${b.name.padEnd(14)} median ${median(b.wall).toFixed(3)} s (min ${Math.min(...b.wall).toFixed(3)}, max ${Math.max(...b.wall).toFixed(3)}), ` +
        `CPU ${mean.toFixed(2)} s, peak RSS ${(Math.max(...b.rssKb) / 1024).toFixed(1)} MiB\n`,
    );
  }
  process.stdout.write(`ratio of medians (this / ${base}): ${(median(builds[0].wall) / median(builds[1].wall)).toFixed(3)}\n`);
  // Each pair ran back to back, so the machine's drift mostly cancels within a pair: the median of the pair ratios
  // and how many pairs each build won say more than the medians of two drifting series.
  const pairs = builds[0].wall.map((w, i) => w / builds[1].wall[i]);
  const wins = pairs.filter((r) => r < 1).length;
  const losses = pairs.filter((r) => r > 1).length;
  const cpuPairs = builds[0].cpu.map((c, i) => c / builds[1].cpu[i]);
  process.stdout.write(
    `paired: median wall ratio ${median(pairs).toFixed(3)} (${pairs.map((r) => r.toFixed(2)).join(' ')}), ` +
      `CPU ratio ${median(cpuPairs).toFixed(3)}; this build faster in ${wins} of ${runs} pairs, slower in ${losses}\n`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The bin of the tree at `root`: bin/udptrack.cjs, or bin/udptrack.js before the bundles became CommonJS. */
function binIn(root) {
  const cjs = path.join(root, 'bin', 'udptrack.cjs');
  return fs.existsSync(cjs) ? cjs : path.join(root, 'bin', 'udptrack.js');
}
