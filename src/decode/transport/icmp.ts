/**
 * ICMP and ICMPv6 errors that quote a UDP datagram. Such an error says something about a UDP flow (a closed
 * port, a firewall reject, an expired route), so the quoted 5-tuple is kept: it is the original datagram, in its
 * forward direction (formats.md §6; RFC 792, RFC 1812 §4.3.2.3, RFC 4443 §2.4).
 */
import { IPPROTO } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { truncated } from '../issue.js';

/** ICMP header: type, code, checksum, 4 bytes of type-specific data; the quote follows. */
const ICMP_HEADER_BYTES = 8;

/** ICMPv4 types that quote the invoking datagram (RFC 792): unreachable, source quench, redirect, time exceeded, parameter problem. */
const ICMP4_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);

/** Decode an ICMPv4 header at `offset`; for errors, the quoted IPv4 header and UDP ports. */
export function decodeIcmp4(pkt: MutableDecodedPacket, offset: number): number {
  return decodeIcmp(pkt, offset, 4);
}

/** Decode an ICMPv6 header at `offset`; for errors (type < 128, RFC 4443 §2.1), the quoted IPv6 datagram. */
export function decodeIcmp6(pkt: MutableDecodedPacket, offset: number): number {
  return decodeIcmp(pkt, offset, 6);
}

function decodeIcmp(pkt: MutableDecodedPacket, offset: number, version: 4 | 6): number {
  const layer = version === 4 ? 'icmp' : 'icmpv6';
  const data = pkt.data;
  const available = pkt.netEnd - offset;
  if (available < 2) return truncated(pkt, layer, `${layer}-header-truncated`, offset, ICMP_HEADER_BYTES, Math.max(available, 0));
  pkt.icmpType = data[offset]!; // SAFETY: 2 bytes checked above
  pkt.icmpCode = data[offset + 1]!;
  const isError = version === 4 ? ICMP4_ERROR_TYPES.has(pkt.icmpType) : pkt.icmpType < 128;
  if (!isError) return offset + Math.min(available, ICMP_HEADER_BYTES);
  if (available < ICMP_HEADER_BYTES) {
    return truncated(pkt, layer, `${layer}-header-truncated`, offset, ICMP_HEADER_BYTES, available);
  }
  const quoteOffset = offset + ICMP_HEADER_BYTES;
  const next = version === 4 ? decodeQuotedIpv4(pkt, quoteOffset) : decodeQuotedIpv6(pkt, quoteOffset);
  const declaredEnd = pkt.ipOffset + pkt.ipLenBytes;
  if (next >= 0 && pkt.netEnd < declaredEnd) {
    // The quote we need was present, but the capture cut the message short of its IP length (snaplen).
    return truncated(pkt, layer, `${layer}-truncated`, pkt.netEnd, declaredEnd - offset, pkt.netEnd - offset);
  }
  return next;
}

/** The quoted IPv4 header (RFC 792: header + at least 8 bytes of its payload, enough for UDP ports). */
function decodeQuotedIpv4(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const available = pkt.netEnd - offset;
  if (available < 20) return truncated(pkt, 'icmp', 'icmp-quote-truncated', offset, 20, Math.max(available, 0));
  // SAFETY: 20 bytes checked above.
  if (data[offset]! >> 4 !== 4) return offset; // not an IPv4 quote: nothing to attribute
  const headerBytes = (data[offset]! & 0x0f) * 4;
  const proto = data[offset + 9]!;
  const fragOffset = ((data[offset + 6]! << 8) | data[offset + 7]!) & 0x1fff;
  if (proto !== IPPROTO.UDP || fragOffset !== 0 || headerBytes < 20) return offset;
  return readQuotedPorts(pkt, offset + headerBytes, 4, offset + 12, offset + 16, 'icmp');
}

/** The quoted IPv6 datagram (RFC 4443: as much as fits in 1280 bytes), walking its extension headers defensively. */
function decodeQuotedIpv6(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = pkt.netEnd;
  if (end - offset < 40) return truncated(pkt, 'icmpv6', 'icmpv6-quote-truncated', offset, 40, Math.max(end - offset, 0));
  if (data[offset]! >> 4 !== 6) return offset; // SAFETY: 40 bytes checked above
  let nextHeader = data[offset + 6]!;
  let cursor = offset + 40;
  for (let count = 0; count < 16; count++) {
    if (nextHeader === IPPROTO.UDP) return readQuotedPorts(pkt, cursor, 6, offset + 8, offset + 24, 'icmpv6');
    if (end - cursor < 2) return truncated(pkt, 'icmpv6', 'icmpv6-quote-truncated', cursor, 2, Math.max(end - cursor, 0));
    let extBytes: number;
    if (
      nextHeader === IPPROTO.HOPOPTS ||
      nextHeader === IPPROTO.ROUTING ||
      nextHeader === IPPROTO.DSTOPTS ||
      nextHeader === IPPROTO.MOBILITY
    ) {
      extBytes = (data[cursor + 1]! + 1) * 8; // SAFETY: 2 bytes checked above
    } else if (nextHeader === IPPROTO.FRAGMENT) {
      if (end - cursor < 8) return truncated(pkt, 'icmpv6', 'icmpv6-quote-truncated', cursor, 8, end - cursor);
      if ((((data[cursor + 2]! << 8) | data[cursor + 3]!) & 0xfff8) !== 0) return cursor; // non-first fragment
      extBytes = 8;
    } else if (nextHeader === IPPROTO.AH) {
      extBytes = (data[cursor + 1]! + 2) * 4;
    } else {
      return cursor; // quotes something other than UDP
    }
    if (end - cursor < extBytes) return truncated(pkt, 'icmpv6', 'icmpv6-quote-truncated', cursor, extBytes, end - cursor);
    nextHeader = data[cursor]!;
    cursor += extBytes;
  }
  return cursor;
}

function readQuotedPorts(
  pkt: MutableDecodedPacket,
  offset: number,
  version: 4 | 6,
  srcOffset: number,
  dstOffset: number,
  layer: 'icmp' | 'icmpv6',
): number {
  if (pkt.netEnd - offset < 4) {
    return truncated(pkt, layer, `${layer}-quote-truncated`, offset, 4, Math.max(pkt.netEnd - offset, 0));
  }
  const data = pkt.data;
  // SAFETY: 4 bytes checked above.
  pkt.quotedSrcPort = (data[offset]! << 8) | data[offset + 1]!;
  pkt.quotedDstPort = (data[offset + 2]! << 8) | data[offset + 3]!;
  pkt.quotedIpVersion = version;
  pkt.quotedSrcAddrOffset = srcOffset;
  pkt.quotedDstAddrOffset = dstOffset;
  pkt.hasQuotedUdp = true;
  return offset + 4;
}
