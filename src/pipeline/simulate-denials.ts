/**
 * What simulate keeps of one profile's (or one swept value's) denials, and the replay of some of its profiles that
 * a worker thread runs (simulate-worker.ts) while the main thread replays the others: the same tables and the same
 * bookkeeping on either side, handed back as plain data.
 */
import type { CaptureSource } from '../capture/index.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import type { Denial } from '../flow/table.js';
import { JsonRecordList, type JsonRecordBytes } from '../report/json-layout.js';
import { PROFILE_RECORD_INDENT, writeSimulatedDenialJson, type SimulatedDenialJson } from '../report/simulate.js';
import { replayCapture } from './replay.js';

/** One variant's denials as plain data (structured clone), for VariantDenials.from. */
export interface VariantDenialsData {
  denied: JsonRecordBytes;
  window: JsonRecordBytes;
  legitimate: number;
  brokenFlows: number[];
}

/**
 * A variant's denials: every one as its JSON record (purge-window ones apart), how many were legitimate traffic
 * lost — a 5-tuple the local side had state for (reason state-expired or purge-window) — and the flows they broke.
 */
export class VariantDenials {
  denied = new JsonRecordList<SimulatedDenialJson>(PROFILE_RECORD_INDENT);
  window = new JsonRecordList<SimulatedDenialJson>(PROFILE_RECORD_INDENT);
  legitimate = 0;
  brokenFlows = new Set<number>();

  add(denial: Denial): void {
    if (denial.verdict === 'window') {
      this.window.add((out) => writeSimulatedDenialJson(out, denial));
      return;
    }
    this.denied.add((out) => writeSimulatedDenialJson(out, denial));
    if (denial.reason !== 'never-seen') {
      this.legitimate++;
      if (denial.previous !== undefined) this.brokenFlows.add(denial.previous.flowId);
      else this.brokenFlows.add(denial.flowId);
    }
  }

  data(): VariantDenialsData {
    return { denied: this.denied.bytes(), window: this.window.bytes(), legitimate: this.legitimate, brokenFlows: [...this.brokenFlows] };
  }

  static from(data: VariantDenialsData): VariantDenials {
    const variant = new VariantDenials();
    variant.denied = JsonRecordList.fromBytes(data.denied);
    variant.window = JsonRecordList.fromBytes(data.window);
    variant.legitimate = data.legitimate;
    variant.brokenFlows = new Set(data.brokenFlows);
    return variant;
  }
}

/**
 * Replay `source` under `profiles` only, keeping their denials (their flows are never reported: packet counters
 * suffice), reading at most `maxBytes`. The local side is chosen by the same look-ahead as the main thread's replay,
 * so both agree.
 */
export async function replayVariantDenials(
  source: CaptureSource,
  profiles: readonly TimeoutProfile[],
  localNetworks: readonly string[] | undefined,
  maxBytes: number | undefined,
): Promise<VariantDenialsData[]> {
  const variants = profiles.map(() => new VariantDenials());
  await replayCapture(source, {
    profiles,
    localNetworks,
    maxBytes,
    trafficCounters: () => 'packets',
    events: { onDenial: (index, denial) => variants[index]!.add(denial) },
  });
  return variants.map((v) => v.data());
}
