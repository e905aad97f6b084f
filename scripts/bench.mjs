#!/usr/bin/env node
/**
 * bench.mjs - the benchmark of record for udptrack (`npm run bench`, which builds first).
 *
 * Generates its workloads with scripts/gen-workload.mjs (cached in .bench-cache/ by arguments and generator
 * version), then runs udptrack and the peer tools that are installed side by side: every run of every tool is a
 * separate process, measured for wall time (from spawn to exit, Node start-up included) and peak RSS (GNU time's
 * %M, i.e. ru_maxrss of the process or, for a shell pipeline, of its largest process). Runs alternate: run r starts
 * with tool r mod k, so no tool always runs first or last. Prints medians, min-max spread, ratios to tcpdump and
 * softflowd, and the issue's targets as PASS/FAIL (with each ratio also taken within every round: the machine's speed
 * drifts between rounds).
 *
 *   npm run bench                          1M packets / 25k flows, 5 runs
 *   npm run bench -- --big --alive         + 10M packets / 250k flows, + 500k flows over 600 s (rfc4787)
 *   npm run bench -- --runs 9 --json       more runs; machine-readable JSON on stdout (table on stderr)
 *
 * Options: --runs N (5), --big-runs N (min(runs, 3); 10M workload), --big, --alive, --alive-flows N (500000),
 * --only a,b (tool ids or substrings), --no-peers, --timeout S (per run, 900), --json, --keep-going,
 * --cache DIR (.bench-cache).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWorkload, GENERATOR_VERSION } from './gen-workload.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UDPTRACK = path.join(ROOT, 'bin', 'udptrack.cjs');
const FLOOR = path.join(ROOT, 'scripts', 'bench-floor.mjs');
const TEN_PROFILES = ['pf', 'linux', 'linux-4', 'openwrt', 'nft', 'windows', 'asa', 'srx', 'rfc4787', 'zeek'];

// ---------------------------------------------------------------------------------------------------- options
function parseArgs(argv) {
  const o = { runs: 5, bigRuns: undefined, big: false, alive: false, aliveFlows: 500000, only: null, peers: true,
    timeout: 900, json: false, cache: path.join(ROOT, '.bench-cache') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    const num = () => { const v = Number(val()); if (!Number.isFinite(v) || v <= 0) die(`${k} needs a positive number`); return v; };
    switch (k) {
      case '--runs': o.runs = Math.trunc(num()); break;
      case '--big-runs': o.bigRuns = Math.trunc(num()); break;
      case '--big': o.big = true; break;
      case '--alive': o.alive = true; break;
      case '--alive-flows': o.aliveFlows = Math.trunc(num()); break;
      case '--only': o.only = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--no-peers': o.peers = false; break;
      case '--timeout': o.timeout = num(); break;
      case '--json': o.json = true; break;
      case '--cache': o.cache = path.resolve(val()); break;
      case '-h': case '--help':
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^#!.*\n\/\*\*\n?/, '').replace(/^ \* ?/gm, ''));
        process.exit(0);
        break;
      default: die(`unknown argument ${k} (see --help)`);
    }
  }
  if (o.bigRuns === undefined) o.bigRuns = Math.min(o.runs, 3);
  return o;
}
function die(msg) { process.stderr.write(`bench: ${msg}\n`); process.exit(2); }

const opts = parseArgs(process.argv.slice(2));
const log = (s) => process.stderr.write(s);
const out = opts.json ? log : (s) => process.stdout.write(s);

// ---------------------------------------------------------------------------------------------------- tools
function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
function version(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout || ''}\n${r.stderr || ''}`;
  const m = re.exec(text);
  return m ? m[1] : '?';
}
const TIME = which('time') && fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
if (!TIME) die('GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time');

const have = {
  tcpdump: which('tcpdump'), softflowd: which('softflowd'), nfpcapd: which('nfpcapd'), argus: which('argus'), tshark: which('tshark'),
};
const versions = {
  node: process.version,
  tcpdump: have.tcpdump ? version('tcpdump', ['--version'], /tcpdump version (\S+)/) : null,
  softflowd: have.softflowd ? version('softflowd', ['-h'], /softflowd version (\d[\d.]*\d)/) : null,
  nfpcapd: have.nfpcapd ? version('nfdump', ['-V'], /Version:\s*\S*?(\d[\d.]*\d)/) : null,
  argus: have.argus ? version('argus', ['-h'], /Argus Version (\S+)/) : null,
  tshark: have.tshark ? version('tshark', ['--version'], /TShark \(Wireshark\) (\S+)/) : null,
};

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'udptrack-bench-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

/**
 * A tool: id, label (what the table shows), cmd(F) => { argv, stdinFile?, shell? }, peer (not udptrack),
 * cleanup (after each run), scope (which workloads).
 */
