/**
 * `analyze`: replay a capture under one profile and build the report, or stream its records (ndjson, conn.log)
 * as the replay goes. Prints nothing itself: output goes through the sink callbacks.
 */
import type { CaptureSource } from '../capture/index.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import { timeoutsInSeconds } from '../flow/profiles.js';
import type { Flow } from '../flow/table.js';
import type { AnalyzeReport, LocalJson } from '../report/analyze.js';
import { buildDenialJson, buildFlowJson, type DenialJson, type FlowJson } from '../report/flows.js';
import { formatIsoFromUs } from '../report/time.js';
import { replayCapture } from './replay.js';

/** Options of analyze. */
export interface AnalyzeOptions {
  file: string;
  profile: TimeoutProfile;
  localNetworks?: readonly string[] | undefined;
  /** Keep flows and denials for the final report (json/text). Streaming modes turn this off to bound memory. */
  collect: boolean;
  onFlowEnd?: ((flow: Flow, json: () => FlowJson) => void) | undefined;
  onDenial?: ((denial: DenialJson) => void) | undefined;
  onLocal?: ((local: LocalJson) => void) | undefined;
  onFirstPacket?: ((tsUs: number) => void) | undefined;
  onProgress?: ((bytesRead: number, totalBytes: number | undefined) => void) | undefined;
  onPacket?: (() => void) | undefined;
}

/** Replay `source` under `options.profile` and return the report (flows/denials empty unless `collect`). */
export async function analyzeCapture(source: CaptureSource, options: AnalyzeOptions): Promise<AnalyzeReport> {
  const flows: FlowJson[] = [];
  const denials: DenialJson[] = [];
  const result = await replayCapture(source, {
    profiles: [options.profile],
    localNetworks: options.localNetworks,
    onProgress: options.onProgress,
    onPacket: options.onPacket,
    events: {
      onLocalSide: (local) => options.onLocal?.({ addresses: local.networks, source: local.source, reason: local.reason }),
      onFirstPacket: options.onFirstPacket,
      onFlowEnd: (_index, flow) => {
        let json: FlowJson | undefined;
        const lazyJson = (): FlowJson => (json ??= buildFlowJson(flow));
        if (options.collect) flows.push(lazyJson());
        options.onFlowEnd?.(flow, lazyJson);
      },
      onDenial: (_index, denial) => {
        const json = buildDenialJson(denial);
        if (options.collect) denials.push(json);
        options.onDenial?.(json);
      },
    },
  });
  const table = result.tables[0]!;
  flows.sort((a, b) => (a.first_ts < b.first_ts ? -1 : a.first_ts > b.first_ts ? 1 : a.id - b.id));
  const damage = result.capture.damage;
  return {
    file: options.file,
    stats: {
      packets: result.stats,
      udp_packets: result.udpPackets,
      flows: table.counts.flowsCreated,
      flows_by_end: { ...table.counts.expiredByReason },
      denied: table.counts.denied,
      purge_window: table.counts.window,
      first_ts: result.firstUs < 0 ? null : formatIsoFromUs(result.firstUs),
      last_ts: result.lastUs < 0 ? null : formatIsoFromUs(result.lastUs),
      span_s: result.firstUs < 0 ? 0 : (result.lastUs - result.firstUs) / 1e6,
      format: result.capture.format,
      damage: damage === null ? null : { code: damage.code, offset: damage.offset, detail: damage.detail },
    },
    local: { addresses: result.local.networks, source: result.local.source, reason: result.local.reason },
    profile: {
      name: options.profile.name,
      title: options.profile.title,
      timeouts: timeoutsInSeconds(options.profile),
      source: options.profile.source,
    },
    flows,
    denials,
  };
}
