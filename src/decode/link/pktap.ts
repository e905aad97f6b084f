/**
 * Apple PKTAP (LINKTYPE_PKTAP 258; DLT_USER2 149 in older files): a per-packet header naming the interface, the
 * direction and the process that owned the socket, followed by a frame of another link type (pth_dlt).
 * Both header versions are read; tcpdump print-pktap.c (v1 only) and Apple's print_pktap.c are the models.
 *
 * Allocates one PktapInfo per packet (per-packet metadata for reports).
 */
import type { PktapInfo } from '../../types.js';
import { LINKTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated, unsupported } from '../issue.js';

/*
 * All fields little-endian (formats.md §3.5: tcpdump and Apple's tcpdump read them with GET_LE; Apple never
 * specified an order, but every Apple machine since 2006 is little-endian).
 *
 * v1, struct pktap_header (XNU bsd/net/pktap.h; formats.md §3.5 table), at least 108 bytes:
 *   off 0   size 4   pth_length: header length, payload starts here; >= 108
 *   off 4   size 4   pth_type_next: 0 none, 1 packet, 2 drop record
 *   off 8   size 4   pth_dlt: macOS DLT of the inner frame
 *   off 12  size 24  pth_ifname, NUL-padded (may lack the NUL)
 *   off 36  size 4   pth_flags (0x1 in, 0x2 out, 0x80000 v2 header …)
 *   off 40  size 4   pth_protocol_family · 44 pth_frame_pre_length · 48 pth_frame_post_length
 *   off 52  size 4   pth_pid, i32
 *   off 56  size 17  pth_comm: process name (MAXCOMLEN + 1)
 *   off 76  size 4   pth_svc · 80 pth_iftype u16 · 82 pth_ifunit u16
 *   off 84  size 4   pth_epid, i32: effective (responsible) process
 *   off 88  size 17  pth_ecomm
 *   off 105 size 3   padding → 108; flowid, ipproto, tstamp, uuid, euuid (to 156) follow in newer kernels and
 *                    are not read
 *
 * v2, struct pktap_v2_hdr (XNU bsd/net/pktap.h), 40 fixed bytes then a variable area:
 *   off 0  u8 pth_length · 1 uuid_off · 2 e_uuid_off · 3 ifname_off · 4 comm_off · 5 e_comm_off (u8 offsets
 *          from the header start, 0 = absent)
 *   off 6  u16 pth_dlt · 8 pre_len u16 · 10 post_len u16 · 12 iftype u16 · 14 ipproto u16
 *   off 16 u32 family · 20 svc u32 · 24 flowid u32 · 28 pid i32 · 32 e_pid i32 · 36 flags u32
 *   variable: uuid[16], e_uuid[16], ifname[<= 24], comm[<= 17], e_comm[<= 17]
 * pth_flags is at offset 36 in both versions; PTH_FLAG_V2_HDR there says which layout the rest follows.
 */

/** Bytes needed to read pth_flags (offset 36, 4 bytes) — the first thing decoded. */
export const PKTAP_FLAGS_END = 40;
/** Smallest v1 header (through pth_ecomm and its padding; tcpdump sizeof(pktap_header_t), tcpdump-htdocs). */
export const PKTAP_V1_MIN_HEADER_BYTES = 108;
/** Fixed part of a v2 header (sizeof(struct pktap_v2_hdr)). */
export const PKTAP_V2_FIXED_BYTES = 40;

/** pth_flags bits (XNU bsd/net/pktap.h). XNU's comments on DIR_IN/DIR_OUT are swapped; Apple's tcpdump prints 0x1 as "in". */
export const PTH_FLAG = {
  DIR_IN: 0x1,
  DIR_OUT: 0x2,
  PROC_DELEGATED: 0x4,
  IF_DELEGATED: 0x8,
  TSTAMP: 0x2000,
  NEW_FLOW: 0x4000,
  REXMIT: 0x8000,
  KEEP_ALIVE: 0x10000,
  SOCKET: 0x20000,
  NEXUS_CHAN: 0x40000,
  V2_HDR: 0x80000,
} as const;

/** pth_type_next value for "a packet follows" (PTH_TYPE_PACKET). */
const PTH_TYPE_PACKET = 1;
/** PKTAP_IFXNAMESIZE = IF_NAMESIZE + 8. */
const IFXNAMESIZE = 24;
/** MAXCOMLEN + 1. */
const COMM_SIZE = 17;