const node = process.execPath;
const ua = (...args) => [node, UDPTRACK, ...args];
function toolsFor(w) {
  const prof = w.profile ? ['--profile', w.profile] : [];
  const profLabel = w.profile ? ` --profile ${w.profile}` : '';
  const t = [];
  if (have.tcpdump) t.push({ id: 'tcpdump', label: 'tcpdump -r F -w /dev/null', peer: true, cmd: (F) => ({ argv: ['tcpdump', '-r', F, '-w', '/dev/null'] }) });
  t.push({ id: 'analyze', label: `udptrack analyze --format json${profLabel} F`, cmd: (F) => ({ argv: ua('analyze', '--format', 'json', '--no-progress', ...prof, F) }) });
  // One thread, for comparison: analyze takes a second thread by itself on inputs of 128 MiB or more (all three workloads).
  t.push({ id: 'analyze-one-thread', label: `udptrack analyze --format json --threads 1${profLabel} F`, cmd: (F) => ({ argv: ua('analyze', '--format', 'json', '--threads', '1', '--no-progress', ...prof, F) }) });
  if (w.full) {
    t.push({ id: 'analyze-stdin', label: `udptrack analyze --format json${profLabel} - < F`, cmd: (F) => ({ argv: ua('analyze', '--format', 'json', '--no-progress', ...prof, '-'), stdinFile: F }) });
    t.push({ id: 'analyze-cat', label: `cat F | udptrack analyze --format json${profLabel} -`, cmd: (F) => ({ argv: ['sh', '-c', `cat "$1" | "$2" "$3" analyze --format json --no-progress ${prof.join(' ')} -`, 'sh', F, node, UDPTRACK] }) });
    t.push({ id: 'simulate-10', label: 'udptrack simulate --format json (10 --profile)', cmd: (F) => ({ argv: ua('simulate', '--format', 'json', '--no-progress', ...TEN_PROFILES.flatMap((p) => ['--profile', p]), F) }) });
    t.push({ id: 'simulate-all', label: 'udptrack simulate --all --format json (13)', cmd: (F) => ({ argv: ua('simulate', '--all', '--format', 'json', '--no-progress', F) }) });
  }
  if (opts.peers) {
    if (have.softflowd) {
      t.push({ id: 'softflowd', label: 'softflowd -r F -t udp=60 -d -n 127.0.0.1:9', peer: true,
        // No -p/-c: -r already runs in the foreground without a pid file or control socket. A -c after -r
        // re-enables the socket, and softflowd 1.1.0's file-mode loop then tests an uninitialised pollfd and can
        // block in accept() forever. -n 127.0.0.1:9 (discard) is required; the export is a few hundred datagrams.
        cmd: (F) => ({ argv: ['softflowd', '-r', F, '-t', 'udp=60', '-d', '-n', '127.0.0.1:9'] }) });
    }
    if (have.nfpcapd) {
      const dir = path.join(TMP, 'nfpcapd');
      t.push({ id: 'nfpcapd', label: 'nfpcapd -r F -w DIR', peer: true,
        cmd: (F) => { fs.rmSync(dir, { recursive: true, force: true }); fs.mkdirSync(dir); return { argv: ['nfpcapd', '-r', F, '-w', dir] }; },
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) });
    }
    if (have.argus) {
      const f = path.join(TMP, 'argus.out');
      t.push({ id: 'argus', label: 'argus -r F -w FILE', peer: true, cmd: (F) => ({ argv: ['argus', '-r', F, '-w', f] }), cleanup: () => fs.rmSync(f, { force: true }) });
    }
    // The floor: a bare Node reader and flow table, no firewall model and no output (scripts/bench-floor.mjs).
    t.push({ id: 'node-floor', label: 'node scripts/bench-floor.mjs F (no output)', peer: true, cmd: (F) => ({ argv: [node, FLOOR, F] }) });
    if (have.tshark && !w.big) {
      t.push({ id: 'tshark', label: 'tshark -q -z conv,udp -r F', peer: true, cmd: (F) => ({ argv: ['tshark', '-q', '-z', 'conv,udp', '-r', F] }) });
    }
  }
  if (opts.only) return t.filter((x) => x.id === 'tcpdump' || opts.only.some((s) => x.id === s || x.id.includes(s)));
  return t;
}

