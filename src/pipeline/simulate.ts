/**
 * `simulate`: one pass over a capture, one flow table per profile (and per swept value), so users see how each
 * firewall — or each timeout — would have treated the same traffic. A denial counts as *legitimate* traffic lost
 * when it arrives on a 5-tuple the local side had state for (reason state-expired or purge-window): the reply
 * stream of a flow the host opened. Unsolicited packets and LAN multicast are denied under any timeout.
 */
import type { CaptureSource, CaptureSummary } from '../capture/index.js';
import { formatAddress } from '../address.js';
import { ProfileError, getProfile, steadyStateTimeoutUs, timeoutsInSeconds, withOverrides, type SweepSpec, type TimeoutProfile } from '../flow/profiles.js';
import type { LocalJson } from '../report/analyze.js';
import type { SimulateReport } from '../report/simulate.js';
import { damageJson } from '../report/stats.js';
import { formatIsoFromUs } from '../report/time.js';
import { formatDurationSpec } from '../flow/duration.js';
import { replayCapture } from './replay.js';
import { VariantDenials, type VariantDenialsData } from './simulate-denials.js';
import type { SimulateWorkerData } from './simulate-worker.js';
import { findBuiltWorker, startWorker, workerCaptureSource, type RunningWorker, type WorkerChoice } from './threads.js';
import type { TimelineCollector } from './timeline.js';

/** Options of simulate. */
export interface SimulateOptions {
  profiles: readonly TimeoutProfile[];
  sweep?: SweepSpec | undefined;
  localNetworks?: readonly string[] | undefined;
  /** Input read so far: bytes, the input's size when known, records read. */
  onProgress?: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
  /** Gathers the HTML report's timelines (`--html`); its profiles are `profiles`, the tables' first indexes. */
  timeline?: TimelineCollector | undefined;
  /**
   * The worker thread that replays the first profiles, half of all the tables (simulate-worker.ts); false for one
   * thread.
   * Default: the built worker, for a regular file of 128 MiB or more (threads.ts WORKER_MIN_BYTES) and no timeline.
   */
  worker?: WorkerChoice | false | undefined;
}

interface Variant {
  profile: TimeoutProfile;
  base: number;
  sweepValueUs: number | undefined;
  denials: VariantDenials;
}

/** Flows that lived this long (first to last packet over all their records) are "long-lived" for keepalive advice. */
const LONG_LIVED_US = 60_000_000;

