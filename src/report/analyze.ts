/**
 * `analyze` reports: the JSON document (stats, flows, denials), the person's view (summary, flows, expirations,
 * denials, ignored packets), and ndjson records as the replay goes.
 */
import type { PacketStats } from '../types.js';
import type { DenialJson, FlowJson } from './flows.js';
import { formatEndpoint } from './flows.js';
import { renderIgnoredLine } from './stats.js';
import { renderKeyValues, renderTable } from './table.js';
import { formatDurationUs } from './time.js';

/** The local side as reports show it. */
export interface LocalJson {
  addresses: string[];
  source: string;
  reason: string;
}

/** A profile as reports show it. */
export interface ProfileJson {
  name: string;
  title: string;
  timeouts: Record<string, number>;
  source: string;
}

/** Everything analyze found; the JSON document is exactly this. */
export interface AnalyzeReport {
  file: string;
  stats: {
    packets: PacketStats;
    udp_packets: number;
    flows: number;
    flows_by_end: Record<string, number>;
    denied: number;
    purge_window: number;
    first_ts: string | null;
    last_ts: string | null;
    span_s: number;
    format: string;
    damage: { code: string; offset: number; detail: string } | null;
  };
  local: LocalJson;
  profile: ProfileJson;
  flows: FlowJson[];
  denials: DenialJson[];
}

/** How many rows the person's view shows per table before summarising the rest. */
export interface TextLimits {
  flows: number;
  denials: number;
}

/** The person's view of an analyze report. */
export function renderAnalyzeText(report: AnalyzeReport, limits: TextLimits): string {
  const s = report.stats;
  const out: string[] = [];
  out.push(
    renderKeyValues([
      ['File', `${report.file} (${s.format})`],
      ['Packets', `${s.packets.total} (${s.udp_packets} UDP)`],
      ['Time span', s.first_ts === null ? 'no UDP packets' : `${s.first_ts} → ${s.last_ts} (${formatDurationUs(s.span_s * 1e6)})`],
      ['Flows', `${s.flows} (${Object.entries(s.flows_by_end).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'})`],
      ['Local side', `${report.local.addresses.join(', ') || '(unknown)'} — ${report.local.reason}`],
      ['Profile', `${report.profile.name}: ${report.profile.title}; ${Object.entries(report.profile.timeouts).map(([k, v]) => `${k}=${v}`).join(', ')}`],
      ['Denied inbound', `${s.denied} packets${s.purge_window > 0 ? `, ${s.purge_window} more inside pf's purge window (may have passed)` : ''}`],
    ]),
  );
  out.push('', `Flows (${report.flows.length}${report.flows.length > limits.flows ? `, first ${limits.flows} shown; --format json for all` : ''}):`);
  const flowRows = report.flows.slice(0, limits.flows).map((f) => [
    String(f.id),
    f.first_ts.slice(11, 23),
    formatEndpoint(f.orig.addr, f.orig.port),
    formatEndpoint(f.resp.addr, f.resp.port),
    f.local === null ? 'transit' : f.local === 'orig' ? 'out' : 'in',
    f.service || '-',
    `${f.orig.packets}/${f.resp.packets}`,
    `${f.orig.bytes}/${f.resp.bytes}`,
    String(f.duration_s),
    f.denied_packets > 0 ? String(f.denied_packets) : '',
    endText(f),
  ]);
  out.push(
    renderTable(['id', 'first', 'orig', 'resp', 'dir', 'service', 'pkts o/r', 'bytes o/r', 'dur s', 'denied', 'end'], flowRows, [
      'right', 'left', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left',
    ]),
  );
  const expired = report.flows.filter((f) => f.end.reason === 'idle-timeout');
  if (expired.length > 0) {
    const byKey = new Map<string, number>();
    for (const f of expired) {
      const key = f.state.at(-1)?.timeout_key ?? '?';
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    out.push('', `Expirations: ${expired.length} states timed out (${[...byKey].map(([k, v]) => `${v} on ${k}`).join(', ')}).`);
  }
  out.push('', `Denied inbound packets (${report.denials.length}${report.denials.length > limits.denials ? `, first ${limits.denials} shown` : ''}):`);
  if (report.denials.length === 0) {
    out.push('  none: every inbound packet matched a live state under this profile.');
  } else {
    const rows = report.denials.slice(0, limits.denials).map((d) => [
      String(d.frame),
      d.ts.slice(11, 23),
      formatEndpoint(d.src, d.sport),
      formatEndpoint(d.dst, d.dport),
      d.verdict === 'window' ? 'maybe' : 'deny',
      d.reason,
      d.previous ? `idle ${d.previous.idle_s} s > ${d.previous.timeout_key} ${d.previous.timeout_s} s` : d.multicast ? 'multicast/broadcast' : d.past_expiry_s !== undefined ? `${d.past_expiry_s} s past expiry` : 'no state ever',
    ]);
    out.push(renderTable(['frame', 'time', 'from', 'to', 'verdict', 'reason', 'evidence'], rows, ['right', 'left', 'left', 'left', 'left', 'left', 'left']));
  }
  if (s.damage !== null) out.push('', `Capture damaged at byte ${s.damage.offset}: ${s.damage.code} (${s.damage.detail}); everything before it was analyzed.`);
  out.push('', renderIgnoredLine(s.packets));
  return out.join('\n') + '\n';
}

function endText(f: FlowJson): string {
  switch (f.end.reason) {
    case 'idle-timeout': {
      const last = f.state.at(-1);
      return `expired ${f.end.ts.slice(11, 19)} (${last?.timeout_key ?? '?'} ${last?.timeout_s ?? '?'} s)`;
    }
    case 'denied-only-idle':
      return 'denied only';
    default:
      return f.state.length === 0 ? 'denied only' : 'alive at end';
  }
}
