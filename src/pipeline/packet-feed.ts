/**
 * The first half of a replay: capture → decode → the packets a firewall's UDP state table sees, after the local
 * side is known. The local side comes from `--local`, or is inferred from a bounded look-ahead at the start of the
 * capture (the only packets ever copied).
 */
import { readCapture, type CaptureSource, type CaptureSummary } from '../capture/index.js';
import { formatAddress, formatIpv4Number, formatIpv6 } from '../address.js';
import { PacketDecoder } from '../decode/packet.js';
import { countPacket, createPacketStats } from '../decode/stats.js';
import { LocalSide } from '../flow/local.js';
import { copyCaptureRecord, type CaptureRecord, type DecodedPacket, type PacketStats } from '../types.js';

/** How many packets (or bytes) the local-side look-ahead may hold. */
const LOOKAHEAD_PACKETS = 5_000;
const LOOKAHEAD_BYTES = 32 * 1024 * 1024;
const LOOKAHEAD_ARENA_BYTES = 1024 * 1024;

/** What a feed calls as it goes. */
export interface PacketFeedCallbacks {
  /** `--local` networks; empty or undefined to infer. */
  localNetworks?: readonly string[] | undefined;
  /**
   * Called once, before any packet (also for a capture without packets). Undefined: the caller knows the local side
   * some other way (the feed worker's caller reads it with lookAheadLocalSide), so packets go out from the first.
   */
  onLocalSide: ((local: LocalSide) => void) | undefined;
  /** Every packet the tables take (isReplayedPacket), valid only during the call. */
  onPacket: (pkt: DecodedPacket) => void;
  /** After each chunk: bytes read, the input's size when known, records read (capture/read.ts). */
  onProgress?: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
  /** Output backpressure, asked between chunks (capture/read.ts ReadCaptureOptions.throttle). */
  throttle?: (() => Promise<void> | undefined) | undefined;
  /** Read at most this many bytes of a file (capture/read.ts ReadCaptureOptions.maxBytes). */
  maxBytes?: number | undefined;
}

/** What a feed returns once its input ended. */
export interface PacketFeedResult {
  capture: CaptureSummary;
  stats: PacketStats;
}

/**
 * Whether a firewall's UDP state table sees the packet: UDP in the outermost IP layer with its own ports, or an
 * ICMP error quoting a UDP datagram. A datagram whose lengths contradict each other never reaches the table:
 * conntrack's udp_error() marks it invalid, pf drops it as short. One cut by the snap length was whole on the wire.
 */
export function isReplayedPacket(pkt: DecodedPacket): boolean {
  if (pkt.hasQuotedUdp) return true;
  if (!pkt.hasUdp || pkt.ipProto !== 17 || pkt.portsFromFirstFragment) return false;
  return pkt.issue === null || pkt.issue.kind !== 'invalid';
}

/** Packet time of a record in µs (whole µs: the tables' clock). */
export function recordTimeUs(record: CaptureRecord): number {
  return record.tsSec * 1_000_000 + Math.floor(record.tsNsec / 1000);
}

/** Read and decode `source`, counting every record, and hand each replayed packet to `callbacks.onPacket`. */
export async function feedPackets(source: CaptureSource, callbacks: PacketFeedCallbacks): Promise<PacketFeedResult> {
  const decoder = new PacketDecoder();
  const lookaheadDecoder = new PacketDecoder();
  const stats = createPacketStats();
  const onPacket = callbacks.onPacket;
  const onLocalSide = callbacks.onLocalSide;
  let local: LocalSide | undefined = givenLocalSide(callbacks.localNetworks);
  let started = onLocalSide === undefined;
  const lookahead = new Lookahead();
  const vote = new LocalSideVote();

  const start = (side: LocalSide): void => {
    started = true;
    local = side;
    onLocalSide!(side);
  };

  const flushLookahead = (): void => {
    start(local ?? vote.result());
    for (const record of lookahead.records) {
      const pkt = decoder.decode(record);
      if (isReplayedPacket(pkt)) onPacket(pkt);
    }
    lookahead.clear();
  };

  const capture = await readCapture(
    source,
    (record) => {
      if (!started && local !== undefined) start(local);
      if (started) {
        const pkt = decoder.decode(record);
        countPacket(stats, pkt);
        if (isReplayedPacket(pkt)) onPacket(pkt);
        return;
      }
      // Look-ahead: count every record and vote on the local side now, replay once it is known.
      const pkt = lookaheadDecoder.decode(record);
      countPacket(stats, pkt);
      vote.add(pkt);
      if (lookahead.add(record)) flushLookahead();
    },
    { onProgress: callbacks.onProgress, throttle: callbacks.throttle, maxBytes: callbacks.maxBytes },
  );
  if (!started) flushLookahead();
  return { capture, stats };
}

