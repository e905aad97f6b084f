/**
 * BSD loopback headers: LINKTYPE_NULL (0; also macOS utun) and LINKTYPE_LOOP (108; OpenBSD), modelled on tcpdump
 * print-null.c. Both are a 4-byte address family; they differ only in byte order.
 *
 * Hot path: no allocation on success.
 */
import { AF, ETHERTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { truncated, unsupported } from '../issue.js';

/*
 * NULL / LOOP header (formats.md §3.1; tcpdump-htdocs LINKTYPE_NULL / LINKTYPE_LOOP), 4 bytes:
 *   off 0 size 4  address family (u32): NULL in the capturing host's byte order, LOOP big-endian.
 *                 2 = IPv4; 24 (NetBSD/OpenBSD/BSD-OS/Npcap), 28 (FreeBSD), 30 (macOS/iOS) = IPv6.
 * The IP packet follows immediately.
 */

/** Bytes in a NULL/LOOP header. */
export const NULL_HEADER_BYTES = 4;

/** IEEE 802.3 maximum length: a larger NULL header value is an ethertype, not a family (Wireshark). */
const MAX_8023_LENGTH = 1500;

/**
 * Decode a LINKTYPE_NULL header at `offset`.
 *
 * The family is in the byte order of the machine that captured, which the file does not record. tcpdump's rule
 * (print-null.c): read it little-endian ("host" order of every current reader) and byte-swap when the upper 16 bits
 * are non-zero — every real family is below 65536, so only one reading can be right. Two older writers that
 * Wireshark's packet-null.c also accepts are recognised on top of that, because tshark decodes their packets and
 * tcpdump does not:
 *  - IRIX / UNICOS/mp snoop: a 2-byte big-endian family then 2 zero bytes (`00 02 00 00`);
 *  - old Linux libpcap loopback: 2 zero bytes then an ethertype (`00 00 08 00`) — after the swap the value exceeds
 *    1500, and Wireshark then takes its low 16 bits as an ethertype.
 * Families that are valid under tcpdump's rule decode exactly as tcpdump decodes them.
 *
 * Returns the IP header offset with `pkt.nextEtherType` set (IPv4/IPv6 from a family; any ethertype >= 0x0600 from
 * the Linux form, for the caller to judge), or -1 with `null-truncated` / `null-unknown-family`.
 */
export function decodeNull(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < NULL_HEADER_BYTES) {
    return truncated(pkt, 'null', 'null-truncated', offset, NULL_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 4 covers offset..offset+3.
  const b0 = data[offset]!;
  const b1 = data[offset + 1]!;
  const b2 = data[offset + 2]!;
  const b3 = data[offset + 3]!;
  if (b0 === 0xff && b1 === 0x03) {
    // PPP in HDLC framing under DLT_NULL (FreeBSD ISDN; Wireshark packet-null.c): not a loopback header.
    return unsupported(pkt, 'null', 'null-unknown-family', offset, 'PPP in HDLC framing (ff 03)');
  }
  let value = (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
  if ((value & 0xffff0000) !== 0) {
    // IRIX read little-endian is 0x00AA0000 with AA < 0x06; anything else is a swapped BSD family or Linux form.
    value = b3 === 0 && b2 < 0x06 ? value >>> 16 : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  } else if (b0 === 0 && b1 < 0x06) {
    value = b1; // IRIX header from the other byte order: 00 AA 00 00
  }
  if (value > MAX_8023_LENGTH) {
    const etherType = value & 0xffff;
    if (etherType >= 0x0600) {
      pkt.nextEtherType = etherType;
      return offset + NULL_HEADER_BYTES;
    }
  }
  return familyToNetwork(pkt, offset, value);
}

/**
 * Decode a LINKTYPE_LOOP header at `offset` (OpenBSD loopback: the family is always big-endian).
 * Returns the IP header offset with `pkt.nextEtherType` set, or -1 with `null-truncated` / `null-unknown-family`.
 */
export function decodeLoop(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < NULL_HEADER_BYTES) {
    return truncated(pkt, 'null', 'null-truncated', offset, NULL_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 4 covers offset..offset+3.
  const family = ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0;
  return familyToNetwork(pkt, offset, family);
}

/** True for the BSD address-family values that mean IPv6 on some OS (tcpdump af.h BSD_AF_INET6_*). */
export function isBsdInet6(family: number): boolean {
  return family === AF.INET6_BSD || family === AF.INET6_FREEBSD || family === AF.INET6_DARWIN;
}

function familyToNetwork(pkt: MutableDecodedPacket, offset: number, family: number): number {
  if (family === AF.INET) {
    pkt.nextEtherType = ETHERTYPE.IPV4;
    return offset + NULL_HEADER_BYTES;
  }
  if (isBsdInet6(family)) {
    pkt.nextEtherType = ETHERTYPE.IPV6;
    return offset + NULL_HEADER_BYTES;
  }
  // 7 OSI, 23 IPX, or bytes that were never a loopback header.
  return unsupported(pkt, 'null', 'null-unknown-family', offset, `address family ${family}`);
}
