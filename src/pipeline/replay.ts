/**
 * The replay behind `analyze` and `simulate`: capture → decode → one flow table per profile, on packet time.
 * One decode feeds every table, so ten profiles cost one read of the file. Reading, decoding and choosing the local
 * side are the feed's (packet-feed.ts); the result always says which addresses were taken as local and why.
 */
import type { CaptureSource, CaptureSummary } from '../capture/index.js';
import { guessService, type ServiceGuess } from '../decode/app/fingerprint.js';
import type { LocalSide } from '../flow/local.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import { FlowTable, type Denial, type Flow, type FlowTableEvents, type StateEvent } from '../flow/table.js';
import type { DecodedPacket, PacketStats } from '../types.js';
import { feedPacketsInWorker } from './feed-threads.js';
import { feedPackets, recordTimeUs } from './packet-feed.js';
import { findBuiltWorker, workerCaptureSource, type WorkerCaptureSource, type WorkerChoice } from './threads.js';

export { inferLocalSide } from './packet-feed.js';

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
  /** Input read so far: bytes, the input's size when known, and records (every packet record read). */
  onProgress?: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
  /** Which tables may keep packet counts only (FlowTableOptions.trafficCounters); all keep full counters by default. */
  trafficCounters?: ((profileIndex: number) => 'full' | 'packets') | undefined;
  /** Output backpressure, asked between chunks (capture/read.ts ReadCaptureOptions.throttle). */
  throttle?: (() => Promise<void> | undefined) | undefined;
  /** Read at most this many bytes of a file (capture/read.ts ReadCaptureOptions.maxBytes). */
  maxBytes?: number | undefined;
  /**
   * A worker thread that reads and decodes while this one replays (feed-worker.ts), or false (the default) for one
   * thread. Taken for a regular file (or standard input redirected from one) of `minBytes` or more (default
   * threads.ts WORKER_MIN_BYTES), without an onObservation observer (which wants every decoded field) and without
   * maxBytes.
   */
  feedWorker?: WorkerChoice | false | undefined;
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
  const events = mergeEvents(options.events ?? {}, options.extraEvents);
  const onObservation = events.onObservation;
  let tables: FlowTable[] = [];
  let local: LocalSide | undefined;
  // Packet times in an object, not `let`s the closures below share: a double stored into a closure's context is a
  // new heap number each time (one per packet: most of the replay's scavenges, issue 7); an object field holding
  // doubles is updated in place.
  const span = { firstUs: -1, lastUs: -1 };
  let udpPackets = 0;

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

  /**
   * One packet the tables take (packet-feed.ts isReplayedPacket), at packet time `tsUs`; `presetGuess` is its service
   * guess and `flowHash` its flow key's hash when the thread that decoded it made them (feed-threads.ts).
   */
  const replayPacket = (pkt: DecodedPacket, tsUs: number, presetGuess: ServiceGuess | undefined, flowHash: number | undefined): void => {
    if (pkt.hasQuotedUdp) {
      replayIcmpError(pkt, tsUs);
      return;
    }
    if (span.firstUs < 0) {
      span.firstUs = tsUs;
      events.onFirstPacket?.(tsUs);
    }
    if (tsUs > span.lastUs) span.lastUs = tsUs;
    udpPackets++;
    // The packet's service guess is the same for every table: made once, when the first table asks.
    let guess = presetGuess;
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      table.advance(tsUs);
      table.observe(pkt, tsUs, false, i > 0 ? tables[0] : undefined, flowHash);
      if (onObservation !== undefined) onObservation(i, table, pkt, tsUs);
      if (table.reportsFlows && table.lastFlowServiceOpen(FINGERPRINT_PACKETS)) {
        const flow = table.last.flow!;
        guess ??= guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort);
        if (guess.by === 'payload' || (flow.serviceBy === '' && guess.by === 'port')) {
          flow.service = guess.service;
          flow.serviceBy = guess.by;
        }
      }
    }
  };

  // ICMP errors about UDP flows pass as related to a live state, or are denied (table.observeIcmpError).
  const replayIcmpError = (pkt: DecodedPacket, tsUs: number): void => {
    if (tsUs > span.lastUs) span.lastUs = tsUs;
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      table.advance(tsUs);
      table.observeIcmpError(pkt, tsUs);
    }
  };

  const feedWorker = onObservation === undefined && options.maxBytes === undefined ? chooseFeedWorker(source, options.feedWorker) : undefined;
  const fed =
    feedWorker === undefined
      ? await feedPackets(source, {
          localNetworks: options.localNetworks,
          onLocalSide: startTables,
          onPacket: (pkt) => replayPacket(pkt, recordTimeUs(pkt.record), undefined, undefined),
          onProgress: options.onProgress,
          throttle: options.throttle,
          maxBytes: options.maxBytes,
        })
      : await feedPacketsInWorker(feedWorker.entry, feedWorker.source, {
          localNetworks: options.localNetworks,
          onLocalSide: startTables,
          onPacket: (pkt, guess, flowHash) => replayPacket(pkt, recordTimeUs(pkt.record), guess, flowHash),
          onProgress: options.onProgress,
          throttle: options.throttle,
        });
  for (const table of tables) {
    while (table.finishSome(FINISH_STEP_FLOWS)) {
      const wait = options.throttle?.();
      if (wait !== undefined) await wait;
    }
  }
  return { capture: fed.capture, stats: fed.stats, local: local!, tables, firstUs: span.firstUs, lastUs: span.lastUs, udpPackets };
}

/** The feed worker to start for `source`, if `choice` asks for one and it can read the input by itself. */
function chooseFeedWorker(source: CaptureSource, choice: WorkerChoice | false | undefined): { entry: string; source: WorkerCaptureSource } | undefined {
  if (choice === false || choice === undefined) return undefined;
  const entry = choice.entry ?? findBuiltWorker('feed-worker');
  if (entry === undefined) return undefined;
  const workerSource = workerCaptureSource(source, choice.minBytes);
  return workerSource === undefined ? undefined : { entry, source: workerSource };
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

