/**
 * Size limits shared by the pcap and pcapng readers, taken from libpcap so that a file libpcap calls corrupt is
 * damaged here too, and so that a fuzzed length can never make the reader allocate gigabytes.
 */

/** libpcap `pcap-int.h` MAXIMUM_SNAPLEN: the largest caplen a sane record of an ordinary link type has. */
export const MAXIMUM_SNAPLEN_BYTES = 262_144;

/** LINKTYPE values whose maximum caplen libpcap raises (`max_snaplen_for_dlt` in `pcap-common.c`). */
const LINKTYPE_DBUS = 231;
const LINKTYPE_USBPCAP = 249;
const LINKTYPE_EBHSCR = 279;

/** libpcap `max_snaplen_for_dlt`: a record with a larger caplen is corrupt. */
export function maxSnaplenForLinktype(linktype: number): number {
  switch (linktype) {
    case LINKTYPE_DBUS:
      return 128 * 1024 * 1024;
    case LINKTYPE_EBHSCR:
      return 8 * 1024 * 1024;
    case LINKTYPE_USBPCAP:
      return 1024 * 1024;
    default:
      return MAXIMUM_SNAPLEN_BYTES;
  }
}

/** libpcap `pcap_adjust_snapshot`: a snaplen of 0 or above the maximum means "the maximum". */
export function adjustSnaplen(linktype: number, snaplenBytes: number): number {
  const maxBytes = maxSnaplenForLinktype(linktype);
  return snaplenBytes === 0 || snaplenBytes > maxBytes ? maxBytes : snaplenBytes;
}

/** libpcap `sf-pcapng.c` BT_SHB_INSANE_MAX: a first section header longer than this is not pcapng. */
export const MAX_SECTION_HEADER_BYTES = 1024 * 1024;

/** libpcap `sf-pcapng.c` INITIAL_MAX_BLOCKSIZE. */
export const INITIAL_MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * libpcap `MAX_BLOCKSIZE_FOR_SNAPLEN`: an EPB carrying a maximum-size packet plus 128 KiB of options
 * (8 header + 20 EPB fields + packet + 131072 + 4 trailer).
 */
export function maxBlockBytesForLinktype(linktype: number): number {
  return 8 + 20 + maxSnaplenForLinktype(linktype) + 131_072 + 4;
}

/**
 * Bytes of captured data to keep and the wire length to report once a trailing FCS of `fcsBytes` is removed.
 * The FCS is the last `fcsBytes` of the packet on the wire, so a capture cut short by the snaplen may hold
 * only part of it, or none. When orig_len is smaller than caplen (a broken writer) the captured bytes are
 * trusted and their tail is taken as the FCS. Writes into `out` to avoid allocating per record.
 */
export function trimFcs(capLenBytes: number, origLenBytes: number, fcsBytes: number, out: TrimmedLengths): void {
  const wireBytes = Math.max(capLenBytes, origLenBytes);
  out.capLenBytes = Math.max(0, Math.min(capLenBytes, wireBytes - fcsBytes));
  out.origLenBytes = Math.max(0, origLenBytes - fcsBytes);
}

/** Scratch result of `trimFcs`. */
export interface TrimmedLengths {
  capLenBytes: number;
  origLenBytes: number;
}
