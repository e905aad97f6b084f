/**
 * `explain`: build one timeline from a denial log (pflog block records, NFLOG records whose prefix names a drop)
 * and/or a capture of the traffic around it, replay it through the flow model, and explain every denied packet.
 * With a log, the log decides what was denied (its pass records and the capture are context); with a capture
 * alone, the denials are the ones the model predicts. Offline, so the classifier may look ahead.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { formatAddress, isGroupAddressText } from '../address.js';
import { isLittleSnitchTrafficLog, parseLittleSnitchTrafficLog, rankAlertCauses, type LittleSnitchTrafficRow } from '../classify/little-snitch.js';
import { remedyFor, type CauseName } from '../classify/remedies.js';
import { readCapture } from '../capture/index.js';
import { Timeline, explainDenials, type Explanation, type ObservedPacket, type TimeoutContext } from '../classify/explain.js';
import { PacketDecoder } from '../decode/packet.js';
import { LocalSide } from '../flow/local.js';
import { steadyStateTimeoutUs, timeoutsInSeconds, type TimeoutProfile } from '../flow/profiles.js';
import { FlowTable, type Denial } from '../flow/table.js';
import { copyCaptureRecord, type CaptureRecord, type DecodedPacket } from '../types.js';
import { isIcmpErrorAboutUdp, isLoggedDenial, isUdp, observedIcmpError, observedUdpPacket, packetTimeUs, portService } from './observed.js';
import { inferLocalSide } from './replay.js';

export { isLoggedDenial } from './observed.js';
import type { TimelineCollector } from './timeline.js';
import { damageJson, type DamageJson, type InputDamageJson } from '../report/stats.js';

/** Options of explain. */
export interface ExplainOptions {
  deniedFile?: string | undefined;
  captureFile?: string | undefined;
  profile: TimeoutProfile;
  /** False when the user gave no profile or timeout: then the log's own gaps estimate the timeout. */
  profileGiven: boolean;
  localNetworks?: readonly string[] | undefined;
  /** NFLOG: records whose prefix contains this (case-insensitive) are denials; default: drop, deny, block, reject. */
  denyPrefix?: string | undefined;
  /** Gathers the HTML report's timelines (`--html`), its one profile being `profile`. */
  timeline?: TimelineCollector | undefined;
}

/** The explain document. */
export interface ExplainResult {
  local: { addresses: string[]; source: string; reason: string };
  profile: { name: string; timeouts: Record<string, number> };
  timeoutEstimate: { longest_passed_s: number; shortest_denied_s: number; note: string } | undefined;
  explanations: Explanation[];
  /** Logged denials that could not be decoded to a UDP 5-tuple, by issue. */
  skipped: number;
  /** Inputs that stopped being readable before their end (what was read before the damage was used); empty if none. */
  damage: InputDamageJson[];
}

interface Entry {
  record: CaptureRecord;
  source: 'capture' | 'log';
  frame: number;
  denied: boolean;
  tsUs: number;
  key: string;
  /** IPv4 identification (-1 for IPv6): with the 5-tuple it names one datagram in both files. */
  ipId: number;
}

const JOIN_WINDOW_US = 2_000_000;

function tupleText(pkt: DecodedPacket): string {
  const v = pkt.ipVersion === 6 ? 6 : 4;
  return `${formatAddress(pkt.data, pkt.srcAddrOffset, v)}.${pkt.srcPort}>${formatAddress(pkt.data, pkt.dstAddrOffset, v)}.${pkt.dstPort}`;
}

/** The join key of an ICMP error: its sender and receiver, and the quoted flow. */
function icmpKeyText(pkt: DecodedPacket): string {
  const v = pkt.ipVersion === 6 ? 6 : 4;
  const q = pkt.quotedIpVersion === 6 ? 6 : 4;
  return `icmp ${formatAddress(pkt.data, pkt.srcAddrOffset, v)}>${formatAddress(pkt.data, pkt.dstAddrOffset, v)} ` +
    `${formatAddress(pkt.data, pkt.quotedSrcAddrOffset, q)}.${pkt.quotedSrcPort}>${formatAddress(pkt.data, pkt.quotedDstAddrOffset, q)}.${pkt.quotedDstPort}`;
}

