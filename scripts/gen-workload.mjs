#!/usr/bin/env node
/**
 * gen-workload.mjs - deterministic synthetic capture generator for the benchmark (Node >= 20, no dependencies).
 *
 * A JavaScript port of the traffic mix and structure of the Python generator the performance issue was measured
 * with (gen_pcap.py); it does not need that file or Python at run time. Same knobs, same classes, same shares:
 *
 *   short flows (most flows, few packets): DNS over IPv4/IPv6 (query, response, sometimes A+AAAA = 4 packets,
 *     sometimes unanswered = 1 packet); a few SSDP (239.255.255.250:1900), LLMNR (5355) and STUN (3478) one-shots.
 *   long flows (10 % of flows, most packets; Pareto-sized): OpenVPN 1194 (handshake, P_DATA_V2 bursts, 10 s pings,
 *     silent gaps of 6-30 min on the same 5-tuple), WireGuard 51820 (148/92-byte handshake, data len = 0 mod 16,
 *     25 s keepalives, gaps), QUIC-like 443 over IPv4 and IPv6 (long-header Initial/Handshake, short-header bursts,
 *     PINGs, gaps), TCP 443/80/22/8883 (handshake, bursts, 60 s keepalives, FIN close), NTP 123 over IPv4/IPv6
 *     (polls 64..1024 s apart), mDNS 5353 to 224.0.0.251 / ff02::fb, syslog 514.
 *   noise: ARP who-has and ICMP echo (0.3 % of packets, not flows). About 3 % of flows carry an 802.1Q tag.
 *
 * Same arguments and GENERATOR_VERSION => byte-identical output (a seeded xoshiro128** PRNG; no Math.random, no
 * clock). Frames are written straight into one large output buffer, flushed in 16 MiB writes; there is no
 * per-packet allocation. A JSON summary (same keys as gen_pcap.py's) goes to stderr and to OUT.json.
 *
 *   node scripts/gen-workload.mjs --packets 1000000 --flows 25000 --seed 1 --out /tmp/f1m.pcap
 *   node scripts/gen-workload.mjs --packets 2000000 --flows 1000000 --duration 600 --out alive.pcap
 *
 * As a module: `ensureWorkload({packets, flows, seed, duration, pcapng}, cacheDir)` returns the path of a cached
 * file keyed by the arguments and GENERATOR_VERSION, generating it (in a child process) when missing.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const GENERATOR_VERSION = 1;

const T0 = 1717200000; // 2024-06-01T00:00:00Z

// flow classes (same numbering as gen_pcap.py)
const C_DNS4 = 0, C_DNS6 = 1, C_SSDP = 2, C_LLMNR = 3, C_STUN = 4;
const C_VPN = 10, C_WG = 11, C_QUIC4 = 12, C_QUIC6 = 13, C_TCP = 14, C_NTP4 = 15, C_NTP6 = 16, C_MDNS4 = 17,
  C_MDNS6 = 18, C_SYSLOG = 19;
const CLASS_NAMES = {
  [C_DNS4]: 'dns4', [C_DNS6]: 'dns6', [C_SSDP]: 'ssdp', [C_LLMNR]: 'llmnr', [C_STUN]: 'stun', [C_VPN]: 'openvpn',
  [C_WG]: 'wireguard', [C_QUIC4]: 'quic4', [C_QUIC6]: 'quic6', [C_TCP]: 'tcp', [C_NTP4]: 'ntp4', [C_NTP6]: 'ntp6',
  [C_MDNS4]: 'mdns4', [C_MDNS6]: 'mdns6', [C_SYSLOG]: 'syslog',
};
// long-flow mix: [class, share of long flows, packet-budget weight, min packets]
const LONG_MIX = [
  [C_VPN, 0.08, 6.0, 12], [C_WG, 0.04, 3.0, 4], [C_QUIC4, 0.27, 1.2, 4], [C_QUIC6, 0.10, 1.2, 4],
  [C_TCP, 0.30, 1.0, 3], [C_NTP4, 0.08, 0.12, 2], [C_NTP6, 0.03, 0.12, 2], [C_MDNS4, 0.04, 0.25, 1],
  [C_MDNS6, 0.03, 0.25, 1], [C_SYSLOG, 0.03, 0.5, 1],
];
const SHORT_MIX = [[C_DNS4, 0.82], [C_DNS6, 0.12], [C_SSDP, 0.02], [C_LLMNR, 0.02], [C_STUN, 0.02]];

const N_CLIENTS = 8192;
const PORT_MUL = 40507;
const hex = (s) => Buffer.from(s, 'hex');
const GW_MAC = hex('02aa00000001');

const WORDS = ['api', 'cdn', 'www', 'mail', 'img', 'static', 'auth', 'login', 'update', 'telemetry', 'ocsp', 'time',
  'push', 'sync', 'media', 'video', 'ads', 'metrics', 'dl', 'edge'];
const DOMAINS = ['example.com', 'example.net', 'example.org', 'test.invalid', 'corp.example', 'cloud.example',
  'apple.example', 'cdn.example.net', 'vpn.example.org', 'shop.example'];

const ip4 = (a, b, c, d) => Buffer.from([a, b, c, d]);
const v4Client = (c) => ip4(10, 1 + (c >> 16), (c >> 8) & 255, (c & 255) || 1);
const V6_CLIENT_PREFIX = hex('20010db8000a0000000000000000');
const v6Client = (c) => Buffer.concat([V6_CLIENT_PREFIX, be16(c + 1)]);
const clientMac = (c) => Buffer.from([0x02, 0x00, 0x5e, (c >> 16) & 255, (c >> 8) & 255, c & 255]);
const RESOLVERS4 = [ip4(10, 0, 0, 53), ip4(10, 0, 0, 54), ip4(8, 8, 8, 8), ip4(1, 1, 1, 1), ip4(9, 9, 9, 9)];
const RESOLVERS6 = [hex('20014860486000000000000000008888'), hex('26064700470000000000000000001111'),
  hex('fd000000000000000000000000000053')];
const MDNS4_DST = ip4(224, 0, 0, 251), MDNS6_DST = hex('ff0200000000000000000000000000fb');
const SSDP_DST = ip4(239, 255, 255, 250);
const LLMNR_DST = ip4(224, 0, 0, 252);
const NTP6_SERVER = hex('20010db8012300000000000000000123');
const mcastMac4 = (ip) => Buffer.from([0x01, 0x00, 0x5e, ip[1] & 0x7f, ip[2], ip[3]]);
const mcastMac6 = (ip) => Buffer.concat([Buffer.from([0x33, 0x33]), ip.subarray(12, 16)]);

function be16(v) { const b = Buffer.alloc(2); b.writeUInt16BE(v & 0xffff); return b; }
function be16s(...vs) { const b = Buffer.alloc(2 * vs.length); vs.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 2 * i)); return b; }
function sum16(b) { let s = 0; for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | b[i + 1]; return s; }
function qnameBytes(name) {
  const parts = [];
  for (const lab of name.split('.')) parts.push(Buffer.from([lab.length]), Buffer.from(lab, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}
// Python's round(): half to even (only used for planning counts)
function pyRound(x) { const f = Math.floor(x), d = x - f; if (d > 0.5) return f + 1; if (d < 0.5) return f; return f % 2 === 0 ? f : f + 1; }

const SSDP_MSG = Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n' +
  'ST: ssdp:all\r\n\r\n', 'latin1');
const SYSLOG_PREFIX = Buffer.from('<134>Jun  1 00:00:00 host app[1]: ', 'latin1');
const MDNS_PTR = Buffer.from('\x05_http\x04_tcp\x05local\x00', 'latin1');
const MDNS_QUERY = Buffer.concat([be16s(0, 0, 1, 0, 0, 0), MDNS_PTR, be16s(12, 1)]);
const TCP_SYN_OPT1 = hex('020405b40402080a'), TCP_SYN_OPT2 = hex('01030307');

// ---------------------------------------------------------------------------------------------------- PRNG
/** xoshiro128** seeded through splitmix32; helpers named after Python's random module. */
class Rng {
  constructor(seed) {
    let s = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
    const sm = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = sm(); this.b = sm(); this.c = sm(); this.d = sm();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }
  u32() {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a; this.d ^= this.b; this.b ^= this.c; this.a ^= this.d; this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  random() { return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992; }
  uniform(a, b) { return a + (b - a) * this.random(); }
  randrange(a, b) { if (b === undefined) { b = a; a = 0; } return a + Math.floor(this.random() * (b - a)); }
  randint(a, b) { return this.randrange(a, b + 1); }
  choice(arr) { return arr[Math.floor(this.random() * arr.length)]; }
  getrandbits(k) { return k === 32 ? this.u32() : this.u32() >>> (32 - k); }
  bytes(n) { const b = Buffer.allocUnsafe(n); for (let i = 0; i < n; i++) b[i] = this.u32() >>> 24; return b; }
  shuffle(arr) { for (let i = arr.length - 1; i > 0; i--) { const j = Math.floor(this.random() * (i + 1)); const t = arr[i]; arr[i] = arr[j]; arr[j] = t; } }
  paretovariate(alpha) { return Math.pow(1.0 - this.random(), -1.0 / alpha); }
  expovariate(lambd) { return -Math.log(1.0 - this.random()) / lambd; }
  normalvariate(mu, sigma) { // Box-Muller (one value per call; deterministic)
    const u1 = 1.0 - this.random(), u2 = this.random();
    return mu + sigma * Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  lognormvariate(mu, sigma) { return Math.exp(this.normalvariate(mu, sigma)); }
}
function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }

// ---------------------------------------------------------------------------------------------------- events
// An event is (t, dir, payload length or payload index, kind), packed as evT[i] and evX[i] = p << 8 | dir << 7 | kind
// where p >= 0 is a payload length and p < 0 means the flow's prepared payload -1-p.
let evT = new Float64Array(1 << 16);
let evX = new Int32Array(1 << 16);
let evN = 0;
function push(t, d, p, kind) {
  if (evN === evT.length) {
    const t2 = new Float64Array(evT.length * 2); t2.set(evT); evT = t2;
    const x2 = new Int32Array(evX.length * 2); x2.set(evX); evX = x2;
  }
  evT[evN] = t; evX[evN] = (p << 8) | (d << 7) | kind; evN++;
}

// ---------------------------------------------------------------------------------------------------- generator
class Gen {
  constructor(a) {
    this.a = a;
    const rng = this.rng = new Rng(a.seed);
    const unit = rng.bytes(1 << 16);
    this.pool = Buffer.alloc(1 << 20);
    for (let i = 0; i < 16; i++) unit.copy(this.pool, i << 16);
    this.poolOff = 0;
    this.bulk = a.bulk;
    this.names = [];
    for (let i = 0; i < 400; i++) this.names.push(`${rng.choice(WORDS)}${rng.randrange(100)}.${rng.choice(DOMAINS)}`);
    this.qnames = this.names.map(qnameBytes);
    // sample 5000 of range(1, 131000) without replacement (partial Fisher-Yates)
    const pop = new Int32Array(130999);
    for (let i = 0; i < pop.length; i++) pop[i] = i + 1;
    this.servers4 = [];
    for (let i = 0; i < 5000; i++) {
      const j = i + Math.floor(rng.random() * (pop.length - i));
      const v = pop[j]; pop[j] = pop[i]; pop[i] = v;
      this.servers4.push(ip4(198, 18 + (v >> 16), (v >> 8) & 255, (v & 255) || 1));
    }
    this.servers6 = [];
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(16);
      hex('20010db8ffff').copy(b, 0);
      b.writeUInt32BE(0, 6); b.writeUInt32BE(rng.getrandbits(32), 10); b.writeUInt16BE(i, 14);
      this.servers6.push(b);
    }
    this.stats = { classes: {}, vlan_flows: 0 };
    this.alive = [new AliveCounter(60), new AliveCounter(300)];
    this.plan();
  }

