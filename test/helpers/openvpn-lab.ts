/**
 * A small OpenVPN lab for real-kernel tests of `udptrack explain`: a throwaway PKI made in-process (no openssl CLI,
 * which Debian's openvpn package only suggests), a protected-client firewall (nftables with a short `ct timeout`
 * and an input chain that NFLOG-logs and drops new inbound UDP), stock OpenVPN client and server processes in
 * network namespaces, and small waits on what the processes print or what a capture file holds.
 *
 * Builds on test/helpers/netns.ts (namespaces, veth pairs, tcpdump, the independent pcap reader).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hasCommand } from './cli.js';
import { NsProcess, readPcap, sleep, type PcapRecord } from './netns.js';

// --- a throwaway PKI, DER by hand -----------------------------------------------------------------------------------

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]): Buffer => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => der(0x31, Buffer.concat(items));
const bool = (v: boolean): Buffer => der(0x01, Buffer.from([v ? 0xff : 0x00]));
const octets = (b: Buffer): Buffer => der(0x04, b);
const bits = (b: Buffer, unused = 0): Buffer => der(0x03, Buffer.concat([Buffer.from([unused]), b]));
const utf8 = (s: string): Buffer => der(0x0c, Buffer.from(s, 'utf8'));
const explicit = (n: number, inner: Buffer): Buffer => der(0xa0 | n, inner);

function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
  if (v[0]! >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return der(0x02, v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const text = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return der(0x17, Buffer.from(text, 'ascii'));
}

const name = (cn: string): Buffer => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer): Buffer => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

interface Issued {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  cn: string;
}

function issue(cn: string, role: 'ca' | 'server' | 'client', issuer: Issued | undefined): Issued {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const serial = randomBytes(8);
  serial[0] = serial[0]! & 0x7f | 0x01;
  const extensions =
    role === 'ca'
      ? [
          extension('2.5.29.19', true, seq(bool(true))), // basicConstraints CA:TRUE
          extension('2.5.29.15', true, bits(Buffer.from([0x06]), 1)), // keyUsage keyCertSign, cRLSign
        ]
      : [
          extension('2.5.29.19', true, seq()), // basicConstraints CA:FALSE
          extension('2.5.29.15', true, bits(Buffer.from([0x80]), 7)), // keyUsage digitalSignature
          extension('2.5.29.37', false, seq(oid(role === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2'))), // extKeyUsage
        ];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ECDSA_SHA256,
    name(issuer?.cn ?? cn),
    seq(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 86_400_000))),
    name(cn),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: issuer?.key ?? privateKey, dsaEncoding: 'der' });
  const cert = seq(tbs, ECDSA_SHA256, bits(signature));
  const certPem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), key: privateKey, cn };
}

/** File names of a lab PKI. */
export interface PkiFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A CA, a server and a client certificate (EC P-256, ECDSA-SHA256, valid ±1 day, with the key usages OpenVPN's
 * `--remote-cert-tls` checks), written as PEM into `dir`. Verified with node:crypto before use.
 */
export function makePki(dir: string): PkiFiles {
  const ca = issue('udptrack-lab-ca', 'ca', undefined);
  const server = issue('udptrack-lab-server', 'server', ca);
  const client = issue('udptrack-lab-client', 'client', ca);
  const caX509 = new X509Certificate(ca.certPem);
  for (const leaf of [server, client]) {
    const x = new X509Certificate(leaf.certPem);
    if (!x.verify(caX509.publicKey) || !x.checkIssued(caX509)) throw new Error(`lab PKI: ${leaf.cn} does not verify against the CA`);
    if (!x.checkPrivateKey(createPrivateKey(leaf.keyPem))) throw new Error(`lab PKI: ${leaf.cn} key mismatch`);
  }
  if (!caX509.verify(createPublicKey(ca.certPem))) throw new Error('lab PKI: CA self-signature does not verify');
  const files: PkiFiles = {
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.serverCert, server.certPem);
  writeFileSync(files.serverKey, server.keyPem, { mode: 0o600 });
  writeFileSync(files.clientCert, client.certPem);
  writeFileSync(files.clientKey, client.keyPem, { mode: 0o600 });
  return files;
}

// --- can this machine run the lab? --------------------------------------------------------------------------------

/**
 * What stops the OpenVPN lab from running here, beyond kernelTestBlockers() (root, namespaces, nftables, nflog):
 * the openvpn binary, the tun character device, and creating a tun device inside a namespace.
 */
