/**
 * Linux "cooked" captures: LINKTYPE_LINUX_SLL (113, `tcpdump -i any` with older libpcap) and LINKTYPE_LINUX_SLL2
 * (276, current tcpdump `-i any`), modelled on tcpdump print-sll.c. Both carry a packet type that says whether
 * the host sent or received the packet, which is the direction a flow tracker needs.
 *
 * Hot path: no allocation on success.
 */
import type { Direction } from '../../types.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { truncated, unsupported } from '../issue.js';
import { followVlanTags } from './ethernet.js';

/*
 * LINUX_SLL header (formats.md §3.3; tcpdump-htdocs LINKTYPE_LINUX_SLL), 16 bytes, all big-endian:
 *   off 0  size 2  packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us
 *   off 2  size 2  ARPHRD_ type of the device (1 Ethernet, 772 loopback, 65534 tun, 824 netlink …)
 *   off 4  size 2  link-layer address length
 *   off 6  size 8  link-layer address (padded or truncated to 8)
 *   off 14 size 2  protocol: an ethertype when >= 0x0600, else a Linux ETH_P_ value (1 Novell 802.3,
 *                  4 802.2 LLC, 0x0C..0x0E CAN, 0xF8 DSA …)
 */

/** Bytes in a LINUX_SLL header. */
export const SLL_HEADER_BYTES = 16;

/*
 * LINUX_SLL2 header (formats.md §3.4; tcpdump-htdocs LINKTYPE_LINUX_SLL2), 20 bytes, all big-endian:
 *   off 0  size 2  protocol (as in SLL)
 *   off 2  size 2  reserved, must be zero
 *   off 4  size 4  interface index
 *   off 8  size 2  ARPHRD_ type
 *   off 10 size 1  packet type (as in SLL)
 *   off 11 size 1  link-layer address length
 *   off 12 size 8  link-layer address
 */

/** Bytes in a LINUX_SLL2 header. */
export const SLL2_HEADER_BYTES = 20;

/** Smallest protocol value that is an ethertype (IEEE 802.3: 0x0600 = 1536). */
const MIN_ETHERTYPE = 0x0600;

/** Linux PACKET_OUTGOING (linux/if_packet.h): the host sent it. */
const PACKET_OUTGOING = 4;

/**
 * Decode a LINUX_SLL header at `offset`.
 *
 * Sets `pkt.direction` from the packet type (4 → 'out'; 0–3, frames the host received, → 'in'; other values
 * such as 5 PACKET_LOOPBACK leave it unchanged), follows a VLAN tag that libpcap re-inserted after the header, and
 * returns the network-layer offset with `pkt.nextEtherType` set; or -1 with `sll-truncated`,
 * `sll-protocol-not-ethertype` (unsupported: LLC, CAN, netlink …) or a VLAN issue.
 */
export function decodeSll(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < SLL_HEADER_BYTES) {
    return truncated(pkt, 'sll', 'sll-truncated', offset, SLL_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 16 covers every read below.
  const packetType = (data[offset]! << 8) | data[offset + 1]!;
  const protocol = (data[offset + 14]! << 8) | data[offset + 15]!;
  setDirection(pkt, packetType);
  return afterProtocol(pkt, offset + SLL_HEADER_BYTES, protocol, 'sll', 'sll-protocol-not-ethertype', offset + 14);
}

/**
 * Decode a LINUX_SLL2 header at `offset`.
 *
 * Same outcomes as {@link decodeSll} with codes `sll2-truncated` / `sll2-protocol-not-ethertype`. The reserved
 * field is not checked: tcpdump's print-sll.c ignores it too, and refusing a packet over padding would lose a
 * flow for no gain. The interface index is not a name, so `pkt.ifName` is left as the capture set it.
 */
export function decodeSll2(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < SLL2_HEADER_BYTES) {
    return truncated(pkt, 'sll2', 'sll2-truncated', offset, SLL2_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 20 covers every read below.
  const protocol = (data[offset]! << 8) | data[offset + 1]!;
  setDirection(pkt, data[offset + 10]!);
  return afterProtocol(pkt, offset + SLL2_HEADER_BYTES, protocol, 'sll2', 'sll2-protocol-not-ethertype', offset);
}

function setDirection(pkt: MutableDecodedPacket, packetType: number): void {
  let direction: Direction | undefined;
  if (packetType === PACKET_OUTGOING) direction = 'out';
  else if (packetType <= 3) direction = 'in'; // PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST
  if (direction !== undefined) pkt.direction = direction;
}

function afterProtocol(
  pkt: MutableDecodedPacket,
  next: number,
  protocol: number,
  layer: 'sll' | 'sll2',
  code: string,
  protocolOffset: number,
): number {
  if (protocol < MIN_ETHERTYPE) {
    return unsupported(pkt, layer, code, protocolOffset, `protocol 0x${protocol.toString(16).padStart(4, '0')}`);
  }
  const after = followVlanTags(pkt, next, protocol);
  if (after < 0) return -1;
  if (pkt.nextEtherType < MIN_ETHERTYPE) {
    return unsupported(pkt, layer, code, after - 2, `protocol 0x${pkt.nextEtherType.toString(16).padStart(4, '0')} after VLAN tag`);
  }
  return after;
}
