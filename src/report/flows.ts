/**
 * The JSON shapes of flows and denials (analyze, simulate, ndjson streams), built from the flow table's records.
 * Stable field names, snake_case like Zeek's logs, times as ISO-8601 UTC, durations in seconds.
 */
import { formatAddress, formatIpv4Number } from '../address.js';
import type { Denial, DirectionCounters, Flow, StateEvent } from '../flow/table.js';
import { formatIsoFromUs } from './time.js';

/** One endpoint of a flow with what it sent. */
export interface EndpointJson {
  addr: string;
  port: number;
  packets: number;
  bytes: number;
  ip_bytes: number;
  wire_bytes: number;
  first_ts: string | null;
  last_ts: string | null;
}

/** A flow record (one state lifetime of a 5-tuple). `orig` opened it. */
export interface FlowJson {
  id: number;
  proto: 'udp';
  first_ts: string;
  last_ts: string;
  duration_s: number;
  orig: EndpointJson;
  resp: EndpointJson;
  /** Which endpoint is the local host: `orig`, `resp`, or null for transit traffic. */
  local: 'orig' | 'resp' | null;
  service: string;
  service_by: string;
  denied_packets: number;
  window_packets: number;
  state: Array<{ ts: string; event: StateEvent['event']; timeout_key: string; timeout_s: number }>;
  end: { reason: string; ts: string };
}

