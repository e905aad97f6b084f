/**
 * Link types with no link header: the IP header comes first. LINKTYPE_RAW (101) and the OS DLT values old files
 * carry (12, 14) may mix IPv4 and IPv6; LINKTYPE_IPV4 (228) / LINKTYPE_IPV6 (229) hold one version only
 * (formats.md §3; tcpdump-htdocs LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6).
 *
 * Hot path: no allocation on success.
 */
import { AF, ETHERTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated } from '../issue.js';
import { decodeLoop, isBsdInet6, NULL_HEADER_BYTES } from './null.js';

/*
 * Raw IP (no header). The only byte read is byte 0 of the IP header:
 *   off 0 size 1  version (high nibble: 4 IPv4, 6 IPv6) | IHL or traffic-class bits
 */

/**
 * Decode a raw-IP packet (LINKTYPE 101, and DLT 12 / 14 as older files write them) at `offset`.
 *
 * The IP version nibble picks IPv4 or IPv6. DLT 12 is DLT_LOOP on OpenBSD, so a file with linktype 12 may hold a
 * 4-byte big-endian loopback header instead: formats.md §3 heuristic — bytes 00 00 00 02/18/1C/1E are decoded as
 * LINKTYPE_LOOP. The heuristic is applied whatever the record's linktype, because version nibble 0 is never IP:
 * no packet that decodes as raw IP is read differently.
 *
 * Returns the IP header offset with `pkt.nextEtherType` set, or -1 with `raw-truncated` /
 * `raw-unknown-ip-version` (or a LOOP issue).
 */
export function decodeRaw(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < 1) return truncated(pkt, 'link', 'raw-truncated', offset, 1, Math.max(available, 0));
  const first = data[offset]!; // SAFETY: available >= 1
  const version = first >> 4;
  if (version === 4) {
    pkt.nextEtherType = ETHERTYPE.IPV4;
    return offset;
  }
  if (version === 6) {
    pkt.nextEtherType = ETHERTYPE.IPV6;
    return offset;
  }
  // OpenBSD DLT_LOOP written as 12: 00 00 00 <family>. Bytes 1 and 2 are checked only when present, so a
  // capture cut inside such a header is reported as truncated rather than as a bad IP version.
  if (first === 0 && (available < 2 || data[offset + 1] === 0) && (available < 3 || data[offset + 2] === 0)) {
    if (available < NULL_HEADER_BYTES) {
      return truncated(pkt, 'link', 'raw-truncated', offset, NULL_HEADER_BYTES, available);
    }
    const family = data[offset + 3]!; // SAFETY: available >= 4
    if (family === AF.INET || isBsdInet6(family)) return decodeLoop(pkt, offset);
  }
  return invalid(pkt, 'link', 'raw-unknown-ip-version', offset, `IP version ${version} is neither 4 nor 6`);
}

/**
 * Decode a LINKTYPE_IPV4 (228) packet at `offset`: IPv4 only. Returns `offset` with `pkt.nextEtherType` = IPv4,
 * or -1 with `raw-truncated` / `raw-ip-version-mismatch` (a version-6 header in an IPv4-only capture).
 */
export function decodeIpv4Only(pkt: MutableDecodedPacket, offset: number): number {
  return decodeOneVersion(pkt, offset, 4, ETHERTYPE.IPV4);
}

/**
 * Decode a LINKTYPE_IPV6 (229) packet at `offset`: IPv6 only. Returns `offset` with `pkt.nextEtherType` = IPv6,
 * or -1 with `raw-truncated` / `raw-ip-version-mismatch`.
 */
export function decodeIpv6Only(pkt: MutableDecodedPacket, offset: number): number {
  return decodeOneVersion(pkt, offset, 6, ETHERTYPE.IPV6);
}

function decodeOneVersion(pkt: MutableDecodedPacket, offset: number, expected: 4 | 6, etherType: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < 1) return truncated(pkt, 'link', 'raw-truncated', offset, 1, Math.max(available, 0));
  const version = data[offset]! >> 4; // SAFETY: available >= 1
  if (version !== expected) {
    return invalid(pkt, 'link', 'raw-ip-version-mismatch', offset,
      `IP version ${version} in a LINKTYPE_IPV${expected} capture`);
  }
  pkt.nextEtherType = etherType;
  return offset;
}