// ---------------------------------------------------------------------------------------------------- running
const devnull = fs.openSync('/dev/null', 'w');

/** One run: wall seconds (hrtime, spawn to exit), peak RSS KiB and CPU seconds (GNU time), exit status. */
function runOnce(tool, F) {
  const c = tool.cmd(F);
  const timeFile = path.join(TMP, 'time.out');
  fs.rmSync(timeFile, { force: true });
  const stdin = c.stdinFile ? fs.openSync(c.stdinFile, 'r') : 'ignore';
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', '%e %M %U %S %x', '-o', timeFile, ...c.argv], {
      stdio: [stdin, devnull, 'pipe'], detached: true, cwd: TMP,
    });
    let stderr = '';
    child.stderr.on('data', (d) => { if (stderr.length < 65536) stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, opts.timeout * 1000);
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      if (typeof stdin === 'number') fs.closeSync(stdin);
      tool.cleanup?.();
      let rssKiB = null, cpu = null, status = code;
      try {
        const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
        const [e, m, u, s, x] = lines[lines.length - 1].split(' ');
        rssKiB = Number(m); cpu = Number(u) + Number(s); status = Number(x);
        void e;
      } catch { /* killed before time wrote */ }
      const ok = !timedOut && status === 0 && code === 0;
      const err = timedOut ? `timed out after ${opts.timeout} s` : ok ? null :
        `exit ${status ?? signal}: ${lastLines(stderr)}`;
      resolve({ wall, rssKiB, cpu, ok, err });
    });
  });
}
function lastLines(s) {
  const lines = s.trim().split('\n').filter((l) => !/^\s*at /.test(l) && l.trim() && !/^Command exited/.test(l));
  const hit = lines.find((l) => /Error|error/.test(l));
  return (hit || lines[lines.length - 1] || '').trim().slice(0, 160);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };

async function benchWorkload(w) {
  const { file, summary, cached } = ensureWorkload(w.gen, opts.cache, log);
  const size = fs.statSync(file).size;
  const tools = toolsFor(w);
  const runs = w.big ? opts.bigRuns : opts.runs;
  log(`\n== ${w.name}: ${fmtInt(summary.packets)} packets, ${fmtInt(summary.flows)} flows, ${(size / 1e6).toFixed(1)} MB ` +
    `(${cached ? 'cached' : 'generated'} ${path.relative(ROOT, file)}); ${tools.length} tools x ${runs} runs\n`);
  // warm the page cache: read the file once
  spawnSync('cat', [file], { stdio: ['ignore', devnull, 'ignore'] });
  const res = new Map(tools.map((t) => [t.id, { tool: t, runs: [], failed: null }]));
  for (let r = 0; r < runs; r++) {
    const k = tools.length;
    const order = tools.slice(r % k).concat(tools.slice(0, r % k));
    for (const t of order) {
      const rec = res.get(t.id);
      if (rec.failed) continue;
      const x = { ...(await runOnce(t, file)), round: r };
      log(`  run ${r + 1}/${runs} ${t.id.padEnd(14)} ${x.wall.toFixed(3)} s ${x.rssKiB != null ? (x.rssKiB / 1024).toFixed(1) + ' MiB' : ''}${x.ok ? '' : '  FAILED ' + x.err}\n`);
      rec.runs.push(x);
      if (!x.ok) rec.failed = x.err; // a tool that fails is not run again on this workload
    }
  }
  const rows = [];
  for (const { tool, runs: rs, failed } of res.values()) {
    const walls = rs.map((x) => x.wall), rss = rs.filter((x) => x.rssKiB != null).map((x) => x.rssKiB / 1024);
    rows.push({
      id: tool.id, label: tool.label, peer: !!tool.peer, runs: rs.length, ok: !failed, error: failed,
      wall_s: { median: median(walls), min: Math.min(...walls), max: Math.max(...walls) },
      rss_mib: { median: median(rss), max: Math.max(...rss) },
      cpu_s: { median: median(rs.map((x) => x.cpu ?? NaN)) },
      // Each round's wall time (null where the tool did not run), for ratios taken within a round (targets).
      wall_by_round: Array.from({ length: runs }, (_, r) => rs.find((x) => x.round === r)?.wall ?? null),
    });
  }
  const ref = (id) => rows.find((x) => x.id === id && x.ok);
  for (const row of rows) {
    for (const base of ['tcpdump', 'softflowd']) {
      const b = ref(base);
      row[`x_${base}`] = b && row.ok ? row.wall_s.median / b.wall_s.median : null;
    }
  }
  return { name: w.name, title: w.title, file: path.relative(ROOT, file), bytes: size, summary, runs, rows };
}

