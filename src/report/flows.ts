/**
 * The JSON shapes of flows and denials (analyze, simulate, ndjson streams), built from the flow table's records.
 * Stable field names, snake_case like Zeek's logs, times as ISO-8601 UTC, durations in seconds.
 */
import { formatAddress } from '../address.js';
import type { FlowRecord, FlowStore } from '../flow/flow-store.js';
import { A_IP_BYTES, A_PACKETS, A_PAYLOAD_BYTES, A_WIRE_BYTES, BYTES_PER_FLOW, B_IP_BYTES, B_PACKETS, B_PAYLOAD_BYTES, B_WIRE_BYTES, DENIED_PACKETS, EXPIRES_US, F64_PER_FLOW, FIRST_US, FLOW_ID, HISTORY_COUNT, IP_VERSION, KEY_A0, KEY_A1, KEY_A2, KEY_A3, KEY_B0, KEY_B1, KEY_B2, KEY_B3, LAST_US, LOCAL_SIDE, OPENER, PORT_A, PORT_B, SERVICE_BY_CODE, SERVICE_INDEX, TIMEOUT_KEY_INDEX, U16_PER_FLOW, U32_PER_FLOW, WINDOW_PACKETS } from '../flow/flow-layout.js';
import type { Denial, DirectionCounters, Flow, StateEvent } from '../flow/table.js';
import { CollectedBytes, JsonBytes, type JsonPiece, RECORD_ROOM_BYTES, jsonPiece, quoted } from './json-bytes.js';
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
  /** An ICMP error about the flow (type, code); then src/dst are the error's sender and receiver. */
  icmp?: { type: number; code: number };
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

const FLOW_HEAD = jsonPiece('{');
const K_ID = jsonPiece('"id":');
const K_FIRST_TS = jsonPiece(',"proto":"udp","first_ts":');
const K_LAST_TS = jsonPiece(',"last_ts":');
const K_DURATION = jsonPiece(',"duration_s":');
const K_ORIG = jsonPiece(',"orig":');
const K_RESP = jsonPiece(',"resp":');
const K_LOCAL = jsonPiece(',"local":');
const K_DENIED = jsonPiece(',"denied_packets":');
const K_WINDOW = jsonPiece(',"window_packets":');
const K_STATE = jsonPiece(',"state":[');
const K_EVENT_TS = jsonPiece('{"ts":');
const K_TIMEOUT_KEY = jsonPiece(',"timeout_key":');
const K_TIMEOUT_S = jsonPiece(',"timeout_s":');
const K_CLOSE2 = jsonPiece('}}');
const K_ADDR = jsonPiece('{"addr":');
const K_PORT = jsonPiece(',"port":');
const K_PACKETS = jsonPiece(',"packets":');
const K_BYTES = jsonPiece(',"bytes":');
const K_IP_BYTES = jsonPiece(',"ip_bytes":');
const K_WIRE_BYTES = jsonPiece(',"wire_bytes":');
const K_EP_FIRST_TS = jsonPiece(',"first_ts":');
const K_EP_LAST_TS = jsonPiece(',"last_ts":');
const NULL = jsonPiece('null');
const COMMA = jsonPiece(',');
const CLOSE = jsonPiece('}');
const ORIG = jsonPiece('"orig"');
const RESP = jsonPiece('"resp"');
/**
 * Pieces of a flow record that are constant per store (each table has its own timeout keys, scaled timeouts and
 * service names): a flow record has up to four state events and a service pair, and writing each as pieces and
 * strings in turn was a fifth of the record's calls (issue 7).
 */
class StorePieces {
  /**
   * `,"event":E,"timeout_key":K,"timeout_s":S}` by event kind × keys + key index, the kinds being the store's
   * eventKinds and then 'expired'.
   */
  readonly eventTails: JsonPiece[] = [];
  /** `,"service":S,"service_by":B` by service index × 3 + serviceBy (made as met). */
  readonly services: Array<JsonPiece | undefined> = [];

  constructor(s: FlowStore) {
    for (const event of [...s.eventKinds, 'expired']) {
      s.keyNames.forEach((key, keyIndex) => {
        const timeoutS = JSON.stringify(seconds(s.timeoutUsByKeyIndex[keyIndex] ?? 0));
        this.eventTails.push(jsonPiece(`,"event":${quoted(event)},"timeout_key":${quoted(key)},"timeout_s":${timeoutS}}`));
      });
    }
  }
}

const STORE_PIECES = new WeakMap<FlowStore, StorePieces>();

