/**
 * One decoded packet as the classifier sees it (`ObservedPacket`): its flow from the host's side, its service and
 * OpenVPN header, whether it was denied. Shared by `explain` (a whole capture/log at once) and `tail` (packets as
 * they arrive), so both classify the same packet the same way.
 */
import { formatAddress, isGroupAddressText } from '../address.js';
import type { ObservedPacket } from '../classify/explain.js';
import { guessService } from '../decode/app/fingerprint.js';
import { decodeOpenvpnHeader } from '../decode/app/openvpn.js';
import type { Denial, PacketRole } from '../flow/table.js';
import type { CaptureRecord, DecodedPacket } from '../types.js';

/** NFLOG records whose prefix matches this are denials when no --deny-prefix is given. */
const DEFAULT_DENY_PREFIX = /drop|deny|block|reject/i;

/** A UDP datagram a firewall's state table would see (not a later fragment, lengths consistent). */
export function isUdp(pkt: DecodedPacket): boolean {
  return pkt.hasUdp && pkt.ipProto === 17 && !pkt.portsFromFirstFragment && !(pkt.issue !== null && pkt.issue.kind === 'invalid');
}

/** An ICMP/ICMPv6 error quoting a UDP datagram: explained as `icmp-error` against the quoted flow. */
export function isIcmpErrorAboutUdp(pkt: DecodedPacket): boolean {
  return pkt.hasQuotedUdp && (pkt.ipProto === 1 || pkt.ipProto === 58);
}

/** Whether a record comes from a firewall log (pflog, NFLOG) rather than a plain capture. */
export function isLogRecord(pkt: DecodedPacket): boolean {
  return pkt.pflog !== undefined || pkt.nflog !== undefined;
}

/** Is this log record a denial? pflog: a block action; NFLOG: the prefix; anything else: every record is one. */
export function isLoggedDenial(pkt: DecodedPacket, denyPrefix: string | undefined): boolean {
  if (pkt.pflog !== undefined) return pkt.pflog.action !== 0 && pkt.pflog.actionName !== 'match' && pkt.pflog.actionName !== 'scrub';
  if (pkt.nflog !== undefined) {
    return denyPrefix === undefined ? DEFAULT_DENY_PREFIX.test(pkt.nflog.prefix) : pkt.nflog.prefix.toLowerCase().includes(denyPrefix.toLowerCase());
  }
  return true;
}

/**
 * The packet's own time in µs. NFLOG records reach libpcap in batches (flushed after up to 1 s), so the capture's
 * record time is when they were read; the kernel's NFULA_TIMESTAMP (formats.md §5.3) is the packet's own, when the
 * hook has one.
 */
export function packetTimeUs(pkt: DecodedPacket, record: CaptureRecord): number {
  const nflog = pkt.nflog;
  if (nflog !== undefined && nflog.tsSec !== undefined && nflog.tsUsec !== undefined) return nflog.tsSec * 1_000_000 + nflog.tsUsec;
  return record.tsSec * 1_000_000 + Math.floor(record.tsNsec / 1000);
}

/** Where a packet sits in its timeline. */
export interface ObservedPlace {
  index: number;
  frame: number;
  source: 'capture' | 'log';
  tsUs: number;
}

/**
 * A UDP packet the flow table just observed, seen from the host. `service` is the payload's fingerprint only (''
 * when the payload does not say): a flow's service is its first fingerprint, else the port guess, which the caller
 * assigns once it knows the flow's packets.
 */
export function observedUdpPacket(pkt: DecodedPacket, role: PacketRole, place: ObservedPlace, denied: boolean, denial: Denial | undefined): ObservedPacket {
  const fromLocal = role === 'outbound' || role === 'local';
  const v = pkt.ipVersion === 6 ? 6 : 4;
  const src = formatAddress(pkt.data, pkt.srcAddrOffset, v);
  const dst = formatAddress(pkt.data, pkt.dstAddrOffset, v);
  const guess = guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort);
  const ov = guess.service === 'openvpn' || pkt.srcPort === 1194 || pkt.dstPort === 1194 ? decodeOpenvpnHeader(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes) : undefined;
  return {
    index: place.index,
    frame: place.frame,
    source: place.source,
    tsUs: place.tsUs,
    localAddr: fromLocal ? src : dst,
    localPort: fromLocal ? pkt.srcPort : pkt.dstPort,
    remoteAddr: fromLocal ? dst : src,
    remotePort: fromLocal ? pkt.dstPort : pkt.srcPort,
    fromLocal,
    service: guess.by === 'payload' ? guess.service : '',
    openvpnOpcode: ov?.opcode ?? -1,
    openvpnOpcodeName: ov?.opcodeName ?? '',
    openvpnSession: ov?.sessionId ?? '',
    payloadBytes: pkt.payloadLenBytes,
    multicast: denial?.multicast ?? isGroupAddressText(dst),
    denied,
    denial,
  };
}

/**
 * An ICMP error about a UDP flow that the flow table just observed: the packet is seen from the host, with the quoted
 * flow's endpoints. An error sent to the host is about a datagram the host sent (quoted source = local), and the
 * other way round.
 */
export function observedIcmpError(pkt: DecodedPacket, role: PacketRole, place: ObservedPlace, denied: boolean, denial: Denial | undefined): ObservedPacket {
  const fromLocal = role === 'outbound' || role === 'local';
  const v = pkt.ipVersion === 6 ? 6 : 4;
  const q = pkt.quotedIpVersion === 6 ? 6 : 4;
  const quotedSrc = formatAddress(pkt.data, pkt.quotedSrcAddrOffset, q);
  const quotedDst = formatAddress(pkt.data, pkt.quotedDstAddrOffset, q);
  return {
    index: place.index,
    frame: place.frame,
    source: place.source,
    tsUs: place.tsUs,
    localAddr: fromLocal ? quotedDst : quotedSrc,
    localPort: fromLocal ? pkt.quotedDstPort : pkt.quotedSrcPort,
    remoteAddr: fromLocal ? quotedSrc : quotedDst,
    remotePort: fromLocal ? pkt.quotedSrcPort : pkt.quotedDstPort,
    fromLocal,
    service: '',
    openvpnOpcode: -1,
    openvpnOpcodeName: '',
    openvpnSession: '',
    payloadBytes: 0,
    multicast: false,
    icmp: { type: pkt.icmpType, code: pkt.icmpCode, sender: formatAddress(pkt.data, pkt.srcAddrOffset, v) },
    denied,
    denial,
  };
}

/** A flow's service when no payload fingerprint named it: the port guess ('' when the ports say nothing). */
export function portService(remotePort: number, localPort: number): string {
  return guessService(new Uint8Array(0), 0, 0, remotePort, localPort).service || '';
}
