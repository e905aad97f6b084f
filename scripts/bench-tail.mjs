#!/usr/bin/env node
/**
 * bench-tail.mjs - how fast `udptrack tail` reports, and how much memory it holds after a long run
 * (`npm run bench:tail`, which builds first). Linux, root: it makes two network namespaces joined by a veth pair.
 *
 * `host` (10.214.0.1) is the protected side, with an nftables ruleset that NFLOG-logs and drops inbound UDP that is
 * not part of a live flow (group 41, queue-threshold 1). `peer` (10.214.0.2) sends "probes" at a steady rate to
 * host:9000 from a cycling range of source ports: every probe is denied, so every probe is one verdict line. Each
 * probe's send time (the sender's clock just before send()) is matched to the arrival time of its line on the
 * tail's stdout (the bench's clock; both are the wall clock at sub-millisecond resolution): the delay from the wire
 * to the line. Meanwhile the host runs request/reply flows from a cycling range of ports to peer:53, which create
 * state that expires, so the flow table, the classifier's flow records and the settling of verdicts all work as
 * they would over days of traffic.
 *
 * Modes (each a fresh tail on the same kind of traffic):
 *   interface  udptrack tail --interface hv0      (cap, in its capture helper process)
 *   nflog      udptrack tail --interface nflog:41
 *   stdin      tcpdump -i hv0 -U --immediate-mode -w - udp | udptrack tail -
 *
 * RSS (VmRSS from /proc) of the tail process, and of its capture helper, is sampled every 10 s.
 *
 *   npm run bench:tail                                     interface mode, 1 minute
 *   npm run bench:tail -- --mode all --minutes 1           each mode for a minute
 *   npm run bench:tail -- --minutes 10 --rate 100 --flow-rate 300 --flow-ports 40000
 *   npm run -s bench:tail -- --json > tail.json            JSON on stdout, progress on stderr
 *
 * Options: --mode interface|nflog|stdin|all (interface), --minutes N (1; per mode), --rate PPS (50: probes per
 * second), --probe-ports N (1000), --flow-rate PPS (200: host flows per second), --flow-ports N (30000: distinct
 * host ports, more than the classifier's 20,000 flow records so its limit is reached), --json.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UDPTRACK = path.join(ROOT, 'bin', 'udptrack.cjs');
const GROUP = 41;
const HOST = '10.214.0.1';
const PEER = '10.214.0.2';
const SUFFIX = process.pid;
const HOST_NS = `utbench-h-${SUFFIX}`;
const PEER_NS = `utbench-p-${SUFFIX}`;
const SAMPLE_EVERY_MS = 10_000;

function parseArgs(argv) {
  const o = { mode: 'interface', minutes: 1, rate: 50, probePorts: 1000, flowRate: 200, flowPorts: 30000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) die(`${k} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const v = Number(val());
      if (!Number.isFinite(v) || v <= 0) die(`${k} needs a positive number`);
      return v;
    };
    switch (k) {
      case '--mode': o.mode = val(); break;
      case '--minutes': o.minutes = num(); break;
      case '--rate': o.rate = num(); break;
      case '--probe-ports': o.probePorts = Math.trunc(num()); break;
      case '--flow-rate': o.flowRate = num(); break;
      case '--flow-ports': o.flowPorts = Math.trunc(num()); break;
      case '--json': o.json = true; break;
      case '-h':
      case '--help':
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^#!.*\n\/\*\*\n?/, '').replace(/^ \* ?/gm, ''));
        process.exit(0);
        break;
      default: die(`unknown argument ${k} (see --help)`);
    }
  }
  if (!['interface', 'nflog', 'stdin', 'all'].includes(o.mode)) die(`--mode must be interface, nflog, stdin or all, not ${o.mode}`);
  return o;
}

function die(message) {
  process.stderr.write(`bench-tail: ${message}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const log = (s) => process.stderr.write(s);
const nowMs = () => performance.timeOrigin + performance.now();

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${(r.stderr || '').trim()}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------------- the lab
function checkMachine() {
  if (process.platform !== 'linux') die('needs Linux (network namespaces)');
  if (process.getuid?.() !== 0) die('needs root (network namespaces, nftables, packet capture)');
  for (const c of ['ip', 'nft', 'tcpdump']) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) die(`${c} is not on PATH`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) die('no build: run npm run bench:tail (it builds first)');
}

function setUp() {
  sh(['ip', 'netns', 'add', HOST_NS]);
  sh(['ip', 'netns', 'add', PEER_NS]);
  sh(['ip', 'link', 'add', 'hv0', 'netns', HOST_NS, 'type', 'veth', 'peer', 'name', 'pv0', 'netns', PEER_NS]);
  for (const [ns, ifname, addr] of [[HOST_NS, 'hv0', HOST], [PEER_NS, 'pv0', PEER]]) {
    spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    sh(['ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', ifname]);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
  }
  sh(['ip', 'netns', 'exec', HOST_NS, 'nft', '-f', '-'], `table ip bench {
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    iifname "hv0" meta l4proto udp log prefix "bench-drop " group ${GROUP} queue-threshold 1 drop
  }
}
`);
}

function tearDown() {
  for (const ns of [HOST_NS, PEER_NS]) spawnSync('ip', ['netns', 'del', ns]);
}

// ---------------------------------------------------------------------------------------------------- traffic
/**
 * The probe sender (peer) and the host's request/reply flows: one script, told which side it is. Probes report
 * "port sentAtMs" per line on stdout; the host side answers nothing on stdout.
 */
