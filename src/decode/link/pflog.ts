/**
 * pf's log header, LINKTYPE_PFLOG (117) for every BSD flavour, and the pre-OpenBSD-3.4 header (LINKTYPE 17).
 * Modelled on tcpdump print-pflog.c: the header's own length byte says which OS wrote it, the payload starts at
 * that length rounded up to 4, and per-OS tables name action and reason codes (unknown codes become `unknown(N)`
 * instead of failures).
 *
 * Allocates one PflogInfo per packet (per-packet metadata for reports).
 */
import type { Direction, PflogInfo } from '../../types.js';
import { AF, ETHERTYPE } from '../constants.js';
import type { MutableDecodedPacket } from '../decoded-packet.js';
import { invalid, truncated, unsupported } from '../issue.js';
import { isBsdInet6 } from './null.js';

/*
 * struct pfloghdr (formats.md §4.1/§4.2; OpenBSD/FreeBSD/NetBSD/XNU net/if_pflog.h). Common prefix:
 *   off 0  size 1   length: header length the kernel wrote (PFLOG_REAL_HDRLEN)
 *   off 1  size 1   af: 2 IPv4; IPv6 24 OpenBSD/NetBSD, 28 FreeBSD, 30 Darwin
 *   off 2  size 1   action (§4.4)
 *   off 3  size 1   reason (§4.5)
 *   off 4  size 16  ifname, NUL-padded (IFNAMSIZ; a full-length name has no NUL)
 *   off 20 size 16  ruleset: anchor name, empty for the main ruleset
 *   off 36 size 4   rulenr, BE (htonl)
 *   off 40 size 4   subrulenr, BE; 0xFFFFFFFF when not inside an anchor
 *   off 44 size 4   uid of the socket owner, HOST order (no htonl)
 *   off 48 size 4   pid, HOST order
 *   off 52 size 4   rule_uid, HOST order
 *   off 56 size 4   rule_pid, HOST order
 *   off 60 size 1   dir: 0 in/out, 1 in, 2 out, 3 fwd (OpenBSD)
 * Tails: OpenBSD >= 4.9 length 100 (rewritten, naf, pad, saddr[16], daddr[16], sport, dport); FreeBSD length 69
 * (pad[3], ridentifier u32 BE, reserve u8); macOS/NetBSD/DragonFly (and OpenBSD 3.8–4.8) length 61.
 * OpenBSD 3.4–3.7 had no uid/pid fields: dir at off 44, length 45.
 * The packet starts at roundup(length, 4) (tcpdump roundup2(hdrlen, 4), the old BPF_WORDALIGN rule).
 */

/** Smallest current header length (macOS/NetBSD/DragonFly: offsetof(struct pfloghdr, pad)). */
export const PFLOG_MIN_HDRLEN = 61;
/** Largest header length (OpenBSD >= 4.9: sizeof(struct pfloghdr)); tcpdump MAX_PFLOG_HDRLEN. */
export const PFLOG_MAX_HDRLEN = 100;
/** FreeBSD header length (offsetof(struct pfloghdr, pad2)). */
export const PFLOG_FREEBSD_HDRLEN = 69;
/**
 * OpenBSD 3.4–3.7 header length (formats.md §4.2: no uid/pid, dir at 44, payload at 48). tcpdump master rejects it
 * (< 61); tcpdump <= 4.99 accepts it (MIN_PFLOG_HDRLEN 45) but reads dir at offset 60, inside the packet; Wireshark
 * accepts it with this layout. Accepted here with its own layout so files pflogd wrote then stay readable.
 */
export const PFLOG_OLD_OPENBSD_HDRLEN = 45;

/*
 * Old pflog header, LINKTYPE 17 (OpenBSD < 3.4; formats.md §4.9, Wireshark dissect_old_pflog, NetBSD
 * old_pfloghdr), 28 bytes, payload follows immediately:
 *   off 0  size 4   af, BE
 *   off 4  size 16  ifname
 *   off 20 size 2   rnr, i16 BE
 *   off 22 size 2   reason, BE
 *   off 24 size 2   action, BE
 *   off 26 size 2   dir, BE: 0 in, 1 out
 */

/** Bytes in the old (LINKTYPE 17) pflog header. */
export const OLD_PFLOG_HEADER_BYTES = 28;

