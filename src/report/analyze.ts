/**
 * `analyze` reports: the JSON document (stats, flows, denials), the person's view (summary, flows, expirations,
 * denials, ignored packets), and ndjson records as the replay goes.
 */
import type { PacketStats } from '../types.js';
import type { DenialJson, FlowJson } from './flows.js';
import { formatEndpoint } from '../address.js';
import { renderDamageLine, renderIgnoredLine, type DamageJson } from './stats.js';
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
    /** States that timed out, by the timeout key in force. */
    expirations_by_timeout: Record<string, number>;
    denied: number;
    purge_window: number;
    first_ts: string | null;
    last_ts: string | null;
    span_s: number;
    format: string;
    damage: DamageJson | null;
  };
  local: LocalJson;
  profile: ProfileJson;
  flows: FlowJson[];
  denials: DenialJson[];
}

/** The person's view of an analyze report. */
export function renderAnalyzeText(report: AnalyzeReport): string {
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
  out.push('', `Flows (${s.flows}${s.flows > report.flows.length ? `, first ${report.flows.length} shown; --format json for all` : ''}):`);
  const flowRows = report.flows.map((f) => [
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
  const expiredTotal = Object.values(s.expirations_by_timeout).reduce((a, b) => a + b, 0);
  if (expiredTotal > 0) {
    out.push('', `Expirations: ${expiredTotal} states timed out (${Object.entries(s.expirations_by_timeout).map(([k, v]) => `${v} on ${k}`).join(', ')}).`);
  }
  out.push('', `Denied inbound packets (${s.denied}${s.denied > report.denials.length ? `, first ${report.denials.length} shown` : ''}):`);
  if (report.denials.length === 0) {
    out.push('  none: every inbound packet matched a live state under this profile.');
  } else {
    const rows = report.denials.map((d) => [
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
  if (s.damage !== null) out.push('', renderDamageLine(s.damage, 'analyzed'));
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