const TRAFFIC_SCRIPT = `
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
const spec = JSON.parse(process.argv[1]);
const now = () => performance.timeOrigin + performance.now();
const sockets = [];
let sent = 0;
const endAt = now() + spec.seconds * 1000;
function socketFor(i) {
  const port = spec.basePort + (i % spec.ports);
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(port, spec.local, () => resolve(s));
  });
}
if (spec.role === 'responder') {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
  s.bind(53, spec.local);
  setTimeout(() => process.exit(0), spec.seconds * 1000 + 2000);
} else {
  const intervalMs = 1000 / spec.rate;
  const start = now();
  const tick = async () => {
    for (;;) {
      const due = start + sent * intervalMs;
      if (due > now()) break;
      const i = sent++;
      const s = await socketFor(i);
      // Stamped just before the datagram goes to the kernel: on a veth it is on the wire at once.
      const sentAt = now();
      s.send(Buffer.alloc(spec.payloadBytes, 0x61), spec.dport, spec.dst, (e) => {
        if (!e && spec.report) process.stdout.write(s.address().port + ' ' + sentAt.toFixed(3) + '\\n');
        setTimeout(() => s.close(), spec.keepOpenMs);
      });
    }
    if (now() < endAt) setTimeout(tick, Math.max(0, start + sent * intervalMs - now()));
    else setTimeout(() => process.exit(0), spec.keepOpenMs + 200);
  };
  tick();
}
`;

function startTraffic(ns, spec) {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', TRAFFIC_SCRIPT, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sends = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    partial += chunk;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const [port, at] = partial.slice(0, nl).split(' ');
      partial = partial.slice(nl + 1);
      sends.push({ port: Number(port), atMs: Number(at) });
    }
  });
  const done = new Promise((resolve) => child.on('close', resolve));
  return { child, sends, done };
}

