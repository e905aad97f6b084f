/**
 * `analyze`: replay a capture under one profile and build the report, or stream its records (ndjson, conn.log)
 * as the replay goes. Prints nothing itself: output goes through the sink callbacks.
 */
import type { CaptureSource } from '../capture/index.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import { timeoutsInSeconds } from '../flow/profiles.js';
import type { Denial, Flow } from '../flow/table.js';
import type { AnalyzeReport, LocalJson, ProfileJson } from '../report/analyze.js';
import { buildDenialJson, buildFlowJson, type DenialJson, type FlowJson } from '../report/flows.js';
import { damageJson } from '../report/stats.js';
import { formatIsoFromUs } from '../report/time.js';
import { replayCapture } from './replay.js';
import type { WorkerChoice } from './threads.js';
import type { TimelineCollector } from './timeline.js';

/** Options of analyze. */
export interface AnalyzeOptions {
  file: string;
  profile: TimeoutProfile;
  localNetworks?: readonly string[] | undefined;
  /**
   * How many flows and denials to keep for the final report: the person's view keeps the first N (by first packet),
   * streaming formats keep none, so memory stays bounded by the live flows whatever the capture's size.
   */
  keep: number;
  onFlowEnd?: ((flow: Flow, json: () => FlowJson) => void) | undefined;
  /** Every denial as the table reports it (valid after the call; `buildDenialJson` makes its record). */
  onDenial?: ((denial: Denial) => void) | undefined;
  onLocal?: ((local: LocalJson) => void) | undefined;
  onFirstPacket?: ((tsUs: number) => void) | undefined;
  /** Input read so far: bytes, the input's size when known, records read. */
  onProgress?: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
  /** Output backpressure, asked between chunks of input (the streaming formats). */
  throttle?: (() => Promise<void> | undefined) | undefined;
  /** Gathers the HTML report's timelines as the replay goes (`--html`). */
  timeline?: TimelineCollector | undefined;
  /**
   * A worker thread that reads and decodes while this one replays (feed-worker.ts), or false for one thread. Default:
   * the built worker, for a regular file (or standard input redirected from one) of 128 MiB or more (threads.ts
   * WORKER_MIN_BYTES), where it pays: it costs ~60 ms to start and ~13 MiB. Never with a timeline (`--html`), which
   * wants every decoded packet in this thread.
   */
  worker?: WorkerChoice | false | undefined;
}

/** Replay `source` under `options.profile` and return the report (with at most `keep` flows and denials). */
export async function analyzeCapture(source: CaptureSource, options: AnalyzeOptions): Promise<AnalyzeReport> {
  // The person's view keeps the first `keep` flows by first packet. Flows end in any order: candidates are kept
  // with their sort key and trimmed in batches (linear cost); once `keep` are held, a flow that starts after the
  // last of them is not even turned into a record.
  let kept: KeptFlow[] = [];
  let cutoffUs = Number.POSITIVE_INFINITY;
  let cutoffId = 0;
  const trim = (): void => {
    kept = kept.sort((a, b) => a.firstUs - b.firstUs || a.id - b.id).slice(0, keep);
    if (kept.length === keep && keep > 0) {
      cutoffUs = kept[keep - 1]!.firstUs;
      cutoffId = kept[keep - 1]!.id;
    }
  };
  const denials: DenialJson[] = [];
  const expirationsByTimeout: Record<string, number> = {};
  const keep = options.keep;
  const result = await replayCapture(source, {
    profiles: [options.profile],
    localNetworks: options.localNetworks,
    onProgress: options.onProgress,
    throttle: options.throttle,
    extraEvents: options.timeline?.replayEvents,
    feedWorker: options.worker ?? {},
    events: {
      onLocalSide: (local) => options.onLocal?.({ addresses: local.networks, source: local.source, reason: local.reason }),
      onFirstPacket: options.onFirstPacket,
      onFlowEnd: (_index, flow) => {
        let json: FlowJson | undefined;
        const lazyJson = (): FlowJson => (json ??= buildFlowJson(flow));
        if (flow.endReason === 'idle-timeout') expirationsByTimeout[flow.timeoutKey] = (expirationsByTimeout[flow.timeoutKey] ?? 0) + 1;
        if (keep > 0 && (flow.firstUs < cutoffUs || (flow.firstUs === cutoffUs && flow.id < cutoffId))) {
          kept.push({ firstUs: flow.firstUs, id: flow.id, json: lazyJson() });
          if (kept.length >= 2 * keep) trim();
        }
        options.onFlowEnd?.(flow, lazyJson);
      },
      onDenial: (_index, denial) => {
        if (keep > 0 && denials.length < keep) denials.push(buildDenialJson(denial));
        options.onDenial?.(denial);
      },
    },
  });
  trim();
  const flows = kept.map((k) => k.json);
  const table = result.tables[0]!;
  return {
    file: options.file,
    stats: {
      packets: result.stats,
      udp_packets: result.udpPackets,
      flows: table.counts.flowsCreated,
      flows_by_end: { ...table.counts.expiredByReason },
      expirations_by_timeout: expirationsByTimeout,
      denied: table.counts.denied,
      purge_window: table.counts.window,
      first_ts: result.firstUs < 0 ? null : formatIsoFromUs(result.firstUs),
      last_ts: result.lastUs < 0 ? null : formatIsoFromUs(result.lastUs),
      span_s: result.firstUs < 0 ? 0 : (result.lastUs - result.firstUs) / 1e6,
      format: result.capture.format,
      damage: damageJson(result.capture.damage),
    },
    local: { addresses: result.local.networks, source: result.local.source, reason: result.local.reason },
    profile: profileJson(options.profile),
    flows,
    denials,
  };
}

/** A flow the person's view may show, with its sort key (first packet, then id). */
interface KeptFlow {
  firstUs: number;
  id: number;
  json: FlowJson;
}

/** A profile as reports show it. */
export function profileJson(profile: TimeoutProfile): ProfileJson {
  return { name: profile.name, title: profile.title, timeouts: timeoutsInSeconds(profile), source: profile.source };
}