  // -------------------------------------------------------------------------------------------------- planning
  plan() {
    const a = this.a, rng = this.rng;
    const P = a.packets, F = a.flows;
    if (F < 1 || F > P) throw new Error('need 1 <= flows <= packets');
    const pMisc = P >= 2000 ? Math.floor(P * 0.003) : 0;
    const pFlows = P - pMisc;
    let nLong = Math.max(Math.min(F, 16), pyRound(F * 0.10));
    let nShort = 0, pShort = 0, pLong = 0;
    for (let it = 0; it < 3; it++) {
      nShort = F - nLong;
      let ms = 2.1;
      if (nShort && nShort * ms > 0.9 * pFlows) ms = 0.9 * pFlows / nShort;
      if (ms < 1.0) ms = 1.0;
      pShort = pyRound(nShort * ms);
      pLong = pFlows - pShort;
      if (nLong && pLong < nLong * 12 && nLong > 16) {
        nLong = Math.max(Math.min(F, 16), Math.floor(pLong / 12));
        continue;
      }
      break;
    }
    if (pLong < nLong) {
      nLong = Math.max(0, Math.min(nLong, pLong));
      nShort = F - nLong;
      pShort = pFlows - pLong;
    }
    this.pMisc = pMisc;
    const shortCounts = this.shortCounts(nShort, pShort);
    let sumShort = 0;
    for (let i = 0; i < shortCounts.length; i++) sumShort += shortCounts[i];
    pLong = pFlows - sumShort;
    let longCls = [];
    for (const [cls, share] of LONG_MIX) for (let i = pyRound(share * nLong); i > 0; i--) longCls.push(cls);
    while (longCls.length < nLong) longCls.push(C_TCP);
    longCls = longCls.slice(0, nLong);
    rng.shuffle(longCls);
    const longCounts = this.longCounts(longCls, pLong);
    // flow table: start time, class, packet count by flow id
    const D = a.duration;
    this.fStart = new Float64Array(F);
    this.fCls = new Uint8Array(F);
    this.fN = new Int32Array(F);
    let fid = 0;
    const nCentres = Math.max(1, Math.floor(nShort / 20));
    const centres = new Float64Array(nCentres);
    for (let i = 0; i < nCentres; i++) centres[i] = rng.uniform(0, D);
    for (let i = 0; i < nShort; i++) {
      const r = rng.random();
      let cls = C_DNS4, acc = 0;
      for (const [c, share] of SHORT_MIX) { acc += share; if (r < acc) { cls = c; break; } }
      let st;
      if (rng.random() < 0.4) st = Math.min(D, Math.max(0.0, centres[rng.randrange(nCentres)] + rng.uniform(-2.0, 2.0)));
      else st = rng.uniform(0, D);
      this.fStart[fid] = st; this.fCls[fid] = cls; this.fN[fid] = shortCounts[i]; fid++;
    }
    for (let i = 0; i < nLong; i++) {
      const cls = longCls[i];
      let st;
      if (cls === C_VPN || cls === C_WG) {
        const span = D * rng.uniform(0.3, 1.0);
        st = D > span ? rng.uniform(0, D - span) : 0.0;
      } else if (cls === C_NTP4 || cls === C_NTP6 || cls === C_MDNS4 || cls === C_MDNS6 || cls === C_SYSLOG) {
        st = rng.uniform(0, D * 0.5);
      } else {
        st = rng.uniform(0, D * 0.95);
      }
      this.fStart[fid] = st; this.fCls[fid] = cls; this.fN[fid] = longCounts[i]; fid++;
    }
    this.nFlows = fid;
    this.nShort = nShort; this.nLong = nLong;
    this.mdnsSeq = 0;
  }