function storePieces(s: FlowStore): StorePieces {
  let pieces = STORE_PIECES.get(s);
  if (pieces === undefined) {
    pieces = new StorePieces(s);
    STORE_PIECES.set(s, pieces);
  }
  return pieces;
}

/** The flow's `,"service":…,"service_by":…`. */
function servicePiece(pieces: StorePieces, flow: FlowRecord): JsonPiece {
  const s = flow.store;
  const at = s.u16[flow.index * U16_PER_FLOW + SERVICE_INDEX]! * 3 + s.u8[flow.index * BYTES_PER_FLOW + SERVICE_BY_CODE]!;
  let piece = pieces.services[at];
  if (piece === undefined) {
    piece = jsonPiece(`,"service":${quoted(flow.service)},"service_by":${quoted(flow.serviceBy)}`);
    pieces.services[at] = piece;
  }
  return piece;
}

/** A handle over the flow table's arrays (flow-store.ts), not a snapshot or a caller's own object. */
function isStoreHandle(flow: Flow): flow is FlowRecord {
  return 'store' in flow && 'index' in flow;
}
/** One endpoint of flow slot `f`: side A's fields or side B's. */
function writeEndpoint(out: JsonBytes, s: FlowStore, f: number, sideA: boolean): void {
  out.piece(K_ADDR);
  if (s.u8[f * BYTES_PER_FLOW + IP_VERSION] === 4) out.ipv4String(sideA ? s.u32[f * U32_PER_FLOW + KEY_A0]! : s.u32[f * U32_PER_FLOW + KEY_B0]!);
  else if (sideA) out.ipv6String(s.u32[f * U32_PER_FLOW + KEY_A0]!, s.u32[f * U32_PER_FLOW + KEY_A1]!, s.u32[f * U32_PER_FLOW + KEY_A2]!, s.u32[f * U32_PER_FLOW + KEY_A3]!);
  else out.ipv6String(s.u32[f * U32_PER_FLOW + KEY_B0]!, s.u32[f * U32_PER_FLOW + KEY_B1]!, s.u32[f * U32_PER_FLOW + KEY_B2]!, s.u32[f * U32_PER_FLOW + KEY_B3]!);
  out.piece(K_PORT);
  out.uint(sideA ? s.u16[f * U16_PER_FLOW + PORT_A]! : s.u16[f * U16_PER_FLOW + PORT_B]!);
  const packets = sideA ? s.u32[f * U32_PER_FLOW + A_PACKETS]! : s.u32[f * U32_PER_FLOW + B_PACKETS]!;
  out.piece(K_PACKETS);
  out.uint(packets);
  out.piece(K_BYTES);
  out.uint(sideA ? s.f64[f * F64_PER_FLOW + A_PAYLOAD_BYTES]! : s.f64[f * F64_PER_FLOW + B_PAYLOAD_BYTES]!);
  out.piece(K_IP_BYTES);
  out.uint(sideA ? s.f64[f * F64_PER_FLOW + A_IP_BYTES]! : s.f64[f * F64_PER_FLOW + B_IP_BYTES]!);
  out.piece(K_WIRE_BYTES);
  out.uint(sideA ? s.f64[f * F64_PER_FLOW + A_WIRE_BYTES]! : s.f64[f * F64_PER_FLOW + B_WIRE_BYTES]!);
  out.piece(K_EP_FIRST_TS);
  if (packets > 0) out.isoString(s.sideFirstUs(f, sideA));
  else out.piece(NULL);
  out.piece(K_EP_LAST_TS);
  if (packets > 0) out.isoString(s.sideLastUs(f, sideA));
  else out.piece(NULL);
  out.piece(CLOSE);
}

/**
 * `JSON.stringify(buildFlowJson(flow))`, written as bytes straight from the flow table's arrays: analyze writes one
 * per ended flow, and building the object tree (or even a string) first cost more than the whole flow table
 * (issue 7). `head` replaces the opening brace (ndjson's `{"type":"flow",`). test/report/flows.test.ts keeps the
 * two identical on the fixtures and the corpus.
 */
