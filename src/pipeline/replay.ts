/**
 * The replay behind `analyze` and `simulate`: capture → decode → one flow table per profile, on packet time.
 * One decode feeds every table, so ten profiles cost one read of the file. The local side comes from `--local`,
 * or is inferred from a bounded look-ahead at the start of the capture (the only packets ever copied), and the
 * result always says which addresses were taken as local and why.
 */
import { readCapture, type CaptureSource, type CaptureSummary } from '../capture/index.js';
import { formatAddress, formatIpv4Number, isGroupAddressText } from '../address.js';
import { guessService, type ServiceGuess } from '../decode/app/fingerprint.js';
import { PacketDecoder } from '../decode/packet.js';
import { countPacket, createPacketStats } from '../decode/stats.js';
import { LocalSide } from '../flow/local.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import { FlowTable, type Denial, type Flow, type FlowTableEvents, type StateEvent } from '../flow/table.js';
import { copyCaptureRecord, type CaptureRecord, type DecodedPacket, type PacketStats } from '../types.js';

/** How many packets (or bytes) the local-side look-ahead may hold. */
const LOOKAHEAD_PACKETS = 5_000;
const LOOKAHEAD_BYTES = 32 * 1024 * 1024;
const LOOKAHEAD_ARENA_BYTES = 1024 * 1024;
/** Flows ended per step at the end of input, between which output backpressure is heeded. */
const FINISH_STEP_FLOWS = 4096;
/** Packets of a flow inspected for a payload fingerprint before the port guess stands. */
const FINGERPRINT_PACKETS = 8;

/** What the caller gets told as the replay goes, per profile index. */
export interface ReplayEvents {
  onFlowEnd?: (profileIndex: number, flow: Flow) => void;
  onDenial?: (profileIndex: number, denial: Denial) => void;
  onStateEvent?: (profileIndex: number, flow: Flow, event: StateEvent) => void;
  /** Called once the local side is known, before any flow event. */
  onLocalSide?: (local: LocalSide) => void;
  /** Called with the packet time of the first UDP packet replayed. */
  onFirstPacket?: (tsUs: number) => void;
  /**
   * Called after a table observed a UDP packet, with the table (its `last` holds the verdict, role and flow) and the
   * decoded packet, valid only during the call. For collectors that need per-packet detail (the HTML timeline).
   */
  onObservation?: (profileIndex: number, table: FlowTable, pkt: DecodedPacket, tsUs: number) => void;
}

/** Options of a replay. */
export interface ReplayOptions {
  profiles: readonly TimeoutProfile[];
  /** `--local` networks; empty to infer. */
  localNetworks?: readonly string[] | undefined;
  events?: ReplayEvents;
  /** A second observer of the same events, called after `events` (the HTML timeline collector rides along here). */
  extraEvents?: ReplayEvents | undefined;
  onProgress?: ((bytesRead: number, totalBytes: number | undefined) => void) | undefined;
  /** Which tables may keep packet counts only (FlowTableOptions.trafficCounters); all keep full counters by default. */
  trafficCounters?: ((profileIndex: number) => 'full' | 'packets') | undefined;
  /** Output backpressure, asked between chunks (capture/read.ts ReadCaptureOptions.throttle). */
  throttle?: (() => Promise<void> | undefined) | undefined;
  /** Called for every record (progress counting). */
  onPacket?: (() => void) | undefined;
}

/** What a replay returns. */
export interface ReplayResult {
  capture: CaptureSummary;
  stats: PacketStats;
  local: LocalSide;
  tables: FlowTable[];
  /** Packet time of the first and last packet, µs (-1 when none). */
  firstUs: number;
  lastUs: number;
  /** UDP packets replayed through the tables. */
  udpPackets: number;
}

