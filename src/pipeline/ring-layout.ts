/**
 * The layout of the packet ring (packet-ring.ts) — its units, its control block, where each field of a packet sits —
 * and its pacing, as constants and nothing else. A module of its own that imports nothing, so the CLI's bundler
 * writes every `view.getFloat64(at + AT_TS_SEC)` with a literal (scripts/build-bundles.mjs INLINED_LAYOUTS; issue 7:
 * both threads index the ring for every packet).
 */

/**
 * The ring is made of 64-byte units, one cache line each: a packet takes one (IPv4), two (IPv6: its addresses in the
 * second) or three (an ICMP error: the quoted datagram's ports and addresses in the second and third). Every unit
 * the writer fills is a line the reading core has to fetch from the writing one; the first layout, 144 bytes for
 * every packet, spent more time in those transfers than in decoding.
 */
export const UNIT_BYTES = 64;
export const HEADER_BYTES = 64;
/** 16384 units (1 MiB): a few milliseconds of replay, so neither side waits on the other's every step. */
export const DEFAULT_UNITS = 16384;
/**
 * The writer fills a stage of its own this size and copies it into the ring whole (a packet never straddles two
 * stages: the rest of a stage stays empty). Written field by field, the ring's lines — which the reading core holds
 * from the lap before — each stalled the writer while its core took them over; one copy of 4 KiB streams them.
 */
export const STAGE_UNITS = 64;
/** Units the reader takes between two publications of its counter. */
export const PUBLISH_EVERY = 256;
/** Longest sleep before a side looks again on its own (a lost wake-up costs at most this). */
export const WAIT_MS = 50;

// Int32 indexes of the control block.
export const WRITTEN = 0;
export const READ = 1;
export const DONE = 2;
export const CANCELLED = 3;
export const WRITER_WAITING = 4;
/** The writer, waiting for room, wants READ to reach this before it is woken. */
export const WRITER_WAKE_AT = 5;
export const READER_WAITING = 6;
/** The reader, waiting for packets, wants WRITTEN to reach this before it is woken (or the end). */
export const READER_WAKE_AT = 7;
// Float64 indexes of the control block (from byte 32): what the reading thread's progress line shows.
export const BYTES_READ = 4;
export const TOTAL_BYTES = 5;
export const RECORDS = 6;

// A packet's first unit, by byte offset (doubles, int32s and uint16s at offsets that are multiples of their size).
export const AT_TS_SEC = 0;
export const AT_FRAME = 8;
export const AT_TS_NSEC = 16;
export const AT_ORIG_LEN = 20;
export const AT_IP_LEN = 24;
export const AT_UDP_LEN = 28;
export const AT_SRC_PORT = 32;
export const AT_DST_PORT = 34;
/** Units the packet takes; PAD_UNIT where the rest of a stage was left empty. */
export const AT_UNITS = 36;
export const AT_IP_VERSION = 37;
export const AT_DIRECTION = 38;
export const AT_SERVICE = 39;
export const AT_QUOTED_IP_VERSION = 40;
/** An ICMP error's IP protocol (1, or 58 for ICMPv6); a UDP packet's is 17. */
export const AT_IP_PROTO = 41;
/** An ICMP error's type and code plus one (0: none, as -1 in the packet). */
export const AT_ICMP_TYPE = 44;
export const AT_ICMP_CODE = 46;
/** A UDP packet's flow hash, where an ICMP error has its type and code (a UDP packet has neither). */
export const AT_FLOW_HASH = 44;
/** An IPv4 packet's addresses as bytes (network order, what a denial copies) and as the numbers decoders give. */
export const AT_SRC4 = 48;
export const AT_DST4 = 52;
export const AT_SRC4_NUMBER = 56;
export const AT_DST4_NUMBER = 60;
// Second unit.
export const AT_SRC6 = 64;
export const AT_DST6 = 80;
export const AT_QUOTED_SRC_PORT = 96;
export const AT_QUOTED_DST_PORT = 98;
// Third unit.
export const AT_QUOTED_SRC = 128;
export const AT_QUOTED_DST = 144;
export const PAD_UNIT = 255;
