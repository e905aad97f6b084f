/**
 * Zeek's conn.log (TSV with its header lines), so Zeek-based tooling reads udptrack's flows unchanged
 * (../shared/docs/behaviour.md §2; Zeek scripts/base/protocols/conn/main.zeek). UDP semantics as Zeek's:
 * the originator is the first sender unless that packet came from a likely server port and went to one that is
 * not (then roles flip and history starts with `^`); conn_state SF/S0/SHR/OTH; history D/d once per direction;
 * duration and byte counts unset for a flow of zero duration. Header times come from packet time (not the wall
 * clock) so the log is reproducible.
 */
import { formatAddress } from '../address.js';
import type { Flow } from '../flow/table.js';

/**
 * Zeek's likely_server_ports for UDP: the server ports its analyzers register (DNS 53/137/5353/5355, DHCP 67/4011,
 * NTP 123, SNMP 161/162, syslog 514, RADIUS 1812/1813, SIP 5060, Kerberos 88/750, NetBIOS 138, Teredo 3544,
 * VXLAN 4789, GTP 2123/2152, Geneve 6081, AYIYA 5072). Client ports (DHCP 68) and OpenVPN/WireGuard/QUIC are not.
 */
const LIKELY_SERVER_PORTS: ReadonlySet<number> = new Set([53, 67, 88, 123, 137, 138, 161, 162, 514, 750, 1812, 1813, 2123, 2152, 3544, 4011, 4789, 5060, 5072, 5353, 5355, 6081]);

const FIELDS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes', 'resp_bytes',
  'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'tunnel_parents',
];
const TYPES = [
  'time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count',
  'string', 'bool', 'bool', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]',
];

/** Zeek's `#open`/`#close` stamp format, from packet time: `2026-11-20-08-00-00`. */
function zeekStamp(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');
}

/** The header lines; `openUs` is the first packet's time. */
export function renderConnLogHeader(openUs: number): string {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tconn',
    `#open\t${zeekStamp(openUs)}`,
    `#fields\t${FIELDS.join('\t')}`,
    `#types\t${TYPES.join('\t')}`,
  ].join('\n') + '\n';
}

/** The closing line; `closeUs` is the last packet's time. */
export function renderConnLogFooter(closeUs: number): string {
  return `#close\t${zeekStamp(closeUs)}\n`;
}

/** A Zeek-style connection uid, deterministic from the flow (Zeek's are random: "C" + base62). */
export function connUid(flow: Flow): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let x = BigInt(flow.firstUs) * 1_000_003n + BigInt(flow.id) * 2_654_435_761n + BigInt(flow.portA) * 65_537n + BigInt(flow.portB);
  x &= (1n << 96n) - 1n;
  let out = '';
  for (let i = 0; i < 17; i++) {
    out += alphabet[Number(x % 62n)];
    x /= 62n;
    if (x === 0n) x = BigInt(flow.id) * 97n + BigInt(i) + 1n;
  }
  return `C${out}`;
}

function zeekTime(us: number): string {
  return (us / 1e6).toFixed(6);
}

/** One conn.log line for a flow. */
export function renderConnLogLine(flow: Flow): string {
  // Zeek's UDP WantConnection: flip when the first packet came from a likely server port to one that is not.
  const firstFromA = flow.opener === 'a';
  const firstSrcPort = firstFromA ? flow.portA : flow.portB;
  const firstDstPort = firstFromA ? flow.portB : flow.portA;
  const flipped = LIKELY_SERVER_PORTS.has(firstSrcPort) && !LIKELY_SERVER_PORTS.has(firstDstPort);
  const origIsA = firstFromA !== flipped;
  const orig = origIsA ? flow.fromA : flow.fromB;
  const resp = origIsA ? flow.fromB : flow.fromA;
  const origAddr = formatAddress(origIsA ? flow.addrA : flow.addrB, 0, flow.ipVersion);
  const respAddr = formatAddress(origIsA ? flow.addrB : flow.addrA, 0, flow.ipVersion);
  const origPort = origIsA ? flow.portA : flow.portB;
  const respPort = origIsA ? flow.portB : flow.portA;
  const durationUs = flow.lastUs - flow.firstUs;
  const connState = orig.packets > 0 && resp.packets > 0 ? 'SF' : orig.packets > 0 ? 'S0' : resp.packets > 0 ? 'SHR' : 'OTH';
  // History: one letter per direction, in the order the directions were first seen; upper case = originator.
  const letters: Array<[number, string]> = [];
  if (orig.packets > 0) letters.push([orig.firstUs, 'D']);
  if (resp.packets > 0) letters.push([resp.firstUs, 'd']);
  letters.sort((x, y) => x[0] - y[0] || (x[1] === 'D' ? -1 : 1));
  const history = (flipped ? '^' : '') + letters.map(([, l]) => l).join('');
  const localOrig = flow.localSide === undefined ? '-' : (flow.localSide === 'a') === origIsA ? 'T' : 'F';
  const localResp = flow.localSide === undefined ? '-' : localOrig === 'T' ? 'F' : 'T';
  const hasDuration = durationUs > 0;
  return [
    zeekTime(flow.firstUs),
    connUid(flow),
    origAddr,
    String(origPort),
    respAddr,
    String(respPort),
    'udp',
    flow.service === '' ? '-' : flow.service,
    hasDuration ? (durationUs / 1e6).toFixed(6) : '-',
    hasDuration ? String(orig.payloadBytes) : '-',
    hasDuration ? String(resp.payloadBytes) : '-',
    connState,
    localOrig,
    localResp,
    '0',
    history,
    String(orig.packets),
    String(orig.ipBytes),
    String(resp.packets),
    String(resp.ipBytes),
    '-',
  ].join('\t');
}