/** Replay a capture through one flow table per profile. */
export async function replayCapture(source: CaptureSource, options: ReplayOptions): Promise<ReplayResult> {
  const decoder = new PacketDecoder();
  const lookaheadDecoder = new PacketDecoder();
  const stats = createPacketStats();
  const events = mergeEvents(options.events ?? {}, options.extraEvents);
  const onObservation = events.onObservation;
  let tables: FlowTable[] = [];
  let local: LocalSide | undefined =
    options.localNetworks !== undefined && options.localNetworks.length > 0
      ? new LocalSide('option', 'given with --local', options.localNetworks)
      : undefined;
  // Packet times in an object, not `let`s the closures below share: a double stored into a closure's context is a
  // new heap number each time (one per packet: most of the replay's scavenges, issue 7); an object field holding
  // doubles is updated in place.
  const span = { firstUs: -1, lastUs: -1 };
  let udpPackets = 0;
  const lookahead: CaptureRecord[] = [];
  let lookaheadBytes = 0;
  let arena = new Uint8Array(0);
  let arenaUsed = 0;

  const startTables = (side: LocalSide): void => {
    local = side;
    events.onLocalSide?.(side);
    tables = options.profiles.map((profile, index) => {
      const tableEvents: FlowTableEvents = {};
      if (events.onFlowEnd) tableEvents.onFlowEnd = (flow) => events.onFlowEnd!(index, flow);
      if (events.onDenial) tableEvents.onDenial = (denial) => events.onDenial!(index, denial);
      if (events.onStateEvent) tableEvents.onStateEvent = (flow, event) => events.onStateEvent!(index, flow, event);
      return new FlowTable({ profile, local: side, events: tableEvents, trafficCounters: options.trafficCounters?.(index) ?? 'full' });
    });
  };

  const replayPacket = (pkt: DecodedPacket): void => {
    if (pkt.hasQuotedUdp) {
      replayIcmpError(pkt);
      return;
    }
    if (!pkt.hasUdp || pkt.ipProto !== 17 || pkt.portsFromFirstFragment) return;
    // A datagram whose lengths contradict each other never reaches a firewall's state table: conntrack's
    // udp_error() marks it invalid, pf drops it as short. One cut by the snap length was whole on the wire: keep it.
    if (pkt.issue !== null && pkt.issue.kind === 'invalid') return;
    const rec = pkt.record;
    const tsUs = rec.tsSec * 1_000_000 + Math.floor(rec.tsNsec / 1000);
    if (span.firstUs < 0) {
      span.firstUs = tsUs;
      events.onFirstPacket?.(tsUs);
    }
    if (tsUs > span.lastUs) span.lastUs = tsUs;
    udpPackets++;
    // The packet's service guess is the same for every table: made once, when the first table asks.
    let guess: ServiceGuess | undefined;
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      table.advance(tsUs);
      table.observe(pkt, tsUs, false, i > 0 ? tables[0] : undefined);
      if (onObservation !== undefined) onObservation(i, table, pkt, tsUs);
      const flow = table.last.flow;
      if (flow !== undefined && table.reportsFlows && flow.serviceBy !== 'payload' && flow.totalPackets <= FINGERPRINT_PACKETS) {
        guess ??= guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort);
        if (guess.by === 'payload' || (flow.serviceBy === '' && guess.by === 'port')) {
          flow.service = guess.service;
          flow.serviceBy = guess.by;
        }
      }
    }
  };

  // ICMP errors about UDP flows pass as related to a live state, or are denied (table.observeIcmpError).
  const replayIcmpError = (pkt: DecodedPacket): void => {
    const rec = pkt.record;
    const tsUs = rec.tsSec * 1_000_000 + Math.floor(rec.tsNsec / 1000);
    if (tsUs > span.lastUs) span.lastUs = tsUs;
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      table.advance(tsUs);
      table.observeIcmpError(pkt, tsUs);
    }
  };

  const flushLookahead = (): void => {
    startTables(local ?? inferLocalSide(lookahead));
    for (const record of lookahead) replayPacket(decoder.decode(record));
    lookahead.length = 0;
    arena = new Uint8Array(0);
    arenaUsed = 0;
  };

  const capture = await readCapture(
    source,
    (record) => {
      options.onPacket?.();
      if (tables.length === 0 && local !== undefined) startTables(local);
      if (tables.length > 0) {
        const pkt = decoder.decode(record);
        countPacket(stats, pkt);
        replayPacket(pkt);
        return;
      }
      // Look-ahead: count every record now, replay once the local side is known. The copies share 1 MiB arenas:
      // a buffer each cost tens of MiB of malloc'd memory RSS never gave back (issue 7, 500k flows alive).
      countPacket(stats, lookaheadDecoder.decode(record));
      const length = record.capLenBytes;
      if (arenaUsed + length > arena.length) {
        arena = new Uint8Array(Math.max(LOOKAHEAD_ARENA_BYTES, length));
        arenaUsed = 0;
      }
      lookahead.push(copyCaptureRecord(record, arena, arenaUsed));
      arenaUsed += length;
      lookaheadBytes += length;
      if (lookahead.length >= LOOKAHEAD_PACKETS || lookaheadBytes >= LOOKAHEAD_BYTES) flushLookahead();
    },
    { onProgress: options.onProgress, throttle: options.throttle },
  );
  if (tables.length === 0) flushLookahead();
  for (const table of tables) {
    while (table.finishSome(FINISH_STEP_FLOWS)) {
      const wait = options.throttle?.();
      if (wait !== undefined) await wait;
    }
  }
  return { capture, stats, local: local!, tables, firstUs: span.firstUs, lastUs: span.lastUs, udpPackets };
}