  shortCounts(n, total) {
    const rng = this.rng;
    const counts = new Int32Array(n);
    if (n === 0) return counts;
    const m = total / n;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const r = rng.random();
      let c;
      if (m >= 2.0) c = r < (m - 2.0) / 2.0 + 0.05 ? 4 : (r > 0.95 ? 1 : 2);
      else c = r < (m - 1.0) ? 2 : 1;
      counts[i] = c; sum += c;
    }
    let diff = total - sum;
    for (let i = 0; diff !== 0 && i < 10 * n; i++) {
      const j = rng.randrange(n);
      if (diff > 0 && counts[j] < 4) { counts[j]++; diff--; }
      else if (diff < 0 && counts[j] > 1) { counts[j]--; diff++; }
    }
    if (diff) throw new Error('cannot fit short flows');
    return counts;
  }

  longCounts(classes, total) {
    const rng = this.rng;
    const n = classes.length;
    if (n === 0) return [];
    const wmap = new Map(LONG_MIX.map(([c, , w, mn]) => [c, [w, mn]]));
    const mins = classes.map((c) => Math.min(wmap.get(c)[1], Math.max(1, Math.floor(total / n))));
    const rest = total - mins.reduce((x, y) => x + y, 0);
    if (rest < 0) throw new Error('too few packets for long flows');
    let raw = classes.map((c) => wmap.get(c)[0] * rng.paretovariate(1.4));
    const cap = n === 1 ? Math.max(...raw) : raw.reduce((x, y) => x + y, 0) * 0.04;
    raw = raw.map((x) => Math.min(x, cap));
    const D = this.a.duration;
    const tcap = new Map([[C_NTP4, 2 * Math.trunc(D / 16) + 2], [C_NTP6, 2 * Math.trunc(D / 16) + 2],
      [C_MDNS4, Math.trunc(D / 4) + 3], [C_MDNS6, Math.trunc(D / 4) + 3], [C_SYSLOG, Math.trunc(D * 2) + 1]]);
    const s = raw.reduce((x, y) => x + y, 0);
    const counts = mins.map((mn, i) => mn + Math.trunc(raw[i] / s * rest));
    for (let i = 0; i < n; i++) {
      const tc = tcap.get(classes[i]);
      if (tc !== undefined && counts[i] > tc) counts[i] = tc;
    }
    let diff = total - counts.reduce((x, y) => x + y, 0);
    let big = [];
    for (let i = 0; i < n; i++) if (!tcap.has(classes[i])) big.push(i);
    if (big.length === 0) big = classes.map((_, i) => i);
    while (diff > 0) {
      const k = Math.max(1, Math.floor(diff / big.length));
      for (const i of big) {
        if (diff <= 0) break;
        const d = Math.min(k, diff);
        counts[i] += d; diff -= d;
      }
    }
    return counts;
  }

  // -------------------------------------------------------------------------------------------------- flow set-up
  setup(start, fid, cls, n) {
    const rng = this.rng;
    const f = { fid, cls, start, n, idx: 0, extra: null, pl: null, seq: null };
    const c = fid % N_CLIENTS;
    f.sport = 1024 + (Math.floor(fid / N_CLIENTS) * PORT_MUL + c * 17) % 64512;
    f.proto = cls === C_TCP ? 6 : 17;
    f.fam = (cls === C_DNS6 || cls === C_QUIC6 || cls === C_NTP6 || cls === C_MDNS6) ? 6 : 4;
    const vlan = rng.random() < 0.03;
    if (vlan) this.stats.vlan_flows++;
    let cmac = clientMac(c);
    let mcast = false, src, dst;
    switch (cls) {
      case C_DNS4: src = v4Client(c); dst = rng.choice(RESOLVERS4); f.dport = 53; break;
      case C_DNS6: src = v6Client(c); dst = rng.choice(RESOLVERS6); f.dport = 53; break;
      case C_SSDP: src = v4Client(c); dst = SSDP_DST; f.dport = 1900; mcast = true; break;
      case C_LLMNR: src = v4Client(c); dst = LLMNR_DST; f.dport = 5355; mcast = true; break;
      case C_STUN: src = v4Client(c); dst = rng.choice(this.servers4); f.dport = 3478; break;
      case C_VPN: src = v4Client(c); dst = ip4(203, 0, 113, 1 + fid % 200); f.dport = 1194; break;
      case C_WG: src = v4Client(c); dst = ip4(203, 0, 113, 201 + fid % 50); f.dport = 51820; break;
      case C_QUIC4: src = v4Client(c); dst = rng.choice(this.servers4); f.dport = 443; break;
      case C_QUIC6: src = v6Client(c); dst = rng.choice(this.servers6); f.dport = 443; break;
      case C_TCP: src = v4Client(c); dst = rng.choice(this.servers4); f.dport = rng.choice([443, 443, 443, 80, 22, 8883]); break;
      case C_NTP4: src = v4Client(c); dst = ip4(192, 0, 2, 123 + fid % 4); f.dport = 123; break;
      case C_NTP6: src = v6Client(c); dst = NTP6_SERVER; f.dport = 123; break;
      case C_MDNS4: {
        const k = ++this.mdnsSeq;
        src = ip4(10, 5, (k >> 8) & 255, (k & 255) || 1); dst = MDNS4_DST; f.sport = 5353; f.dport = 5353; mcast = true;
        cmac = Buffer.from([0x02, 0x00, 0x5f, 0, (k >> 8) & 255, k & 255]);
        break;
      }
      case C_MDNS6: {
        const k = ++this.mdnsSeq;
        src = Buffer.concat([hex('fe80000000000000000000000000'), be16(k & 0xffff)]);
        dst = MDNS6_DST; f.sport = 5353; f.dport = 5353; mcast = true;
        cmac = Buffer.from([0x02, 0x00, 0x5f, 1, (k >> 8) & 255, k & 255]);
        break;
      }
      case C_SYSLOG: src = v4Client(c); dst = ip4(10, 0, 0, 10); f.dport = 514; break;
      default: throw new Error(`class ${cls}`);
    }
    const dmac = mcast ? (f.fam === 4 ? mcastMac4(dst) : mcastMac6(dst)) : GW_MAC;
    const et = f.fam === 4 ? be16(0x0800) : be16(0x86dd);
    const tag = vlan ? be16s(0x8100, 100 + fid % 8) : Buffer.alloc(0);
    f.eth = [Buffer.concat([dmac, cmac, tag, et]), Buffer.concat([cmac, dmac, tag, et])];
    f.addr = [Buffer.concat([src, dst]), Buffer.concat([dst, src])];
    if (f.fam === 4) {
      const ttlC = !mcast ? 64 : (cls === C_MDNS4 ? 255 : cls === C_LLMNR ? 1 : 4);
      const ttlS = dst[0] !== 10 ? 64 - rng.randrange(3, 20) : 64;
      f.ttl = [ttlC, ttlS];
      const df = f.proto === 6 ? 0x4000 : 0;
      f.ipsum = [0x4500 + df + (ttlC << 8) + f.proto + sum16(f.addr[0]), 0x4500 + df + (ttlS << 8) + f.proto + sum16(f.addr[1])];
      f.ipid = [rng.getrandbits(16), rng.getrandbits(16)];
    } else {
      f.ttl = [mcast ? 255 : 64, 64 - rng.randrange(3, 20)];
      const fl = rng.getrandbits(20);
      f.ipid = [(0x60000000 | fl) >>> 0, (0x60000000 | rng.getrandbits(20)) >>> 0];
      f.ipsum = null;
    }
    this.events(f);
    if (f.et.length !== n) throw new Error(`${CLASS_NAMES[cls]}: ${f.et.length} events, want ${n}`);
    for (const al of this.alive) al.add(f.et);
    const name = CLASS_NAMES[cls];
    this.stats.classes[name] = (this.stats.classes[name] || 0) + 1;
    return f;
  }

  // -------------------------------------------------------------------------------------------------- per-class events
  gaps(nmax, lo, hi) {
    const rng = this.rng;
    const k = rng.choice([0, 0, ...Array.from({ length: nmax }, (_, i) => i + 1)]);
    const out = [];
    for (let i = 0; i < k; i++) out.push([rng.random(), rng.uniform(lo, hi)]);
    return out;
  }

  /** Sort the scratch events by time (stably) and map them to absolute time past the gaps, into f.et / f.ex. */
  applyGaps(f, activeSpan, gaps) {
    const n = evN;
    let order = null;
    for (let i = 1; i < n; i++) {
      if (evT[i] < evT[i - 1]) {
        order = new Uint32Array(n);
        for (let k = 0; k < n; k++) order[k] = k;
        const T = evT;
        order.sort((x, y) => (T[x] - T[y]) || (x - y));
        break;
      }
    }
    const et = f.et = new Float64Array(n);
    const ex = f.ex = new Int32Array(n);
    const gl = gaps.map(([frac, len]) => [frac * activeSpan, len]).sort((x, y) => (x[0] - y[0]) || (x[1] - y[1]));
    let gi = 0, add = 0.0;
    const s = f.start;
    for (let k = 0; k < n; k++) {
      const i = order ? order[k] : k;
      const t = evT[i];
      while (gi < gl.length && gl[gi][0] <= t) { add += gl[gi][1]; gi++; }
      et[k] = s + t + add;
      ex[k] = evX[i];
    }
    evN = 0;
  }

  bursts(count, span, t0, bulkP, small = [40, 220], big = [1100, 1360], ack = [30, 60], iat = 0.003, kind = 0) {
    const rng = this.rng;
    let rem = count;
    while (rem > 0) {
      const bulk = rng.random() < bulkP;
      const b = Math.min(rem, 1 + Math.trunc(rng.expovariate(1.0 / (bulk ? 30 : 5))));
      let t = t0 + rng.uniform(0, span);
      if (bulk) {
        const down = rng.random() < 0.85;
        for (let j = 0; j < b; j++) {
          if (j % 3 === 2) push(t, down ? 0 : 1, rng.randint(ack[0], ack[1]), kind);
          else push(t, down ? 1 : 0, rng.randint(big[0], big[1]), kind);
          t += rng.expovariate(1.0 / iat);
        }
      } else {
        let d = rng.getrandbits(1);
        for (let j = 0; j < b; j++) {
          push(t, d, rng.randint(small[0], small[1]), kind);
          d ^= rng.random() < 0.7 ? 1 : 0;
          t += rng.expovariate(1.0 / 0.06);
        }
      }
      rem -= b;
    }
  }

  periodic(count, span, t0, period, plen, both, kind, jitter = 0.3) {
    if (count <= 0) return;
    const rng = this.rng;
    let per = period;
    const slots = both ? Math.floor(count / 2) : count;
    if (slots && span / per < slots) per = Math.max(0.5, span / slots);
    let t = t0 + rng.uniform(0, per);
    let i = 0;
    while (i < count) {
      push(t, 0, plen, kind); i++;
      if (both && i < count) { push(t + rng.uniform(0.01, 0.08), 1, plen, kind); i++; }
      t += per + rng.uniform(-jitter, jitter);
    }
  }

  keepaliveCount(rest) {
    return Math.min(rest, rest > 40 ? Math.trunc(rest * this.rng.uniform(0.2, 0.5)) : Math.floor(rest / 2));
  }

  events(f) {
    const rng = this.rng, cls = f.cls, n = f.n, D = this.a.duration;
    evN = 0;
    if (cls === C_DNS4 || cls === C_DNS6 || cls === C_LLMNR) {
      const name = this.qnames[rng.randrange(this.qnames.length)];
      const qid = rng.getrandbits(16);
      const rtt = rng.uniform(0.001, 0.08);
      const qtypes = n === 4 ? [1, 28] : [rng.choice([1, 1, 1, 28, 65])];
      const pl = f.pl = [];
      let t = 0.0;
      for (let k = 0; k < qtypes.length; k++) {
        const qt = qtypes[k];
        pl.push(Buffer.concat([be16s(qid + k, 0x0100, 1, 0, 0, 0), name, be16s(qt, 1)]));
        push(t, 0, -pl.length, 0);
        if (evN < n) {
          const an = rng.randint(1, 3);
          const parts = [be16s(qid + k, 0x8180, 1, an, 0, 0), name, be16s(qt, 1)];
          const rdl = qt === 28 ? 16 : 4;
          for (let j = 0; j < an; j++) {
            const rr = Buffer.alloc(12);
            rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(qt !== 28 ? 1 : 28, 2); rr.writeUInt16BE(1, 4);
            rr.writeUInt32BE(rng.randrange(30, 3600), 6); rr.writeUInt16BE(rdl, 10);
            parts.push(rr, rng.bytes(rdl));
          }
          pl.push(Buffer.concat(parts));
          push(t + rtt, 1, -pl.length, 0);
        }
        t += 0.0005;
      }
      while (evN < n) { push(t + 1.0, 0, -1, 0); t += 1.0; }
      evN = Math.min(evN, n);
    } else if (cls === C_SSDP) {
      f.pl = [SSDP_MSG];
      for (let i = 0; i < n; i++) push(i * 1.0, 0, -1, 0);
    } else if (cls === C_STUN) {
      const tx = rng.bytes(12);
      const req = Buffer.concat([be16s(0x0001, 0, 0x2112, 0xa442), tx]);
      const resp = Buffer.concat([be16s(0x0101, 12, 0x2112, 0xa442), tx, Buffer.from([0x00, 0x20, 0x00, 0x08, 0, 1, 0x12, 0x34]), Buffer.alloc(4)]);
      f.pl = [req, resp];
      for (let i = 0; i < n; i++) push(i * 0.5 + (i % 2 ? 0.03 : 0.0), i % 2, i % 2 ? -2 : -1, 0);
    } else if (cls === C_VPN) {
      const avail = Math.max(60.0, D - f.start);
      let gaps = this.gaps(3, 360, 1800);
      let gsum = gaps.reduce((x, g) => x + g[1], 0);
      if (gsum > 0.5 * avail) { gaps = []; gsum = 0; }
      const span = Math.max(60.0, Math.min(D * rng.uniform(0.3, 1.0), avail - gsum));
      f.extra = { sidC: rng.bytes(8), sidS: rng.bytes(8), peer: rng.getrandbits(24) };
      const hs = Math.min(n, 10);
      let t = 0.0;
      for (let i = 0; i < hs; i++) {
        const kind = i === 0 ? 7 : i === 1 ? 8 : (i % 3 ? 4 : 5);
        const plen = i === 0 ? 14 : i === 1 ? 26 : (kind === 4 ? rng.randint(100, 1200) : 22);
        push(t, i % 2, plen, kind);
        t += rng.uniform(0.01, 0.05);
      }
      const rest = n - hs;
      const kp = this.keepaliveCount(rest);
      this.periodic(kp, span, 1.0, 10.0, 41, true, 9);
      this.bursts(rest - kp, span, 1.0, this.bulk, undefined, undefined, undefined, undefined, 9);
      return this.applyGaps(f, span, gaps);
    } else if (cls === C_WG) {
      const avail = Math.max(60.0, D - f.start);
      let gaps = this.gaps(2, 300, 1200);
      let gsum = gaps.reduce((x, g) => x + g[1], 0);
      if (gsum > 0.5 * avail) { gaps = []; gsum = 0; }
      const span = Math.max(60.0, Math.min(D * rng.uniform(0.3, 1.0), avail - gsum));
      push(0.0, 0, 148, 1);
      if (n > 1) push(0.02, 1, 92, 2);
      const rest = n - evN;
      const kp = this.keepaliveCount(rest);
      this.periodic(kp, span, 1.0, 25.0, 32, true, 4);
      this.bursts(rest - kp, span, 1.0, this.bulk, [48, 208], [1104, 1344], [32, 64], undefined, 4);
      return this.applyGaps(f, span, gaps);
    } else if (cls === C_QUIC4 || cls === C_QUIC6) {
      const longlived = rng.random() < 0.25;
      const avail = Math.max(1.0, D - f.start);
      let span = longlived ? rng.uniform(600, D * 0.5) : Math.max(0.5, rng.lognormvariate(2.5, 1.3));
      let gaps = rng.random() < 0.15 ? this.gaps(1, 60, 600) : [];
      let gsum = gaps.reduce((x, g) => x + g[1], 0);
      if (gsum > 0.5 * avail) { gaps = []; gsum = 0; }
      span = Math.max(0.5, Math.min(span, avail - gsum));
      f.extra = rng.bytes(8);
      const hsPat = [[0, 1200, 1], [1, 1200, 1], [1, 1100, 2], [0, 80, 2]];
      let t = 0.0;
      for (let i = 0; i < Math.min(n, 4); i++) {
        const [d, plen, kind] = hsPat[i];
        push(t, d, plen + rng.randint(0, 50), kind);
        t += rng.uniform(0.005, 0.04);
      }
      const rest = n - evN;
      const kp = longlived ? Math.min(rest, Math.trunc(span / 15.0) * 2) : 0;
      this.periodic(kp, span, 0.5, 15.0, 40, true, 0);
      this.bursts(rest - kp, span, 0.1, this.bulk, undefined, [1180, 1350], [28, 60], undefined, 0);
      return this.applyGaps(f, span, gaps);
    } else if (cls === C_TCP) {
      f.seq = [rng.getrandbits(32), rng.getrandbits(32)];
      const longlived = f.dport === 22 || f.dport === 8883 || rng.random() < 0.1;
      let span = longlived ? rng.uniform(300, D * 0.6) : Math.max(0.2, rng.lognormvariate(2.0, 1.2));
      span = Math.max(0.2, Math.min(span, D - f.start));
      if (n < 3) {
        for (let i = 0; i < n; i++) push(2 ** i - 1, 0, 0, 0x02);
        return this.applyGaps(f, span, []);
      }
      const rtt = rng.uniform(0.005, 0.12);
      push(0.0, 0, 0, 0x02); push(rtt, 1, 0, 0x12); push(rtt * 1.5, 0, 0, 0x10);
      const close = n >= 10 ? 4 : 0;
      const rest = n - 3 - close;
      const kp = longlived ? Math.min(Math.floor(rest / 2), Math.trunc(span / 60.0) * 2) : 0;
      this.periodic(kp, span, rtt * 2, 60.0, 0, true, 0x10);
      this.bursts(rest - kp, span, rtt * 2, this.bulk, [0, 180], [1000, 1448], [0, 0], undefined, 0x18);
      if (close) {
        const te = rtt * 2 + span + 0.01;
        push(te, 0, 0, 0x11); push(te + rtt, 1, 0, 0x11); push(te + rtt * 1.01, 1, 0, 0x10); push(te + rtt * 1.5, 0, 0, 0x10);
      }
      return this.applyGaps(f, span, []);
    } else if (cls === C_NTP4 || cls === C_NTP6) {
      const polls = Math.floor((n + 1) / 2);
      let per = Math.min(1024.0, Math.max(16.0, (D - f.start) / Math.max(1, polls)));
      if (per > 64 && rng.random() < 0.5) {
        const fixed = rng.choice([64.0, 128.0, 256.0, 512.0, 1024.0]);
        if (fixed < per) per = fixed;
      }
      let t = 0.0;
      for (let i = 0; i < polls; i++) {
        push(t, 0, 48, 3);
        if (evN < n) push(t + rng.uniform(0.005, 0.04), 1, 48, 4);
        t += per * rng.uniform(0.97, 1.03);
      }
      evN = Math.min(evN, n);
    } else if (cls === C_MDNS4 || cls === C_MDNS6) {
      const span = Math.max(10.0, Math.min(D * rng.uniform(0.2, 1.0), D - f.start));
      let t = 0.0, i = 0;
      const per = Math.max(0.2, span / Math.max(1, n));
      while (i < n) {
        if (rng.random() < 0.1 && n - i >= 3) {
          for (const dt of [0.0, 1.0, 3.0]) push(t + dt, 0, rng.randint(120, 420), 1);
          i += 3;
          t += 3.0 * per;
        } else {
          push(t, 0, rng.randint(30, 120), 0);
          i += 1;
        }
        t += rng.expovariate(1.0 / per);
      }
    } else if (cls === C_SYSLOG) {
      const span = Math.max(10.0, Math.min(D * rng.uniform(0.2, 1.0), D - f.start));
      const per = Math.max(0.5, span / Math.max(1, n));
      let t = 0.0;
      for (let i = 0; i < n; i++) {
        push(t, 0, rng.randint(60, 300), 0);
        t += rng.expovariate(1.0 / per);
      }
    } else {
      throw new Error(`class ${cls}`);
    }
    return this.applyGaps(f, 0.0, []);
  }

  // -------------------------------------------------------------------------------------------------- frame writers
  /** Copy n pseudo-random bytes (from the 1 MiB pool, like gen_pcap.py's rnd()) to out at pos; returns new pos. */
  rnd(out, pos, n) {
    if (n <= 0) return pos;
    const o = this.poolOff;
    this.poolOff = (o + 1531) & 0x7ffff;
    this.pool.copy(out, pos, o, o + n);
    return pos + n;
  }

  /** Write the UDP payload of event (d, p, kind) of flow f at pos; returns the new pos. */
  payload(out, pos, f, d, p, kind) {
    if (p < 0) { const b = f.pl[-1 - p]; b.copy(out, pos); return pos + b.length; }
    switch (f.cls) {
      case C_VPN: {
        const x = f.extra;
        if (kind === 7) {
          out[pos] = 0x38; x.sidC.copy(out, pos + 1); out.fill(0, pos + 9, pos + 14); return pos + 14;
        }
        if (kind === 8) {
          out[pos] = 0x40; x.sidS.copy(out, pos + 1); out[pos + 9] = 1; out.fill(0, pos + 10, pos + 14);
          x.sidC.copy(out, pos + 14); out.fill(0, pos + 22, pos + 26); return pos + 26;
        }
        if (kind === 4 || kind === 5) {
          out[pos] = kind === 4 ? 0x20 : 0x28; (d === 0 ? x.sidC : x.sidS).copy(out, pos + 1); out[pos + 9] = kind === 4 ? 0 : 1;
          return this.rnd(out, pos + 10, p - 10);
        }
        out.writeUInt32BE((0x48000000 | x.peer) >>> 0, pos);
        return this.rnd(out, pos + 4, p - 4);
      }
      case C_WG: {
        out.writeUInt32BE(kind === 1 ? 0x01000000 : kind === 2 ? 0x02000000 : 0x04000000, pos);
        if (kind === 1) return this.rnd(out, pos + 4, 144);
        if (kind === 2) return this.rnd(out, pos + 4, 88);
        return this.rnd(out, pos + 4, Math.max(32, p & ~15) - 4);
      }
      case C_QUIC4: case C_QUIC6: {
        if (kind === 1 || kind === 2) {
          out[pos] = kind === 1 ? 0xc3 : 0xe3; out.writeUInt32BE(1, pos + 1); out[pos + 5] = 8;
          f.extra.copy(out, pos + 6); out[pos + 14] = 8;
          return this.rnd(out, pos + 15, p - 15);
        }
        out[pos] = 0x40 | (p & 0x1f); f.extra.copy(out, pos + 1);
        return this.rnd(out, pos + 9, p - 9);
      }
      case C_NTP4: case C_NTP6:
        out[pos] = kind === 3 ? 0x23 : 0x24;
        return this.rnd(out, pos + 1, 47);
      case C_MDNS4: case C_MDNS6: {
        if (kind === 1) return this.mdnsAnnounce(out, pos, f, p);
        MDNS_QUERY.copy(out, pos); return pos + MDNS_QUERY.length;
      }
      case C_SYSLOG:
        SYSLOG_PREFIX.copy(out, pos);
        return this.rnd(out, pos + SYSLOG_PREFIX.length, Math.max(0, p - 35));
      default:
        return this.rnd(out, pos, p);
    }
  }

  mdnsAnnounce(out, pos, f, p) {
    const name = Buffer.concat([Buffer.from([4, 0x68, 0x6f, 0x73, 0x74, (f.fid % 10) + 48]), MDNS_PTR]);
    let fill = Math.max(1, p - 12 - name.length - 10);
    let txtLen = 0;
    for (let r = fill; r > 0;) { const k = Math.min(r - 1, 200); txtLen += k + 1; r -= k + 1; }
    be16s(0, 0x8400, 0, 1, 0, 0).copy(out, pos); pos += 12;
    name.copy(out, pos); pos += name.length;
    out.writeUInt16BE(16, pos); out.writeUInt16BE(0x8001, pos + 2); out.writeUInt32BE(4500, pos + 4); out.writeUInt16BE(txtLen, pos + 8);
    pos += 10;
    while (fill > 0) {
      const k = Math.min(fill - 1, 200);
      out[pos++] = k; out.fill(0x6b, pos, pos + k); pos += k;
      fill -= k + 1;
    }
    return pos;
  }

  /** Write the frame of event (d, p, kind) of flow f at pos; returns the new pos. */
  frame(out, pos, f, d, p, kind) {
    const eth = f.eth[d];
    eth.copy(out, pos);
    const ipPos = pos + eth.length;
    const ipLen = f.fam === 4 ? 20 : 40;
    const l4 = ipPos + ipLen;
    let end;
    if (f.proto === 6) {
      const seq = f.seq;
      const flags = (p || kind !== 0x18) ? kind : 0x10;
      const hl = flags & 0x02 ? 40 : 20;
      out.writeUInt16BE(d === 0 ? f.sport : f.dport, l4); out.writeUInt16BE(d === 0 ? f.dport : f.sport, l4 + 2);
      out.writeUInt32BE(seq[d], l4 + 4); out.writeUInt32BE(seq[1 - d], l4 + 8);
      out[l4 + 12] = (hl / 4) << 4; out[l4 + 13] = flags;
      out.writeUInt16BE(d === 0 ? 64240 : 65160, l4 + 14);
      out.writeUInt32BE(0, l4 + 16);
      let q = l4 + 20;
      if (hl === 40) {
        TCP_SYN_OPT1.copy(out, q); q = this.rnd(out, q + 8, 8); TCP_SYN_OPT2.copy(out, q); q += 4;
      }
      end = p ? this.rnd(out, q, p) : q;
      seq[d] = (seq[d] + p + (flags & 0x03 ? 1 : 0)) >>> 0;
    } else {
      end = this.payload(out, l4 + 8, f, d, p, kind);
      out.writeUInt16BE(d === 0 ? f.sport : f.dport, l4); out.writeUInt16BE(d === 0 ? f.dport : f.sport, l4 + 2);
      out.writeUInt16BE(end - l4, l4 + 4); out.writeUInt16BE(f.fam === 4 ? 0 : 0xbeef, l4 + 6);
    }
    const l4len = end - l4;
    if (f.fam === 4) {
      const tl = 20 + l4len;
      const ident = f.ipid[d] = (f.ipid[d] + 1) & 0xffff;
      let s = f.ipsum[d] + tl + ident;
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      out[ipPos] = 0x45; out[ipPos + 1] = 0; out.writeUInt16BE(tl, ipPos + 2); out.writeUInt16BE(ident, ipPos + 4);
      out.writeUInt16BE(f.proto === 6 ? 0x4000 : 0, ipPos + 6); out[ipPos + 8] = f.ttl[d]; out[ipPos + 9] = f.proto;
      out.writeUInt16BE(~s & 0xffff, ipPos + 10);
      f.addr[d].copy(out, ipPos + 12);
    } else {
      out.writeUInt32BE(f.ipid[d], ipPos); out.writeUInt16BE(l4len, ipPos + 4); out[ipPos + 6] = f.proto; out[ipPos + 7] = f.ttl[d];
      f.addr[d].copy(out, ipPos + 8);
    }
    return end;
  }

  miscFrame(out, pos, i) {
    const rng = this.rng;
    const c = rng.randrange(N_CLIENTS);
    const start = pos;
    if (i % 3) {
      out.fill(0xff, pos, pos + 6); clientMac(c).copy(out, pos + 6); out.writeUInt16BE(0x0806, pos + 12);
      be16s(1, 0x0800).copy(out, pos + 14); out[pos + 18] = 6; out[pos + 19] = 4; out.writeUInt16BE(1, pos + 20);
      clientMac(c).copy(out, pos + 22); v4Client(c).copy(out, pos + 28); out.fill(0, pos + 32, pos + 38);
      v4Client(rng.randrange(N_CLIENTS)).copy(out, pos + 38); out.fill(0, pos + 42, pos + 60);
      return start + 60;
    }
    const src = v4Client(c), dst = ip4(10, 0, 0, 1);
    const tl = 20 + 64;
    let s = 0x4500 + tl + (64 << 8) + 1 + sum16(Buffer.concat([src, dst]));
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    GW_MAC.copy(out, pos); clientMac(c).copy(out, pos + 6); out.writeUInt16BE(0x0800, pos + 12);
    pos += 14;
    out[pos] = 0x45; out[pos + 1] = 0; out.writeUInt16BE(tl, pos + 2); out.writeUInt32BE(0, pos + 4);
    out[pos + 8] = 64; out[pos + 9] = 1; out.writeUInt16BE(~s & 0xffff, pos + 10);
    src.copy(out, pos + 12); dst.copy(out, pos + 16);
    pos += 20;
    out[pos] = 8; out[pos + 1] = 0; out.writeUInt16BE(0, pos + 2); out.writeUInt16BE(c & 0xffff, pos + 4); out.writeUInt16BE(i & 0xffff, pos + 6);
    return this.rnd(out, pos + 8, 56);
  }

  // -------------------------------------------------------------------------------------------------- main loop
  run() {
    const a = this.a;
    const snap = a.snaplen;
    const D = a.duration;
    const rng = this.rng;
    const F = this.nFlows, M = this.pMisc;
    // binary min-heap on (time, id); id >= 0 a flow, id < 0 the misc packet -1-id; state 0 = flow set up
    const cap = F + M;
    const hT = new Float64Array(cap), hI = new Int32Array(cap), hS = new Uint8Array(cap);
    let hn = 0;
    for (let i = 0; i < F; i++) { hT[hn] = this.fStart[i]; hI[hn] = i; hS[hn] = 1; hn++; }
    for (let i = 0; i < M; i++) { hT[hn] = rng.uniform(0, D); hI[hn] = -1 - i; hS[hn] = 2; hn++; }
    const less = (i, j) => hT[i] < hT[j] || (hT[i] === hT[j] && hI[i] < hI[j]);
    const swap = (i, j) => {
      const t = hT[i]; hT[i] = hT[j]; hT[j] = t;
      const x = hI[i]; hI[i] = hI[j]; hI[j] = x;
      const s = hS[i]; hS[i] = hS[j]; hS[j] = s;
    };
    const down = (i) => {
      for (;;) {
        const l = 2 * i + 1;
        if (l >= hn) return;
        let m = l;
        if (l + 1 < hn && less(l + 1, l)) m = l + 1;
        if (!less(m, i)) return;
        swap(i, m); i = m;
      }
    };
    const up = (i) => {
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(i, p)) return;
        swap(i, p); i = p;
      }
    };
    for (let i = (hn >> 1) - 1; i >= 0; i--) down(i);

    const live = new Array(F).fill(null);
    const fd = fs.openSync(a.out, 'w');
    const BUF = 16 << 20;
    const out = Buffer.alloc(BUF + (1 << 17));
    let pos = 0;
    let nbytes = 0, nfile = 0;
    const pcapng = a.pcapng;
    if (pcapng) {
      // SHB (28 bytes) + IDB (20 bytes)
      out.writeUInt32LE(0x0a0d0d0a, 0); out.writeUInt32LE(28, 4); out.writeUInt32LE(0x1a2b3c4d, 8);
      out.writeUInt16LE(1, 12); out.writeUInt16LE(0, 14); out.writeInt32LE(-1, 16); out.writeInt32LE(-1, 20); out.writeUInt32LE(28, 24);
      out.writeUInt32LE(1, 28); out.writeUInt32LE(20, 32); out.writeUInt16LE(1, 36); out.writeUInt16LE(0, 38);
      out.writeUInt32LE(snap, 40); out.writeUInt32LE(20, 44);
      pos = 48;
    } else {
      out.writeUInt32LE(0xa1b2c3d4, 0); out.writeUInt16LE(2, 4); out.writeUInt16LE(4, 6); out.writeInt32LE(0, 8);
      out.writeUInt32LE(0, 12); out.writeUInt32LE(snap, 16); out.writeUInt32LE(1, 20);
      pos = 24;
    }
    nfile = pos;
    let npk = 0;
    const pbc = {};
    let lastUs = 0;
    const hdrLen = pcapng ? 28 : 16;
    while (hn > 0) {
      const t0 = hT[0], id = hI[0], state = hS[0];
      let t = t0, cname, f = null;
      if (state === 1) { // first packet due: build the flow's events, requeue at its first event
        f = this.setup(t0, id, this.fCls[id], this.fN[id]);
        live[id] = f;
        hT[0] = f.et[0]; hS[0] = 0; down(0);
        continue;
      }
      const rec = pos;
      const fr = rec + hdrLen;
      let end;
      if (state === 2) {
        hn--; if (hn > 0) { hT[0] = hT[hn]; hI[0] = hI[hn]; hS[0] = hS[hn]; down(0); }
        end = this.miscFrame(out, fr, -1 - id);
        cname = 'misc';
      } else {
        f = live[id];
        const k = f.idx;
        t = f.et[k];
        const x = f.ex[k];
        end = this.frame(out, fr, f, (x >> 7) & 1, x >> 8, x & 127);
        f.idx = k + 1;
        if (f.idx < f.n) {
          const nt = f.et[f.idx];
          hT[0] = nt > t ? nt : t; down(0);
        } else {
          live[id] = null;
          hn--; if (hn > 0) { hT[0] = hT[hn]; hI[0] = hI[hn]; hS[0] = hS[hn]; down(0); }
        }
        cname = CLASS_NAMES[f.cls];
      }
      pbc[cname] = (pbc[cname] || 0) + 1;
      let us = t > 0 ? Math.round((T0 + t) * 1e6) : T0 * 1000000;
      if (us < lastUs) us = lastUs;
      lastUs = us;
      const wl = end - fr;
      const cl = wl > snap ? snap : wl;
      nbytes += wl;
      if (pcapng) {
        const pad = (-cl) & 3;
        const blen = 32 + cl + pad;
        const hi = Math.floor(us / 4294967296), lo = us - hi * 4294967296;
        out.writeUInt32LE(6, rec); out.writeUInt32LE(blen, rec + 4); out.writeUInt32LE(0, rec + 8);
        out.writeUInt32LE(hi, rec + 12); out.writeUInt32LE(lo, rec + 16); out.writeUInt32LE(cl, rec + 20); out.writeUInt32LE(wl, rec + 24);
        let q = fr + cl;
        for (let z = 0; z < pad; z++) out[q++] = 0;
        out.writeUInt32LE(blen, q);
        pos = q + 4;
        nfile += blen;
      } else {
        const sec = Math.floor(us / 1000000);
        out.writeUInt32LE(sec, rec); out.writeUInt32LE(us - sec * 1000000, rec + 4);
        out.writeUInt32LE(cl, rec + 8); out.writeUInt32LE(wl, rec + 12);
        pos = fr + cl;
        nfile += 16 + cl;
      }
      npk++;
      if (pos >= BUF) { writeAll(fd, out, pos); pos = 0; }
    }
    writeAll(fd, out, pos);
    fs.closeSync(fd);
    if (npk !== a.packets) throw new Error(`wrote ${npk} packets, want ${a.packets}`);
    const byClass = {};
    for (const k of Object.keys(pbc).sort()) byClass[k] = pbc[k];
    const classes = {};
    for (const k of Object.keys(this.stats.classes).sort()) classes[k] = this.stats.classes[k];
    return {
      args: { ...a, generator: 'scripts/gen-workload.mjs', generator_version: GENERATOR_VERSION },
      bytes_file: nfile,
      bytes_frames: nbytes,
      classes,
      duration_s: Math.round((lastUs / 1e6 - T0) * 1000) / 1000,
      flows: F,
      long_flows: this.nLong,
      mean_frame: Math.round(nbytes / Math.max(1, npk) * 10) / 10,
      misc_packets: M,
      // most 5-tuples alive at once under a plain idle timeout refreshed by packets in either direction
      peak_alive: Object.fromEntries(this.alive.map((al) => [`idle_${al.timeout}s`, al.peak()])),
      packets: npk,
      pkts_by_class: byClass,
      short_flows: this.nShort,
      vlan_flows: this.stats.vlan_flows,
    };
  }
}

