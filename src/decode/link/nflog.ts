/**
 * Linux netfilter log messages, LINKTYPE_NFLOG (239), modelled on tcpdump print-nflog.c: a 4-byte nfgenmsg header,
 * then netlink attributes (TLVs) padded to 4 bytes, walked until NFULA_PAYLOAD, whose value is the IP packet.
 * A TLV shorter than its own header stops the walk (no infinite loop on length 0).
 *
 * Allocates one NflogInfo per packet (per-packet metadata for reports).
 */
import type { Direction, NflogInfo } from '../../types.js';
import { AF, ETHERTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated, unsupported } from '../issue.js';

/*
 * NFLOG header (formats.md §5.1; libpcap pcap/nflog.h nflog_hdr_t), 4 bytes:
 *   off 0 size 1  family: NFPROTO_ value, 2 IPv4, 10 IPv6
 *   off 1 size 1  version, must be 0 (tcpdump refuses anything else)
 *   off 2 size 2  resource_id, BE: the NFLOG group
 * TLVs follow until the end of the packet (libpcap nflog_tlv_t; linux/netlink.h struct nlattr):
 *   off 0 size 2  length, FILE byte order (raw host-order netlink attribute), includes these 4 bytes, not padding
 *   off 2 size 2  type, file order; bits 0x8000 NLA_F_NESTED / 0x4000 NLA_F_NET_BYTEORDER masked off (0x3FFF)
 *   off 4 ...     value, BE integers or byte strings; next TLV at roundup(length, 4)
 * Values used here (formats.md §5.2, linux/netfilter/nfnetlink_log.h):
 *   1 PACKET_HDR hw_protocol u16 BE, hook u8, pad u8 · 2 MARK u32 · 3 TIMESTAMP sec u64, usec u64 ·
 *   4/5 IFINDEX_INDEV/OUTDEV u32 · 9 PAYLOAD the L3 packet · 10 PREFIX string + NUL · 11 UID u32 · 14 GID u32
 */

/** Bytes in the NFLOG (nfgenmsg) header. */
export const NFLOG_HEADER_BYTES = 4;
/** Bytes in a TLV header (length + type). */
export const NFLOG_TLV_HEADER_BYTES = 4;

/** NFULA_* attribute types (enum nfulnl_attr_type, linux/netfilter/nfnetlink_log.h). */
export const NFULA = {
  PACKET_HDR: 1,
  MARK: 2,
  TIMESTAMP: 3,
  IFINDEX_INDEV: 4,
  IFINDEX_OUTDEV: 5,
  IFINDEX_PHYSINDEV: 6,
  IFINDEX_PHYSOUTDEV: 7,
  HWADDR: 8,
  PAYLOAD: 9,
  PREFIX: 10,
  UID: 11,
  SEQ: 12,
  SEQ_GLOBAL: 13,
  GID: 14,
  HWTYPE: 15,
  HWHEADER: 16,
  HWLEN: 17,
  CT: 18,
  CT_INFO: 19,
  VLAN: 20,
  L2HDR: 21,
} as const;

/** NLA_TYPE_MASK (linux/netlink.h): strips NLA_F_NESTED and NLA_F_NET_BYTEORDER. */
const NLA_TYPE_MASK = 0x3fff;

/** NFPROTO_IPV4 / NFPROTO_IPV6 (linux/netfilter.h); equal to Linux AF_INET / AF_INET6. */
const NFPROTO_IPV4 = AF.INET;
const NFPROTO_IPV6 = AF.INET6_LINUX;

/**
 * Decode an NFLOG header and its TLVs at `offset`.
 *
 * Sets `pkt.nflog` (group, prefix, hook, interface indexes, uid/gid, mark, timestamp — whatever TLVs precede the
 * payload), `pkt.direction` from the hook (PREROUTING/INPUT 'in', OUTPUT/POSTROUTING 'out', FORWARD unchanged),
 * lowers `pkt.netEnd` to the end of the NFULA_PAYLOAD value and returns the value's start with
 * `pkt.nextEtherType` from the family. A payload value cut by the snaplen is kept (netEnd clamped to the captured
 * bytes) so the IP layer can still read the 5-tuple and report the truncation itself.
 *
 * Issues: `nflog-truncated` (capture ended inside the header or a TLV before the payload), `nflog-bad-version`,
 * `nflog-tlv-len-lt-header`, `nflog-tlv-past-packet` (a TLV claims more bytes than the packet had on the wire),
 * `nflog-no-payload` and `nflog-unknown-family` (unsupported; pkt.nflog is kept).
 *
 * TLV length/type byte order: see {@link nflogTlvIsLittleEndian}.
 */