/** Both observers of every event, `first` before `second`; `first` alone when there is no second. */
function mergeEvents(first: ReplayEvents, second: ReplayEvents | undefined): ReplayEvents {
  if (second === undefined) return first;
  const both = <A extends unknown[]>(a: ((...args: A) => void) | undefined, b: ((...args: A) => void) | undefined): ((...args: A) => void) | undefined => {
    if (a === undefined) return b;
    if (b === undefined) return a;
    return (...args: A) => {
      a(...args);
      b(...args);
    };
  };
  return {
    onFlowEnd: both(first.onFlowEnd, second.onFlowEnd),
    onDenial: both(first.onDenial, second.onDenial),
    onStateEvent: both(first.onStateEvent, second.onStateEvent),
    onLocalSide: both(first.onLocalSide, second.onLocalSide),
    onFirstPacket: both(first.onFirstPacket, second.onFirstPacket),
    onObservation: both(first.onObservation, second.onObservation),
  };
}

/**
 * The local side from what the capture says. Direction recorded by the capture (pflog dir, NFLOG hook, SLL packet
 * type, pcapng epb_flags, PKTAP) names it outright: destinations of inbound and sources of outbound unicast
 * packets. Otherwise, the address that talks to the most distinct peers is taken as this host (IPv4, and IPv6 when
 * one address has at least two peers), which is right for a capture on a host's own interface.
 */
export function inferLocalSide(records: readonly CaptureRecord[]): LocalSide {
  const decoder = new PacketDecoder();
  const byDirection = new Map<string, number>();
  // Peers of each address. IPv4 stays numeric (address → address × 2^16 + port, exact below 2^53): this runs over
  // the first 5000 packets before the code is warm, and text per packet cost ~70 ms of a 1M-packet run (issue 7).
  const peers4 = new Map<number, Set<number>>();
  const peers6 = new Map<string, Set<string>>();
  for (const record of records) {
    const pkt = decoder.decode(record);
    if (pkt.ipVersion === 0 || pkt.srcAddrOffset < 0) continue;
    const version = pkt.ipVersion;
    if (pkt.direction === 'in' || pkt.direction === 'out') {
      const src = formatAddress(pkt.data, pkt.srcAddrOffset, version);
      const dst = formatAddress(pkt.data, pkt.dstAddrOffset, version);
      if (pkt.direction === 'in' && isUnicast(dst)) byDirection.set(dst, (byDirection.get(dst) ?? 0) + 1);
      else if (pkt.direction === 'out' && isUnicast(src)) byDirection.set(src, (byDirection.get(src) ?? 0) + 1);
    }
    if (!pkt.hasUdp) continue;
    if (version === 4) {
      const src = pkt.src4;
      const dst = pkt.dst4;
      if (isUnicast4(src) && isUnicast4(dst)) {
        addPeer(peers4, src, dst * 65536 + pkt.dstPort);
        addPeer(peers4, dst, src * 65536 + pkt.srcPort);
      }
    } else {
      const src = formatAddress(pkt.data, pkt.srcAddrOffset, version);
      const dst = formatAddress(pkt.data, pkt.dstAddrOffset, version);
      if (isUnicast(src) && isUnicast(dst)) {
        addPeer(peers6, src, `${dst}.${pkt.dstPort}`);
        addPeer(peers6, dst, `${src}.${pkt.srcPort}`);
      }
    }
  }
  if (byDirection.size > 0) {
    const addresses = [...byDirection.entries()].sort((a, b) => b[1] - a[1] || ordinal(a[0], b[0])).map(([a]) => a);
    return new LocalSide('capture-direction', 'the capture records each packet\'s direction (destinations of inbound, sources of outbound packets)', addresses);
  }
  const byPeers = (a: readonly [string, number], b: readonly [string, number]): number => b[1] - a[1] || ordinal(a[0], b[0]);
  const chosen: string[] = [];
  const v4 = [...peers4.entries()].map(([addr, set]) => [formatIpv4Number(addr), set.size] as const).sort(byPeers)[0];
  if (v4 !== undefined) chosen.push(v4[0]);
  const v6 = [...peers6.entries()].map(([addr, set]) => [addr, set.size] as const).sort(byPeers).find(([, count]) => count >= 2);
  if (v6 !== undefined) chosen.push(v6[0]);
  if (chosen.length === 0) return new LocalSide('none', 'no unicast UDP traffic to infer it from; use --local');
  return new LocalSide('most-flows', `the address${chosen.length > 1 ? 'es' : ''} with the most UDP peers in the first ${records.length} packets; use --local to choose`, chosen);
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

/** Not multicast (224.0.0.0/4), not the limited broadcast, not 0.0.0.0 (isUnicast's IPv4 half, on the number). */
function isUnicast4(addr: number): boolean {
  return addr >>> 28 !== 0xe && addr !== 0xffffffff && addr !== 0;
}

function isUnicast(addr: string): boolean {
  return !isGroupAddressText(addr) && addr !== '0.0.0.0' && addr !== '::';
}