/** Replay once under every profile (and every swept value) and compare. */
export async function simulateCapture(source: CaptureSource, options: SimulateOptions): Promise<SimulateReport & { capture: CaptureSummary }> {
  const variants: Variant[] = [];
  options.profiles.forEach((profile, base) => {
    variants.push({ profile, base, sweepValueUs: undefined, denials: new VariantDenials() });
  });
  const sweep = options.sweep;
  if (sweep !== undefined) {
    const swept = options.profiles.filter((p) => p.keys.some((k) => k.name === sweep.key && k.kind === 'duration'));
    if (swept.length === 0) {
      throw new ProfileError(
        `--sweep key '${sweep.key}' is not a timeout of ${options.profiles.map((p) => p.name).join(', ')}`,
      );
    }
    for (const profile of swept) {
      const base = options.profiles.indexOf(profile);
      for (const valueUs of sweep.valuesUs) {
        variants.push({
          profile: withOverrides(profile, `${sweep.key}=${formatDurationSpec(valueUs)}`),
          base,
          sweepValueUs: valueUs,
          denials: new VariantDenials(),
        });
      }
    }
  }
  // One more table that never forgets (24 h): the longest silences of each 5-tuple, for keepalive advice.
  const observer = withOverrides(getProfile('zeek'), 'inactivity=24h');
  const tuples = new Map<string, { flowId: number; key: string; firstUs: number; lastUs: number; maxGapUs: number; service: string; local: string; remote: string }>();
  // Two cores on a big input: a worker replays the first variants while this thread replays the rest, the observer,
  // and reports progress. Each reads and decodes the file itself: decoding is a small part of a table's work
  // (issue 7), and the tables need nothing from each other.
  const helper = startRemoteVariants(source, variants, options);
  const here = variants.slice(helper?.count ?? 0);
  let result: Awaited<ReturnType<typeof replayCapture>>;
  try {
    result = await replayCapture(source, {
      profiles: [...here.map((v) => v.profile), observer],
      localNetworks: options.localNetworks,
      onProgress: options.onProgress,
      // What the worker reads too: the same records even if the file is still growing.
      maxBytes: helper?.readBytes,
      // The profile tables' flows are never reported (only their denials and expiries count): packet counts suffice,
      // unless the HTML timeline draws them. The observer table (last) feeds the keepalive advice: full counters.
      trafficCounters: (index) => (index < here.length && options.timeline === undefined ? 'packets' : 'full'),
      extraEvents: options.timeline?.replayEvents,
      events: {
        onDenial: (index, denial) => here[index]?.denials.add(denial),
        onFlowEnd: (index, flow) => {
          if (index !== here.length || flow.localSide === undefined) return;
          const local = flow.localSide === 'a' ? `${formatAddress(flow.addrA, 0, flow.ipVersion)}:${flow.portA}` : `${formatAddress(flow.addrB, 0, flow.ipVersion)}:${flow.portB}`;
          const remote = flow.localSide === 'a' ? `${formatAddress(flow.addrB, 0, flow.ipVersion)}:${flow.portB}` : `${formatAddress(flow.addrA, 0, flow.ipVersion)}:${flow.portA}`;
          tuples.set(`${flow.id}`, { flowId: flow.id, key: `${local}|${remote}`, firstUs: flow.firstUs, lastUs: flow.lastUs, maxGapUs: flow.maxGapUs, service: flow.service, local, remote });
        },
      },
    });
  } catch (error) {
    helper?.worker.stop();
    throw error;
  }
  if (helper !== undefined) {
    const data = await helper.worker.result;
    data.forEach((d, i) => {
      variants[i]!.denials = VariantDenials.from(d);
    });
  }

  const profiles = variants
    .filter((v) => v.sweepValueUs === undefined)
    .map((v) => ({
      name: v.profile.name,
      title: v.profile.title,
      timeouts: timeoutsInSeconds(v.profile),
      denied: v.denials.denied,
      denied_total: v.denials.denied.length,
      denied_legitimate: v.denials.legitimate,
      flows_broken: v.denials.brokenFlows.size,
      purge_window: v.denials.window,
    }));

  let sweepReport: SimulateReport['sweep'];
  if (sweep !== undefined) {
    sweepReport = options.profiles
      .map((profile, base) => {
        const rows = variants.filter((v) => v.base === base && v.sweepValueUs !== undefined);
        if (rows.length === 0) return undefined;
        const values = rows.map((v) => ({ value_s: v.sweepValueUs! / 1e6, denied_total: v.denials.denied.length, denied_legitimate: v.denials.legitimate, flows_broken: v.denials.brokenFlows.size }));
        const firstClean = values.find((v) => v.denied_legitimate === 0);
        return { profile: profile.name, key: sweep.key, values, smallest_clean_s: firstClean === undefined ? null : firstClean.value_s };
      })
      .filter((s) => s !== undefined);
  }

  const keepalive = [...tuples.values()]
    .filter((t) => t.lastUs - t.firstUs >= LONG_LIVED_US)
    .sort((a, b) => a.firstUs - b.firstUs || a.flowId - b.flowId)
    .map((t) => ({
      flow: t.flowId,
      local: t.local,
      remote: t.remote,
      service: t.service,
      duration_s: (t.lastUs - t.firstUs) / 1e6,
      longest_gap_s: t.maxGapUs / 1e6,
      profiles: options.profiles.map((profile) => {
        const steadyUs = steadyStateTimeoutUs(profile);
        // Half the steady-state timeout leaves room for one lost keepalive (behaviour.md §3.5: ping ≤ ½ × timeout).
        return {
          name: profile.name,
          steady_timeout_s: steadyUs / 1e6,
          keepalive_s: Math.max(1, Math.floor(steadyUs / 2e6)),
          gap_survives: t.maxGapUs < steadyUs,
        };
      }),
    }));

  const local: LocalJson = { addresses: result.local.networks, source: result.local.source, reason: result.local.reason };
  return {
    capture: result.capture,
    local,
    packets: result.stats.total,
    udp_packets: result.udpPackets,
    first_ts: result.firstUs < 0 ? null : formatIsoFromUs(result.firstUs),
    last_ts: result.lastUs < 0 ? null : formatIsoFromUs(result.lastUs),
    damage: damageJson(result.capture.damage),
    profiles,
    sweep: sweepReport,
    keepalive,
    stats: result.stats,
  };
}

/**
 * Start the worker on the first variants (half of all the tables) when it pays: a big regular file (or standard
 * input from one), at least two variants, and no HTML timeline (it collects per packet in this thread).
 */
function startRemoteVariants(
  source: CaptureSource,
  variants: readonly Variant[],
  options: SimulateOptions,
): { count: number; readBytes: number; worker: RunningWorker<VariantDenialsData[]> } | undefined {
  const choice = options.worker;
  if (choice === false || options.timeline !== undefined || variants.length < 2) return undefined;
  const entry = choice?.entry ?? findBuiltWorker('simulate-worker');
  if (entry === undefined) return undefined;
  const workerSource = workerCaptureSource(source, choice?.minBytes);
  if (workerSource === undefined) return undefined;
  // Half of all the tables each, the observer counted as this thread's: the worker usually no longer starts ~100 ms
  // late (the bin starts it ahead, cli/prestart.ts), and this thread also reports progress. 1M packets, alternating
  // runs: ten profiles 1.96 s with five in the worker, 1.86 s with six, 1.94 s with seven; two profiles 1.14 s with
  // one, 1.01 s with both.
  const count = Math.ceil((variants.length + 1) / 2);
  const data: SimulateWorkerData = { source: workerSource, profiles: variants.slice(0, count).map((v) => v.profile), localNetworks: options.localNetworks?.slice() };
  return { count, readBytes: workerSource.readBytes, worker: startWorker(entry, data) };
}
