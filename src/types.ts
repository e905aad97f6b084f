/**
 * Stage contracts: the records that flow capture → decode → flow → classify → report.
 *
 * Hot-path records (`CaptureRecord`, `DecodedPacket`) are mutable and reused for every packet, so that
 * reading a 10 GB capture allocates nothing per packet (gopacket's DecodingLayerParser contract): a consumer
 * that keeps anything past its callback must copy it. Everything built for a report is plain, immutable data.
 */

/** Where a packet travelled relative to the capturing host, when the capture records it. */
export type Direction = 'in' | 'out' | 'unknown';

/**
 * One record read from a capture file, before any protocol is looked at.
 * Its bytes are `buffer[dataOffset, dataOffset + capLenBytes)`, inside the reader's reused buffer: valid only until
 * the callback returns. The hot path reads `buffer` at offsets (no object per packet, issue 7); `data` makes a view
 * of just the record's bytes for code that wants one (it allocates on a reader's record).
 */
export interface CaptureRecord {
  /** 1-based record number in the input (counts every packet record, decodable or not). */
  frame: number;
  /** Whole seconds since the Unix epoch (may exceed 2^32 only for pcapng). */
  tsSec: number;
  /** Fraction of the second in nanoseconds, 0..999_999_999. Exact for µs and ns resolutions. */
  tsNsec: number;
  /** Digits of sub-second precision the capture recorded (6 for µs pcap, 9 for ns, …), for display. */
  tsDigits: number;
  /** LINKTYPE_* value of this record's interface (pcapng: per interface). */
  linktype: number;
  /** Bytes present in `data` (after trimming an FCS the file declared). */
  capLenBytes: number;
  /** Length of the packet on the wire. */
  origLenBytes: number;
  /** The buffer that holds the captured bytes, at `dataOffset`. */
  buffer: Uint8Array;
  dataOffset: number;
  /** The captured bytes as their own view. Assigning sets `buffer`, `dataOffset` 0 and `capLenBytes`. */
  data: Uint8Array;
  /** Interface index within the file (pcapng interface id; 0 for classic pcap). */
  interfaceId: number;
  /** Interface name from the pcapng IDB (`if_name`), if any. */
  interfaceName: string | undefined;
  /** Direction from pcapng `epb_flags` bits 0-1 (draft-ietf-opsawg-pcapng §4.3.1), else 'unknown'. */
  direction: Direction;
  /** Process that owned the socket, from Apple's pcapng process-information blocks (EPB option 0x8001). */
  processName: string | undefined;
  processId: number | undefined;
  /** Effective (responsible) process, from EPB option 0x8003. */
  effectiveProcessName: string | undefined;
  effectiveProcessId: number | undefined;
}

const NO_BYTES = new Uint8Array(0);

/** The reusable record of readers and decoders: one hidden class, `data` made only when asked for. */
export class ReusableCaptureRecord implements CaptureRecord {
  frame = 0;
  tsSec = 0;
  tsNsec = 0;
  tsDigits = 6;
  linktype = 0;
  capLenBytes = 0;
  origLenBytes = 0;
  buffer: Uint8Array = NO_BYTES;
  dataOffset = 0;
  interfaceId = 0;
  interfaceName: string | undefined = undefined;
  direction: Direction = 'unknown';
  processName: string | undefined = undefined;
  processId: number | undefined = undefined;
  effectiveProcessName: string | undefined = undefined;
  effectiveProcessId: number | undefined = undefined;

  get data(): Uint8Array {
    if (this.dataOffset === 0 && this.buffer.length === this.capLenBytes) return this.buffer;
    return this.buffer.subarray(this.dataOffset, this.dataOffset + this.capLenBytes);
  }

  set data(bytes: Uint8Array) {
    this.buffer = bytes;
    this.dataOffset = 0;
    this.capLenBytes = bytes.length;
  }
}