export function openvpnLabBlockers(): string[] {
  const blockers: string[] = [];
  if (!hasCommand('openvpn')) blockers.push('openvpn is not on PATH (apt-get install openvpn)');
  else {
    const v = openvpnVersion();
    if (v === undefined) blockers.push('openvpn --version printed no version');
    else if (v.major < 2 || (v.major === 2 && v.minor < 5)) blockers.push(`OpenVPN ${v.text} is older than 2.5 (the lab uses --dh none, ECDH and its 2.5+ log lines)`);
  }
  if (!existsSync('/dev/net/tun')) blockers.push('/dev/net/tun does not exist (no tun support in this kernel/container)');
  else if (!statSync('/dev/net/tun').isCharacterDevice()) blockers.push('/dev/net/tun is not a character device');
  if (blockers.length > 0) return blockers;
  const probe = `udptrack-tunprobe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return [`cannot create a network namespace (ip netns add: ${oneLine(add.stderr)})`];
  try {
    const tun = spawnSync('ip', ['netns', 'exec', probe, 'ip', 'tuntap', 'add', 'dev', 'utprobe0', 'mode', 'tun'], { encoding: 'utf8' });
    if (tun.status !== 0) blockers.push(`cannot create a tun device in a namespace (ip tuntap add: ${oneLine(tun.stderr)})`);
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
  return blockers;
}

let versionCache: { major: number; minor: number; text: string } | undefined | null = null;

/** The installed OpenVPN's version (`OpenVPN 2.6.14 x86_64-pc-linux-gnu …`). */
export function openvpnVersion(): { major: number; minor: number; text: string } | undefined {
  if (versionCache !== null) return versionCache;
  const out = spawnSync('openvpn', ['--version'], { encoding: 'utf8' });
  const m = /OpenVPN (\d+)\.(\d+)(\.\S+)?/.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`);
  versionCache = m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]), text: `${m[1]}.${m[2]}${m[3] ?? ''}` };
  return versionCache;
}

/** `--disable-dco` where it exists (2.6+): keep the data channel in userspace even if a DCO module is loaded. */
function noDco(): string[] {
  const v = openvpnVersion();
  return v !== undefined && (v.major > 2 || (v.major === 2 && v.minor >= 6)) ? ['--disable-dco'] : [];
}

function oneLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n').join(' / ') || 'no message';
}

// --- the protected client's firewall -----------------------------------------------------------------------------

/**
 * nftables for the protected client: a `ct timeout` object for UDP attached to new outbound flows in an output
 * chain at priority filter (at raw there is no conntrack entry yet and the object is silently ignored), and an input
 * chain that accepts established/related traffic and NFLOG-logs then drops every other UDP packet arriving on the
 * physical interface `ifname` (the tunnel's inner traffic on tun0 is not filtered). nft 1.0.6 wants bare seconds.
 */
export function clientFirewall(o: { ifname: string; group: number; prefix: string; unrepliedS: number; repliedS: number }): string {
  return `table ip udptrack {
  ct timeout udp_short {
    protocol udp;
    l3proto ip;
    policy = { unreplied : ${o.unrepliedS}, replied : ${o.repliedS} }
  }
  chain output {
    type filter hook output priority filter; policy accept;
    meta l4proto udp ct state new ct timeout set "udp_short"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    iifname "${o.ifname}" meta l4proto udp counter log prefix "${o.prefix}" group ${o.group} drop
  }
}
`;
}

// --- OpenVPN command lines ----------------------------------------------------------------------------------------

/** Stock OpenVPN server: TLS mode (opcodes and session ids visible on the wire), tun, UDP/IPv4, no DCO (2.6+). */
export function openvpnServerArgv(o: { pki: PkiFiles; local: string; port: number; pingS: number; pingRestartS: number; duplicateCn?: boolean }): string[] {
  return [
    'openvpn', '--dev', 'tun', '--topology', 'subnet', '--server', '10.8.0.0', '255.255.255.0',
    '--proto', 'udp4', '--local', o.local, '--port', String(o.port),
    '--ca', o.pki.ca, '--cert', o.pki.serverCert, '--key', o.pki.serverKey, '--dh', 'none',
    '--ping', String(o.pingS), '--ping-restart', String(o.pingRestartS),
    ...(o.duplicateCn ? ['--duplicate-cn'] : []),
    ...noDco(), '--verb', '3',
  ];
}

