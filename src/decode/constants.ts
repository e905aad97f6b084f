/**
 * Wire constants under their upstream names, so they grep against libpcap, tcpdump and OS headers
 * (dpkt's ETH_TYPE_*, tcpdump's PFRES_*).
 */

/** LINKTYPE_* values as they appear in files (tcpdump.org linktypes; libpcap pcap/dlt.h for 12/14/149). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  /** DLT_RAW on most BSDs and Linux when written with the OS DLT value instead of 101. */
  RAW_12: 12,
  /** DLT_RAW on OpenBSD / BSD/OS. */
  RAW_14: 14,
  RAW: 101,
  /** OpenBSD pflog before 3.4 (28-byte header, formats.md §4.9). */
  OLD_PFLOG: 17,
  PPP_HDLC: 50,
  LOOP: 108,
  LINUX_SLL: 113,
  PFLOG: 117,
  /** DLT_USER2 = DLT_PKTAP on macOS, as old files carry it. */
  USER2_PKTAP: 149,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  PKTAP: 258,
  LINUX_SLL2: 276,
} as const;

/** Ethertypes the decoder follows (IEEE registry; tcpdump ethertype.h). */
export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  QINQ: 0x88a8,
  /** Pre-standard QinQ TPIDs tcpdump also loops over. */
  QINQ_9100: 0x9100,
  QINQ_9200: 0x9200,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_SESSION: 0x8864,
} as const;

/** IP protocol numbers (IANA; RFC 791, RFC 8200). */
export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
  EXP1: 253,
  EXP2: 254,
} as const;

/** Address families as BSD/Linux/Apple write them in NULL, LOOP, pflog and PKTAP headers (tcpdump af.h). */
export const AF = {
  INET: 2,
  /** NetBSD, OpenBSD, BSD/OS, Npcap. */
  INET6_BSD: 24,
  INET6_FREEBSD: 28,
  INET6_DARWIN: 30,
  /** Linux AF_INET6 (NFLOG family NFPROTO_IPV6). */
  INET6_LINUX: 10,
} as const;
