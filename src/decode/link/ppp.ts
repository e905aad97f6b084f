/**
 * PPP framing (LINKTYPE_PPP 9, LINKTYPE_PPP_HDLC 50; RFC 1661, RFC 1662), PPPoE sessions (ethertype 0x8864,
 * RFC 2516) and MPLS label stacks (ethertypes 0x8847/0x8848, RFC 3032) — the encapsulations between a link header
 * and IP that corpus traces carry (tcpdump print-ppp.c, print-pppoe.c, print-mpls.c).
 */
import { ETHERTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { truncated, unsupported } from '../issue.js';

/** PPP protocol numbers (RFC 1661 §2, IANA PPP DLL protocol numbers). */
export const PPP_PROTOCOL = {
  IPV4: 0x0021,
  IPV6: 0x0057,
  MPLS_UNICAST: 0x0281,
  MPLS_MULTICAST: 0x0283,
} as const;

/** Most label stacks are 1–3 deep; beyond this the stack is hostile input. */
const MAX_MPLS_LABELS = 16;

/**
 * Decode a PPP frame at `offset`: optional address/control bytes FF 03 (RFC 1662 §3.1), then the protocol field,
 * one byte when protocol-field compression left it odd (RFC 1661 §6.5), else two.
 */
export function decodePpp(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  let at = offset;
  // 0xFF is the all-stations address (RFC 1662 §3.1), never a protocol: expect the control byte after it.
  if (pkt.netEnd - at >= 1 && data[at] === 0xff) {
    if (pkt.netEnd - at < 4) return truncated(pkt, 'link', 'ppp-truncated', at, 4, pkt.netEnd - at);
    at += 2;
  }
  if (pkt.netEnd - at < 1) return truncated(pkt, 'link', 'ppp-truncated', at, 2, Math.max(pkt.netEnd - at, 0));
  let protocol = data[at]!; // SAFETY: 1 byte checked above
  if ((protocol & 1) === 1) {
    at += 1;
  } else {
    if (pkt.netEnd - at < 2) return truncated(pkt, 'link', 'ppp-truncated', at, 2, pkt.netEnd - at);
    protocol = (protocol << 8) | data[at + 1]!; // SAFETY: 2 bytes checked above
    at += 2;
  }
  return followPppProtocol(pkt, at, protocol);
}

/** PPPoE session stage (RFC 2516 §4): ver/type, code, session id, length, then the PPP protocol (2 bytes). */
export function decodePppoeSession(pkt: MutableDecodedPacket, offset: number): number {
  if (pkt.netEnd - offset < 8) return truncated(pkt, 'link', 'pppoe-truncated', offset, 8, Math.max(pkt.netEnd - offset, 0));
  const data = pkt.data;
  const lengthBytes = (data[offset + 4]! << 8) | data[offset + 5]!; // SAFETY: 8 bytes checked above
  if (offset + 6 + lengthBytes < pkt.netEnd) pkt.netEnd = offset + 6 + lengthBytes;
  const protocol = (data[offset + 6]! << 8) | data[offset + 7]!;
  return followPppProtocol(pkt, offset + 8, protocol);
}

function followPppProtocol(pkt: MutableDecodedPacket, at: number, protocol: number): number {
  switch (protocol) {
    case PPP_PROTOCOL.IPV4:
      pkt.nextEtherType = ETHERTYPE.IPV4;
      return at;
    case PPP_PROTOCOL.IPV6:
      pkt.nextEtherType = ETHERTYPE.IPV6;
      return at;
    case PPP_PROTOCOL.MPLS_UNICAST:
    case PPP_PROTOCOL.MPLS_MULTICAST:
      pkt.nextEtherType = ETHERTYPE.MPLS;
      return at;
    default:
      return unsupported(pkt, 'link', 'ppp-protocol-unsupported', at, `PPP protocol 0x${protocol.toString(16).padStart(4, '0')}`);
  }
}

/**
 * Walk an MPLS label stack (RFC 3032 §2.1: label 20 bits, TC 3, bottom-of-stack 1, TTL 8); after the bottom label
 * the payload has no type field, so the IP version nibble decides (what tcpdump's mpls_print does).
 */
export function decodeMpls(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  let at = offset;
  for (let labels = 0; labels < MAX_MPLS_LABELS; labels++) {
    if (pkt.netEnd - at < 4) return truncated(pkt, 'link', 'mpls-truncated', at, 4, Math.max(pkt.netEnd - at, 0));
    const bottom = (data[at + 2]! & 0x01) === 1; // SAFETY: 4 bytes checked above
    at += 4;
    if (!bottom) continue;
    if (pkt.netEnd - at < 1) return truncated(pkt, 'link', 'mpls-truncated', at, 1, 0);
    const version = data[at]! >> 4; // SAFETY: 1 byte checked above
    if (version === 4) pkt.nextEtherType = ETHERTYPE.IPV4;
    else if (version === 6) pkt.nextEtherType = ETHERTYPE.IPV6;
    else return unsupported(pkt, 'link', 'mpls-payload-not-ip', at, `payload starts with nibble ${version}`);
    return at;
  }
  return unsupported(pkt, 'link', 'mpls-too-many-labels', offset, `more than ${MAX_MPLS_LABELS} labels`);
}
