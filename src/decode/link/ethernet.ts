/**
 * Ethernet II and IEEE 802.1Q/802.1ad VLAN tags (LINKTYPE_ETHERNET = 1), modelled on tcpdump print-ether.c:
 * loop over the tag TPIDs, stop at the first real ethertype, refuse 802.3 length fields.
 *
 * Hot path: no allocation on success (gopacket DecodingLayerParser contract, types.ts).
 */
import { ETHERTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated, unsupported } from '../issue.js';

/*
 * Ethernet II header (formats.md §3.2; tcpdump print-ether.c), 14 bytes:
 *   off 0  size 6  destination MAC
 *   off 6  size 6  source MAC
 *   off 12 size 2  type/length, BE: > 1500 ethertype, <= 1500 an IEEE 802.3 length followed by LLC
 */

/** Bytes in an untagged Ethernet II header. */
export const ETHERNET_HEADER_BYTES = 14;

/*
 * VLAN tag (IEEE 802.1Q; libpcap pcap/vlan.h VLAN_TAG_LEN), 4 bytes, replacing the type field's position:
 *   off 0 size 2  TCI, BE: PCP 3 bits | DEI 1 bit | VID 12 bits
 *   off 2 size 2  inner type/length, BE
 * (The TPID itself is the 2-byte "type" that precedes the tag.)
 */

/** Bytes each VLAN tag adds after the TPID (TCI + inner type). */
export const VLAN_TAG_BYTES = 4;

/**
 * Most VLAN tags followed before the frame is called invalid. QinQ needs 2, QinQinQ 3; 8 leaves room for odd
 * carrier setups while bounding the loop on hostile input (a frame full of 0x8100).
 */
export const MAX_VLAN_TAGS = 8;

/** tcpdump MAX_ETHERNET_LENGTH_VAL: a type field at or below this is an 802.3 length. */
const MAX_ETHERNET_LENGTH_VAL = 1500;

/**
 * Decode an Ethernet II header (and any VLAN tags) at `offset`.
 *
 * Returns the offset of the network layer with `pkt.nextEtherType` set to the innermost ethertype (IPv4/IPv6, or
 * any other value for the caller to report unsupported), or -1 with an issue: `ethernet-truncated`,
 * `vlan-truncated`, `vlan-too-many-tags`, or `ethernet-8023-llc` (802.3 length + LLC frames are out of scope).
 */
export function decodeEthernet(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < ETHERNET_HEADER_BYTES) {
    return truncated(pkt, 'ethernet', 'ethernet-truncated', offset, ETHERNET_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 14 covers bytes 12..13.
  const type = (data[offset + 12]! << 8) | data[offset + 13]!;
  const next = followVlanTags(pkt, offset + ETHERNET_HEADER_BYTES, type);
  if (next < 0) return -1;
  if (pkt.nextEtherType <= MAX_ETHERNET_LENGTH_VAL) {
    // The type field sits in the 2 bytes just before `next` (after the last tag, or at offset 12).
    return unsupported(pkt, 'ethernet', 'ethernet-8023-llc', next - 2,
      `802.3 length ${pkt.nextEtherType} (LLC frame, not Ethernet II)`);
  }
  return next;
}

/** True for the tag protocol identifiers tcpdump loops over (print-ether.c, ethertype.h). */
export function isVlanTpid(type: number): boolean {
  return type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_9100 ||
    type === ETHERTYPE.QINQ_9200;
}

/**
 * Follow VLAN tags starting at `offset`, where `type` is the type field that precedes it (a TPID or the final
 * ethertype). Shared by Ethernet and Linux cooked captures (tcpdump print-sll.c also decodes a tag after the SLL
 * header when the protocol is 0x8100).
 *
 * Sets `pkt.nextEtherType` to the first non-TPID type, `pkt.vlanCount` and `pkt.vlanOuterId` when tags were
 * crossed, and returns the offset after the last tag; or -1 with `vlan-truncated` / `vlan-too-many-tags`.
 * Does not judge the final type (callers apply their own length/ethertype rule).
 */
export function followVlanTags(pkt: MutableDecodedPacket, offset: number, type: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  let pos = offset;
  let current = type;
  let count = 0;
  while (isVlanTpid(current)) {
    if (count === MAX_VLAN_TAGS) {
      return invalid(pkt, 'vlan', 'vlan-too-many-tags', pos - 2, `more than ${MAX_VLAN_TAGS} VLAN tags`);
    }
    const available = end - pos;
    if (available < VLAN_TAG_BYTES) {
      return truncated(pkt, 'vlan', 'vlan-truncated', pos, VLAN_TAG_BYTES, Math.max(available, 0));
    }
    // SAFETY: available >= 4 covers pos..pos+3.
    if (count === 0) pkt.vlanOuterId = ((data[pos]! << 8) | data[pos + 1]!) & 0x0fff;
    count++;
    pkt.vlanCount = count;
    current = (data[pos + 2]! << 8) | data[pos + 3]!;
    pos += VLAN_TAG_BYTES;
  }
  pkt.nextEtherType = current;
  return pos;
}
