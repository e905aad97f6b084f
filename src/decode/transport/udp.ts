/**
 * UDP (RFC 768), every outcome in one flat function like gopacket's layers/udp.go: short header, length below
 * the header, length beyond the IP payload, payload cut by the snap length, and the IPv6 jumbogram zero length.
 * Ports are kept as soon as they are present, so a cut datagram still counts for its flow (tcpdump print-udp.c
 * prints addresses and ports before `[|udp]`).
 */
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated } from '../issue.js';

/** UDP header length. */
export const UDP_HEADER_BYTES = 8;

/**
 * Decode the UDP header at `offset`; the datagram ends at pkt.netEnd (captured) and at the IP length (declared).
 * Returns the payload offset, or -1 with an issue (ports may still be set: check pkt.hasUdp).
 */
export function decodeUdp(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const availableBytes = pkt.netEnd - offset;
  if (availableBytes < 4) {
    return truncated(pkt, 'udp', 'udp-header-truncated', offset, UDP_HEADER_BYTES, Math.max(availableBytes, 0));
  }
  // SAFETY: 4 bytes checked above.
  pkt.srcPort = (data[offset]! << 8) | data[offset + 1]!;
  pkt.dstPort = (data[offset + 2]! << 8) | data[offset + 3]!;
  pkt.hasUdp = true;
  if (availableBytes < UDP_HEADER_BYTES) {
    return truncated(pkt, 'udp', 'udp-header-truncated', offset, UDP_HEADER_BYTES, availableBytes);
  }
  // SAFETY: 8 bytes checked above.
  let udpLenBytes = (data[offset + 4]! << 8) | data[offset + 5]!;
  const declaredBytes = pkt.ipOffset + pkt.ipLenBytes - offset;
  if (udpLenBytes === 0 && pkt.ipVersion === 6) {
    // RFC 2675 §4: a zero UDP length in an IPv6 jumbogram means "the rest of the IP payload".
    udpLenBytes = declaredBytes;
  }
  pkt.udpLenBytes = udpLenBytes;
  pkt.payloadOffset = offset + UDP_HEADER_BYTES;
  if (udpLenBytes < UDP_HEADER_BYTES) {
    pkt.payloadLenBytes = 0;
    return invalid(pkt, 'udp', 'udp-length-lt-header', offset + 4, `length ${udpLenBytes} < ${UDP_HEADER_BYTES}`);
  }
  const capturedBytes = Math.min(udpLenBytes, availableBytes);
  pkt.payloadLenBytes = capturedBytes - UDP_HEADER_BYTES;
  if (pkt.isFragment && pkt.moreFragments) {
    // A first fragment: the UDP length describes the whole datagram, which continues in later fragments.
    pkt.payloadLenBytes = Math.max(Math.min(declaredBytes, availableBytes) - UDP_HEADER_BYTES, 0);
    if (availableBytes < declaredBytes) {
      return truncated(pkt, 'udp', 'udp-payload-truncated', offset + availableBytes, declaredBytes, availableBytes);
    }
    return pkt.payloadOffset;
  }
  if (udpLenBytes > declaredBytes) {
    // Zeek's weird UDP_datagram_length_mismatch; tcpdump prints "bad length".
    return invalid(pkt, 'udp', 'udp-length-gt-ip-payload', offset + 4, `length ${udpLenBytes} > ip payload ${declaredBytes}`);
  }
  if (udpLenBytes > availableBytes) {
    return truncated(pkt, 'udp', 'udp-payload-truncated', offset + availableBytes, udpLenBytes, availableBytes);
  }
  return pkt.payloadOffset;
}