export function writeFlowJson(out: JsonBytes, flow: Flow, head: JsonPiece = FLOW_HEAD): void {
  if (!isStoreHandle(flow)) {
    // A snapshot (snapshotFlow) or a library caller's own object: the readable path.
    const text = JSON.stringify(buildFlowJson(flow));
    out.reserve(RECORD_ROOM_BYTES);
    out.piece(head);
    out.text(text.slice(1));
    return;
  }
  const s = flow.store;
  const f = flow.index;
  const firstUs = s.f64[f * F64_PER_FLOW + FIRST_US]!;
  const lastUs = s.f64[f * F64_PER_FLOW + LAST_US]!;
  const openerIsA = s.u8[f * BYTES_PER_FLOW + OPENER] === 0;
  out.reserve(RECORD_ROOM_BYTES);
  out.piece(head);
  out.piece(K_ID);
  out.uint(s.u32[f * U32_PER_FLOW + FLOW_ID]!);
  out.piece(K_FIRST_TS);
  out.isoString(firstUs);
  out.piece(K_LAST_TS);
  out.isoString(lastUs);
  out.piece(K_DURATION);
  out.seconds(lastUs - firstUs);
  out.piece(K_ORIG);
  writeEndpoint(out, s, f, openerIsA);
  out.piece(K_RESP);
  writeEndpoint(out, s, f, !openerIsA);
  out.piece(K_LOCAL);
  // localSide: 0 none, 1 a, 2 b; opener: 0 a, 1 b.
  const localSide = s.u8[f * BYTES_PER_FLOW + LOCAL_SIDE]!;
  out.piece(localSide === 0 ? NULL : (localSide === 1) === openerIsA ? ORIG : RESP);
  const pieces = storePieces(s);
  out.piece(servicePiece(pieces, flow));
  out.piece(K_DENIED);
  out.uint(s.u32[f * U32_PER_FLOW + DENIED_PACKETS]!);
  out.piece(K_WINDOW);
  out.uint(s.u32[f * U32_PER_FLOW + WINDOW_PACKETS]!);
  out.piece(K_STATE);
  const count = s.u8[f * BYTES_PER_FLOW + HISTORY_COUNT]!;
  const keys = s.keyNames.length;
  const tails = pieces.eventTails;
  for (let k = 0; k < count; k++) {
    if (k > 0) out.piece(COMMA);
    out.piece(K_EVENT_TS);
    out.isoString(s.historyTimeUs(f, k));
    out.piece(tails[s.historyKindOf(f, k) * keys + s.historyKeyIndexOf(f, k)]!);
  }
  const endReason = flow.endReason;
  if (endReason === 'idle-timeout') {
    if (count > 0) out.piece(COMMA);
    out.piece(K_EVENT_TS);
    out.isoString(s.f64[f * F64_PER_FLOW + EXPIRES_US]!);
    out.piece(tails[s.eventKinds.length * keys + s.u8[f * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX]!]!);
  }
  out.piece(endPiece(endReason ?? 'end-of-input'));
  const endUs = flow.endUs;
  out.isoString(endUs >= 0 ? endUs : lastUs);
  out.piece(K_CLOSE2);
}

/** `],"end":{"reason":R,"ts":` per end reason (three). */
const END_PIECES = new Map<string, JsonPiece>();

function endPiece(reason: string): JsonPiece {
  let piece = END_PIECES.get(reason);
  if (piece === undefined) {
    piece = jsonPiece(`],"end":{"reason":${quoted(reason)},"ts":`);
    END_PIECES.set(reason, piece);
  }
  return piece;
}

/** `JSON.stringify(buildFlowJson(flow))` through the byte writer (tests, and callers that want one record as text). */
export function flowJsonText(flow: Flow): string {
  const sink = new CollectedBytes();
  const out = new JsonBytes(sink, 4096);
  writeFlowJson(out, flow);
  out.flush();
  return sink.take();
}

const DENIAL_HEAD = jsonPiece('{');
const K_FRAME = jsonPiece('"frame":');
const K_TS = jsonPiece(',"ts":');
const K_SRC = jsonPiece(',"src":');
const K_SPORT = jsonPiece(',"sport":');
const K_DST = jsonPiece(',"dst":');
const K_DPORT = jsonPiece(',"dport":');
const K_FLOW = jsonPiece(',"flow":');
const K_VERDICT = jsonPiece(',"verdict":');
const K_REASON = jsonPiece(',"reason":');
const K_MULTICAST = jsonPiece(',"multicast":');
const K_PREVIOUS = jsonPiece(',"previous":{"flow":');
const K_PREV_LAST_TS = jsonPiece(',"last_ts":');
const K_EXPIRED_TS = jsonPiece(',"expired_ts":');
const K_IDLE_S = jsonPiece(',"idle_s":');
const K_LOCAL_SENT = jsonPiece(',"local_sent":');
const K_FROM_LOCAL = jsonPiece(',"packets_from_local":');
const K_FROM_REMOTE = jsonPiece(',"packets_from_remote":');
const K_OPENER = jsonPiece(',"opener":');
const K_PAST_EXPIRY = jsonPiece(',"past_expiry_s":');
const K_ICMP = jsonPiece(',"icmp":{"type":');
const K_CODE = jsonPiece(',"code":');