/** The local side `--local` gives, or undefined (to infer). */
function givenLocalSide(localNetworks: readonly string[] | undefined): LocalSide | undefined {
  return localNetworks !== undefined && localNetworks.length > 0 ? new LocalSide('option', 'given with --local', localNetworks) : undefined;
}

/**
 * The local side a feed of `source` would take: `--local`'s, else inferred from the same look-ahead (the first 5000
 * packets or 32 MiB), read here and no further. Rejects as the feed would (CaptureError: not a capture, unreadable).
 * For a feed that runs elsewhere (the feed worker), so this thread knows the local side while that one starts.
 */
export async function lookAheadLocalSide(source: CaptureSource, localNetworks: readonly string[] | undefined, maxBytes?: number): Promise<LocalSide> {
  const given = givenLocalSide(localNetworks);
  if (given !== undefined) return given;
  const decoder = new PacketDecoder();
  const vote = new LocalSideVote();
  let bytes = 0;
  try {
    await readCapture(
      source,
      (record) => {
        vote.add(decoder.decode(record));
        bytes += record.capLenBytes;
        if (lookaheadFull(vote.packets, bytes)) throw LOOKAHEAD_FULL;
      },
      { maxBytes },
    );
  } catch (error) {
    if (error !== LOOKAHEAD_FULL) throw error;
  }
  return vote.result();
}

/** Whether a look-ahead of `packets` records and `bytes` captured bytes is as long as it may be. */
function lookaheadFull(packets: number, bytes: number): boolean {
  return packets >= LOOKAHEAD_PACKETS || bytes >= LOOKAHEAD_BYTES;
}

/** Thrown from the reader's callback to stop reading once the look-ahead is full (readCapture passes it on). */
const LOOKAHEAD_FULL = new Error('look-ahead full');

/**
 * The records held until the local side is known, copied (the reader reuses its buffer). The copies share 1 MiB
 * arenas: a buffer each cost tens of MiB of malloc'd memory RSS never gave back (issue 7, 500k flows alive).
 */
class Lookahead {
  readonly records: CaptureRecord[] = [];
  private bytes = 0;
  private arena = new Uint8Array(0);
  private arenaUsed = 0;

  /** Keep a copy of `record`; true once the look-ahead is full (LOOKAHEAD_PACKETS or LOOKAHEAD_BYTES). */
  add(record: CaptureRecord): boolean {
    const length = record.capLenBytes;
    if (this.arenaUsed + length > this.arena.length) {
      this.arena = new Uint8Array(Math.max(LOOKAHEAD_ARENA_BYTES, length));
      this.arenaUsed = 0;
    }
    this.records.push(copyCaptureRecord(record, this.arena, this.arenaUsed));
    this.arenaUsed += length;
    this.bytes += length;
    return lookaheadFull(this.records.length, this.bytes);
  }

  clear(): void {
    this.records.length = 0;
    this.bytes = 0;
    this.arena = new Uint8Array(0);
    this.arenaUsed = 0;
  }
}

/**
 * The local side from what the capture says. Direction recorded by the capture (pflog dir, NFLOG hook, SLL packet
 * type, pcapng epb_flags, PKTAP) names it outright: destinations of inbound and sources of outbound unicast
 * packets. Otherwise, the address that talks to the most distinct peers is taken as this host (IPv4, and IPv6 when
 * one address has at least two peers), which is right for a capture on a host's own interface.
 */
export function inferLocalSide(records: readonly CaptureRecord[]): LocalSide {
  const decoder = new PacketDecoder();
  const vote = new LocalSideVote();
  for (const record of records) vote.add(decoder.decode(record));
  return vote.result();
}

/**
 * inferLocalSide one packet at a time, for a look-ahead that decodes its packets anyway: each counted as it is
 * read, nothing copied for the count (issue 7: the look-ahead runs before the code is warm, where a copy and a
 * second decode of 5000 packets cost tens of milliseconds).
 */
export class LocalSideVote {
  /** Packets counted so far. */
  packets = 0;
  private readonly byDirection = new Map<string, number>();
  // Peers of each address, never as text: this runs over the first 5000 packets before the code is warm, and text
  // per packet cost ~70 ms of a 1M-packet run (issue 7). IPv4 is numeric (address → address × 2^16 + port, exact
  // below 2^53); IPv6 is its eight groups as eight UTF-16 code units (ipv6Key), a peer that plus one for the port.
  private readonly peers4 = new Map<number, Set<number>>();
  private readonly peers6 = new Map<string, Set<string>>();