/** Stock OpenVPN client: `--nobind`, so every start gets a new ephemeral source port (as OpenVPN ≥ 2.6 clients do). */
export function openvpnClientArgv(o: { pki: PkiFiles; remote: string; port: number; pingS: number; explicitExitNotify?: number }): string[] {
  return [
    'openvpn', '--client', '--dev', 'tun', '--proto', 'udp4', '--remote', o.remote, String(o.port), '--nobind',
    '--ca', o.pki.ca, '--cert', o.pki.clientCert, '--key', o.pki.clientKey, '--remote-cert-tls', 'server',
    '--ping', String(o.pingS),
    ...(o.explicitExitNotify !== undefined ? ['--explicit-exit-notify', String(o.explicitExitNotify)] : []),
    ...noDco(), '--verb', '3',
  ];
}

// --- waiting ------------------------------------------------------------------------------------------------------

/** Poll `predicate` until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs: number, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Wait until the process prints `pattern` on stdout or stderr (OpenVPN logs to stdout); rejects if it exits first. */
export async function waitForOutput(proc: NsProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.stdout) && !pattern.test(proc.stderr)) {
    if (!proc.running) throw new Error(`${proc.argv.join(' ')} exited before printing ${pattern}:\n${proc.stdout.slice(-3000)}${proc.stderr.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${proc.argv.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${proc.stdout.slice(-3000)}${proc.stderr.slice(-2000)}`);
    await sleep(50);
  }
}

/** The records of a pcap file that a running tcpdump is writing (none while its header is not out yet). */
export function pcapRecordsSoFar(file: string): PcapRecord[] {
  if (!existsSync(file) || statSync(file).size < 24) return [];
  return readPcap(file);
}

// --- what a datagram carries --------------------------------------------------------------------------------------

/** OpenVPN's visible header (ssl_pkt.h): opcode in the top 5 bits of byte 0, the sender's session id on control packets. */
export function openvpnHeaderOf(payload: Buffer): { opcode: number; session: string } {
  const opcode = payload.length > 0 ? payload[0]! >> 3 : -1;
  const control = opcode >= 1 && opcode <= 11 && opcode !== 6 && opcode !== 9;
  return { opcode, session: control && payload.length >= 9 ? payload.subarray(1, 9).toString('hex') : '' };
}

/** A minimal BOOTP/DHCPOFFER (RFC 2131) from `server` offering `yiaddr`. */
export function dhcpOfferPayload(server: string, yiaddr: string): Buffer {
  const ip = (a: string): number[] => a.split('.').map(Number);
  const b = Buffer.alloc(240);
  b[0] = 2; // BOOTREPLY
  b[1] = 1; // Ethernet
  b[2] = 6;
  b.writeUInt32BE(0x3903f326, 4); // xid
  Buffer.from(ip(yiaddr)).copy(b, 16);
  Buffer.from(ip(server)).copy(b, 20);
  Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]).copy(b, 28); // chaddr
  b.writeUInt32BE(0x63825363, 236); // magic cookie
  const options = Buffer.from([53, 1, 2, 54, 4, ...ip(server), 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 255, 0, 255]);
  return Buffer.concat([b, options]);
}

/** A minimal mDNS query (RFC 6762) for `_services._dns-sd._udp.local` PTR. */
export function mdnsQueryPayload(): Buffer {
  const labels = ['_services', '_dns-sd', '_udp', 'local'];
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), qname, Buffer.from([0, 12, 0, 1])]);
}

// --- small UDP actors, run with the test's own Node in a namespace ------------------------------------------------

/** A datagram for the `send` actor: payload in hex, `delayMs` after the previous one. */
export interface ActorSend {
  dst: string;
  dport: number;
  hex: string;
  delayMs: number;
}

/**
 * The actors (one script, a mode each):
 * - send: bind `addr:port`, send `sends` in order (SO_BROADCAST / multicast out of `addr` when asked), exit.
 * - stream: bind every `binds` entry; once a peer has sent to a socket, send it `stream#n` every `intervalMs`.
 * - keeper: bind every `socks` entry and send `hello` to its `dst`; on SIGUSR2 send `again` on every socket
 *   and print `again <ms>`; prints `ready` once all hellos are out.
 * - mdns-listener: join 224.0.0.251 on `addr` at port 5353, as an mDNS responder does; prints `ready`.
 */
