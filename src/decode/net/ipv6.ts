/**
 * IPv6 (RFC 8200) with the extension-header walk: the upper-layer protocol is what follows the last extension
 * header, and only a fragment with offset 0 carries it (RFC 8200 §4.5; RFC 7112 wants the whole chain there).
 */
import { IPPROTO } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated } from '../issue.js';

/** Fixed IPv6 header length. */
export const IPV6_HEADER_BYTES = 40;
/** More extension headers than any real stack sends; past this the chain is treated as hostile. */
const MAX_EXTENSION_HEADERS = 16;

/**
 * Decode the outermost IPv6 header at `offset` and walk its extension headers.
 *
 * Layout (RFC 8200 §3): 0 version|class|flow · 4 payload length · 6 next header · 7 hop limit · 8 src[16] ·
 * 24 dst[16]. Extension headers (RFC 8200 §4): 0 Hop-by-Hop, 43 Routing, 60 Destination Options, 135 Mobility,
 * 139 HIP, 140 Shim6, 253/254 experiments are (b1 + 1)·8 bytes; 44 Fragment is 8 bytes; 51 AH is (b1 + 2)·4
 * (RFC 4302 §2.2).
 *
 * Returns the offset of the upper-layer header, or -1 with an issue; for a non-first fragment returns the offset
 * after the fragment header with pkt.isFragment set and pkt.fragmentOffsetBytes > 0.
 */
export function decodeIpv6(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const available = pkt.netEnd - offset;
  if (available < 1) return truncated(pkt, 'ipv6', 'ipv6-header-truncated', offset, IPV6_HEADER_BYTES, 0);
  const version = data[offset]! >> 4; // SAFETY: available >= 1
  if (version !== 6) return invalid(pkt, 'ipv6', 'ipv6-bad-version', offset, `version ${version} != 6`);
  if (available < IPV6_HEADER_BYTES) {
    return truncated(pkt, 'ipv6', 'ipv6-header-truncated', offset, IPV6_HEADER_BYTES, available);
  }
  // SAFETY: available >= 40 covers the fixed header.
  const payloadLenBytes = (data[offset + 4]! << 8) | data[offset + 5]!;
  let nextHeader = data[offset + 6]!;
  pkt.ipVersion = 6;
  pkt.ipOffset = offset;
  pkt.srcAddrOffset = offset + 8;
  pkt.dstAddrOffset = offset + 24;
  pkt.ttl = data[offset + 7]!;
  pkt.ipProto = nextHeader;
  if (payloadLenBytes === 0 && nextHeader === IPPROTO.HOPOPTS) {
    // Jumbogram (RFC 2675): the real length is in a Hop-by-Hop option; take what was captured.
    pkt.ipLenBytes = available;
  } else {
    pkt.ipLenBytes = IPV6_HEADER_BYTES + payloadLenBytes;
    if (pkt.ipLenBytes < available) pkt.netEnd = offset + pkt.ipLenBytes;
  }
  let cursor = offset + IPV6_HEADER_BYTES;
  for (let count = 0; ; count++) {
    if (count > MAX_EXTENSION_HEADERS) {
      return invalid(pkt, 'ipv6', 'ipv6-too-many-extension-headers', cursor, `more than ${MAX_EXTENSION_HEADERS}`);
    }
    let extBytes: number;
    switch (nextHeader) {
      case IPPROTO.HOPOPTS:
      case IPPROTO.ROUTING:
      case IPPROTO.DSTOPTS:
      case IPPROTO.MOBILITY:
      case IPPROTO.HIP:
      case IPPROTO.SHIM6:
      case IPPROTO.EXP1:
      case IPPROTO.EXP2:
        if (pkt.netEnd - cursor < 2) return truncated(pkt, 'ipv6', 'ipv6-extension-truncated', cursor, 2, pkt.netEnd - cursor);
        extBytes = (data[cursor + 1]! + 1) * 8; // SAFETY: 2 bytes checked above
        break;
      case IPPROTO.AH:
        if (pkt.netEnd - cursor < 2) return truncated(pkt, 'ipv6', 'ipv6-extension-truncated', cursor, 2, pkt.netEnd - cursor);
        extBytes = (data[cursor + 1]! + 2) * 4; // SAFETY: 2 bytes checked above
        break;
      case IPPROTO.FRAGMENT: {
        if (pkt.netEnd - cursor < 8) return truncated(pkt, 'ipv6', 'ipv6-fragment-truncated', cursor, 8, pkt.netEnd - cursor);
        // SAFETY: 8 bytes checked above. Layout: nh, reserved, offset<<3|res|M (u16), id (u32) — RFC 8200 §4.5.
        const offsetFlags = (data[cursor + 2]! << 8) | data[cursor + 3]!;
        pkt.isFragment = true;
        pkt.fragmentOffsetBytes = offsetFlags & 0xfff8;
        pkt.moreFragments = (offsetFlags & 1) !== 0;
        pkt.fragmentId =
          ((data[cursor + 4]! << 24) | (data[cursor + 5]! << 16) | (data[cursor + 6]! << 8) | data[cursor + 7]!) >>> 0;
        nextHeader = data[cursor]!;
        pkt.ipProto = nextHeader;
        cursor += 8;
        // Only the first fragment carries the rest of the chain and the upper-layer header.
        if (pkt.fragmentOffsetBytes !== 0) return cursor;
        continue;
      }
      default:
        // An upper layer (UDP, TCP, ICMPv6), ESP (encrypted), No Next Header, or an unknown protocol: stop here.
        pkt.ipProto = nextHeader;
        return cursor;
    }
    if (pkt.netEnd - cursor < extBytes) {
      return truncated(pkt, 'ipv6', 'ipv6-extension-truncated', cursor, extBytes, pkt.netEnd - cursor);
    }
    nextHeader = data[cursor]!; // SAFETY: extBytes >= 8 bytes present
    pkt.ipProto = nextHeader;
    cursor += extBytes;
  }
}
