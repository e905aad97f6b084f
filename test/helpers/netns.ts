/**
 * Small helpers for real-kernel tests in throwaway network namespaces: find out up front whether the machine can run
 * them (and say exactly what is missing), create namespaces joined by a veth pair (created directly inside the
 * namespaces, so nothing ever appears in the root namespace), run commands in a namespace, start captures and wait
 * until they really capture, drive UDP peers from a schedule, and read the resulting pcap files independently of
 * udptrack's own reader.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hasCommand } from './cli.js';

/** Everything that stops a real-kernel test from running here, as readable reasons; empty when it can run. */
export function kernelTestBlockers(options: { nflog?: boolean; ctTimeout?: boolean } = {}): string[] {
  if (process.platform !== 'linux') return [`not Linux (platform ${process.platform})`];
  const uid = process.getuid?.();
  if (uid !== 0) return [`not root (uid ${uid}); network namespaces and nftables need CAP_NET_ADMIN`];
  const missing = ['ip', 'nft', 'tcpdump'].filter((c) => !hasCommand(c));
  if (missing.length > 0) return [`missing command(s) on PATH: ${missing.join(', ')} (apt-get install iproute2 nftables tcpdump)`];

  const blockers: string[] = [];
  const probe = `udptrack-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return [`cannot create a network namespace (ip netns add: ${oneLine(add.stderr)})`];
  try {
    if (options.ctTimeout ?? true) {
      // The kernel needs nf_tables, conntrack and ct timeout objects (CONFIG_NFT_CT, CONFIG_NF_CONNTRACK_TIMEOUT).
      const nft = spawnSync('ip', ['netns', 'exec', probe, 'nft', '-f', '-'], {
        encoding: 'utf8',
        input: [
          'table ip probe {',
          '  ct timeout t { protocol udp; l3proto ip; policy = { unreplied : 3, replied : 5 }; }',
          '  chain o { type filter hook output priority filter; policy accept; ct timeout set "t"; }',
          '}',
          '',
        ].join('\n'),
      });
      // A syntax error is this helper's bug (or an nft too old for the test's syntax), never a reason to skip quietly.
      if (/syntax error/.test(nft.stderr)) throw new Error(`nft rejected the probe ruleset: ${oneLine(nft.stderr)}`);
      if (nft.status !== 0) blockers.push(`nftables in a namespace cannot make a ct timeout object (${oneLine(nft.stderr)})`);
    }
    if (options.nflog ?? true) {
      const list = spawnSync('ip', ['netns', 'exec', probe, 'tcpdump', '-D'], { encoding: 'utf8' });
      if (!/\bnflog\b/.test(list.stdout)) blockers.push('tcpdump -D lists no nflog interface (libpcap built without netfilter support)');
    }
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
  return blockers;
}

function oneLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n').join(' / ') || 'no message';
}

/** Run a command inside namespace `ns` and return its stdout; throws with the command and its stderr on failure. */
export function nsRun(ns: string, argv: readonly string[], input?: string): string {
  const result = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`ip netns exec ${ns} ${argv.join(' ')} failed (${result.status ?? result.signal}): ${oneLine(result.stderr)}`);
  }
  return result.stdout;
}

/** Run a command outside any test namespace (ip netns add/del, ip link add … netns …). */
export function run(argv: readonly string[]): string {
  const [command, ...args] = argv;
  const result = spawnSync(command!, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status ?? result.signal}): ${oneLine(result.stderr)}`);
  return result.stdout;
}

/** Two namespaces joined by one veth pair, each end addressed and up. */
export interface NetnsPair {
  a: { ns: string; ifname: string; addr: string };
  b: { ns: string; ifname: string; addr: string };
}

/**
 * Create namespaces `a.ns` and `b.ns` joined by a veth pair whose ends are created directly inside them (names never
 * touch the root namespace), with `addr/prefix` on each end, loopback up and IPv6 off (no ND/MLD noise).
 * On failure everything made so far is deleted again.
 */