// ---------------------------------------------------------------------------------------------------- the tail
function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function runMode(mode) {
  const seconds = Math.round(opts.minutes * 60);
  const tailArgs = ['tail', '--format', 'ndjson', '--local', HOST, '--profile', 'linux'];
  let tcpdump;
  let tail;
  if (mode === 'stdin') {
    tail = spawn('ip', ['netns', 'exec', HOST_NS, process.execPath, UDPTRACK, ...tailArgs, '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    tcpdump = spawn('ip', ['netns', 'exec', HOST_NS, 'tcpdump', '-i', 'hv0', '-n', '-U', '--immediate-mode', '-w', '-', 'udp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    tcpdump.stdout.pipe(tail.stdin);
  } else {
    const device = mode === 'nflog' ? `nflog:${GROUP}` : 'hv0';
    tail = spawn('ip', ['netns', 'exec', HOST_NS, process.execPath, UDPTRACK, ...tailArgs, '--interface', device], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  let stderr = '';
  tail.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  let tcpdumpErr = '';
  tcpdump?.stderr.setEncoding('utf8').on('data', (c) => (tcpdumpErr += c));
  const arrivals = new Map(); // probe port → arrival times, in order
  let verdictLines = 0;
  let summary;
  let partial = '';
  tail.stdout.setEncoding('utf8').on('data', (chunk) => {
    const at = nowMs();
    partial += chunk;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.startsWith('{"type":"verdict"')) {
        verdictLines++;
        const r = JSON.parse(line);
        if (r.dport === 9000) {
          const list = arrivals.get(r.sport) ?? [];
          list.push(at);
          arrivals.set(r.sport, list);
        }
      } else if (line.startsWith('{"type":"summary"')) summary = JSON.parse(line);
    }
  });
  const exited = new Promise((resolve) => tail.on('close', resolve));
  const ready = mode === 'stdin' ? () => /listening on/.test(tcpdumpErr) : () => /listening on/.test(stderr);
  const deadline = Date.now() + 15_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${mode}: the tail did not start: ${stderr}${tcpdumpErr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 500));

  log(`${mode}: ${seconds} s, probes ${opts.rate}/s from ${opts.probePorts} ports, host flows ${opts.flowRate}/s from ${opts.flowPorts} ports\n`);
  const responder = startTraffic(PEER_NS, { role: 'responder', local: PEER, seconds });
  const probes = startTraffic(PEER_NS, { role: 'sender', local: PEER, dst: HOST, dport: 9000, basePort: 20000, ports: opts.probePorts, rate: opts.rate, seconds, payloadBytes: 32, keepOpenMs: 50, report: true });
  const flows = startTraffic(HOST_NS, { role: 'sender', local: HOST, dst: PEER, dport: 53, basePort: 30000, ports: opts.flowPorts, rate: opts.flowRate, seconds, payloadBytes: 40, keepOpenMs: 300, report: false });
  const samples = [];
  const startedMs = Date.now();
  const sampler = setInterval(() => {
    const helper = mode === 'stdin' ? undefined : childrenOf(tail.pid)[0];
    samples.push({ s: Math.round((Date.now() - startedMs) / 1000), tailKiB: rssKiB(tail.pid), helperKiB: helper === undefined ? undefined : rssKiB(helper) });
    const last = samples.at(-1);
    log(`  ${String(last.s).padStart(5)} s  tail RSS ${(last.tailKiB / 1024).toFixed(1)} MiB${last.helperKiB ? `, capture helper ${(last.helperKiB / 1024).toFixed(1)} MiB` : ''}, ${verdictLines} verdict lines\n`);
  }, SAMPLE_EVERY_MS);
  await Promise.all([probes.done, flows.done, responder.done]);
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 1500));
  const endRss = { tailKiB: rssKiB(tail.pid), helperKiB: mode === 'stdin' ? undefined : rssKiB(childrenOf(tail.pid)[0]) };
  if (tcpdump) tcpdump.kill('SIGINT');
  else tail.kill('SIGINT');
  const code = await exited;

  // Match each probe to its verdict line: per source port, in order.
  const delays = [];
  let lost = 0;
  const seen = new Map();
  for (const send of probes.sends) {
    const k = seen.get(send.port) ?? 0;
    seen.set(send.port, k + 1);
    const at = arrivals.get(send.port)?.[k];
    if (at === undefined) lost++;
    else delays.push(at - send.atMs);
  }
  delays.sort((a, b) => a - b);
  const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))];
  return {
    mode,
    seconds,
    exitCode: code,
    probesSent: probes.sends.length,
    verdictLines,
    lost,
    delayMs: delays.length === 0 ? null : { min: delays[0], median: q(0.5), p95: q(0.95), p99: q(0.99), max: delays.at(-1) },
    rss: { samples, end: endRss, tailPeakKiB: Math.max(...samples.map((s) => s.tailKiB ?? 0), endRss.tailKiB ?? 0) },
    summary,
  };
}

// ---------------------------------------------------------------------------------------------------- main
checkMachine();
const modes = opts.mode === 'all' ? ['interface', 'nflog', 'stdin'] : [opts.mode];
const results = [];
try {
  setUp();
  for (const mode of modes) results.push(await runMode(mode));
} finally {
  tearDown();
}
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const doc = { date: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length, loadavg: load, options: opts, results };
if (opts.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
else {
  const f = (ms) => (ms === undefined || ms === null ? '-' : ms.toFixed(1));
  const out = [`udptrack tail: delay from a probe on the wire to its verdict line on stdout (ms); load ${load}`, ''];
  out.push('| mode | probes | lost | min | median | p95 | p99 | max | tail RSS at end MiB | peak MiB | helper MiB |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const d = r.delayMs ?? {};
    out.push(`| ${r.mode} | ${r.probesSent} | ${r.lost} | ${f(d.min)} | ${f(d.median)} | ${f(d.p95)} | ${f(d.p99)} | ${f(d.max)} | ${((r.rss.end.tailKiB ?? 0) / 1024).toFixed(1)} | ${(r.rss.tailPeakKiB / 1024).toFixed(1)} | ${r.rss.end.helperKiB ? (r.rss.end.helperKiB / 1024).toFixed(1) : '-'} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