// ---------------------------------------------------------------------------------------------------- output
const fmtInt = (n) => n.toLocaleString('en-US');
const f3 = (x) => (x == null || !Number.isFinite(x) ? '-' : x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1));
const fx = (x) => (x == null || !Number.isFinite(x) ? '-' : `${x < 10 ? x.toFixed(2) : x.toFixed(1)}x`);
const fm = (x) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(1));

function table(wr) {
  const head = ['tool', 'median s', 'min-max s', 'x tcpdump', 'x softflowd', 'peak RSS MiB', 'CPU s', 'runs'];
  const body = wr.rows.map((r) => [
    r.label + (r.ok ? '' : '  [FAILED]'),
    f3(r.wall_s.median), `${f3(r.wall_s.min)}-${f3(r.wall_s.max)}`, fx(r.x_tcpdump), fx(r.x_softflowd), fm(r.rss_mib.max), f3(r.cpu_s.median), String(r.runs),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') + '\n';
  let s = `\n${wr.title}\n  ${fmtInt(wr.summary.packets)} packets, ${fmtInt(wr.summary.flows)} flows, ${(wr.bytes / 1e6).toFixed(1)} MB, ` +
    `${(wr.summary.duration_s / 3600).toFixed(2)} h of traffic, peak ${fmtInt(wr.summary.peak_alive?.idle_300s ?? 0)} flows alive under a 300 s idle timeout; ${wr.file}\n`;
  s += line(head) + line(widths.map((n) => '-'.repeat(n)));
  for (const b of body) s += line(b);
  for (const r of wr.rows) if (!r.ok) s += `  ${r.id}: ${r.error}\n`;
  return s;
}

/** The median, least and greatest of row a's wall time over row b's, round by round (rounds both ran). */
function pairedRatio(a, b) {
  const ratios = [];
  for (let r = 0; r < Math.min(a.wall_by_round.length, b.wall_by_round.length); r++) {
    if (a.wall_by_round[r] != null && b.wall_by_round[r] != null) ratios.push(a.wall_by_round[r] / b.wall_by_round[r]);
  }
  return ratios.length === 0 ? null : { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), rounds: ratios.length };
}

function targets(results) {
  const W = (name) => results.find((w) => w.name === name);
  const R = (name, id) => W(name)?.rows.find((r) => r.id === id);
  const t = [];
  const ratio = (desc, a, b, limit, what = 'wall') => {
    let status = 'SKIP', value = null, detail = '';
    if (!a || !b) detail = 'not measured in this run';
    else if (!a.ok) {
      status = 'FAIL';
      if (what === 'rss' && b.ok) value = a.rss_mib.max / b.rss_mib.max;
      detail = `${a.id} failed after ${f3(a.wall_s.max)} s at ${fm(a.rss_mib.max)} MiB: ${a.error}`;
    }
    else if (!b.ok) detail = `${b.id} failed: ${b.error}`;
    else {
      const av = what === 'wall' ? a.wall_s.median : a.rss_mib.max, bv = what === 'wall' ? b.wall_s.median : b.rss_mib.max;
      value = av / bv;
      status = value <= limit ? 'PASS' : 'FAIL';
      detail = what === 'wall' ? `${f3(av)} s / ${f3(bv)} s` : `${fm(av)} MiB / ${fm(bv)} MiB`;
      // The machine's speed drifts between rounds (10-35 % on the benchmark VM): the ratio within each round, where
      // the two ran minutes apart at most, says whether a verdict rests on a drift. Shown, not judged.
      const paired = what === 'wall' ? pairedRatio(a, b) : null;
      if (paired !== null) detail += `; within rounds ${fx(paired.median)} (${fx(paired.min)}-${fx(paired.max)}, ${paired.rounds} rounds)`;
    }
    t.push({ target: desc, limit, value, status, detail });
  };
  ratio('1M: analyze <= 1.5x tcpdump -r -w (wall, Node start-up included)', R('1m', 'analyze'), R('1m', 'tcpdump'), 1.5);
  ratio('1M: analyze <= 0.7x softflowd', R('1m', 'analyze'), R('1m', 'softflowd'), 0.7);
  ratio('1M: stdin (< F) <= 1.2x reading the file', R('1m', 'analyze-stdin'), R('1m', 'analyze'), 1.2);
  ratio('1M: simulate with ten profiles <= 3x analyze', R('1m', 'simulate-10'), R('1m', 'analyze'), 3.0);
  ratio('10M: analyze <= 1.0x tcpdump -r -w', R('10m', 'analyze'), R('10m', 'tcpdump'), 1.0);
  ratio('10M: analyze peak RSS <= 1.2x the 1M peak RSS', R('10m', 'analyze'), R('1m', 'analyze'), 1.2, 'rss');
  const a = R('alive', 'analyze');
  {
    let status = 'SKIP', value = null, detail = 'not measured in this run (--alive)';
    if (a && !a.ok) { status = 'FAIL'; detail = `analyze failed after ${f3(a.wall_s.max)} s: ${a.error}`; value = a.rss_mib.max; }
    else if (a) { value = a.rss_mib.max; status = value <= 150 ? 'PASS' : 'FAIL'; detail = `${fm(value)} MiB peak RSS`; }
    const w = W('alive');
    if (w) detail += `; ${fmtInt(w.summary.peak_alive.idle_300s)} flows alive at peak (300 s idle)`;
    t.push({ target: `alive: analyze --profile rfc4787 peak RSS <= 150 MiB (${fmtInt(opts.aliveFlows)} flows / 600 s)`, limit: 150, value, status, detail });
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------- main
const workloads = [
  { name: '1m', title: '1M packets / 25k flows (seed 1, 4 h)', gen: { packets: 1000000, flows: 25000, seed: 1 }, full: true },
];
if (opts.big) workloads.push({ name: '10m', title: '10M packets / 250k flows (seed 1, 4 h)', gen: { packets: 10000000, flows: 250000, seed: 1 }, big: true });
if (opts.alive) {
  workloads.push({ name: 'alive', title: `${fmtInt(opts.aliveFlows)} flows over 600 s, 1M packets (seed 1), --profile rfc4787`,
    gen: { packets: 1000000, flows: opts.aliveFlows, duration: 600, seed: 1 }, profile: 'rfc4787' });
}

function gitState() {
  const g = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = g('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return null;
  const dirty = g('status', '--porcelain', '--', 'src').stdout.split('\n').filter(Boolean).length;
  return `${head.stdout.trim()}${dirty ? ` + ${dirty} modified file(s) in src/` : ''}`;
}

const env = {
  date: new Date().toISOString(), cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? '?',
  mem_gib: Math.round(os.totalmem() / 2 ** 30), platform: `${os.type()} ${os.release()}`, loadavg_start: os.loadavg().map((x) => +x.toFixed(2)),
  versions, generator_version: GENERATOR_VERSION, runs: opts.runs, big_runs: opts.bigRuns, udptrack: gitState(),
};
log(`udptrack ${env.udptrack ?? '(no git)'}; bench: ${env.cpus} x ${env.cpu_model}, ${env.mem_gib} GiB, node ${process.version}, load ${env.loadavg_start.join(' ')}\n`);
log(`peers: ${Object.entries(have).map(([k, v]) => `${k} ${v ? versions[k] ?? '' : 'missing'}`).join(', ')}\n`);

const results = [];
for (const w of workloads) results.push(await benchWorkload(w));
env.loadavg_end = os.loadavg().map((x) => +x.toFixed(2));
const tg = targets(results);

let text = `\nudptrack benchmark - ${env.date.slice(0, 10)}, ${env.cpus} CPUs (${env.cpu_model}), ${env.mem_gib} GiB, Node ${process.version}, ` +
  `load ${env.loadavg_start.join('/')} -> ${env.loadavg_end.join('/')}\nudptrack ${env.udptrack ?? ''}; wall time of the whole process (median of runs, alternating order), peak RSS = max over runs, CPU = user+sys (median)\n`;
for (const wr of results) text += table(wr);
text += '\nTargets\n';
for (const x of tg) text += `  ${x.status.padEnd(4)}  ${x.target}: ${x.value == null ? '-' : (x.target.includes('MiB') && !x.target.includes('x the') ? `${fm(x.value)} MiB` : fx(x.value))}  (${x.detail})\n`;
out(text);
if (opts.json) process.stdout.write(JSON.stringify({ env, workloads: results, targets: tg }, null, 2) + '\n');
