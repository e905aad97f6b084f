/**
 * IPv4 (RFC 791). Reads the header, trims link-layer padding with the total length (dpkt ip.py), records
 * fragment fields and hands the payload to the transport decoders.
 */
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated } from '../issue.js';

/** Minimum IPv4 header: IHL 5 × 4 bytes. */
export const IPV4_MIN_HEADER_BYTES = 20;

/**
 * Decode the outermost IPv4 header at `offset` (ends at pkt.netEnd).
 *
 * Layout (RFC 791 §3.1): 0 version|IHL · 1 TOS · 2 total length · 4 id · 6 flags|fragment offset ·
 * 8 TTL · 9 protocol · 10 checksum · 12 src · 16 dst · 20 options (IHL·4 − 20).
 *
 * Returns the offset of the transport header and sets pkt.netEnd to the end of the datagram as its total length
 * says (clamped to what was captured), or -1 with an issue.
 */
export function decodeIpv4(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const available = pkt.netEnd - offset;
  if (available < 1) return truncated(pkt, 'ipv4', 'ipv4-header-truncated', offset, IPV4_MIN_HEADER_BYTES, 0);
  const versionIhl = data[offset]!; // SAFETY: available >= 1
  const version = versionIhl >> 4;
  if (version !== 4) return invalid(pkt, 'ipv4', 'ipv4-bad-version', offset, `version ${version} != 4`);
  if (available < IPV4_MIN_HEADER_BYTES) {
    return truncated(pkt, 'ipv4', 'ipv4-header-truncated', offset, IPV4_MIN_HEADER_BYTES, available);
  }
  const headerBytes = (versionIhl & 0x0f) * 4;
  if (headerBytes < IPV4_MIN_HEADER_BYTES) {
    return invalid(pkt, 'ipv4', 'ipv4-ihl-lt-5', offset, `ihl ${headerBytes / 4} < 5`);
  }
  // SAFETY: available >= 20 covers every fixed-header read below.
  let totalLenBytes = (data[offset + 2]! << 8) | data[offset + 3]!;
  const flagsFrag = (data[offset + 6]! << 8) | data[offset + 7]!;
  pkt.ipVersion = 4;
  pkt.ipOffset = offset;
  pkt.srcAddrOffset = offset + 12;
  pkt.dstAddrOffset = offset + 16;
  pkt.src4 = ((data[offset + 12]! << 24) | (data[offset + 13]! << 16) | (data[offset + 14]! << 8) | data[offset + 15]!) >>> 0;
  pkt.dst4 = ((data[offset + 16]! << 24) | (data[offset + 17]! << 16) | (data[offset + 18]! << 8) | data[offset + 19]!) >>> 0;
  pkt.ipProto = data[offset + 9]!;
  pkt.ttl = data[offset + 8]!;
  pkt.fragmentId = (data[offset + 4]! << 8) | data[offset + 5]!;
  pkt.fragmentOffsetBytes = (flagsFrag & 0x1fff) * 8;
  pkt.moreFragments = (flagsFrag & 0x2000) !== 0;
  pkt.isFragment = pkt.moreFragments || pkt.fragmentOffsetBytes !== 0;
  if (totalLenBytes === 0) {
    // TCP segmentation offload writes 0 here on outbound captures (dpkt ip.py "TSO"): use what was captured.
    totalLenBytes = available;
  }
  pkt.ipLenBytes = totalLenBytes;
  if (totalLenBytes < headerBytes) {
    return invalid(pkt, 'ipv4', 'ipv4-total-length-lt-header', offset + 2, `total length ${totalLenBytes} < header ${headerBytes}`);
  }
  if (available < headerBytes) {
    return truncated(pkt, 'ipv4', 'ipv4-options-truncated', offset, headerBytes, available);
  }
  // Trailing Ethernet padding is not part of the datagram; a short capture (snaplen) keeps netEnd.
  if (totalLenBytes < available) pkt.netEnd = offset + totalLenBytes;
  return offset + headerBytes;
}