/** Darwin UID_MAX (XNU sys/syslimits.h); NetBSD uses the same value. */
const UID_MAX_DARWIN = 0x7fffffff;
/** OpenBSD/FreeBSD/DragonFly UID_MAX, and OpenBSD's "-1" (tcpdump print-pflog.c comment). */
const UID_MAX_BSD = 0xffffffff;
/** NO_PID = PID_MAX + 1 = 100000 on Darwin (XNU sys/proc_internal.h), OpenBSD and FreeBSD (PID_MAX 99999). */
const NO_PID = 100000;
/** Pids above this are implausible on any BSD (FreeBSD's PID_MAX is 99999, XNU's 99999; 2^22 leaves margin). */
const PLAUSIBLE_PID_LIMIT = 1 << 22;

const COMMON_ACTIONS = [
  'pass', 'block', 'scrub', 'noscrub', 'nat', 'nonat', 'binat', 'nobinat', 'rdr', 'nordr', 'synproxy-drop',
] as const;
/** Action names by flavour (formats.md §4.4; tcpdump pf_actions_*). */
const ACTIONS: Readonly<Record<PflogInfo['flavour'], readonly string[]>> = {
  freebsd: [...COMMON_ACTIONS, 'defer', 'match'],
  openbsd: [...COMMON_ACTIONS, 'defer', 'match', 'divert', 'rt', 'afrt'],
  // The Darwin set is a superset of NetBSD's / DragonFly's 0..10 (tcpdump uses it for every 61-byte header).
  darwin: [...COMMON_ACTIONS, 'dummynet', 'nodummynet', 'nat64', 'nonat64'],
  // OpenBSD 3.x had PF_PASS..PF_SYNPROXY_DROP only.
  'old-openbsd': COMMON_ACTIONS,
};

const COMMON_REASONS = [
  'match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion', 'ip-option',
  'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy',
] as const;
/** Reason (PFRES_*) names by flavour (formats.md §4.5; tcpdump pf_reasons_*). */
const REASONS: Readonly<Record<PflogInfo['flavour'], readonly string[]>> = {
  freebsd: [...COMMON_REASONS, 'map-failed'],
  openbsd: [...COMMON_REASONS, 'translate', 'no-route'],
  // 15 is "state-locked" on NetBSD, which shares the 61-byte header; tcpdump prints both names. The flavour is
  // Darwin's, so the Darwin names are used.
  darwin: [...COMMON_REASONS, 'dummynet', 'invalid-port'],
  'old-openbsd': COMMON_REASONS,
};

/** Name of a pf action code for a flavour, or `unknown(N)` (tcpdump tok2str "unkn(%u)"). */
export function pflogActionName(flavour: PflogInfo['flavour'], action: number): string {
  return ACTIONS[flavour][action] ?? `unknown(${action})`;
}

/** Name of a pf reason (PFRES_*) code for a flavour, or `unknown(N)`. */
export function pflogReasonName(flavour: PflogInfo['flavour'], reason: number): string {
  return REASONS[flavour][reason] ?? `unknown(${reason})`;
}

/**
 * Decode a pflog header (LINKTYPE_PFLOG) at `offset`.
 *
 * Accepts header lengths 61..100 (tcpdump's range) and 45 (OpenBSD 3.4–3.7, see PFLOG_OLD_OPENBSD_HDRLEN);
 * flavour by length: 100 openbsd, 69 freebsd, 45 old-openbsd, anything else darwin (tcpdump's "other").
 * Sets `pkt.pflog`, `pkt.ifName`, `pkt.direction` (dir 1 'in', 2 'out') and returns the payload offset
 * roundup(length, 4) with `pkt.nextEtherType` from the AF; or -1 with `pflog-truncated`,
 * `pflog-hdrlen-out-of-range`, `pflog-hdrlen-past-packet` (the length byte claims more than the packet had on
 * the wire) or `pflog-unknown-family` (unsupported; pkt.pflog is kept).
 *
 * uid and pid are in the logging host's byte order, which the record does not carry; see {@link pickHostOrder}.
 */