/** Read `file` into `entries`; returns the logged denials skipped and where the file was damaged, if it was. */
async function collect(file: string, source: 'capture' | 'log', denyPrefix: string | undefined, entries: Entry[]): Promise<{ skipped: number; damage: DamageJson | null }> {
  const decoder = new PacketDecoder();
  let skipped = 0;
  const capture = await readCapture(file, (record) => {
    const pkt = decoder.decode(record);
    const icmpError = isIcmpErrorAboutUdp(pkt);
    if (!isUdp(pkt) && !icmpError) {
      if (source === 'log' && isLoggedDenial(pkt, denyPrefix)) skipped++;
      return;
    }
    const copy = copyCaptureRecord(record);
    // NFLOG records are dated by the kernel's NFULA_TIMESTAMP when present (packetTimeUs); the copy carries that time.
    const tsUs = packetTimeUs(pkt, record);
    const nflog = pkt.nflog;
    if (nflog !== undefined && nflog.tsSec !== undefined && nflog.tsUsec !== undefined) {
      copy.tsSec = nflog.tsSec;
      copy.tsNsec = nflog.tsUsec * 1000;
    }
    entries.push({
      record: copy,
      source,
      frame: record.frame,
      denied: source === 'log' && isLoggedDenial(pkt, denyPrefix),
      tsUs,
      key: icmpError ? icmpKeyText(pkt) : tupleText(pkt),
      ipId: pkt.ipVersion === 4 ? pkt.fragmentId : -1,
    });
  });
  return { skipped, damage: damageJson(capture.damage) };
}

