/**
 * `simulate` reports: per profile the denied inbound packets and the flows broken; the sweep table with the
 * smallest clean value; keepalive advice for long-lived flows.
 */
import type { Denial } from '../flow/table.js';
import type { PacketStats } from '../types.js';
import type { LocalJson } from './analyze.js';
import { packetRefJson, writePacketRef, type PacketRefJson } from './flows.js';
import { jsonPiece, type JsonBytes, RECORD_ROOM_BYTES } from './json-bytes.js';
import type { JsonRecordList } from './json-layout.js';
import { renderDamageLine, renderIgnoredLine, type DamageJson } from './stats.js';
import { renderKeyValues, renderTable } from './table.js';

/** A denied packet as simulate lists it. */
export interface SimulatedDenialJson extends PacketRefJson {
  verdict: 'deny' | 'window';
  reason: string;
}

/** A denial as simulate lists it (the readable reference of writeSimulatedDenialJson). */
export function buildSimulatedDenialJson(denial: Denial): SimulatedDenialJson {
  return { ...packetRefJson(denial), verdict: denial.verdict, reason: denial.reason };
}

const HEAD = jsonPiece('{');
const K_VERDICT = jsonPiece(',"verdict":');
const K_REASON = jsonPiece(',"reason":');
const CLOSE = jsonPiece('}');

/** `JSON.stringify(buildSimulatedDenialJson(denial))` as bytes (test/report/flows.test.ts keeps them equal). */
export function writeSimulatedDenialJson(out: JsonBytes, denial: Denial): void {
  out.reserve(RECORD_ROOM_BYTES);
  writePacketRef(out, denial, HEAD);
  out.piece(K_VERDICT);
  out.string(denial.verdict);
  out.piece(K_REASON);
  out.string(denial.reason);
  out.piece(CLOSE);
}

/**
 * The indent writeJsonDocument gives a profile's denial records (document, `profiles`, one profile, its list: four
 * levels of two spaces): the lists hold their records joined that way already (json-layout.ts JsonRecordList).
 */
export const PROFILE_RECORD_INDENT = ' '.repeat(8);

/** One profile's outcome. */
export interface SimulatedProfileJson {
  name: string;
  title: string;
  timeouts: Record<string, number>;
  /** The denials, one JSON record each (JSON.stringify gives the objects). */
  denied: JsonRecordList<SimulatedDenialJson>;
  denied_total: number;
  /** Denials on flows the local side had state for (replies lost), as opposed to unsolicited or multicast. */
  denied_legitimate: number;
  flows_broken: number;
  purge_window: JsonRecordList<SimulatedDenialJson>;
}

/** The simulate document. */
export interface SimulateReport {
  local: LocalJson;
  packets: number;
  udp_packets: number;
  first_ts: string | null;
  last_ts: string | null;
  /** Where the capture stopped being readable (null: read to its end): everything before it was replayed. */
  damage: DamageJson | null;
  profiles: SimulatedProfileJson[];
  sweep:
    | Array<{
        profile: string;
        key: string;
        values: Array<{ value_s: number; denied_total: number; denied_legitimate: number; flows_broken: number }>;
        smallest_clean_s: number | null;
      }>
    | undefined;
  keepalive: Array<{
    flow: number;
    local: string;
    remote: string;
    service: string;
    duration_s: number;
    longest_gap_s: number;
    profiles: Array<{ name: string; steady_timeout_s: number; keepalive_s: number; gap_survives: boolean }>;
  }>;
  stats: PacketStats;
}

/** The person's view. */
export function renderSimulateText(report: SimulateReport): string {
  const out: string[] = [];
  out.push(
    renderKeyValues([
      ['Packets', `${report.packets} (${report.udp_packets} UDP), ${report.first_ts ?? '-'} → ${report.last_ts ?? '-'}`],
      ['Local side', `${report.local.addresses.join(', ') || '(unknown)'} — ${report.local.reason}`],
    ]),
  );
  out.push('', 'Per profile (legitimate = replies on flows the local side had opened; the rest are unsolicited or LAN multicast):');
  out.push(
    renderTable(
      ['profile', 'timeouts', 'denied', 'legitimate', 'flows broken', 'purge window'],
      report.profiles.map((p) => [
        p.name,
        Object.entries(p.timeouts).filter(([k]) => !k.startsWith('adaptive') && k !== 'states').map(([k, v]) => `${k}=${v}`).join(' '),
        String(p.denied_total),
        String(p.denied_legitimate),
        String(p.flows_broken),
        String(p.purge_window.length),
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right'],
    ),
  );
  for (const sweep of report.sweep ?? []) {
    out.push('', `Sweep of ${sweep.key} under ${sweep.profile}: ${sweep.smallest_clean_s === null ? 'no value in the range avoids denying legitimate traffic' : `${sweep.smallest_clean_s} s is the smallest value that denies nothing legitimate`}`);
    out.push(
      renderTable(
        [`${sweep.key} (s)`, 'denied', 'legitimate', 'flows broken'],
        sweep.values.map((v) => [String(v.value_s), String(v.denied_total), String(v.denied_legitimate), String(v.flows_broken)]),
        ['right', 'right', 'right', 'right'],
      ),
    );
  }
  if (report.keepalive.length > 0) {
    out.push('', 'Long-lived flows: the keepalive interval (half the steady-state timeout) that keeps each alive:');
    out.push(
      renderTable(
        ['local', 'remote', 'service', 'longest gap s', ...report.profiles.map((p) => p.name)],
        report.keepalive.map((k) => [
          k.local,
          k.remote,
          k.service || '-',
          String(k.longest_gap_s),
          ...k.profiles.map((p) => (p.gap_survives ? `ok (≤${p.steady_timeout_s}s)` : `every ${p.keepalive_s}s`)),
        ]),
      ),
    );
  }
  if (report.damage !== null) out.push('', renderDamageLine(report.damage, 'replayed'));
  out.push('', renderIgnoredLine(report.stats));
  return out.join('\n') + '\n';
}
