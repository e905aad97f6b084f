/**
 * `tail` output: one line per event as it happens, with absolute UTC times (never tcpdump's -ttt deltas), for
 * people (`text`) or machines (`ndjson`, one JSON object per line with a `type`). Also the shapes the tail pipeline
 * reports in (a flow gaining or losing state, damage stepped over, the closing summary).
 */
import { formatEndpoint } from '../address.js';
import type { LiveVerdict, SettleReason } from '../classify/live.js';
import type { CauseName } from '../classify/remedies.js';
import type { LocalSide } from '../flow/local.js';
import type { FlowEndReason } from '../flow/table.js';
import type { PacketStats } from '../types.js';
import { buildVerdictJson, type VerdictJson } from './explain.js';
import { renderIgnoredLine } from './stats.js';
import { formatIsoFromUs, formatSecondsUs, formatWallTimestamp } from './time.js';

/** A flow gaining state, or ending: seen from the host (`local` first) unless it is transit traffic. */
export interface TailFlow {
  id: number;
  /** The state's creation, or the flow's end (an expiry is dated by the expiry itself). */
  atUs: number;
  ipVersion: 4 | 6;
  local: { addr: string; port: number };
  remote: { addr: string; port: number };
  /** Neither side is local: `local` is then the side that opened the flow. */
  transit: boolean;
  service: string;
  timeoutKey: string;
  timeoutUs: number;
  endReason: FlowEndReason | undefined;
  lastUs: number;
  packets: number;
  deniedPackets: number;
}

/** Damage in the input that the reader stepped over (or that ended it). */
export interface TailDamage {
  code: string;
  offset: number;
  /** The record number the next packet would have had. */
  frame: number;
  detail: string;
  /** Input offset where reading went on; -1 when the input ended first. */
  resumedAtOffset: number;
  skippedBytes: number;
}

/** What a tail saw, for its closing summary. */
export interface TailSummary {
  records: number;
  stats: PacketStats;
  udpPackets: number;
  firstUs: number;
  lastUs: number;
  local: LocalSide | undefined;
  flowsCreated: number;
  flowsAlive: number;
  verdicts: number;
  causes: Partial<Record<CauseName, number>>;
  revisions: number;
  provisionalAtEnd: number;
  damagedPlaces: number;
  skippedBytes: number;
}

/** `2026-11-25 14:31:02.123456`: packet time, UTC, µs. */
export function formatTailTime(us: number): string {
  const sec = Math.floor(us / 1e6);
  return formatWallTimestamp(sec, Math.round(us - sec * 1e6) * 1000, 6);
}

function status(v: LiveVerdict): string {
  return v.explanation.provisional ? 'provisional' : 'final';
}

function packetRef(v: LiveVerdict): string {
  const e = v.explanation;
  return `frame ${e.packet.frame}, ${formatTailTime(e.packet.tsUs)}`;
}

// --- text ----------------------------------------------------------------------------------------------------------

/** `… deny #3 [provisional] 198.51.100.7:1194 → 192.168.1.10:51234 (openvpn): client-killed. The host … Fix: …` */
export function renderVerdictLine(v: LiveVerdict): string {
  const e = v.explanation;
  return `${formatTailTime(e.packet.tsUs)} deny #${v.id} [${status(v)}] ${e.text} (confidence ${e.confidence}, frame ${e.packet.frame})`;
}

/** `… revised #3 [provisional] client-killed → idle-expiry (frame 12, …): The host last sent … Fix: …` */
export function renderRevisionLine(v: LiveVerdict, previous: CauseName, atUs: number): string {
  const e = v.explanation;
  return `${formatTailTime(atUs)} revised #${v.id} [${status(v)}] ${previous} → ${e.cause} (${packetRef(v)}): ${e.evidence.join(' ')} Fix: ${e.remedy[0] ?? 'nothing to do.'} (confidence ${e.confidence})`;
}