function writeAddress(out: JsonBytes, addr: Uint8Array, version: 4 | 6): void {
  if (version === 4) out.ipv4String(word(addr, 0));
  else out.ipv6String(word(addr, 0), word(addr, 4), word(addr, 8), word(addr, 12));
}

/** The big-endian 32-bit word at `at`. */
function word(addr: Uint8Array, at: number): number {
  return ((addr[at]! << 24) | (addr[at + 1]! << 16) | (addr[at + 2]! << 8) | addr[at + 3]!) >>> 0;
}

/**
 * The packet a denial is about (PacketRefJson: frame, ts, src, sport, dst, dport) after `head`, as every denial record
 * starts; the caller reserved room.
 */
export function writePacketRef(out: JsonBytes, denial: Denial, head: JsonPiece): void {
  out.piece(head);
  out.piece(K_FRAME);
  out.uint(denial.frame);
  out.piece(K_TS);
  out.isoString(denial.tsUs);
  out.piece(K_SRC);
  writeAddress(out, denial.src, denial.ipVersion);
  out.piece(K_SPORT);
  out.uint(denial.srcPort);
  out.piece(K_DST);
  writeAddress(out, denial.dst, denial.ipVersion);
  out.piece(K_DPORT);
  out.uint(denial.dstPort);
}

/** `JSON.stringify(buildDenialJson(denial))` as bytes; `head` as for writeFlowJson. */
export function writeDenialJson(out: JsonBytes, denial: Denial, head: JsonPiece = DENIAL_HEAD): void {
  out.reserve(RECORD_ROOM_BYTES);
  writePacketRef(out, denial, head);
  out.piece(K_FLOW);
  out.uint(denial.flowId);
  out.piece(K_VERDICT);
  out.string(denial.verdict);
  out.piece(K_REASON);
  out.string(denial.reason);
  out.piece(K_MULTICAST);
  out.boolean(denial.multicast);
  const p = denial.previous;
  if (p !== undefined) {
    out.piece(K_PREVIOUS);
    out.uint(p.flowId);
    out.piece(K_PREV_LAST_TS);
    out.isoString(p.lastUs);
    out.piece(K_EXPIRED_TS);
    out.isoString(p.expiresUs);
    out.piece(K_TIMEOUT_KEY);
    out.string(p.timeoutKey);
    out.piece(K_TIMEOUT_S);
    out.seconds(p.timeoutUs);
    out.piece(K_IDLE_S);
    out.seconds(denial.tsUs - p.lastUs);
    out.piece(K_LOCAL_SENT);
    out.boolean(p.localSent);
    out.piece(K_FROM_LOCAL);
    out.uint(p.packetsFromLocal);
    out.piece(K_FROM_REMOTE);
    out.uint(p.packetsFromRemote);
    out.piece(K_OPENER);
    out.string(p.opener);
    out.piece(CLOSE);
  }
  if (denial.verdict === 'window') {
    out.piece(K_PAST_EXPIRY);
    out.seconds(denial.pastExpiryUs);
  }
  if (denial.icmpType >= 0) {
    out.piece(K_ICMP);
    out.uint(denial.icmpType);
    out.piece(K_CODE);
    out.uint(denial.icmpCode);
    out.piece(CLOSE);
  }
  out.piece(CLOSE);
}

/** The packet a denial is about, as every denial record starts (the readable reference of writePacketRef). */
export function packetRefJson(denial: Denial): PacketRefJson {
  return {
    frame: denial.frame,
    ts: formatIsoFromUs(denial.tsUs),
    src: formatAddress(denial.src, 0, denial.ipVersion),
    sport: denial.srcPort,
    dst: formatAddress(denial.dst, 0, denial.ipVersion),
    dport: denial.dstPort,
  };
}

/** The JSON record of a denial. */
export function buildDenialJson(denial: Denial): DenialJson {
  const out: DenialJson = {
    ...packetRefJson(denial),
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
  if (denial.icmpType >= 0) out.icmp = { type: denial.icmpType, code: denial.icmpCode };
  return out;
}
