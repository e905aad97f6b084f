/**
 * What a capture reader reports besides the records themselves: the file's shape (format, interfaces,
 * process-information blocks) and, when the input broke part-way, the damage that stopped it
 * (design-models.md §5, level "record").
 */

/**
 * Stable damage codes, format first (design-models.md §4: never renamed, only added to).
 * Each stops reading the input; everything before it has been delivered.
 */
export const CAPTURE_DAMAGE_CODES = [
  /** pcap: the input ended inside a 16/24/28-byte record header (libpcap "truncated dump file; … header bytes"). */
  'pcap-truncated-record-header',
  /** pcap: the record's caplen runs past the end of the input (libpcap "… captured bytes, only got"). */
  'pcap-record-past-eof',
  /** pcap: caplen larger than libpcap's maximum for the link type (formats.md §1.5, `max_snaplen_for_dlt`). */
  'pcap-caplen-impossible',
  /** pcapng: the input ended inside a block. */
  'pcapng-truncated-block',
  /** pcapng: total length < 12, or too short for the block type's fixed fields. */
  'pcapng-block-too-small',
  /** pcapng: total length is not a multiple of 4 (formats.md §2.1). */
  'pcapng-block-length-not-multiple-of-4',
  /** pcapng: total length above libpcap's limit (16 MiB, more for huge-snaplen link types). */
  'pcapng-block-too-large',
  /** pcapng: the trailing copy of the total length differs from the leading one. */
  'pcapng-block-length-mismatch',
  /** pcapng: a later section header whose byte-order magic is neither 0x1A2B3C4D nor its swap. */
  'pcapng-bad-byte-order-magic',
  /** pcapng: a later section header with a major version other than 1 (libpcap refuses it too). */
  'pcapng-unsupported-version',
  /** pcapng: a packet block in a section that has no interface description block yet. */
  'pcapng-packet-before-idb',
  /** pcapng: a packet block naming an interface id the section never described. */
  'pcapng-bad-interface-id',
  /** pcapng: a packet's captured length is larger than its block body. */
  'pcapng-caplen-exceeds-block',
  /** pcapng: an if_tsresol finer than 10^-19 or 2^-63 (libpcap: "resolution … is too high"). */
  'pcapng-tsresol-unsupported',
  /** The operating system failed a read after the header had been accepted. */
  'read-error',
  /**
   * pcap, resync mode only (the live tail): a record header no live writer produces — caplen above the file's snap
   * length, orig_len below caplen, or a sub-second field out of range — so the bytes are not a record boundary.
   */
  'pcap-record-implausible',
] as const;

/** One of `CAPTURE_DAMAGE_CODES`. */
export type CaptureDamageCode = (typeof CAPTURE_DAMAGE_CODES)[number];

/** Why reading stopped early. Records before `frame` were all delivered. */
export interface CaptureDamage {
  /** Stable kebab-case reason. */
  code: CaptureDamageCode;
  /** Input byte offset of the record or block that is damaged. */
  offset: number;
  /** 1-based number the next packet record would have had (records delivered + 1). */
  frame: number;
  /** One line with the numbers, e.g. "caplen 524501 > maximum 262144". */
  detail: string;
}

/** Resync mode: damage the reader stepped over, and where reading went on. */
export interface CaptureResync {
  damage: CaptureDamage;
  /** Input offset of the next plausible record, or -1 when the input ended first. */
  resumedAtOffset: number;
  /** Bytes skipped from the damage to where reading went on (or to the end of input). */
  skippedBytes: number;
}

/** One capture interface: the classic pcap file header, or one pcapng IDB. */
export interface CaptureInterface {
  /** 0-based pcapng section (always 0 for classic pcap). */
  section: number;
  /** Interface id within its section (pcapng IDB ordinal; 0 for classic pcap). */
  id: number;
  /** LINKTYPE_* value (low 16 bits of the pcap linktype field). */
  linktype: number;
  /** pcapng `if_name`, if present. */
  name: string | undefined;
  /** Snapshot length as the file states it (0 = unlimited in pcapng). */
  snaplenBytes: number;
  /** Sub-second digits of this interface's timestamps (6 µs, 9 ns, …). */
  tsDigits: number;
  /** pcapng `if_tsoffset`: seconds added to every timestamp (0 when absent). */
  tsOffsetSec: number;
  /** FCS bytes the file says end each packet (pcap linktype FCS bits, pcapng `if_fcslen`); trimmed from data. */
  fcsBytes: number;
}

/** One Apple process-information block (pcapng type 0x80000001, formats.md §3.6). */
export interface CaptureProcess {
  /** 0-based pcapng section. */
  section: number;
  /** Ordinal within the section: the value EPB options 0x8001 / 0x8003 refer to. */
  index: number;
  /** Process id. */
  pid: number;
  /** Process name (option 2), if present. */
  name: string | undefined;
  /** Executable path (option 3), if present. */
  path: string | undefined;
}

/** Everything known about an input once reading stopped (at its end or at damage). */
export interface CaptureSummary {
  /** Detected from the magic, never from the file name. */
  format: 'pcap' | 'pcapng';
  /** Version of the first header: "2.4" for pcap, "1.0" for pcapng. */
  version: string;
  /** Byte order of the pcap header or of the first pcapng section. */
  byteOrder: 'little-endian' | 'big-endian';
  /** Classic pcap: the nanosecond magic (0xA1B23C4D). pcapng: false (see each interface's tsDigits). */
  nanosecond: boolean;
  /** Classic pcap record-header variant; undefined for standard files and pcapng. */
  variant: 'kuznetzov' | 'kuznetzov-ss990915' | undefined;
  /** Packet records delivered to the callback. */
  records: number;
  /** Bytes received from the source (read or pushed) before reading stopped. */
  bytesRead: number;
  /** Why reading stopped early, or null when the input ended cleanly. */
  damage: CaptureDamage | null;
  /** Interfaces in file order, over all sections. */
  interfaces: CaptureInterface[];
  /** Apple process-information blocks in file order, over all sections. */
  processes: CaptureProcess[];
  /** pcapng section header blocks seen (1 for classic pcap). */
  sections: number;
}