/** macOS DLT values that differ from their LINKTYPE (libpcap pcap-common.c dlt_to_linktype). */
const DARWIN_DLT_RAW = 12;
const DARWIN_DLT_PKTAP = 149;

/**
 * Map a macOS DLT value (pth_dlt) to the LINKTYPE the link decoders are keyed by. macOS uses the common BSD values,
 * which equal the LINKTYPE for everything but DLT_RAW (12 → LINKTYPE_RAW 101) and DLT_PKTAP (149 → 258)
 * (libpcap dlt_to_linktype); DLT 12 is mapped to 101 explicitly so the OpenBSD LOOP heuristic of LINKTYPE 12 never
 * applies to an Apple header.
 */
export function linktypeFromDarwinDlt(dlt: number): number {
  if (dlt === DARWIN_DLT_RAW) return LINKTYPE.RAW;
  if (dlt === DARWIN_DLT_PKTAP) return LINKTYPE.PKTAP;
  return dlt;
}

/**
 * Decode a PKTAP header (v1 or v2) at `offset`.
 *
 * Reads pth_flags first (it decides the version), then the version's fields, each bounded by the header length.
 * Sets `pkt.pktap`, `pkt.ifName` (when the header names one), `pkt.direction` (flags 0x1 'in', 0x2 'out') and
 * `pkt.nextLinktype` (pth_dlt mapped by {@link linktypeFromDarwinDlt}), and returns the offset of the inner frame
 * (offset + header length). Issues: `pktap-truncated`, `pktap-hdrlen-lt-min` (v1 < 108, v2 < 40),
 * `pktap-hdrlen-past-packet` (the header length exceeds the packet's wire length), `pktap-v2-offset-out-of-range`
 * (a v2 string offset outside the variable area) and `pktap-not-a-packet` (unsupported: v1 pth_type_next other
 * than PTH_TYPE_PACKET, e.g. a drop record; pkt.pktap is kept).
 */
export function decodePktap(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < PKTAP_FLAGS_END) {
    return truncated(pkt, 'pktap', 'pktap-truncated', offset, PKTAP_FLAGS_END, Math.max(available, 0));
  }
  // SAFETY: available >= 40 covers offsets 0..39 of either version.
  const flags = u32le(data, offset + 36);
  return (flags & PTH_FLAG.V2_HDR) !== 0
    ? decodeV2(pkt, offset, end, flags)
    : decodeV1(pkt, offset, end, flags);
}

function decodeV1(pkt: MutableDecodedPacket, offset: number, end: number, flags: number): number {
  const data = pkt.data;
  const hdrLen = u32le(data, offset); // SAFETY: caller checked 40 bytes
  if (hdrLen < PKTAP_V1_MIN_HEADER_BYTES) {
    return invalid(pkt, 'pktap', 'pktap-hdrlen-lt-min', offset, `v1 pth_length ${hdrLen} < ${PKTAP_V1_MIN_HEADER_BYTES}`);
  }
  const lenIssue = checkHeaderFits(pkt, offset, end, hdrLen);
  if (lenIssue < 0) return -1;
  // SAFETY: hdrLen >= 108 bytes are captured, and every read below ends at or before offset + 105.
  const dlt = u32le(data, offset + 8);
  const info: PktapInfo = {
    version: 1,
    headerLenBytes: hdrLen,
    ifName: latin1z(data, offset + 12, offset + 12 + IFXNAMESIZE),
    innerDlt: dlt,
    flags,
    pid: knownPid(u32le(data, offset + 52) | 0),
    processName: latin1z(data, offset + 56, offset + 56 + COMM_SIZE),
    effectivePid: knownPid(u32le(data, offset + 84) | 0),
    effectiveProcessName: latin1z(data, offset + 88, offset + 88 + COMM_SIZE),
  };
  applyInfo(pkt, info);
  const typeNext = u32le(data, offset + 4);
  if (typeNext !== PTH_TYPE_PACKET) {
    return unsupported(pkt, 'pktap', 'pktap-not-a-packet', offset + 4, `pth_type_next ${typeNext}`);
  }
  pkt.nextLinktype = linktypeFromDarwinDlt(dlt);
  return offset + hdrLen;
}