/** `… final #3 idle-expiry (confidence 0.85, frame 12, …)` */
export function renderSettledLine(v: LiveVerdict, atUs: number, reason: SettleReason): string {
  const why = reason === 'window' ? '' : reason === 'limit' ? ', early: too many open verdicts' : ', end of input';
  return `${formatTailTime(atUs)} final #${v.id} ${v.explanation.cause} (confidence ${v.explanation.confidence}, ${packetRef(v)}${why})`;
}

function flowText(f: TailFlow): string {
  const arrow = f.transit ? '↔' : '→';
  return `${formatEndpoint(f.local.addr, f.local.port)} ${arrow} ${formatEndpoint(f.remote.addr, f.remote.port)}${f.service ? ` (${f.service})` : ''}${f.transit ? ' (transit)' : ''}`;
}

/** `… flow #4 new 192.168.1.10:51234 → 198.51.100.7:1194 (openvpn): state on udp.first 60 s` */
export function renderFlowStartLine(f: TailFlow): string {
  return `${formatTailTime(f.atUs)} flow #${f.id} new ${flowText(f)}: state on ${f.timeoutKey} ${formatSecondsUs(f.timeoutUs)}`;
}

/** `… flow #4 expired …: udp.multiple 60 s after its last packet at …, 12 packets`; other ends say why. */
export function renderFlowEndLine(f: TailFlow): string {
  const packets = `${f.packets} packet${f.packets === 1 ? '' : 's'}`;
  if (f.endReason === 'idle-timeout') {
    return `${formatTailTime(f.atUs)} flow #${f.id} expired ${flowText(f)}: ${f.timeoutKey} ${formatSecondsUs(f.timeoutUs)} after its last packet at ${formatTailTime(f.lastUs)}, ${packets}`;
  }
  if (f.endReason === 'denied-only-idle') return `${formatTailTime(f.atUs)} flow #${f.id} forgotten ${flowText(f)}: only denied packets, the last at ${formatTailTime(f.lastUs)}, ${packets}`;
  return `${formatTailTime(f.atUs)} flow #${f.id} alive at the end ${flowText(f)}: ${packets}`;
}

/** One line for damage stepped over (the CLI puts it on stderr in text mode). */
export function renderDamageLine(source: string, d: TailDamage): string {
  const where = d.resumedAtOffset < 0 ? 'the input ended inside it' : `reading went on at byte ${d.resumedAtOffset}`;
  return `${source}: damaged input at byte ${d.offset} (${d.code}: ${d.detail}); skipped ${d.skippedBytes} bytes, ${where}`;
}

/** The header once the local side is known: what is taken as local, and the model. */
export function renderTailHeader(source: string, local: LocalSide, profile: { name: string; timeouts: Record<string, number> }, settleAfterUs: number): string {
  const timeouts = Object.entries(profile.timeouts).filter(([k]) => !k.startsWith('adaptive') && k !== 'states').map(([k, v]) => `${k}=${v}s`).join(', ');
  return [
    `Tail:       ${source}`,
    `Local side: ${local.networks.join(', ') || '(unknown)'} — ${local.reason}`,
    `Profile:    ${profile.name} (${timeouts}); verdicts that wait for later packets are final after ${formatSecondsUs(settleAfterUs)}`,
  ].join('\n') + '\n';
}