const UDP_ACTOR_SCRIPT = `
const dgram = require('node:dgram');
const spec = JSON.parse(process.argv[1]);
const fail = (m) => { process.stderr.write(m + '\\n'); process.exit(3); };
if (spec.mode === 'send') {
  const s = dgram.createSocket('udp4');
  s.on('error', (e) => fail('send: ' + e.message));
  s.bind(spec.port, spec.addr, async () => {
    if (spec.broadcast) s.setBroadcast(true);
    if (spec.multicast) { s.setMulticastInterface(spec.addr); s.setMulticastTTL(255); }
    for (const d of spec.sends) {
      await new Promise((r) => setTimeout(r, d.delayMs));
      await new Promise((r, j) => s.send(Buffer.from(d.hex, 'hex'), d.dport, d.dst, (e) => (e ? j(e) : r())));
    }
    s.close();
  });
} else if (spec.mode === 'stream') {
  let n = 0;
  for (const b of spec.binds) {
    const s = dgram.createSocket('udp4');
    let peer;
    s.on('error', (e) => fail('stream ' + b.port + ': ' + e.message));
    s.on('message', (m, r) => { peer = r; });
    s.bind(b.port, b.addr);
    setInterval(() => { if (peer) s.send('stream#' + ++n, peer.port, peer.address); }, spec.intervalMs);
  }
  process.stdout.write('ready\\n');
} else if (spec.mode === 'keeper') {
  const socks = [];
  let ready = 0;
  for (const k of spec.socks) {
    const s = dgram.createSocket('udp4');
    s.on('error', (e) => fail('keeper ' + k.port + ': ' + e.message));
    s.on('message', () => {});
    s.bind(k.port, k.addr, () => s.send('hello', k.dport, k.dst, () => { if (++ready === spec.socks.length) process.stdout.write('ready\\n'); }));
    socks.push([s, k]);
  }
  process.on('SIGUSR2', () => {
    for (const [s, k] of socks) s.send('again', k.dport, k.dst);
    process.stdout.write('again ' + Date.now() + '\\n');
  });
} else if (spec.mode === 'mdns-listener') {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  s.on('error', (e) => fail('mdns: ' + e.message));
  s.bind(5353, () => { s.addMembership('224.0.0.251', spec.addr); process.stdout.write('ready\\n'); });
} else fail('unknown mode ' + spec.mode);
`;

export type ActorSpec =
  | { mode: 'send'; addr: string; port: number; sends: ActorSend[]; broadcast?: boolean; multicast?: boolean }
  | { mode: 'stream'; binds: Array<{ addr: string; port: number }>; intervalMs: number }
  | { mode: 'keeper'; socks: Array<{ addr: string; port: number; dst: string; dport: number }> }
  | { mode: 'mdns-listener'; addr: string };

/** Start a UDP actor in `ns`. */
export function startActor(ns: string, spec: ActorSpec): NsProcess {
  return new NsProcess(ns, [process.execPath, '-e', UDP_ACTOR_SCRIPT, JSON.stringify(spec)]);
}

/** Run a `send` actor to completion; throws with its stderr on failure. */
export async function sendDatagrams(
  ns: string,
  addr: string,
  port: number,
  sends: ActorSend[],
  options: { broadcast?: boolean; multicast?: boolean } = {},
): Promise<void> {
  const proc = startActor(ns, { mode: 'send', addr, port, sends, ...options });
  const { code, signal } = await proc.exited;
  if (code !== 0) throw new Error(`UDP sender in ${ns} failed (${code ?? signal}): ${oneLine(proc.stderr)}`);
}

/**
 * The packet's own time in an NFLOG record (NFULA_TIMESTAMP, TLV 3: u64 seconds and u64 microseconds, big-endian),
 * in µs; undefined when the kernel did not stamp it. libpcap stamps NFLOG records with the time it *read* them, and
 * the kernel hands them over in batches (nfnetlink_log flushes after 1 s or a full buffer), so the record header's
 * time can be up to a second late; this one is not.
 */
export function nflogPacketTimeUs(record: PcapRecord): number | undefined {
  if (record.linktype !== 239) return undefined;
  const d = record.data;
  let offset = 4;
  while (offset + 4 <= d.length) {
    const length = d.readUInt16LE(offset);
    const type = d.readUInt16LE(offset + 2) & 0x7fff;
    if (length < 4 || offset + length > d.length) return undefined;
    if (type === 3 && length >= 20) return Number(d.readBigUInt64BE(offset + 4)) * 1_000_000 + Number(d.readBigUInt64BE(offset + 12));
    offset += (length + 3) & ~3;
  }
  return undefined;
}