export function decodePflog(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < 1) return truncated(pkt, 'pflog', 'pflog-truncated', offset, 1, Math.max(available, 0));
  const hdrLen = data[offset]!; // SAFETY: available >= 1
  if (hdrLen !== PFLOG_OLD_OPENBSD_HDRLEN && (hdrLen < PFLOG_MIN_HDRLEN || hdrLen > PFLOG_MAX_HDRLEN)) {
    return invalid(pkt, 'pflog', 'pflog-hdrlen-out-of-range', offset,
      `header length ${hdrLen} not in ${PFLOG_MIN_HDRLEN}..${PFLOG_MAX_HDRLEN} (or ${PFLOG_OLD_OPENBSD_HDRLEN})`);
  }
  const payloadStart = offset + ((hdrLen + 3) & ~3);
  if (payloadStart > wireEnd(pkt, end)) {
    return invalid(pkt, 'pflog', 'pflog-hdrlen-past-packet', offset,
      `header length ${hdrLen} > packet length ${wireEnd(pkt, end) - offset}`);
  }
  if (payloadStart > end) {
    return truncated(pkt, 'pflog', 'pflog-truncated', offset, payloadStart - offset, available);
  }
  // SAFETY: every read below is at offset + 0..60 < hdrLen <= payloadStart - offset <= available
  // (the old layout reads at most offset + 44 < 45).
  const flavour: PflogInfo['flavour'] =
    hdrLen === PFLOG_MAX_HDRLEN ? 'openbsd'
    : hdrLen === PFLOG_FREEBSD_HDRLEN ? 'freebsd'
    : hdrLen === PFLOG_OLD_OPENBSD_HDRLEN ? 'old-openbsd'
    : 'darwin';
  const family = data[offset + 1]!;
  const action = data[offset + 2]!;
  const reason = data[offset + 3]!;
  const ifName = latin1z(data, offset + 4, 16);
  let uid: number | undefined;
  let pid: number | undefined;
  let dir: number;
  if (flavour === 'old-openbsd') {
    dir = data[offset + 44]!;
  } else {
    const le = pickHostOrder(data, offset);
    const rawUid = le ? u32le(data, offset + 44) : u32be(data, offset + 44);
    const rawPid = (le ? u32le(data, offset + 48) : u32be(data, offset + 48)) | 0;
    // Darwin/NetBSD write UID_MAX 2^31-1, DragonFly 2^32-1 (both possible in a 61-byte header); OpenBSD and
    // FreeBSD write 2^32-1 only (tcpdump pflog_print comment).
    const noUid = rawUid === UID_MAX_BSD || (flavour === 'darwin' && rawUid === UID_MAX_DARWIN);
    uid = noUid ? undefined : rawUid;
    pid = rawPid === NO_PID || rawPid === -1 ? undefined : rawPid;
    dir = data[offset + 60]!;
  }
  const info: PflogInfo = {
    headerLenBytes: hdrLen,
    flavour,
    addressFamily: family,
    action,
    actionName: pflogActionName(flavour, action),
    reason,
    reasonName: pflogReasonName(flavour, reason),
    ifName,
    ruleset: latin1z(data, offset + 20, 16),
    ruleNumber: ruleNumberOf(u32be(data, offset + 36)),
    subruleNumber: ruleNumberOf(u32be(data, offset + 40)),
    uid,
    pid,
    dir,
  };
  pkt.pflog = info;
  if (ifName !== '') pkt.ifName = ifName;
  const direction = pfDirection(dir);
  if (direction !== undefined) pkt.direction = direction;
  return pflogPayload(pkt, offset, payloadStart, family);
}

/**
 * Decode an old OpenBSD (< 3.4) pflog header, LINKTYPE 17, at `offset`.
 *
 * Fills `pkt.pflog` with flavour 'old-openbsd', headerLenBytes 28, subruleNumber -1, empty ruleset and no
 * uid/pid; `dir` is mapped to the current meaning (old 0 in → 1, old 1 out → 2) so PflogInfo.dir reads the same
 * for every flavour. Returns offset + 28 with `pkt.nextEtherType` set, or -1 with `pflog-truncated` /
 * `pflog-unknown-family`.
 */