  add(pkt: DecodedPacket): void {
    this.packets++;
    if (pkt.ipVersion === 0 || pkt.srcAddrOffset < 0) return;
    const version = pkt.ipVersion;
    if (pkt.direction === 'in' || pkt.direction === 'out') {
      // The local end: the destination of an inbound packet, the source of an outbound one; as text only if counted.
      const offset = pkt.direction === 'in' ? pkt.dstAddrOffset : pkt.srcAddrOffset;
      if (isUnicastAt(pkt.data, offset, version)) {
        const local = formatAddress(pkt.data, offset, version);
        this.byDirection.set(local, (this.byDirection.get(local) ?? 0) + 1);
      }
    }
    if (!pkt.hasUdp) return;
    if (version === 4) {
      const src = pkt.src4;
      const dst = pkt.dst4;
      if (isUnicast4(src) && isUnicast4(dst)) {
        addPeer(this.peers4, src, dst * 65536 + pkt.dstPort);
        addPeer(this.peers4, dst, src * 65536 + pkt.srcPort);
      }
    } else {
      const data = pkt.data;
      if (isUnicast6(data, pkt.srcAddrOffset) && isUnicast6(data, pkt.dstAddrOffset)) {
        const src = ipv6Key(data, pkt.srcAddrOffset);
        const dst = ipv6Key(data, pkt.dstAddrOffset);
        addPeer(this.peers6, src, dst + String.fromCharCode(pkt.dstPort));
        addPeer(this.peers6, dst, src + String.fromCharCode(pkt.srcPort));
      }
    }
  }

  /** The local side the packets counted so far give. */
  result(): LocalSide {
    if (this.byDirection.size > 0) {
      const addresses = [...this.byDirection.entries()].sort((a, b) => b[1] - a[1] || ordinal(a[0], b[0])).map(([a]) => a);
      return new LocalSide('capture-direction', 'the capture records each packet\'s direction (destinations of inbound, sources of outbound packets)', addresses);
    }
    const byPeers = (a: readonly [string, number], b: readonly [string, number]): number => b[1] - a[1] || ordinal(a[0], b[0]);
    const chosen: string[] = [];
    const v4 = [...this.peers4.entries()].map(([addr, set]) => [formatIpv4Number(addr), set.size] as const).sort(byPeers)[0];
    if (v4 !== undefined) chosen.push(v4[0]);
    const v6 = [...this.peers6.entries()].map(([key, set]) => [ipv6KeyText(key), set.size] as const).sort(byPeers).find(([, count]) => count >= 2);
    if (v6 !== undefined) chosen.push(v6[0]);
    if (chosen.length === 0) return new LocalSide('none', 'no unicast UDP traffic to infer it from; use --local');
    return new LocalSide('most-flows', `the address${chosen.length > 1 ? 'es' : ''} with the most UDP peers in the first ${this.packets} packets; use --local to choose`, chosen);
  }
}

function addPeer<K, P>(peers: Map<K, Set<P>>, addr: K, peer: P): void {
  let set = peers.get(addr);
  if (set === undefined) {
    set = new Set();
    peers.set(addr, set);
  }
  set.add(peer);
}

/**
 * Code-unit order, for ties between addresses: deterministic like localeCompare, without the ICU collator whose
 * first use cost ~9 ms of every run's start-up.
 */
function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Not multicast (224.0.0.0/4), not the limited broadcast, not 0.0.0.0. */
function isUnicast4(addr: number): boolean {
  return addr >>> 28 !== 0xe && addr !== 0xffffffff && addr !== 0;
}

/** Neither multicast (ff00::/8, RFC 4291 §2.7) nor the unspecified address `::`. */
function isUnicast6(data: Uint8Array, offset: number): boolean {
  if (data[offset] === 0xff) return false;
  for (let i = 0; i < 16; i++) if (data[offset + i] !== 0) return true;
  return false;
}

/** An IPv6 address's eight groups as eight UTF-16 code units: a Map key that costs no formatting. */
function ipv6Key(data: Uint8Array, offset: number): string {
  const group = (i: number): number => (data[offset + 2 * i]! << 8) | data[offset + 2 * i + 1]!;
  return String.fromCharCode(group(0), group(1), group(2), group(3), group(4), group(5), group(6), group(7));
}

/** ipv6Key back to RFC 5952 text. */
function ipv6KeyText(key: string): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = key.charCodeAt(i) >> 8;
    bytes[2 * i + 1] = key.charCodeAt(i) & 0xff;
  }
  return formatIpv6(bytes, 0);
}

/** The address at `offset` is unicast (isUnicast4, isUnicast6), from its bytes. */
function isUnicastAt(data: Uint8Array, offset: number, version: 4 | 6): boolean {
  if (version === 6) return isUnicast6(data, offset);
  return isUnicast4(((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0);
}