/** The packet a record is about: its record number, time and 5-tuple (every per-packet JSON record starts so). */
export interface PacketRefJson {
  frame: number;
  ts: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** A denied (or purge-window) inbound packet. */
export interface DenialJson extends PacketRefJson {
  flow: number;
  verdict: 'deny' | 'window';
  reason: string;
  multicast: boolean;
  /** For state-expired: the previous state's last packet, expiry, timeout and the idle gap that outlived it. */
  previous?: {
    flow: number;
    last_ts: string;
    expired_ts: string;
    timeout_key: string;
    timeout_s: number;
    idle_s: number;
    local_sent: boolean;
    packets_from_local: number;
    packets_from_remote: number;
    opener: 'local' | 'remote';
  };
  past_expiry_s?: number;
}

const seconds = (us: number): number => Math.round(us) / 1e6;

function endpoint(addr: Uint8Array, port: number, version: 4 | 6, c: DirectionCounters): EndpointJson {
  return {
    addr: formatAddress(addr, 0, version),
    port,
    packets: c.packets,
    bytes: c.payloadBytes,
    ip_bytes: c.ipBytes,
    wire_bytes: c.wireBytes,
    first_ts: c.packets > 0 ? formatIsoFromUs(c.firstUs) : null,
    last_ts: c.packets > 0 ? formatIsoFromUs(c.lastUs) : null,
  };
}

/** The JSON record of an ended flow. */
export function buildFlowJson(flow: Flow): FlowJson {
  const openerIsA = flow.opener === 'a';
  const a = endpoint(flow.addrA, flow.portA, flow.ipVersion, flow.fromA);
  const b = endpoint(flow.addrB, flow.portB, flow.ipVersion, flow.fromB);
  return {
    id: flow.id,
    proto: 'udp',
    first_ts: formatIsoFromUs(flow.firstUs),
    last_ts: formatIsoFromUs(flow.lastUs),
    duration_s: seconds(flow.lastUs - flow.firstUs),
    orig: openerIsA ? a : b,
    resp: openerIsA ? b : a,
    local: flow.localSide === undefined ? null : flow.localSide === flow.opener ? 'orig' : 'resp',
    service: flow.service,
    service_by: flow.serviceBy,
    denied_packets: flow.deniedPackets,
    window_packets: flow.windowPackets,
    state: flow.history.map((h) => ({ ts: formatIsoFromUs(h.atUs), event: h.event, timeout_key: h.timeoutKey, timeout_s: seconds(h.timeoutUs) })),
    end: { reason: flow.endReason ?? 'end-of-input', ts: formatIsoFromUs(flow.endUs >= 0 ? flow.endUs : flow.lastUs) },
  };
}

/**
 * `"text"` as JSON.stringify writes it, remembered: the strings written this way (services, timeout keys, end
 * reasons) come from small fixed sets.
 */
function jsonString(text: string): string {
  let quoted = QUOTED.get(text);
  if (quoted === undefined) {
    quoted = JSON.stringify(text);
    if (QUOTED.size < 1024) QUOTED.set(text, quoted);
  }
  return quoted;
}

const QUOTED = new Map<string, string>();

function isoOrNull(packets: number, tsUs: number): string {
  return packets > 0 ? `"${formatIsoFromUs(tsUs)}"` : 'null';
}

function endpointText(addr: string, port: number, c: DirectionCounters): string {
  return (
    // Address text is digits, hex, dots and colons: nothing to escape.
    `{"addr":"${addr}","port":${port},"packets":${c.packets},"bytes":${c.payloadBytes},"ip_bytes":${c.ipBytes},` +
    `"wire_bytes":${c.wireBytes},"first_ts":${isoOrNull(c.packets, c.firstUs)},"last_ts":${isoOrNull(c.packets, c.lastUs)}}`
  );
}

/**
 * `JSON.stringify(buildFlowJson(flow))`, written straight from the flow: analyze writes one per ended flow, and
 * building the object tree first cost more than the whole flow table (issue 7). test/report/flows.test.ts keeps
 * the two identical on the fixtures and the corpus.
 */
export function flowJsonText(flow: Flow): string {
  const v4 = flow.ipVersion === 4;
  const a = endpointText(v4 ? formatIpv4Number(flow.keyA0) : formatAddress(flow.addrA, 0, 6), flow.portA, flow.fromA);
  const b = endpointText(v4 ? formatIpv4Number(flow.keyB0) : formatAddress(flow.addrB, 0, 6), flow.portB, flow.fromB);
  const openerIsA = flow.opener === 'a';
  const local = flow.localSide === undefined ? 'null' : flow.localSide === flow.opener ? '"orig"' : '"resp"';
  let state = '';
  for (const h of flow.history) {
    state += `${state === '' ? '' : ','}{"ts":"${formatIsoFromUs(h.atUs)}","event":"${h.event}","timeout_key":${jsonString(h.timeoutKey)},"timeout_s":${seconds(h.timeoutUs)}}`;
  }
  return (
    `{"id":${flow.id},"proto":"udp","first_ts":"${formatIsoFromUs(flow.firstUs)}","last_ts":"${formatIsoFromUs(flow.lastUs)}",` +
    `"duration_s":${seconds(flow.lastUs - flow.firstUs)},"orig":${openerIsA ? a : b},"resp":${openerIsA ? b : a},"local":${local},` +
    `"service":${jsonString(flow.service)},"service_by":${jsonString(flow.serviceBy)},"denied_packets":${flow.deniedPackets},` +
    `"window_packets":${flow.windowPackets},"state":[${state}],` +
    `"end":{"reason":${jsonString(flow.endReason ?? 'end-of-input')},"ts":"${formatIsoFromUs(flow.endUs >= 0 ? flow.endUs : flow.lastUs)}"}}`
  );
}

/** The JSON record of a denial. */
export function buildDenialJson(denial: Denial): DenialJson {
  const out: DenialJson = {
    frame: denial.frame,
    ts: formatIsoFromUs(denial.tsUs),
    src: formatAddress(denial.src, 0, denial.ipVersion),
    sport: denial.srcPort,
    dst: formatAddress(denial.dst, 0, denial.ipVersion),
    dport: denial.dstPort,
    flow: denial.flowId,
    verdict: denial.verdict,
    reason: denial.reason,
    multicast: denial.multicast,
  };
  const p = denial.previous;
  if (p !== undefined) {
    out.previous = {
      flow: p.flowId,
      last_ts: formatIsoFromUs(p.lastUs),
      expired_ts: formatIsoFromUs(p.expiresUs),
      timeout_key: p.timeoutKey,
      timeout_s: seconds(p.timeoutUs),
      idle_s: seconds(denial.tsUs - p.lastUs),
      local_sent: p.localSent,
      packets_from_local: p.packetsFromLocal,
      packets_from_remote: p.packetsFromRemote,
      opener: p.opener,
    };
  }
  if (denial.verdict === 'window') out.past_expiry_s = seconds(denial.pastExpiryUs);
  return out;
}