export function decodeOldPflog(pkt: MutableDecodedPacket, offset: number): number {
  const data = pkt.data;
  const end = Math.min(pkt.netEnd, pkt.dataEnd);
  const available = end - offset;
  if (available < OLD_PFLOG_HEADER_BYTES) {
    return truncated(pkt, 'pflog', 'pflog-truncated', offset, OLD_PFLOG_HEADER_BYTES, Math.max(available, 0));
  }
  // SAFETY: available >= 28 covers every read below.
  const family = u32be(data, offset);
  const ruleNumber = ((data[offset + 20]! << 24) | (data[offset + 21]! << 16)) >> 16; // sign-extend the i16
  const reason = (data[offset + 22]! << 8) | data[offset + 23]!;
  const action = (data[offset + 24]! << 8) | data[offset + 25]!;
  const oldDir = (data[offset + 26]! << 8) | data[offset + 27]!;
  const dir = oldDir === 0 ? 1 : oldDir === 1 ? 2 : oldDir;
  const ifName = latin1z(data, offset + 4, 16);
  pkt.pflog = {
    headerLenBytes: OLD_PFLOG_HEADER_BYTES,
    flavour: 'old-openbsd',
    addressFamily: family,
    action,
    actionName: pflogActionName('old-openbsd', action),
    reason,
    reasonName: pflogReasonName('old-openbsd', reason),
    ifName,
    ruleset: '',
    ruleNumber,
    subruleNumber: -1,
    uid: undefined,
    pid: undefined,
    dir,
  };
  if (ifName !== '') pkt.ifName = ifName;
  const direction = pfDirection(dir);
  if (direction !== undefined) pkt.direction = direction;
  return pflogPayload(pkt, offset, offset + OLD_PFLOG_HEADER_BYTES, family);
}

/**
 * Decide whether the host-order uid/pid fields at `offset` + 44..59 of a pflog header are little-endian.
 *
 * The kernel copies them without htonl, and pflogd/tcpdump write the file in the kernel's order, but a decoder
 * sees only record bytes, not the file's byte order. The fields' typical values are lopsided, so read both ways
 * and keep the reading that looks like a real header:
 *  1. pid: NO_PID (100000), -1 or a plausible pid (< 2^22) beats a huge number (100000 LE is 0xA0860100 BE);
 *  2. if still tied (pid 0, -1 and other palindromes), uid: UID_MAX (either OS value) or a small uid wins;
 *  3. then rule_pid (offset 56) by the pid rule;
 *  4. still tied: little-endian — every platform that runs pf today (amd64, arm64) is little-endian.
 * The caller must have checked that offset + 60 bytes are available.
 */
export function pickHostOrder(data: Uint8Array, offset: number): boolean {
  let score = pidScore(u32le(data, offset + 48)) - pidScore(u32be(data, offset + 48));
  if (score === 0) score = uidScore(u32le(data, offset + 44)) - uidScore(u32be(data, offset + 44));
  if (score === 0) score = pidScore(u32le(data, offset + 56)) - pidScore(u32be(data, offset + 56));
  return score >= 0;
}

/**
 * Only 0xFFFFFFFF means "none" (-1): other values above 2^31 stay unsigned, since NetBSD npf fills rulenr/subrulenr
 * with the halves of a 64-bit rule id (formats.md §4.6).
 */
function ruleNumberOf(value: number): number {
  return value === 0xffffffff ? -1 : value;
}

function pidScore(value: number): number {
  if (value === NO_PID || value === 0xffffffff) return 2;
  return value < PLAUSIBLE_PID_LIMIT ? 1 : 0;
}

function uidScore(value: number): number {
  if (value === UID_MAX_DARWIN || value === UID_MAX_BSD) return 2;
  return value < PLAUSIBLE_PID_LIMIT ? 1 : 0;
}

function pfDirection(dir: number): Direction | undefined {
  // PF_IN = 1, PF_OUT = 2; 0 (in/out) and 3 (OpenBSD fwd) say nothing about the host.
  if (dir === 1) return 'in';
  if (dir === 2) return 'out';
  return undefined;
}

function pflogPayload(pkt: MutableDecodedPacket, offset: number, payloadStart: number, family: number): number {
  if (family === AF.INET) {
    pkt.nextEtherType = ETHERTYPE.IPV4;
    return payloadStart;
  }
  // Any OS's AF_INET6, as tcpdump does: a pflog file may come from another OS than the reader's.
  if (isBsdInet6(family)) {
    pkt.nextEtherType = ETHERTYPE.IPV6;
    return payloadStart;
  }
  return unsupported(pkt, 'pflog', 'pflog-unknown-family', offset + 1, `address family ${family}`);
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

function u32le(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

/** A NUL-padded fixed-size name as latin1 up to the first NUL (none required: IFNAMSIZ names may fill it). */
function latin1z(data: Uint8Array, at: number, size: number): string {
  let text = '';
  for (let i = at; i < at + size; i++) {
    const byte = data[i]!; // callers check at + size <= available
    if (byte === 0) break;
    text += String.fromCharCode(byte);
  }
  return text;
}