/** Whether a file starts like `littlesnitch log-traffic` CSV rather than a capture (explain and rules ask). */
export function sniffLittleSnitchCsv(path: string): boolean {
  if (path === '-') return false;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(1024);
    const n = readSync(fd, head, 0, head.length, 0);
    return isLittleSnitchTrafficLog(head.subarray(0, n).toString('utf8'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Denied incoming UDP rows of a Little Snitch traffic log. */
function deniedUdpRows(rows: readonly LittleSnitchTrafficRow[]): LittleSnitchTrafficRow[] {
  return rows.filter((r) => r.direction === 'in' && r.denyCount > 0 && r.protocol === 17 && r.port !== null);
}

/** Run explain over the inputs. */
export async function explainInputs(options: ExplainOptions): Promise<ExplainResult> {
  const logEntries: Entry[] = [];
  const captureEntries: Entry[] = [];
  let skipped = 0;
  const damage: InputDamageJson[] = [];
  let lsRows: LittleSnitchTrafficRow[] | undefined;
  if (options.deniedFile !== undefined && sniffLittleSnitchCsv(options.deniedFile)) {
    lsRows = deniedUdpRows(parseLittleSnitchTrafficLog(readFileSync(options.deniedFile, 'utf8')));
    if (options.captureFile === undefined) return explainLittleSnitchRows(lsRows, options);
  } else if (options.deniedFile !== undefined) {
    const log = await collect(options.deniedFile, 'log', options.denyPrefix, logEntries);
    skipped += log.skipped;
    if (log.damage !== null) damage.push({ input: 'denied', file: options.deniedFile, ...log.damage });
  }
  if (options.captureFile !== undefined) {
    const capture = await collect(options.captureFile, 'capture', undefined, captureEntries);
    if (capture.damage !== null) damage.push({ input: 'capture', file: options.captureFile, ...capture.damage });
  }
  const haveLog = options.deniedFile !== undefined;
  if (lsRows !== undefined) markLittleSnitchDenials(lsRows, captureEntries);

  // Join logged denials to the capture by 5-tuple and time: the capture's packet becomes the denied one (it has the
  // full payload), keeping the log's record number for the report.
  let entries: Entry[];
  if (haveLog && captureEntries.length > 0) {
    const byKey = new Map<string, Entry[]>();
    for (const e of captureEntries) (byKey.get(e.key) ?? byKey.set(e.key, []).get(e.key)!).push(e);
    const unmatched: Entry[] = [];
    for (const logged of logEntries.filter((e) => e.denied)) {
      const candidates = (byKey.get(logged.key) ?? []).filter(
        (c) => !c.denied && Math.abs(c.tsUs - logged.tsUs) <= JOIN_WINDOW_US && (logged.ipId < 0 || c.ipId === logged.ipId),
      );
      candidates.sort((a, b) => Math.abs(a.tsUs - logged.tsUs) - Math.abs(b.tsUs - logged.tsUs));
      const match = candidates[0];
      if (match === undefined) unmatched.push(logged);
      else {
        match.denied = true;
        match.source = 'log';
        match.frame = logged.frame;
      }
    }
    entries = [...captureEntries, ...unmatched];
  } else {
    entries = [...logEntries, ...captureEntries];
  }
  entries.sort((a, b) => a.tsUs - b.tsUs || (a.source === b.source ? a.frame - b.frame : a.source === 'capture' ? -1 : 1));

  const local = chooseLocalSide(options.localNetworks, entries, logEntries);
  const seen: { denial: Denial | undefined } = { denial: undefined };
  const timeline = options.timeline;
  timeline?.setLocalSide(local);
  timeline?.keepDenials();
  const table = new FlowTable({
    profile: options.profile,
    local,
    events: {
      onDenial: (d) => {
        seen.denial = d;
        timeline?.denial(0, d);
      },
      onStateEvent: timeline === undefined ? undefined : (flow, event) => timeline.stateEvent(0, flow, event),
      onFlowEnd: timeline === undefined ? undefined : (flow) => timeline.flowEnd(0, flow),
    },
  });
  const decoder = new PacketDecoder();
  const packets: ObservedPacket[] = [];
  for (const entry of entries) {
    const pkt = decoder.decode(entry.record);
    seen.denial = undefined;
    table.advance(entry.tsUs);
    if (pkt.hasQuotedUdp) {
      packets.push(observeIcmpError(table, pkt, entry, packets.length, haveLog, seen));
      continue;
    }
    const verdict = table.observe(pkt, entry.tsUs, entry.denied);
    timeline?.observe(0, table, pkt, entry.tsUs, entry.frame);
    const place = { index: packets.length, frame: entry.frame, source: entry.source, tsUs: entry.tsUs };
    const denial = seen.denial as Denial | undefined;
    packets.push(observedUdpPacket(pkt, table.last.role, place, haveLog ? entry.denied : verdict === 'deny', denial));
  }
  table.finish();
  assignServices(packets);

  const estimate = haveLog && !options.profileGiven ? estimateTimeout(packets) : undefined;
  const timeouts: TimeoutContext = {
    profileName: options.profile.name,
    steadyTimeoutUs: steadyStateTimeoutUs(options.profile),
    estimate: estimate === undefined ? undefined : { longestPassedUs: estimate.longestPassedUs, shortestDeniedUs: estimate.shortestDeniedUs },
  };
  const explanations = explainDenials(new Timeline(packets), timeouts);
  // One verdict per denied packet, in the order of the denial log (its record numbers), else of the capture.
  explanations.sort((a, b) => (a.packet.source === b.packet.source ? a.packet.frame - b.packet.frame : a.packet.source === 'log' ? -1 : 1));
  return {
    local: { addresses: local.networks, source: local.source, reason: local.reason },
    profile: { name: options.profile.name, timeouts: timeoutsInSeconds(options.profile) },
    timeoutEstimate:
      estimate === undefined
        ? undefined
        : {
            longest_passed_s: estimate.longestPassedUs / 1e6,
            shortest_denied_s: estimate.shortestDeniedUs / 1e6,
            note: 'no timeout was given: estimated from the log — the firewall forgot flows after somewhere between these idle gaps',
          },
    explanations,
    skipped,
    damage,
  };
}


/** Replay an ICMP error about a UDP flow; the packet is seen from the host, with the quoted flow's endpoints. */
function observeIcmpError(table: FlowTable, pkt: DecodedPacket, entry: Entry, index: number, haveLog: boolean, seen: { denial: Denial | undefined }): ObservedPacket {
  const verdict = table.observeIcmpError(pkt, entry.tsUs, entry.denied);
  const place = { index, frame: entry.frame, source: entry.source, tsUs: entry.tsUs };
  return observedIcmpError(pkt, table.last.role, place, haveLog ? entry.denied : verdict === 'deny', seen.denial as Denial | undefined);
}

/** The local side: --local, else the destinations of inbound denials in the log, else the capture's own evidence. */
function chooseLocalSide(networks: readonly string[] | undefined, entries: readonly Entry[], logEntries: readonly Entry[]): LocalSide {
  if (networks !== undefined && networks.length > 0) return new LocalSide('option', 'given with --local', networks);
  const inferred = inferLocalSide(entries.slice(0, 20_000).map((e) => e.record));
  if (inferred.source === 'capture-direction' || logEntries.length === 0) return inferred;
  const decoder = new PacketDecoder();
  const counts = new Map<string, number>();
  for (const e of logEntries) {
    if (!e.denied) continue;
    const pkt = decoder.decode(e.record);
    const dst = formatAddress(pkt.data, pkt.dstAddrOffset, pkt.ipVersion === 6 ? 6 : 4);
    if (!isGroupAddressText(dst)) counts.set(dst, (counts.get(dst) ?? 0) + 1);
  }
  if (counts.size === 0) return inferred;
  const addresses = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([a]) => a);
  return new LocalSide('denial-log', 'the destinations of the denied packets in the log', addresses);
}

/** A flow's service: the first payload fingerprint seen on its 5-tuple, else the port guess. */
function assignServices(packets: ObservedPacket[]): void {
  const byTuple = new Map<string, string>();
  for (const p of packets) {
    const key = `${p.localAddr}|${p.localPort}|${p.remoteAddr}|${p.remotePort}`;
    if (p.service !== '' && !byTuple.has(key)) byTuple.set(key, p.service);
  }
  for (const p of packets) {
    const key = `${p.localAddr}|${p.localPort}|${p.remoteAddr}|${p.remotePort}`;
    p.service = byTuple.get(key) ?? portService(p.remotePort, p.localPort);
  }
}

/**
 * The firewall's effective idle timeout from the log itself: for inbound packets on flows the host had used, the
 * longest idle gap that passed and the shortest that was denied (state flushes aside: only gaps above the longest
 * passed one count as timeouts).
 */
function estimateTimeout(packets: readonly ObservedPacket[]): { longestPassedUs: number; shortestDeniedUs: number } | undefined {
  const last = new Map<string, number>();
  const hadLocal = new Set<string>();
  let longestPassedUs = 0;
  const deniedGaps: number[] = [];
  for (const p of packets) {
    const key = `${p.localAddr}|${p.localPort}|${p.remoteAddr}|${p.remotePort}`;
    const previous = last.get(key);
    if (!p.fromLocal && previous !== undefined && hadLocal.has(key)) {
      const gap = p.tsUs - previous;
      if (p.denied) deniedGaps.push(gap);
      else longestPassedUs = Math.max(longestPassedUs, gap);
    }
    if (p.fromLocal) hadLocal.add(key);
    if (!p.denied) last.set(key, p.tsUs);
  }
  const above = deniedGaps.filter((g) => g > longestPassedUs);
  if (above.length === 0) return undefined;
  return { longestPassedUs, shortestDeniedUs: Math.min(...above) };
}

/**
 * Little Snitch log rows are per-interval aggregates (formats.md §8: `denyCount` denied connections, `port` the local
 * port for incoming rows): mark up to `denyCount` inbound capture packets from that address to that port in the
 * minute before the row as the denied ones, numbering them by the row's CSV line.
 */
function markLittleSnitchDenials(rows: readonly LittleSnitchTrafficRow[], captureEntries: readonly Entry[]): void {
  for (const row of rows) {
    const candidates = captureEntries.filter((e) => {
      if (e.denied || e.tsUs > row.tsUs + JOIN_WINDOW_US || e.tsUs < row.tsUs - 60_000_000) return false;
      const [src, dst] = e.key.split('>');
      return src !== undefined && dst !== undefined && src.startsWith(`${row.ipAddress}.`) && dst.endsWith(`.${row.port}`);
    });
    for (const entry of candidates.slice(-row.denyCount)) {
      entry.denied = true;
      entry.source = 'log';
      entry.frame = row.line;
    }
  }
}

/** Without a capture a Little Snitch row has no packets to follow: rank the causes from the row, with low confidence. */
function explainLittleSnitchRows(rows: readonly LittleSnitchTrafficRow[], options: ExplainOptions): ExplainResult {
  const explanations: Explanation[] = rows.map((row) => {
    const process = row.executable.split('/').at(-1) ?? row.executable;
    const remote = row.remoteHostname || row.ipAddress;
    const ranked = rankAlertCauses({ date: row.date.slice(0, 10), remote, process, direction: 'incoming', protocol: 'udp', cannotBeDelayed: true });
    const top = ranked[0];
    const cause = (top?.cause ?? 'unsolicited') as CauseName;
    const packet: ObservedPacket = {
      index: 0,
      frame: row.line,
      source: 'log',
      tsUs: row.tsUs,
      localAddr: '',
      localPort: row.port ?? 0,
      remoteAddr: row.ipAddress,
      remotePort: 0,
      fromLocal: false,
      service: '',
      openvpnOpcode: -1,
      openvpnOpcodeName: '',
      openvpnSession: '',
      payloadBytes: 0,
      multicast: isGroupAddressText(row.ipAddress),
      denied: true,
      denial: undefined,
    };
    const evidence = [
      `Little Snitch denied ${row.denyCount} incoming UDP connection(s) from ${remote} to ${process} on local port ${row.port} (log line ${row.line}).`,
      `Without a capture the cause is ranked from the row alone: ${top?.why ?? ''}`,
      `Confirm with a capture: ${top?.confirm[0] ?? 'sudo tcpdump -i en0 -w vpn.pcap udp'}, then udptrack explain --denied <this csv> --capture vpn.pcap.`,
    ];
    const remedy = top?.remedy.length ? top.remedy : remedyFor(cause, { service: '', remote: `${row.ipAddress}:0`, localPort: row.port ?? 0, steadyTimeoutUs: steadyStateTimeoutUs(options.profile) });
    return {
      packet,
      cause,
      confidence: top?.likelihood === 'high' ? 0.5 : 0.3,
      evidence,
      ruledOut: ranked.slice(1).map((c) => ({ cause: c.cause as CauseName, why: `ranked ${c.likelihood} for a UDP client without a capture` })),
      remedy,
      text: `${remote} → ${process}:${row.port}: ${cause} (ranked, no capture). ${evidence[1] ?? ''}`,
      provisional: false,
    };
  });
  return {
    local: { addresses: [], source: 'denial-log', reason: 'a Little Snitch traffic log names the process, not the local address' },
    profile: { name: options.profile.name, timeouts: timeoutsInSeconds(options.profile) },
    timeoutEstimate: undefined,
    explanations,
    skipped: 0,
    damage: [],
  };
}