/** Peak number of flows alive at once under an idle timeout: each flow's packets make [t, t + timeout) segments. */
class AliveCounter {
  constructor(timeout) {
    this.timeout = timeout;
    this.starts = new Float64Array(1 << 16);
    this.ends = new Float64Array(1 << 16);
    this.n = 0;
  }
  seg(a, b) {
    if (this.n === this.starts.length) {
      const s2 = new Float64Array(this.n * 2); s2.set(this.starts); this.starts = s2;
      const e2 = new Float64Array(this.n * 2); e2.set(this.ends); this.ends = e2;
    }
    this.starts[this.n] = a; this.ends[this.n] = b; this.n++;
  }
  add(et) {
    const T = this.timeout;
    let a = et[0], last = et[0];
    for (let i = 1; i < et.length; i++) {
      if (et[i] - last > T) { this.seg(a, last + T); a = et[i]; }
      last = et[i];
    }
    this.seg(a, last + T);
  }
  peak() {
    const s = this.starts.subarray(0, this.n).sort(), e = this.ends.subarray(0, this.n).sort();
    let i = 0, j = 0, cur = 0, best = 0;
    while (i < s.length) {
      if (s[i] < e[j]) { cur++; i++; if (cur > best) best = cur; } else { cur--; j++; }
    }
    return best;
  }
}