function decodeV2(pkt: MutableDecodedPacket, offset: number, end: number, flags: number): number {
  const data = pkt.data;
  // SAFETY: caller checked 40 bytes, covering the whole fixed part.
  const hdrLen = data[offset]!;
  if (hdrLen < PKTAP_V2_FIXED_BYTES) {
    return invalid(pkt, 'pktap', 'pktap-hdrlen-lt-min', offset, `v2 pth_length ${hdrLen} < ${PKTAP_V2_FIXED_BYTES}`);
  }
  const lenIssue = checkHeaderFits(pkt, offset, end, hdrLen);
  if (lenIssue < 0) return -1;
  const hdrEnd = offset + hdrLen; // <= end, checked above
  const ifName = v2String(pkt, offset, hdrEnd, data[offset + 3]!, IFXNAMESIZE);
  const processName = v2String(pkt, offset, hdrEnd, data[offset + 4]!, COMM_SIZE);
  const effectiveProcessName = v2String(pkt, offset, hdrEnd, data[offset + 5]!, COMM_SIZE);
  if (ifName === undefined || processName === undefined || effectiveProcessName === undefined) return -1;
  const dlt = data[offset + 6]! | (data[offset + 7]! << 8);
  const info: PktapInfo = {
    version: 2,
    headerLenBytes: hdrLen,
    ifName,
    innerDlt: dlt,
    flags,
    pid: knownPid(u32le(data, offset + 28) | 0),
    processName,
    effectivePid: knownPid(u32le(data, offset + 32) | 0),
    effectiveProcessName,
  };
  applyInfo(pkt, info);
  pkt.nextLinktype = linktypeFromDarwinDlt(dlt);
  return hdrEnd;
}

/** Check that a header of `hdrLen` bytes at `offset` was captured; returns 0 or -1 with an issue. */
function checkHeaderFits(pkt: MutableDecodedPacket, offset: number, end: number, hdrLen: number): number {
  const packetEnd = wireEnd(pkt, end);
  if (offset + hdrLen > packetEnd) {
    return invalid(pkt, 'pktap', 'pktap-hdrlen-past-packet', offset,
      `pth_length ${hdrLen} > packet length ${packetEnd - offset}`);
  }
  if (offset + hdrLen > end) return truncated(pkt, 'pktap', 'pktap-truncated', offset, hdrLen, end - offset);
  return 0;
}

/**
 * A v2 string at header offset `fieldOffset` (0 = absent → ''), at most `maxSize` bytes and never past the header.
 * Returns undefined (with an issue) when the offset points outside the variable area.
 */
function v2String(
  pkt: MutableDecodedPacket,
  offset: number,
  hdrEnd: number,
  fieldOffset: number,
  maxSize: number,
): string | undefined {
  if (fieldOffset === 0) return '';
  const start = offset + fieldOffset;
  if (fieldOffset < PKTAP_V2_FIXED_BYTES || start >= hdrEnd) {
    invalid(pkt, 'pktap', 'pktap-v2-offset-out-of-range', offset,
      `string offset ${fieldOffset} outside ${PKTAP_V2_FIXED_BYTES}..${hdrEnd - offset - 1}`);
    return undefined;
  }
  return latin1z(pkt.data, start, Math.min(start + maxSize, hdrEnd));
}

function applyInfo(pkt: MutableDecodedPacket, info: PktapInfo): void {
  pkt.pktap = info;
  if (info.ifName !== '') pkt.ifName = info.ifName;
  if ((info.flags & PTH_FLAG.DIR_IN) !== 0) pkt.direction = 'in';
  else if ((info.flags & PTH_FLAG.DIR_OUT) !== 0) pkt.direction = 'out';
}

/** 0 and -1 mean "no process" in pth_pid/pth_epid (formats.md §3.5). */
function knownPid(pid: number): number | undefined {
  return pid === 0 || pid === -1 ? undefined : pid;
}

/**
 * End of the packet as it was on the wire: a length field pointing past it is contradictory (invalid), one
 * pointing only past the captured bytes means the capture was cut (truncated).
 */
function wireEnd(pkt: MutableDecodedPacket, end: number): number {
  return end < pkt.dataEnd ? end : Math.max(end, pkt.dataStart + pkt.record.origLenBytes);
}

function u32le(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

/** Bytes [from, to) as latin1 up to the first NUL; callers guarantee `to` <= captured end. */
function latin1z(data: Uint8Array, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) {
    const byte = data[i]!;
    if (byte === 0) break;
    text += String.fromCharCode(byte);
  }
  return text;
}