/** A copy of a record that outlives the reader's callback (its own bytes, every field). */
export function copyCaptureRecord(record: CaptureRecord, into?: Uint8Array, at = 0): ReusableCaptureRecord {
  const copy = new ReusableCaptureRecord();
  copy.frame = record.frame;
  copy.tsSec = record.tsSec;
  copy.tsNsec = record.tsNsec;
  copy.tsDigits = record.tsDigits;
  copy.linktype = record.linktype;
  copy.origLenBytes = record.origLenBytes;
  if (into === undefined) {
    copy.data = record.buffer.slice(record.dataOffset, record.dataOffset + record.capLenBytes);
  } else {
    // Into the caller's arena at `at` (it must have room): one allocation for many records.
    into.set(record.buffer.subarray(record.dataOffset, record.dataOffset + record.capLenBytes), at);
    copy.buffer = into;
    copy.dataOffset = at;
    copy.capLenBytes = record.capLenBytes;
  }
  copy.interfaceId = record.interfaceId;
  copy.interfaceName = record.interfaceName;
  copy.direction = record.direction;
  copy.processName = record.processName;
  copy.processId = record.processId;
  copy.effectiveProcessName = record.effectiveProcessName;
  copy.effectiveProcessId = record.effectiveProcessId;
  return copy;
}

/** How far a decoder got before it stopped (etherparse LenError/HeaderError, tcpdump TCHECK/ICHECK). */
export type IssueKind = 'truncated' | 'invalid' | 'unsupported' | 'internal';

/** The protocol layer an issue belongs to. */
export type Layer =
  | 'capture'
  | 'ethernet'
  | 'vlan'
  | 'null'
  | 'sll'
  | 'sll2'
  | 'pflog'
  | 'nflog'
  | 'pktap'
  | 'link'
  | 'ipv4'
  | 'ipv6'
  | 'udp'
  | 'icmp'
  | 'icmpv6';

/**
 * Why decoding of one packet stopped early. `code` is a stable kebab-case name, layer first
 * (`udp-length-lt-header`, `ipv4-ihl-lt-5`): never renamed, only added to.
 */
export interface DecodeIssue {
  kind: IssueKind;
  code: string;
  layer: Layer;
  /** Absolute byte offset from the start of the frame where the problem was found. */
  offset: number;
  /** Bytes the header promised or needed (truncated issues). */
  requiredBytes?: number | undefined;
  /** Bytes that were present. */
  availableBytes?: number | undefined;
  /** Short free text: the field and the rule, e.g. "ihl 3 < 5". */
  detail?: string | undefined;
}

/** pf's log header (formats.md §4), decoded for every OS flavour. */
export interface PflogInfo {
  /** Header length field: 100 OpenBSD, 69 FreeBSD, 61 macOS/NetBSD/DragonFly, 45 old OpenBSD. */
  headerLenBytes: number;
  /** Which table gives names to action/reason codes. */
  flavour: 'openbsd' | 'freebsd' | 'darwin' | 'old-openbsd';
  addressFamily: number;
  action: number;
  /** Action name (`pass`, `block`, …) or `unknown(N)`. */
  actionName: string;
  reason: number;
  reasonName: string;
  ifName: string;
  /** Anchor name; empty for the main ruleset. */
  ruleset: string;
  /** Rule number; -1 (0xFFFFFFFF) is the default rule. */
  ruleNumber: number;
  /** Rule number inside the anchor; -1 when not inside one. */
  subruleNumber: number;
  /** Socket owner, when the rule asked for a lookup (`log (user)`); undefined when the kernel wrote UID_MAX. */
  uid: number | undefined;
  pid: number | undefined;
  /** 0 in/out, 1 in, 2 out, 3 fwd. */
  dir: number;
}

/** The NFLOG TLVs a firewall analyst needs (formats.md §5). */
export interface NflogInfo {
  addressFamily: number;
  /** The NFLOG group (resource id). */
  group: number;
  /** Log prefix without its NUL, '' when absent. */
  prefix: string;
  /** Netfilter hook: 0 PREROUTING, 1 INPUT, 2 FORWARD, 3 OUTPUT, 4 POSTROUTING; -1 when absent. */
  hook: number;
  inIfIndex: number | undefined;
  outIfIndex: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  mark: number | undefined;
  /** Timestamp TLV, when present. */
  tsSec: number | undefined;
  tsUsec: number | undefined;
}