function writeAll(fd, buf, len) {
  let off = 0;
  while (off < len) off += fs.writeSync(fd, buf, off, len - off);
}

// ---------------------------------------------------------------------------------------------------- API / CLI
export function normalizeArgs(o) {
  const a = {
    packets: Math.trunc(o.packets ?? 1000000),
    flows: Math.trunc(o.flows ?? 0),
    seed: Math.trunc(o.seed ?? 1),
    duration: Number(o.duration ?? 4 * 3600),
    snaplen: Math.trunc(o.snaplen ?? 65535),
    bulk: Number(o.bulk ?? 0.03),
    pcapng: Boolean(o.pcapng),
  };
  if (a.flows <= 0) a.flows = Math.max(1, Math.floor(a.packets / 40));
  return a;
}

/** Generate a capture; returns the summary (also written to OUT.json). */
export function generate(opts, out) {
  const a = { ...normalizeArgs(opts), out };
  const st = new Gen(a).run();
  fs.writeFileSync(out + '.json', JSON.stringify(st, null, 1) + '\n');
  return st;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Cache key: every argument that changes the bytes, plus GENERATOR_VERSION and a hash of this file. */
export function workloadPath(opts, cacheDir) {
  const a = normalizeArgs(opts);
  const self = fs.readFileSync(fileURLToPath(import.meta.url));
  const key = createHash('sha256').update(JSON.stringify({ ...a, v: GENERATOR_VERSION })).update(self).digest('hex').slice(0, 12);
  const name = `udp-${a.packets}p-${a.flows}f-${a.duration}s-seed${a.seed}-v${GENERATOR_VERSION}-${key}.${a.pcapng ? 'pcapng' : 'pcap'}`;
  return path.join(cacheDir, name);
}

/** Path of the cached workload for opts, generated first (in a child process) when missing. */
export function ensureWorkload(opts, cacheDir = path.join(HERE, '..', '.bench-cache'), log = (s) => process.stderr.write(s)) {
  const file = workloadPath(opts, cacheDir);
  if (fs.existsSync(file) && fs.existsSync(file + '.json')) {
    return { file, summary: JSON.parse(fs.readFileSync(file + '.json', 'utf8')), cached: true };
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const a = normalizeArgs(opts);
  const tmp = `${file}.tmp-${process.pid}`;
  const args = [fileURLToPath(import.meta.url), '--packets', String(a.packets), '--flows', String(a.flows), '--seed', String(a.seed),
    '--duration', String(a.duration), '--snaplen', String(a.snaplen), '--bulk', String(a.bulk), '--out', tmp, '--quiet'];
  if (a.pcapng) args.push('--pcapng');
  log(`generating ${path.basename(file)} ... `);
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`gen-workload failed (${r.status ?? r.signal})`);
  fs.renameSync(tmp + '.json', file + '.json');
  fs.renameSync(tmp, file);
  log(`${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s\n`);
  return { file, summary: JSON.parse(fs.readFileSync(file + '.json', 'utf8')), cached: false };
}

function parseCli(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${k} needs a value`); return argv[++i]; };
    switch (k) {
      case '--packets': o.packets = Number(val()); break;
      case '--flows': o.flows = Number(val()); break;
      case '--seed': o.seed = Number(val()); break;
      case '--duration': o.duration = Number(val()); break;
      case '--snaplen': o.snaplen = Number(val()); break;
      case '--bulk': o.bulk = Number(val()); break;
      case '--pcapng': o.pcapng = true; break;
      case '--out': o.out = val(); break;
      case '--quiet': o.quiet = true; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${k}`);
    }
  }
  for (const k of ['packets', 'flows', 'seed', 'duration', 'snaplen', 'bulk']) {
    if (o[k] !== undefined && !Number.isFinite(o[k])) usage(`--${k} must be a number`);
  }
  if (!o.out) usage('--out is required');
  return o;
}

function usage(msg) {
  if (msg) process.stderr.write(`gen-workload: ${msg}\n`);
  process.stderr.write('usage: node scripts/gen-workload.mjs [--packets N] [--flows N] [--duration S] [--seed N] ' +
    '[--snaplen N] [--bulk P] [--pcapng] --out FILE\n');
  process.exit(msg ? 2 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseCli(process.argv.slice(2));
  const st = generate(o, o.out);
  if (!o.quiet) process.stderr.write(JSON.stringify(st, null, 1) + '\n');
}