export function decodeNflog(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < NFLOG_HEADER_BYTES) {
    return truncated(pkt, 'nflog', 'nflog-truncated', offset, NFLOG_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 4 covers the header.
  const family = data[offset]!;
  const version = data[offset + 1]!;
  if (version !== 0) return invalid(pkt, 'nflog', 'nflog-bad-version', offset + 1, `version ${version} != 0`);
  const info: NflogInfo = {
    addressFamily: family,
    group: (data[offset + 2]! << 8) | data[offset + 3]!,
    prefix: '',
    hook: -1,
    inIfIndex: undefined,
    outIfIndex: undefined,
    uid: undefined,
    gid: undefined,
    mark: undefined,
    tsSec: undefined,
    tsUsec: undefined,
  };
  pkt.nflog = info;

  const packetEnd = wireEnd(pkt, end);
  let pos = offset + NFLOG_HEADER_BYTES;
  const le = nflogTlvIsLittleEndian(data, pos, end, packetEnd);
  while (pos < packetEnd) {
    if (pos + NFLOG_TLV_HEADER_BYTES > end) return cutShort(pkt, pos, NFLOG_TLV_HEADER_BYTES, end, packetEnd);
    // SAFETY: pos + 4 <= end covers the TLV header.
    const tlvLen = le ? data[pos]! | (data[pos + 1]! << 8) : (data[pos]! << 8) | data[pos + 1]!;
    const type = (le ? data[pos + 2]! | (data[pos + 3]! << 8) : (data[pos + 2]! << 8) | data[pos + 3]!) & NLA_TYPE_MASK;
    if (tlvLen < NFLOG_TLV_HEADER_BYTES) {
      return invalid(pkt, 'nflog', 'nflog-tlv-len-lt-header', pos, `TLV type ${type} length ${tlvLen} < ${NFLOG_TLV_HEADER_BYTES}`);
    }
    const valueStart = pos + NFLOG_TLV_HEADER_BYTES;
    const valueEnd = pos + tlvLen;
    if (type === NFULA.PAYLOAD) {
      if (valueEnd > packetEnd) {
        return invalid(pkt, 'nflog', 'nflog-tlv-past-packet', pos,
          `payload TLV length ${tlvLen} > ${packetEnd - pos} bytes left in the packet`);
      }
      pkt.netEnd = Math.min(valueEnd, end);
      if (family === NFPROTO_IPV4) pkt.nextEtherType = ETHERTYPE.IPV4;
      else if (family === NFPROTO_IPV6) pkt.nextEtherType = ETHERTYPE.IPV6;
      else return unsupported(pkt, 'nflog', 'nflog-unknown-family', offset, `family ${family}`);
      return valueStart;
    }
    if (valueEnd > end) return cutShort(pkt, pos, tlvLen, end, packetEnd);
    // SAFETY: valueEnd <= end, and each read below checks that the value is long enough for it.
    readTlv(data, info, type, valueStart, valueEnd);
    if (type === NFULA.PACKET_HDR) pkt.direction = hookDirection(info.hook, pkt.direction);
    pos += (tlvLen + 3) & ~3;
  }
  return unsupported(pkt, 'nflog', 'nflog-no-payload', Math.min(pos, packetEnd), 'no NFULA_PAYLOAD attribute');
}

/**
 * Decide the byte order of the TLV length/type fields from the first TLV at `pos`.
 *
 * They are raw host-order netlink attributes; libpcap's swap_nflog_header byte-swaps them when it reads a
 * foreign-endian file, but a decoder sees the record bytes without the file's byte order. A sane first TLV has a
 * length >= 4 that fits in the packet and a known NFULA type (1..21; normally NFULA_PACKET_HDR): little-endian is
 * taken when that reading is sane or the big-endian one is not — so a malformed packet is judged as a
 * little-endian host (every current Linux capture host but s390x/ppc64) would write it — otherwise big-endian.
 * The first TLV decides for the whole packet. `pos` may be at or past `end` (then: little-endian).
 */
export function nflogTlvIsLittleEndian(data: Uint8Array, pos: number, end: number, packetEnd: number): boolean {
  if (pos + NFLOG_TLV_HEADER_BYTES > end) return true;
  // SAFETY: pos + 4 <= end <= pkt.dataEnd.
  const b0 = data[pos]!;
  const b1 = data[pos + 1]!;
  const b2 = data[pos + 2]!;
  const b3 = data[pos + 3]!;
  if (saneTlv(b0 | (b1 << 8), (b2 | (b3 << 8)) & NLA_TYPE_MASK, pos, packetEnd)) return true;
  return !saneTlv((b0 << 8) | b1, ((b2 << 8) | b3) & NLA_TYPE_MASK, pos, packetEnd);
}

function saneTlv(length: number, type: number, pos: number, packetEnd: number): boolean {
  return length >= NFLOG_TLV_HEADER_BYTES && pos + length <= packetEnd && type >= NFULA.PACKET_HDR && type <= NFULA.L2HDR;
}

function readTlv(data: Uint8Array, info: NflogInfo, type: number, start: number, end: number): void {
  // Values too short for their type are skipped rather than refused: the payload is what matters, and tcpdump
  // does not look at these values at all.
  const length = end - start;
  switch (type) {
    case NFULA.PACKET_HDR:
      if (length >= 3) info.hook = data[start + 2]!; // SAFETY: length >= 3
      return;
    case NFULA.MARK:
      if (length >= 4) info.mark = u32be(data, start);
      return;
    case NFULA.TIMESTAMP:
      if (length >= 16) {
        // u64 BE each; exact in a JS number below 2^53 (any real clock).
        info.tsSec = u32be(data, start) * 0x1_0000_0000 + u32be(data, start + 4);
        info.tsUsec = u32be(data, start + 8) * 0x1_0000_0000 + u32be(data, start + 12);
      }
      return;
    case NFULA.IFINDEX_INDEV:
      if (length >= 4) info.inIfIndex = u32be(data, start);
      return;
    case NFULA.IFINDEX_OUTDEV:
      if (length >= 4) info.outIfIndex = u32be(data, start);
      return;
    case NFULA.PREFIX: {
      // NUL-terminated and counted with its NUL; stop at the first NUL (or the value's end if it has none).
      let text = '';
      for (let i = start; i < end; i++) {
        const byte = data[i]!; // SAFETY: i < end
        if (byte === 0) break;
        text += String.fromCharCode(byte);
      }
      info.prefix = text;
      return;
    }
    case NFULA.UID:
      if (length >= 4) info.uid = u32be(data, start);
      return;
    case NFULA.GID:
      if (length >= 4) info.gid = u32be(data, start);
      return;
    default:
      return;
  }
}

/** Direction from the netfilter hook: 0 PREROUTING / 1 LOCAL_IN received, 3 LOCAL_OUT / 4 POSTROUTING sent. */
function hookDirection(hook: number, current: Direction): Direction {
  if (hook === 0 || hook === 1) return 'in';
  if (hook === 3 || hook === 4) return 'out';
  return current;
}

/** A TLV needs `needed` bytes from `pos`: past the wire length it is invalid, past the capture only truncated. */
function cutShort(pkt: MutableDecodedPacket, pos: number, needed: number, end: number, packetEnd: number): -1 {
  if (pos + needed > packetEnd) {
    return invalid(pkt, 'nflog', 'nflog-tlv-past-packet', pos, `TLV needs ${needed} bytes, ${packetEnd - pos} left in the packet`);
  }
  return truncated(pkt, 'nflog', 'nflog-truncated', pos, needed, end - pos);
}

/**
 * End of the packet as it was on the wire: a length field pointing past it is contradictory (invalid), one
 * pointing only past the captured bytes means the capture was cut (truncated).
 */
function wireEnd(pkt: MutableDecodedPacket, end: number): number {
  return end < pkt.dataEnd ? end : Math.max(end, pkt.dataStart + pkt.record.origLenBytes);
}

function u32be(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
}