/** Apple PKTAP header fields (formats.md §3.5). */
export interface PktapInfo {
  version: 1 | 2;
  headerLenBytes: number;
  ifName: string;
  innerDlt: number;
  flags: number;
  pid: number | undefined;
  processName: string;
  effectivePid: number | undefined;
  effectiveProcessName: string;
}

/**
 * One packet decoded to its UDP 5-tuple (or as far as it went). Reused for every packet: fields are reset by
 * `resetDecodedPacket` before each decode. Addresses are offsets into `data` (no copy); `formatAddress` in
 * decode/ turns them into text only when something is reported.
 */
export interface DecodedPacket {
  record: CaptureRecord;
  /**
   * The buffer holding the frame (record.buffer): every offset below is an index into it, and the frame is
   * `data[dataStart, dataEnd)`. Issue offsets are relative to the frame's first byte.
   */
  data: Uint8Array;
  dataStart: number;
  dataEnd: number;
  /** Direction from the link layer (pflog dir, NFLOG hook, SLL packet type, PKTAP) or the pcapng EPB flags. */
  direction: Direction;
  /** Interface name from the link layer (pflog ifname, PKTAP) or the pcapng IDB. */
  ifName: string | undefined;
  /** VLAN ids of the tags crossed, outermost first (count in vlanCount). */
  vlanCount: number;
  vlanOuterId: number;
  pflog: PflogInfo | undefined;
  nflog: NflogInfo | undefined;
  pktap: PktapInfo | undefined;

  /** 4 or 6 for the outermost IP header; 0 when none was reached. */
  ipVersion: 0 | 4 | 6;
  /** Offset of the outermost IP header in `data`. */
  ipOffset: number;
  /** Offsets of the source and destination addresses in `data` (4 or 16 bytes by ipVersion). */
  srcAddrOffset: number;
  dstAddrOffset: number;
  /** IPv4 addresses as unsigned 32-bit numbers (for fast keys); 0 for IPv6. */
  src4: number;
  dst4: number;
  /** Upper-layer protocol of the outermost IP header (IPv6: after the extension-header walk); -1 if unknown. */
  ipProto: number;
  /** IP total length (IPv4 total length, IPv6 40 + payload length) as the header states it. */
  ipLenBytes: number;
  ttl: number;
  /** Fragment fields: isFragment is true for any fragment (first or not). */
  isFragment: boolean;
  fragmentOffsetBytes: number;
  moreFragments: boolean;
  fragmentId: number;

  /** True when a UDP header (or at least its ports) was read from the outermost IP layer. */
  hasUdp: boolean;
  /** True when the ports were attributed to a non-first fragment from its first fragment. */
  portsFromFirstFragment: boolean;
  srcPort: number;
  dstPort: number;
  /** UDP length field. */
  udpLenBytes: number;
  /** UDP payload offset and length (clamped to what was captured). */
  payloadOffset: number;
  payloadLenBytes: number;

  /** ICMP / ICMPv6 header of the outermost layer, when ipProto is 1 or 58; -1 otherwise. */
  icmpType: number;
  icmpCode: number;
  /** An ICMP error quoting a UDP datagram: the quoted (original, forward-direction) 5-tuple. */
  hasQuotedUdp: boolean;
  quotedIpVersion: 0 | 4 | 6;
  quotedSrcAddrOffset: number;
  quotedDstAddrOffset: number;
  quotedSrcPort: number;
  quotedDstPort: number;

  /** Why decoding stopped early, or null when the packet decoded fully. */
  issue: DecodeIssue | null;
}

/** Counters for one run (softflowd FLOWTRACKPARAMETERS, Zeek weirds). */
export interface PacketStats {
  /** Every record read. */
  total: number;
  /** Records that decoded fully. */
  decoded: number;
  /** Records that carried UDP in their outermost IP layer. */
  udp: number;
  truncated: number;
  invalid: number;
  unsupported: number;
  internal: number;
  /** Count per issue code. */
  issuesByCode: Record<string, number>;
  /** The kind of each issue code seen. */
  issueKindByCode: Record<string, IssueKind>;
  /** The first few samples per code: frame number and offset. */
  issueSamples: Record<string, Array<{ frame: number; offset: number; detail?: string | undefined }>>;
}