export function createNetnsPair(pair: NetnsPair, prefixLength: number): void {
  try {
    run(['ip', 'netns', 'add', pair.a.ns]);
    run(['ip', 'netns', 'add', pair.b.ns]);
    run(['ip', 'link', 'add', pair.a.ifname, 'netns', pair.a.ns, 'type', 'veth', 'peer', 'name', pair.b.ifname, 'netns', pair.b.ns]);
    for (const end of [pair.a, pair.b]) {
      spawnSync('ip', ['netns', 'exec', end.ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      nsRun(end.ns, ['ip', 'addr', 'add', `${end.addr}/${prefixLength}`, 'dev', end.ifname]);
      nsRun(end.ns, ['ip', 'link', 'set', 'lo', 'up']);
      nsRun(end.ns, ['ip', 'link', 'set', end.ifname, 'up']);
    }
  } catch (error) {
    deleteNetns(pair.a.ns, pair.b.ns);
    throw error;
  }
}

/** Delete namespaces (their veth ends go with them); silent about ones that do not exist. Returns what could not be deleted. */
export function deleteNetns(...names: string[]): string[] {
  const left: string[] = [];
  for (const name of names) {
    const result = spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8' });
    if (result.status !== 0 && !/No such file|not found|Invalid/i.test(result.stderr)) left.push(`${name}: ${oneLine(result.stderr)}`);
  }
  return left;
}

/** A process started inside a namespace (`ip netns exec` execs the command, so the pid is the command's own). */
export class NsProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(readonly ns: string, readonly argv: readonly string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderr += `\nspawn failed: ${error.message}`;
        this.done = true;
        resolve({ code: -1, signal: null });
      });
      this.child.on('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** Wait until stderr matches `pattern`; rejects if the process exits first or `timeoutMs` passes. */
  async waitForStderr(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (!this.running) throw new Error(`${this.argv.join(' ')} exited before printing ${pattern}: ${oneLine(this.stderr)}`);
      if (Date.now() > deadline) throw new Error(`${this.argv.join(' ')} did not print ${pattern} within ${timeoutMs} ms: ${oneLine(this.stderr)}`);
      await sleep(20);
    }
  }

  /** Send `signal` and wait for the exit (then its output is complete); SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Start `tcpdump ARGS` in `ns` (unbuffered: `-U --immediate-mode`, so nothing waits in a ring-buffer block at the
 * end) and resolve once it prints "listening on" and a short settle has passed, so the first packet is not missed.
 */
export async function startTcpdump(ns: string, args: readonly string[], settleMs = 200): Promise<NsProcess> {
  const proc = new NsProcess(ns, ['tcpdump', '-U', '--immediate-mode', ...args]);
  try {
    await proc.waitForStderr(/listening on/, 10_000);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
  await sleep(settleMs);
  return proc;
}

/** tcpdump's closing statistics ("N packets captured", "N packets dropped by kernel"). */
export function tcpdumpCounts(stderr: string): { captured: number; droppedByKernel: number } | undefined {
  const captured = /(\d+) packets? captured/.exec(stderr);
  const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
  if (captured === null || dropped === null) return undefined;
  return { captured: Number(captured[1]), droppedByKernel: Number(dropped[1]) };
}

// --- UDP peers driven by a schedule ------------------------------------------------------------------------------

/** One datagram to send: `at` seconds after the common start, from local port `sport`, payload `tag` (ASCII). */
export interface ScheduledSend {
  at: number;
  sport: number;
  dst: string;
  dport: number;
  tag: string;
}

export interface UdpScheduleSpec {
  /** Address to bind every socket to. */
  local: string;
  /** Local ports to bind (every `sport`, plus ports that only receive). */
  bind: readonly number[];
  sends: readonly ScheduledSend[];
  /** Wall-clock start (Date.now() milliseconds) shared by every peer of the test. */
  startAtMs: number;
  /** When to stop receiving, report and exit (seconds after the start): after the last send of every peer. */
  endAt: number;
}

export interface UdpScheduleReport {
  /** How late the peer was ready relative to `startAtMs` (negative: early, as it should be). */
  readyLateMs: number;
  sent: Array<{ tag: string; atMs: number }>;
  received: Array<{ tag: string; atMs: number; from: string; port: number }>;
}

/**
 * The peer: one dgram socket per local port, bound (so every 5-tuple is fixed), sending each scheduled payload at
 * its time and recording everything it receives. Prints one JSON report on stdout at the end.
 */
const UDP_PEER_SCRIPT = `
const dgram = require('node:dgram');
const spec = JSON.parse(process.argv[1]);
const sockets = new Map();
const report = { readyLateMs: 0, sent: [], received: [] };
let bound = 0;
for (const port of spec.bind) {
  const socket = dgram.createSocket('udp4');
  socket.on('error', (e) => { process.stderr.write('socket ' + port + ': ' + e.message + '\\n'); process.exit(3); });
  socket.on('message', (msg, rinfo) => report.received.push({ tag: msg.toString('latin1'), atMs: Date.now(), from: rinfo.address + ':' + rinfo.port, port }));
  socket.bind(port, spec.local, () => { if (++bound === spec.bind.length) go(); });
  sockets.set(port, socket);
}
function go() {
  report.readyLateMs = Date.now() - spec.startAtMs;
  for (const s of spec.sends) {
    setTimeout(() => {
      sockets.get(s.sport).send(Buffer.from(s.tag, 'latin1'), s.dport, s.dst, (e) => { if (e) { process.stderr.write('send ' + s.tag + ': ' + e.message + '\\n'); process.exit(4); } });
      report.sent.push({ tag: s.tag, atMs: Date.now() });
    }, spec.startAtMs + s.at * 1000 - Date.now());
  }
  setTimeout(() => {
    process.stdout.write(JSON.stringify(report));
    for (const socket of sockets.values()) socket.close();
  }, spec.startAtMs + spec.endAt * 1000 - Date.now());
}
`;

/** Start the scheduled UDP peer in `ns` (same Node binary as the test). Await `done` for its report. */
export function startUdpSchedule(ns: string, spec: UdpScheduleSpec): { proc: NsProcess; done: Promise<UdpScheduleReport> } {
  const proc = new NsProcess(ns, [process.execPath, '-e', UDP_PEER_SCRIPT, JSON.stringify(spec)]);
  const done = proc.exited.then(({ code, signal }) => {
    if (code !== 0) throw new Error(`UDP peer in ${ns} failed (${code ?? signal}): ${oneLine(proc.stderr)}`);
    return JSON.parse(proc.stdout) as UdpScheduleReport;
  });
  return { proc, done };
}

// --- an independent pcap reader ----------------------------------------------------------------------------------

/** One record of a classic pcap file. `frame` is the 1-based record number, as udptrack numbers frames. */
export interface PcapRecord {
  frame: number;
  tsUs: number;
  linktype: number;
  data: Buffer;
}

/** Read a classic pcap file (any byte order, µs or ns) without udptrack's code, to cross-check it. */
export function readPcap(file: string): PcapRecord[] {
  const buf = readFileSync(file);
  if (buf.length < 24) throw new Error(`${file}: ${buf.length} bytes, not a pcap file`);
  const magicLe = buf.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const magic = le ? magicLe : buf.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${file}: not a classic pcap file (magic ${magicLe.toString(16)})`);
  const nano = magic === 0xa1b23c4d;
  const u32 = (offset: number): number => (le ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset));
  const linktype = u32(20) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let offset = 24;
  while (offset + 16 <= buf.length) {
    const sec = u32(offset);
    const frac = u32(offset + 4);
    const capLen = u32(offset + 8);
    if (offset + 16 + capLen > buf.length) break; // a record cut short by the writer being stopped
    records.push({
      frame: records.length + 1,
      tsUs: sec * 1_000_000 + (nano ? Math.floor(frac / 1000) : frac),
      linktype,
      data: buf.subarray(offset + 16, offset + 16 + capLen),
    });
    offset += 16 + capLen;
  }
  return records;
}

/** The IPv4/UDP datagram of a record, with its payload. */
export interface Ipv4Udp {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ipId: number;
  payload: Buffer;
}

/**
 * The IPv4 packet inside an Ethernet (1) or NFLOG (239) record. NFLOG: 4-byte header, then TLVs whose length and
 * type are in the logging host's byte order (little-endian here: the test runs where it captures); the packet is
 * TLV 9 (NFULA_PAYLOAD).
 */
export function ipv4Of(record: PcapRecord): Buffer | undefined {
  const d = record.data;
  if (record.linktype === 1) return d.length >= 34 && d.readUInt16BE(12) === 0x0800 ? d.subarray(14) : undefined;
  if (record.linktype === 239) {
    let offset = 4;
    while (offset + 4 <= d.length) {
      const length = d.readUInt16LE(offset);
      const type = d.readUInt16LE(offset + 2) & 0x7fff;
      if (length < 4 || offset + length > d.length) return undefined;
      if (type === 9) return d.subarray(offset + 4, offset + length);
      offset += (length + 3) & ~3;
    }
  }
  return undefined;
}

/** Decode an IPv4/UDP record; undefined for anything else. */
export function ipv4UdpOf(record: PcapRecord): Ipv4Udp | undefined {
  const ip = ipv4Of(record);
  if (ip === undefined || ip.length < 20 || ip[0]! >> 4 !== 4 || ip[9] !== 17) return undefined;
  const ihl = (ip[0]! & 0x0f) * 4;
  const total = Math.min(ip.readUInt16BE(2), ip.length);
  if (total < ihl + 8) return undefined;
  const addr = (o: number): string => `${ip[o]}.${ip[o + 1]}.${ip[o + 2]}.${ip[o + 3]}`;
  return {
    src: addr(12),
    dst: addr(16),
    sport: ip.readUInt16BE(ihl),
    dport: ip.readUInt16BE(ihl + 2),
    ipId: ip.readUInt16BE(4),
    payload: ip.subarray(ihl + 8, total),
  };
}