/** The closing summary (Ctrl-C or end of input). */
export function renderTailSummary(s: TailSummary): string {
  const causes = Object.entries(s.causes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${n} ${c}`).join(', ');
  const span = s.firstUs < 0 ? 'no UDP packets' : `${formatTailTime(s.firstUs)} to ${formatTailTime(s.lastUs)}`;
  const lines = [
    '',
    `Summary:    ${s.records} record${s.records === 1 ? '' : 's'}, ${s.udpPackets} UDP (or ICMP about UDP), ${span}`,
    `Flows:      ${s.flowsCreated} created, ${s.flowsAlive} alive at the end`,
    `Denied:     ${s.verdicts}${causes ? ` (${causes})` : ''}; ${s.revisions} revision${s.revisions === 1 ? '' : 's'}; ${s.provisionalAtEnd} still provisional at the end`,
  ];
  if (s.damagedPlaces > 0) lines.push(`Damage:     ${s.damagedPlaces} place${s.damagedPlaces === 1 ? '' : 's'} in the input, ${s.skippedBytes} bytes skipped`);
  lines.push(renderIgnoredLine(s.stats));
  return lines.join('\n') + '\n';
}

// --- ndjson -----------------------------------------------------------------------------------------------------

/** A verdict record: explain's verdict JSON with the tail's id and an explicit `provisional`. */
export function verdictRecord(type: 'verdict' | 'revision' | 'final', v: LiveVerdict, extra: Record<string, unknown> = {}): string {
  const json: VerdictJson & { provisional?: boolean } = buildVerdictJson(v.explanation);
  delete json.provisional;
  return JSON.stringify({ type, id: v.id, ...extra, provisional: v.explanation.provisional, ...json });
}

export function revisionRecord(v: LiveVerdict, previous: CauseName, atUs: number): string {
  return verdictRecord('revision', v, { revised_ts: formatIsoFromUs(atUs), previous_cause: previous });
}

export function settledRecord(v: LiveVerdict, atUs: number, reason: SettleReason): string {
  return verdictRecord('final', v, { final_ts: formatIsoFromUs(atUs), reason });
}

export function flowRecord(event: 'new' | 'end', f: TailFlow): string {
  return JSON.stringify({
    type: 'flow',
    event,
    id: f.id,
    ts: formatIsoFromUs(f.atUs),
    local: f.transit ? null : { addr: f.local.addr, port: f.local.port },
    remote: f.transit ? null : { addr: f.remote.addr, port: f.remote.port },
    endpoints: f.transit ? [f.local, f.remote] : undefined,
    service: f.service,
    timeout_key: f.timeoutKey,
    timeout_s: f.timeoutUs / 1e6,
    ...(event === 'end' ? { reason: f.endReason ?? null, last_ts: formatIsoFromUs(f.lastUs), packets: f.packets, denied_packets: f.deniedPackets } : {}),
  });
}

export function damageRecord(d: TailDamage): string {
  return JSON.stringify({ type: 'damage', code: d.code, offset: d.offset, frame: d.frame, detail: d.detail, resumed_at: d.resumedAtOffset < 0 ? null : d.resumedAtOffset, skipped_bytes: d.skippedBytes });
}

export function startRecord(source: string, local: LocalSide, profile: { name: string; timeouts: Record<string, number> }, settleAfterUs: number): string {
  return JSON.stringify({ type: 'start', source, local: { addresses: local.networks, source: local.source, reason: local.reason }, profile, final_after_s: settleAfterUs / 1e6 });
}

export function summaryRecord(s: TailSummary, end: string): string {
  return JSON.stringify({
    type: 'summary',
    end,
    records: s.records,
    udp_packets: s.udpPackets,
    first_ts: s.firstUs < 0 ? null : formatIsoFromUs(s.firstUs),
    last_ts: s.lastUs < 0 ? null : formatIsoFromUs(s.lastUs),
    flows_created: s.flowsCreated,
    flows_alive: s.flowsAlive,
    verdicts: s.verdicts,
    causes: s.causes,
    revisions: s.revisions,
    provisional_at_end: s.provisionalAtEnd,
    damaged_places: s.damagedPlaces,
    skipped_bytes: s.skippedBytes,
    stats: { total: s.stats.total, decoded: s.stats.decoded, udp: s.stats.udp, truncated: s.stats.truncated, invalid: s.stats.invalid, unsupported: s.stats.unsupported, issues: s.stats.issuesByCode },
  });
}
