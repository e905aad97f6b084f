/**
 * The firewall's UDP memory. Bidirectional flows on the canonical 5-tuple (Zeek's InitTuple + flipped, softflowd's
 * ndx), each with the state a modelled firewall would hold: created by an outbound packet, refreshed by traffic,
 * expired after the profile's idle timeout on packet time. An inbound packet that matches no live state is denied,
 * as under a default-deny inbound policy.
 *
 * Speed: the key lives in an open-addressing hash over a typed array (linear probing, backward-shift deletion);
 * a packet that updates an existing flow allocates nothing. Memory is bounded by the live flows: a timing wheel
 * (1 s slots, lazily re-armed like Zeek's InactivityTimer) finds flows whose state expired, reports them and drops
 * them as the replay goes.
 */
import type { DecodedPacket } from '../types.js';
import type { LocalSide } from './local.js';
import { ExpiredStates, type ExpiredState, type FlowKeyWords } from './expired.js';
import { FlowRecord, FlowStore } from './flow-store.js';
import { A_IP_BYTES, A_PACKETS, A_PAYLOAD_BYTES, A_WIRE_BYTES, BYTES_PER_FLOW, B_IP_BYTES, B_PACKETS, B_PAYLOAD_BYTES, B_WIRE_BYTES, DENIED_PACKETS, EXPIRES_US, F64_PER_FLOW, FAMILY_CONNTRACK, FAMILY_IDLE, FAMILY_PF, FAMILY_TWO_STATE, FIRST_FRAME, FIRST_US, FLOW_ID, HAS_STATE, IP_VERSION, KEY_A0, KEY_A1, KEY_A2, KEY_A3, KEY_B0, KEY_B1, KEY_B2, KEY_B3, KEY_HASH, LAST_FRAME, LAST_US, LATER_SIDE_FIRST_US, LOCAL_SIDE, MAX_GAP_US, OPENER, OPENER_A, OPENER_B, OTHER_SIDE_LAST_US, PACKET_SIDES, PACKET_SIDE_FIRST_A, PACKET_SIDE_LATEST_A, PEER_STATE_A, PEER_STATE_B, PF_MULTIPLE, PF_NO_TRAFFIC, PF_SINGLE, PORT_A, PORT_B, ROLES, SEEN_REPLY, SERVICE_BY_CODE, SERVICE_BY_PAYLOAD, STATE_CREATED_US, TIMEOUT_KEY_INDEX, U16_PER_FLOW, U32_PER_FLOW, US_PER_SEC, WHEEL_MASK, WHEEL_NEXT, WHEEL_PREV, WHEEL_SEC, WHEEL_SLOTS, WINDOW_PACKETS } from './flow-layout.js';
import { pfAdaptiveFactor, type TimeoutProfile } from './profiles.js';

export type { ExpiredState } from './expired.js';

/** What the model does with one packet. `window`: pf's purge lag — the state had expired but may still match. */
export type Verdict = 'pass' | 'deny' | 'window';

/** A packet's role relative to the local side. */
export type PacketRole = 'outbound' | 'inbound' | 'transit' | 'local';

/** Why a flow record ended. */
export type FlowEndReason = 'idle-timeout' | 'denied-only-idle' | 'end-of-input';

/** One change in a flow's modelled state. */
export interface StateEvent {
  atUs: number;
  event: 'created' | 'timeout-changed' | 'expired';
  /** The timeout key in force after the event (`udp.single`, `replied`, …). */
  timeoutKey: string;
  timeoutUs: number;
}

/** Counters of one direction of a flow. */
export interface DirectionCounters {
  packets: number;
  /** UDP payload bytes (Zeek orig_bytes/resp_bytes). */
  payloadBytes: number;
  /** IP bytes (Zeek *_ip_bytes). */
  ipBytes: number;
  /** Frame bytes on the wire (tshark conversation bytes). */
  wireBytes: number;
  firstUs: number;
  lastUs: number;
}

/** A flow: one state lifetime of a 5-tuple (a new record starts after its state expired, as in Zeek's conn.log). */
export interface Flow {
  /** 1-based, in order of creation. */
  id: number;
  ipVersion: 4 | 6;
  /** Canonical side A (the lower address, then port) and side B. */
  readonly addrA: Uint8Array;
  portA: number;
  readonly addrB: Uint8Array;
  portB: number;
  /** Which side is local: 'a', 'b', or undefined for transit traffic. */
  localSide: 'a' | 'b' | undefined;
  /** The side that sent the flow's first packet. */
  opener: 'a' | 'b';
  /** Frame number of the first and last packet (32 bits, as Wireshark's: the store wraps them past 2^32 - 1). */
  firstFrame: number;
  lastFrame: number;
  firstUs: number;
  lastUs: number;
  /** Sent by side A / side B. */
  fromA: DirectionCounters;
  fromB: DirectionCounters;
  /** Packets either way (fromA.packets + fromB.packets, without building the counter views). */
  readonly totalPackets: number;
  /** Longest silence between two consecutive packets of the flow, either direction (µs). */
  maxGapUs: number;
  /** Inbound packets the model denied while this flow had no live state. */
  deniedPackets: number;
  /** Packets that arrived inside pf's purge window (state expired, not yet purged). */
  windowPackets: number;
  /** Whether the firewall holds state for it now. */
  hasState: boolean;
  stateCreatedUs: number;
  /** Last packet that refreshed the state (RFC 4787 NATs refresh on outbound packets only). */
  readonly lastRefreshUs: number;
  expiresUs: number;
  timeoutKey: string;
  readonly timeoutUs: number;
  history: StateEvent[];
  /** Service guess, set by the pipeline from the payload or ports. */
  service: string;
  serviceBy: 'payload' | 'port' | '';
  readonly endUs: number;
  readonly endReason: FlowEndReason | undefined;
  // Model state: pf peer states (0 NO_TRAFFIC, 1 SINGLE, 2 MULTIPLE), conntrack reply flag and stream time.
  peerStateA: number;
  peerStateB: number;
  seenReply: boolean;
  readonly streamAtUs: number;
  // Canonical key words (IPv4 uses word 0 only).
  keyA0: number;
  keyA1: number;
  keyA2: number;
  keyA3: number;
  keyB0: number;
  keyB1: number;
  keyB2: number;
  keyB3: number;
  hash: number;
  /** Wheel bookkeeping: the second of the wheel slot holding the flow (-1 none). */
  readonly wheelSec: number;
}

/** An inbound packet the model denies, with what the table knew about its 5-tuple. */
export interface Denial {
  frame: number;
  tsUs: number;
  ipVersion: 4 | 6;
  src: Uint8Array;
  srcPort: number;
  dst: Uint8Array;
  dstPort: number;
  flowId: number;
  verdict: 'deny' | 'window';
  /**
   * `state-expired`: the 5-tuple had state that expired; `never-seen`: no state in memory; `purge-window`: in pf's
   * purge lag; `state-alive`: a denial log dropped a packet the model still holds state for.
   */
  reason: 'state-expired' | 'never-seen' | 'purge-window' | 'state-alive';
  /** The live flow record's last packet before this one (µs), whatever its verdict; -1 when none. */
  lastUs: number;
  previous: ExpiredState | undefined;
  /** For purge-window: how far past the modelled expiry it arrived. */
  pastExpiryUs: number;
  multicast: boolean;
  wireBytes: number;
  payloadBytes: number;
  /**
   * For an ICMP/ICMPv6 error about a UDP flow: its type and code (-1 for a UDP packet). Then src/dst are the
   * error's sender and receiver, and the ports are the quoted flow's, seen from the receiver (sport the remote's).
   */
  icmpType: number;
  icmpCode: number;
}

/**
 * A plain copy of a flow that stays valid after the callback that handed the flow out (the table reuses a flow's
 * storage once it is reported).
 */
export function snapshotFlow(flow: Flow): Flow {
  const counters = (c: DirectionCounters): DirectionCounters => ({ packets: c.packets, payloadBytes: c.payloadBytes, ipBytes: c.ipBytes, wireBytes: c.wireBytes, firstUs: c.firstUs, lastUs: c.lastUs });
  return {
    id: flow.id, ipVersion: flow.ipVersion, addrA: flow.addrA, portA: flow.portA, addrB: flow.addrB, portB: flow.portB,
    localSide: flow.localSide, opener: flow.opener, firstFrame: flow.firstFrame, lastFrame: flow.lastFrame,
    firstUs: flow.firstUs, lastUs: flow.lastUs, fromA: counters(flow.fromA), fromB: counters(flow.fromB), totalPackets: flow.totalPackets,
    maxGapUs: flow.maxGapUs, deniedPackets: flow.deniedPackets, windowPackets: flow.windowPackets, hasState: flow.hasState,
    stateCreatedUs: flow.stateCreatedUs, lastRefreshUs: flow.lastRefreshUs, expiresUs: flow.expiresUs,
    timeoutKey: flow.timeoutKey, timeoutUs: flow.timeoutUs, history: flow.history, service: flow.service,
    serviceBy: flow.serviceBy, endUs: flow.endUs, endReason: flow.endReason, peerStateA: flow.peerStateA,
    peerStateB: flow.peerStateB, seenReply: flow.seenReply, streamAtUs: flow.streamAtUs,
    keyA0: flow.keyA0, keyA1: flow.keyA1, keyA2: flow.keyA2, keyA3: flow.keyA3,
    keyB0: flow.keyB0, keyB1: flow.keyB1, keyB2: flow.keyB2, keyB3: flow.keyB3,
    hash: flow.hash, wheelSec: flow.wheelSec,
  };
}

/**
 * Observers of the replay (Zeek events): each is called as the replay goes. A `Flow` handed to a callback (or found
 * in `table.last`) is a view the table points at one flow after another, valid during the call only: keep
 * `snapshotFlow(flow)` or the fields you need.
 */
export interface FlowTableEvents {
  onFlowEnd?: (flow: Flow) => void;
  onDenial?: (denial: Denial) => void;
  onStateEvent?: (flow: Flow, event: StateEvent) => void;
}

/** Options of a table. */
export interface FlowTableOptions {
  profile: TimeoutProfile;
  local: LocalSide;
  events?: FlowTableEvents;
  /** How long a flow made only of denied packets is kept after its last packet (µs). Default 60 s. */
  deniedHoldUs?: number;
  /**
   * `packets`: keep per-direction packet counts and the last packet's time only (what the state machines, denials
   * and expired-state memory use), for tables whose flows nobody reports — simulate's profile tables, ten per packet.
   * Byte counters, per-direction times, the longest gap and the last frame then stay at their initial values.
   */
  trafficCounters?: 'full' | 'packets';
}

/** Roles as the two-bit codes of flow-store.ts `roles`. */
const ROLE_BY_CODE: readonly PacketRole[] = ['outbound', 'inbound', 'transit', 'local'];

function roleCode(role: PacketRole): number {
  return role === 'outbound' ? 0 : role === 'inbound' ? 1 : role === 'transit' ? 2 : 3;
}

const MAX_RECENT_EXPIRED = 65_536;

/** Outcome of the last `observe` call, reused (no allocation per packet). */
export interface Observation {
  verdict: Verdict;
  role: PacketRole;
  flow: Flow | undefined;
  /** The packet was sent by the flow's side A. */
  fromA: boolean;
  /** The flow was created by this packet. */
  created: boolean;
}

/** The flow table for one profile. */
export class FlowTable {
  readonly profile: TimeoutProfile;
  readonly local: LocalSide;
  readonly last: Observation = { verdict: 'pass', role: 'transit', flow: undefined, fromA: true, created: false };
  /** Counters for the report. */
  readonly counts = { flowsCreated: 0, flowsEnded: 0, denied: 0, window: 0, liveFlowsPeak: 0, expiredByReason: {} as Record<string, number> };

  private readonly events: FlowTableEvents;
  private readonly deniedHoldUs: number;
  private readonly packetsOnly: boolean;
  /** Whether this table's flows are reported (trafficCounters 'full'): only then is a service guess worth making. */
  readonly reportsFlows: boolean;
  private readonly lagUs: number;
  private readonly scale: number;
  // Hash index: hash slot → flow slot + 1 (0: empty), and the flow's key hash; capacity a power of two, load ≤ 1/2.
  // Numbers, not handles: half a million live flows cost no object each (issue 7, ≤ 150 MiB with 500k flows).
  private slots: Int32Array;
  private slotHashes: Int32Array;
  private mask: number;
  private live = 0;
  private nextId = 1;
  // Timing wheel: per slot the first and last flow of a list linked through the store (FIFO, so flows that come
  // due in the same second end in the order they were filed).
  private readonly wheelHead = new Int32Array(WHEEL_SLOTS).fill(-1);
  private readonly wheelTail = new Int32Array(WHEEL_SLOTS).fill(-1);
  private wheelSec = -1;
  /** Every flow's fields, in typed arrays (flow-store.ts). */
  private readonly store: FlowStore;
  /** The view `last.flow` and the state machines use, and the one handed to onFlowEnd. */
  private readonly cursor: FlowRecord;
  private readonly reported: FlowRecord;
  /** Recently expired states by key hash; the ended flow is kept to compare the full key. */
  private readonly recentExpired: ExpiredStates;
  // Scratch key of the current packet.
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private d0 = 0;
  private d1 = 0;
  private d2 = 0;
  private d3 = 0;

  constructor(options: FlowTableOptions) {
    this.profile = options.profile;
    this.local = options.local;
    this.events = options.events ?? {};
    this.deniedHoldUs = options.deniedHoldUs ?? 60 * US_PER_SEC;
    this.packetsOnly = options.trafficCounters === 'packets';
    this.reportsFlows = !this.packetsOnly;
    this.scale = options.profile.family === 'pf' ? pfAdaptiveFactor(options.profile) : 1;
    this.lagUs = options.profile.family === 'pf' ? (options.profile.timeoutsUs['interval'] ?? 0) : 0;
    const keyNames = options.profile.keys.map((k) => k.name);
    const keyIndex = (name: string): number => Math.max(0, keyNames.indexOf(name));
    const family = options.profile.family;
    this.family = family === 'pf' ? FAMILY_PF : family === 'conntrack' ? FAMILY_CONNTRACK : family === 'two-state' ? FAMILY_TWO_STATE : FAMILY_IDLE;
    this.initialKey = family === 'pf' ? keyIndex('udp.first') : family === 'conntrack' ? keyIndex('unreplied') : 0;
    this.pfSingle = keyIndex('udp.single');
    this.pfMultiple = keyIndex('udp.multiple');
    this.unreplied = keyIndex('unreplied');
    this.replied = keyIndex('replied');
    this.store = new FlowStore(
      keyNames,
      keyNames.map((name) => Math.round((options.profile.timeoutsUs[name] ?? 0) * this.scale)),
      1024,
      options.profile.streamDelayUs,
    );
    this.recentExpired = new ExpiredStates(MAX_RECENT_EXPIRED, this.store.keyNames);
    const capacity = 1024;
    this.slots = new Int32Array(capacity);
    this.slotHashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.cursor = new FlowRecord(this.store, 0);
    this.reported = new FlowRecord(this.store, 0);
  }

  /** Flows alive now. */
  get liveFlows(): number {
    return this.live;
  }

  /**
   * Apply one UDP packet at packet time `tsUs` (call `advance(tsUs)` first to expire what is due). Returns the
   * verdict; details in `this.last`. Packets without UDP ports must not be passed in. `keyHash`, when given, must be
   * packetFlowHash(pkt) (made by the thread that decoded the packet).
   */
  observe(pkt: DecodedPacket, tsUs: number, loggedDenied = false, keyFrom?: FlowTable, keyHash?: number): Verdict {
    const obs = this.last;
    obs.created = false;
    let srcIsA: boolean;
    let role: PacketRole | undefined;
    let hash: number;
    if (keyFrom !== undefined && keyFrom.local === this.local) {
      // Another table of the same replay just keyed this packet against the same local side: reuse its work
      // (simulate runs ten tables or more per packet).
      this.copyKey(keyFrom);
      srcIsA = keyFrom.last.fromA;
      role = keyFrom.last.role;
      hash = keyFrom.lastHash;
    } else {
      this.loadKey(pkt);
      srcIsA = this.srcSortsFirst(pkt.srcPort, pkt.dstPort);
      // The thread that decoded the packet may have hashed its key already (packetFlowHash, pipeline/packet-ring.ts).
      hash = keyHash !== undefined ? keyHash : this.hashOfKey(srcIsA, pkt.srcPort, pkt.dstPort);
    }
    this.lastHash = hash;
    obs.fromA = srcIsA;
    // The flow as its slot in the store: the state machines below read and write the arrays directly (every packet of
    // every table comes here; accessors that turn bytes into strings and back showed in simulate's profile).
    const s = this.store;
    const f = this.find(hash, pkt.ipVersion === 6 ? 6 : 4, pkt.srcPort, pkt.dstPort, srcIsA);
    // A known flow's role by its addresses was worked out when it was created; the capture's own direction still wins.
    if (role === undefined) role = f >= 0 && pkt.direction === 'unknown' ? ROLE_BY_CODE[(s.u8[f * BYTES_PER_FLOW + ROLES]! >> (srcIsA ? 0 : 2)) & 3]! : this.roleOf(pkt);
    obs.role = role;
    if (f >= 0 && !loggedDenied && s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1 && tsUs < s.f64[f * F64_PER_FLOW + EXPIRES_US]!) {
      // Most packets: a live state, refreshed. Every other case is observeOther's, out of line: a case first met after
      // the optimizing compiler ran (the first expiry, denial or purge-window packet) then deoptimizes only that
      // function, not this one — each recompile of the whole observe cost ~30–40 ms on a 1M-packet run (issue 7).
      this.prevLastUs = s.f64[f * F64_PER_FLOW + LAST_US]!;
      this.account(f, pkt, srcIsA, tsUs);
      this.updateState(f, srcIsA, role, tsUs);
      obs.verdict = 'pass';
      obs.flow = this.at(f);
      return 'pass';
    }
    return this.observeOther(pkt, tsUs, loggedDenied, f, hash, srcIsA, role);
  }

  /** observe() for a packet without a live, unexpired state to refresh: `f` its flow's slot or -1. */
  private observeOther(pkt: DecodedPacket, tsUs: number, loggedDenied: boolean, f: number, hash: number, srcIsA: boolean, role: PacketRole): Verdict {
    const obs = this.last;
    const s = this.store;
    if (f >= 0) {
      if (s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1) {
        if (tsUs >= s.f64[f * F64_PER_FLOW + EXPIRES_US]! + this.lagUs) {
          this.endFlow(f, 'idle-timeout');
          f = -1;
        }
      } else if (tsUs >= s.f64[f * F64_PER_FLOW + LAST_US]! + this.deniedHoldUs) {
        this.endFlow(f, 'denied-only-idle');
        f = -1;
      }
    }
    this.prevLastUs = f < 0 ? -1 : s.f64[f * F64_PER_FLOW + LAST_US]!;
    let verdict: Verdict = 'pass';
    if (loggedDenied && f >= 0 && s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1) {
      // A denial log says the firewall dropped a packet the model still holds state for: the firewall's memory was
      // lost some other way (a flush, a reload, a restart). The dropped packet refreshes nothing. (Expired states
      // ended just above.)
      verdict = 'deny';
      this.account(f, pkt, srcIsA, tsUs);
      s.u32[f * U32_PER_FLOW + DENIED_PACKETS] = s.u32[f * U32_PER_FLOW + DENIED_PACKETS]! + 1;
      this.counts.denied++;
      this.emitDenial(pkt, f, tsUs, 'deny', 0, true);
    } else if ((role === 'inbound' || loggedDenied) && (f < 0 || s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 0)) {
      verdict = 'deny';
      if (f < 0) f = this.createFlow(pkt, hash, srcIsA, tsUs, false);
      this.account(f, pkt, srcIsA, tsUs);
      s.u32[f * U32_PER_FLOW + DENIED_PACKETS] = s.u32[f * U32_PER_FLOW + DENIED_PACKETS]! + 1;
      this.counts.denied++;
      this.emitDenial(pkt, f, tsUs, 'deny', 0);
    } else {
      let stateIsNew = true;
      if (f < 0) {
        f = this.createFlow(pkt, hash, srcIsA, tsUs, true);
      } else if (s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 0) {
        // A flow seen only as denied packets gains state when the local side sends (or transit traffic passes).
        s.u8[f * BYTES_PER_FLOW + OPENER] = srcIsA ? OPENER_A : OPENER_B;
        this.startState(f, tsUs);
      } else if (tsUs >= s.f64[f * F64_PER_FLOW + EXPIRES_US]!) {
        stateIsNew = false;
        verdict = 'window';
        s.u32[f * U32_PER_FLOW + WINDOW_PACKETS] = s.u32[f * U32_PER_FLOW + WINDOW_PACKETS]! + 1;
        this.counts.window++;
        if (role === 'inbound') this.emitDenial(pkt, f, tsUs, 'window', tsUs - s.f64[f * F64_PER_FLOW + EXPIRES_US]!);
      } else {
        stateIsNew = false;
      }
      this.account(f, pkt, srcIsA, tsUs);
      // The packet that creates a state only creates it (udp.first / unreplied); later ones update it.
      if (!stateIsNew) this.updateState(f, srcIsA, role, tsUs);
    }
    obs.verdict = verdict;
    obs.flow = this.at(f);
    return verdict;
  }

  /**
   * Whether the flow of the last observe() may still get a better service guess: none from its payload yet, and
   * within its first `maxPackets` packets (asked for every packet: read from the store, not through the handle).
   */
  lastFlowServiceOpen(maxPackets: number): boolean {
    if (this.last.flow === undefined) return false;
    const s = this.store;
    const f = this.cursor.index; // last.flow is the cursor
    return s.u8[f * BYTES_PER_FLOW + SERVICE_BY_CODE] !== SERVICE_BY_PAYLOAD && s.u32[f * U32_PER_FLOW + A_PACKETS]! + s.u32[f * U32_PER_FLOW + B_PACKETS]! <= maxPackets;
  }

  /**
   * Apply an ICMP or ICMPv6 error that quotes a UDP datagram (pkt.hasQuotedUdp). Firewalls pass such an error as
   * related to the quoted flow's state (pf.c pf_test_state_icmp; conntrack's RELATED via nf_conntrack_icmp) and it
   * refreshes nothing; with no live state an inbound error is new traffic, denied under default-deny
   * (behaviour.md §7a "ICMP error for an expired flow"). It never creates a flow. Details in `this.last`.
   */
  observeIcmpError(pkt: DecodedPacket, tsUs: number, loggedDenied = false): Verdict {
    const obs = this.last;
    obs.created = false;
    obs.flow = undefined;
    this.loadKey(pkt);
    const role = this.roleOf(pkt);
    obs.role = role;
    // The flow it is about: the quoted datagram's 5-tuple.
    const version = pkt.quotedIpVersion === 6 ? 6 : 4;
    this.loadWords(pkt.data, pkt.quotedSrcAddrOffset, pkt.quotedDstAddrOffset, version);
    const sport = pkt.quotedSrcPort;
    const dport = pkt.quotedDstPort;
    const srcIsA = this.srcSortsFirst(sport, dport);
    obs.fromA = srcIsA;
    const hash = this.hashOfKey(srcIsA, sport, dport);
    let f = this.find(hash, version, sport, dport, srcIsA);
    if (f >= 0 && this.store.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1 && tsUs >= this.store.f64[f * F64_PER_FLOW + EXPIRES_US]! + this.lagUs) {
      this.endFlow(f, 'idle-timeout');
      f = -1;
    }
    const flow = this.at(f);
    obs.flow = flow;
    const alive = flow !== undefined && flow.hasState;
    if (!loggedDenied && (alive || role !== 'inbound')) {
      obs.verdict = 'pass';
      return 'pass';
    }
    obs.verdict = 'deny';
    this.counts.denied++;
    if (flow !== undefined) flow.deniedPackets++;
    if (this.events.onDenial !== undefined) {
      const previous = alive ? undefined : this.recentExpired.lookup(this.icmpKey(version, srcIsA, sport, dport, hash));
      const addrBytes = pkt.ipVersion === 6 ? 16 : 4;
      this.events.onDenial({
        frame: pkt.record.frame,
        tsUs,
        ipVersion: pkt.ipVersion === 6 ? 6 : 4,
        src: pkt.data.slice(pkt.srcAddrOffset, pkt.srcAddrOffset + addrBytes),
        srcPort: dport,
        dst: pkt.data.slice(pkt.dstAddrOffset, pkt.dstAddrOffset + addrBytes),
        dstPort: sport,
        flowId: flow?.id ?? previous?.flowId ?? 0,
        verdict: 'deny',
        reason: alive ? 'state-alive' : previous !== undefined ? 'state-expired' : 'never-seen',
        lastUs: flow?.lastUs ?? -1,
        previous,
        pastExpiryUs: 0,
        multicast: false,
        wireBytes: pkt.record.origLenBytes,
        payloadBytes: 0,
        icmpType: pkt.icmpType,
        icmpCode: pkt.icmpCode,
      });
    }
    return 'deny';
  }

  private icmpKey(version: 4 | 6, srcIsA: boolean, sport: number, dport: number, hash: number): FlowKeyWords {
    return {
      ipVersion: version,
      portA: srcIsA ? sport : dport,
      portB: srcIsA ? dport : sport,
      keyA0: srcIsA ? this.s0 : this.d0,
      keyA1: srcIsA ? this.s1 : this.d1,
      keyA2: srcIsA ? this.s2 : this.d2,
      keyA3: srcIsA ? this.s3 : this.d3,
      keyB0: srcIsA ? this.d0 : this.s0,
      keyB1: srcIsA ? this.d1 : this.s1,
      keyB2: srcIsA ? this.d2 : this.s2,
      keyB3: srcIsA ? this.d3 : this.s3,
      hash,
    };
  }

  /** Expire every flow due before packet time `nowUs` (timing wheel; slots of whole seconds before now). */
  advance(nowUs: number): void {
    if (nowUs > this.nowUs) this.nowUs = nowUs;
    const nowSec = Math.floor(nowUs / US_PER_SEC);
    if (this.wheelSec < 0) {
      this.wheelSec = nowSec;
      return;
    }
    if (nowSec <= this.wheelSec) return;
    // A jump longer than the wheel (a capture that resumes after an hour's silence) visits every slot once, each as
    // its latest second up to now, so every flow filed at or before now is checked.
    const fromSec = Math.max(this.wheelSec, nowSec - WHEEL_SLOTS);
    for (let sec = fromSec + 1; sec <= nowSec; sec++) this.processSlot(sec, nowUs, nowSec);
    this.wheelSec = nowSec;
  }

  /** End of input: report every flow still alive (ordered by first packet), then forget them. */
  finish(): void {
    while (this.finishSome(Number.POSITIVE_INFINITY));
  }

  /**
   * `finish` in steps of at most `maxFlows` ended flows; true while flows are left. The replay waits on output
   * backpressure between steps: at the end of a capture with 500k flows alive, one synchronous finish wrote
   * ~200 MB of JSON into a pipe's queue.
   */
  finishSome(maxFlows: number): boolean {
    const s = this.store;
    if (this.finishing === undefined) {
      const alive: number[] = [];
      for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== 0) alive.push(this.slots[i]! - 1);
      alive.sort((x, y) => s.f64[x * F64_PER_FLOW + FIRST_US]! - s.f64[y * F64_PER_FLOW + FIRST_US]! || s.u32[x * U32_PER_FLOW + FLOW_ID]! - s.u32[y * U32_PER_FLOW + FLOW_ID]!);
      this.finishing = alive;
      this.finishedUpTo = 0;
    }
    const alive = this.finishing;
    const stop = Math.min(alive.length, this.finishedUpTo + maxFlows);
    // The wheel runs whole seconds behind packet time: what came due within the last second expired all the same.
    for (let k = this.finishedUpTo; k < stop; k++) {
      const f = alive[k]!;
      if (this.dueUs(f) <= this.nowUs) this.endFlow(f, this.store.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1 ? 'idle-timeout' : 'denied-only-idle');
      else this.endFlow(f, 'end-of-input');
    }
    this.finishedUpTo = stop;
    if (stop < alive.length) return true;
    this.finishing = undefined;
    return false;
  }

  /** Flow slots still to be ended by finishSome, in report order, and how many were. */
  private finishing: number[] | undefined;
  private finishedUpTo = 0;

  // --- state machines -------------------------------------------------------------------------------------

  private startState(f: number, tsUs: number): void {
    const s = this.store;
    s.u8[f * BYTES_PER_FLOW + HAS_STATE] = 1;
    s.f64[f * F64_PER_FLOW + STATE_CREATED_US] = tsUs;
    s.u8[f * BYTES_PER_FLOW + SEEN_REPLY] = 0;
    // pf: the opener becomes SINGLE, the peer NO_TRAFFIC, on udp.first (pf.c pf_test_rule → pf_create_state).
    const openerIsA = s.u8[f * BYTES_PER_FLOW + OPENER] === OPENER_A;
    s.u8[f * BYTES_PER_FLOW + PEER_STATE_A] = openerIsA ? PF_SINGLE : PF_NO_TRAFFIC;
    s.u8[f * BYTES_PER_FLOW + PEER_STATE_B] = openerIsA ? PF_NO_TRAFFIC : PF_SINGLE;
    this.setTimeout(f, this.initialKey, tsUs, 'created');
  }

  // The state machines name timeouts by their index in the profile's keys (the store's timeoutKeyIndex): every packet
  // of every table picks one, and comparing and looking up key strings per packet showed in simulate's profile.
  /** The key a new state starts on: pf udp.first, conntrack unreplied, else the profile's first key. */
  private readonly initialKey: number;
  private readonly pfSingle: number;
  private readonly pfMultiple: number;
  private readonly unreplied: number;
  private readonly replied: number;
  /** The profile's model family as a small number (FAMILY_*), for the per-packet switch. */
  private readonly family: number;

  private updateState(f: number, fromA: boolean, role: PacketRole, tsUs: number): void {
    const profile = this.profile;
    const s = this.store;
    let key: number;
    switch (this.family) {
      case FAMILY_PF: {
        // pf.c, UDP state update: the sender rises to at least SINGLE; a SINGLE receiver becomes MULTIPLE;
        // udp.multiple only when both are MULTIPLE, else udp.single.
        let sender = fromA ? s.u8[f * BYTES_PER_FLOW + PEER_STATE_A]! : s.u8[f * BYTES_PER_FLOW + PEER_STATE_B]!;
        let receiver = fromA ? s.u8[f * BYTES_PER_FLOW + PEER_STATE_B]! : s.u8[f * BYTES_PER_FLOW + PEER_STATE_A]!;
        if (sender < PF_SINGLE) sender = PF_SINGLE;
        if (receiver === PF_SINGLE) receiver = PF_MULTIPLE;
        if (fromA) {
          s.u8[f * BYTES_PER_FLOW + PEER_STATE_A] = sender;
          s.u8[f * BYTES_PER_FLOW + PEER_STATE_B] = receiver;
        } else {
          s.u8[f * BYTES_PER_FLOW + PEER_STATE_B] = sender;
          s.u8[f * BYTES_PER_FLOW + PEER_STATE_A] = receiver;
        }
        key = sender === PF_MULTIPLE && receiver === PF_MULTIPLE ? this.pfMultiple : this.pfSingle;
        break;
      }
      case FAMILY_CONNTRACK: {
        // nf_conntrack_udp_packet: replied (stream) timeout only once a reply was seen and the flow is older than
        // stream_ts (creation + 2 s); IPS_SEEN_REPLY is set after the reply itself is processed.
        key = s.u8[f * BYTES_PER_FLOW + SEEN_REPLY] === 1 && tsUs > s.f64[f * F64_PER_FLOW + STATE_CREATED_US]! + profile.streamDelayUs ? this.replied : this.unreplied;
        if ((s.u8[f * BYTES_PER_FLOW + OPENER] === OPENER_A) !== fromA) s.u8[f * BYTES_PER_FLOW + SEEN_REPLY] = 1;
        break;
      }
      case FAMILY_TWO_STATE: {
        const aPackets = s.u32[f * U32_PER_FLOW + A_PACKETS]!;
        const bPackets = s.u32[f * U32_PER_FLOW + B_PACKETS]!;
        // profile.keys: [initial, established].
        key = aPackets > 0 && bPackets > 0 && aPackets + bPackets >= profile.establishAfterPackets ? 1 : 0;
        break;
      }
      default:
        key = 0;
        break;
    }
    // RFC 4787 REQ-6: a NAT must refresh on outbound traffic; inbound refresh is optional and modelled off.
    if (!profile.inboundRefresh && role === 'inbound') return;
    this.setTimeout(f, key, tsUs, 'timeout-changed');
  }

  /** Set flow slot `f`'s timeout to key index `key` from `tsUs`; a change of key is a state event. */
  private setTimeout(f: number, key: number, tsUs: number, event: 'created' | 'timeout-changed'): void {
    const store = this.store;
    const timeoutUs = store.timeoutUsByKeyIndex[key]!;
    store.f64[f * F64_PER_FLOW + EXPIRES_US] = tsUs + timeoutUs;
    // A shorter timeout (pf udp.first 60 s → udp.single 30 s) or an earlier packet time moves the expiry before the
    // slot the flow waits in: file it again, or its expiry would be reported up to the old timeout late.
    const wheelSec = store.i32[f * U32_PER_FLOW + WHEEL_SEC]!;
    if (wheelSec >= 0 && Math.floor(this.dueUs(f) / US_PER_SEC) < wheelSec) this.fileInWheel(f);
    // The timeout is derived from the key (flow-store.ts timeoutUsOf): a new key is a new timeout.
    if (event === 'created' || key !== store.u8[f * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX]) {
      store.u8[f * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX] = key;
      store.addEvent(f, tsUs, event, key);
      if (this.events.onStateEvent !== undefined) {
        this.events.onStateEvent(this.at(f)!, { atUs: tsUs, event, timeoutKey: store.keyNames[key]!, timeoutUs });
      }
    }
  }

  // --- flows ------------------------------------------------------------------------------------------------

  /** A new flow for the packet in a fresh store slot, filed in the index and the wheel; returns the slot. */
  private createFlow(pkt: DecodedPacket, hash: number, srcIsA: boolean, tsUs: number, withState: boolean): number {
    const s = this.store;
    const role = this.last.role;
    const f = s.allocate();
    // Everything not set here starts as the store's allocate() cleared it (no state, no counts, no service).
    s.u32[f * U32_PER_FLOW + FLOW_ID] = this.nextId++;
    s.u8[f * BYTES_PER_FLOW + IP_VERSION] = pkt.ipVersion === 6 ? 6 : 4;
    s.u16[f * U16_PER_FLOW + PORT_A] = srcIsA ? pkt.srcPort : pkt.dstPort;
    s.u16[f * U16_PER_FLOW + PORT_B] = srcIsA ? pkt.dstPort : pkt.srcPort;
    // localSide: 0 unknown, 1 side A, 2 side B (flow-store.ts LOCAL_SIDES).
    if (role === 'outbound' || role === 'local') s.u8[f * BYTES_PER_FLOW + LOCAL_SIDE] = srcIsA ? 1 : 2;
    else if (role === 'inbound') s.u8[f * BYTES_PER_FLOW + LOCAL_SIDE] = srcIsA ? 2 : 1;
    s.u8[f * BYTES_PER_FLOW + OPENER] = srcIsA ? OPENER_A : OPENER_B;
    // The creating packet is accounted next (every caller): its side sent the first and, so far, the latest packet.
    s.u8[f * BYTES_PER_FLOW + PACKET_SIDES] = srcIsA ? PACKET_SIDE_FIRST_A | PACKET_SIDE_LATEST_A : 0;
    s.u32[f * U32_PER_FLOW + FIRST_FRAME] = s.u32[f * U32_PER_FLOW + LAST_FRAME] = pkt.record.frame;
    s.f64[f * F64_PER_FLOW + FIRST_US] = s.f64[f * F64_PER_FLOW + LAST_US] = tsUs;
    s.u32[f * U32_PER_FLOW + KEY_A0] = srcIsA ? this.s0 : this.d0;
    s.u32[f * U32_PER_FLOW + KEY_A1] = srcIsA ? this.s1 : this.d1;
    s.u32[f * U32_PER_FLOW + KEY_A2] = srcIsA ? this.s2 : this.d2;
    s.u32[f * U32_PER_FLOW + KEY_A3] = srcIsA ? this.s3 : this.d3;
    s.u32[f * U32_PER_FLOW + KEY_B0] = srcIsA ? this.d0 : this.s0;
    s.u32[f * U32_PER_FLOW + KEY_B1] = srcIsA ? this.d1 : this.s1;
    s.u32[f * U32_PER_FLOW + KEY_B2] = srcIsA ? this.d2 : this.s2;
    s.u32[f * U32_PER_FLOW + KEY_B3] = srcIsA ? this.d3 : this.s3;
    s.i32[f * U32_PER_FLOW + KEY_HASH] = hash;
    const fromSource = roleCode(this.addressRole(true));
    const fromDestination = roleCode(this.addressRole(false));
    s.u8[f * BYTES_PER_FLOW + ROLES] = srcIsA ? fromSource | (fromDestination << 2) : fromDestination | (fromSource << 2);
    this.insert(f, hash);
    this.counts.flowsCreated++;
    this.last.created = true;
    if (withState) this.startState(f, tsUs);
    this.fileInWheel(f);
    return f;
  }

  private account(i: number, pkt: DecodedPacket, fromA: boolean, tsUs: number): void {
    const s = this.store;
    if (this.packetsOnly) {
      if (fromA) s.u32[i * U32_PER_FLOW + A_PACKETS] = s.u32[i * U32_PER_FLOW + A_PACKETS]! + 1;
      else s.u32[i * U32_PER_FLOW + B_PACKETS] = s.u32[i * U32_PER_FLOW + B_PACKETS]! + 1;
      s.f64[i * F64_PER_FLOW + LAST_US] = tsUs;
      return;
    }
    const payloadBytes = pkt.udpLenBytes >= 8 ? pkt.udpLenBytes - 8 : 0;
    const sides = s.u8[i * BYTES_PER_FLOW + PACKET_SIDES]!;
    if (fromA) {
      if (s.u32[i * U32_PER_FLOW + A_PACKETS] === 0 && (sides & PACKET_SIDE_FIRST_A) === 0) s.f64[i * F64_PER_FLOW + LATER_SIDE_FIRST_US] = tsUs;
      s.u32[i * U32_PER_FLOW + A_PACKETS] = s.u32[i * U32_PER_FLOW + A_PACKETS]! + 1;
      s.f64[i * F64_PER_FLOW + A_PAYLOAD_BYTES] = s.f64[i * F64_PER_FLOW + A_PAYLOAD_BYTES]! + payloadBytes;
      s.f64[i * F64_PER_FLOW + A_IP_BYTES] = s.f64[i * F64_PER_FLOW + A_IP_BYTES]! + pkt.ipLenBytes;
      s.f64[i * F64_PER_FLOW + A_WIRE_BYTES] = s.f64[i * F64_PER_FLOW + A_WIRE_BYTES]! + pkt.record.origLenBytes;
    } else {
      if (s.u32[i * U32_PER_FLOW + B_PACKETS] === 0 && (sides & PACKET_SIDE_FIRST_A) !== 0) s.f64[i * F64_PER_FLOW + LATER_SIDE_FIRST_US] = tsUs;
      s.u32[i * U32_PER_FLOW + B_PACKETS] = s.u32[i * U32_PER_FLOW + B_PACKETS]! + 1;
      s.f64[i * F64_PER_FLOW + B_PAYLOAD_BYTES] = s.f64[i * F64_PER_FLOW + B_PAYLOAD_BYTES]! + payloadBytes;
      s.f64[i * F64_PER_FLOW + B_IP_BYTES] = s.f64[i * F64_PER_FLOW + B_IP_BYTES]! + pkt.ipLenBytes;
      s.f64[i * F64_PER_FLOW + B_WIRE_BYTES] = s.f64[i * F64_PER_FLOW + B_WIRE_BYTES]! + pkt.record.origLenBytes;
    }
    // The side switches: the packet before this one was the other side's last so far (flow-store.ts packetSides).
    if (((sides & PACKET_SIDE_LATEST_A) !== 0) !== fromA) {
      s.f64[i * F64_PER_FLOW + OTHER_SIDE_LAST_US] = s.f64[i * F64_PER_FLOW + LAST_US]!;
      s.u8[i * BYTES_PER_FLOW + PACKET_SIDES] = sides ^ PACKET_SIDE_LATEST_A;
    }
    const gapUs = tsUs - s.f64[i * F64_PER_FLOW + LAST_US]!;
    if (gapUs > s.f64[i * F64_PER_FLOW + MAX_GAP_US]!) s.f64[i * F64_PER_FLOW + MAX_GAP_US] = gapUs;
    s.f64[i * F64_PER_FLOW + LAST_US] = tsUs;
    s.u32[i * U32_PER_FLOW + LAST_FRAME] = pkt.record.frame;
  }

  /** End flow slot `f`: report it (onFlowEnd), remember an expired state, free the slot. */
  private endFlow(f: number, reason: FlowEndReason): void {
    // Observers get their own view: the cursor may be `last.flow`, which a callback must not see move.
    const flow = this.reported;
    const store = this.store;
    flow.index = f;
    this.remove(f, store.i32[f * U32_PER_FLOW + KEY_HASH]!);
    this.unlinkFromWheel(f);
    // The end and its reason belong to the flow being reported only (flow-store.ts endingIndex).
    store.endingIndex = f;
    store.endingReason = reason;
    if (reason === 'idle-timeout') {
      store.endingUs = store.f64[f * F64_PER_FLOW + EXPIRES_US]!;
      store.u8[f * BYTES_PER_FLOW + HAS_STATE] = 0;
      this.events.onStateEvent?.(flow, { atUs: store.f64[f * F64_PER_FLOW + EXPIRES_US]!, event: 'expired', timeoutKey: flow.timeoutKey, timeoutUs: flow.timeoutUs });
      this.recentExpired.rememberFlow(store, f);
    } else if (reason === 'denied-only-idle') {
      store.endingUs = store.f64[f * F64_PER_FLOW + LAST_US]! + this.deniedHoldUs;
    } else {
      store.endingUs = store.f64[f * F64_PER_FLOW + LAST_US]!;
    }
    this.counts.flowsEnded++;
    this.counts.expiredByReason[reason] = (this.counts.expiredByReason[reason] ?? 0) + 1;
    this.events.onFlowEnd?.(flow);
    store.endingIndex = -1;
    store.endingReason = undefined;
    // Reported: its slot in the store serves the next flow (the handle is not to be kept past this call).
    store.release(f);
  }

  /** The key of flow slot `f` in the reused scratch object (read from the arrays, not through the handle). */
  private keyOf(f: number, hash: number): FlowKeyWords {
    const s = this.store;
    const k = this.keyScratch;
    k.ipVersion = s.u8[f * BYTES_PER_FLOW + IP_VERSION] === 6 ? 6 : 4;
    k.portA = s.u16[f * U16_PER_FLOW + PORT_A]!;
    k.portB = s.u16[f * U16_PER_FLOW + PORT_B]!;
    k.keyA0 = s.u32[f * U32_PER_FLOW + KEY_A0]!;
    k.keyA1 = s.u32[f * U32_PER_FLOW + KEY_A1]!;
    k.keyA2 = s.u32[f * U32_PER_FLOW + KEY_A2]!;
    k.keyA3 = s.u32[f * U32_PER_FLOW + KEY_A3]!;
    k.keyB0 = s.u32[f * U32_PER_FLOW + KEY_B0]!;
    k.keyB1 = s.u32[f * U32_PER_FLOW + KEY_B1]!;
    k.keyB2 = s.u32[f * U32_PER_FLOW + KEY_B2]!;
    k.keyB3 = s.u32[f * U32_PER_FLOW + KEY_B3]!;
    k.hash = hash;
    return k;
  }

  private readonly keyScratch: FlowKeyWords = { ipVersion: 4, portA: 0, portB: 0, keyA0: 0, keyA1: 0, keyA2: 0, keyA3: 0, keyB0: 0, keyB1: 0, keyB2: 0, keyB3: 0, hash: 0 };

  private emitDenial(pkt: DecodedPacket, f: number, tsUs: number, verdict: 'deny' | 'window', pastExpiryUs: number, stateAlive = false): void {
    if (this.events.onDenial === undefined) return;
    const addrBytes = pkt.ipVersion === 6 ? 16 : 4;
    let previous: ExpiredState | undefined;
    if (verdict === 'deny' && !stateAlive) {
      previous = this.recentExpired.lookup(this.keyOf(f, this.store.i32[f * U32_PER_FLOW + KEY_HASH]!));
    }
    this.events.onDenial({
      frame: pkt.record.frame,
      tsUs,
      ipVersion: pkt.ipVersion === 6 ? 6 : 4,
      src: pkt.data.slice(pkt.srcAddrOffset, pkt.srcAddrOffset + addrBytes),
      srcPort: pkt.srcPort,
      dst: pkt.data.slice(pkt.dstAddrOffset, pkt.dstAddrOffset + addrBytes),
      dstPort: pkt.dstPort,
      flowId: this.store.u32[f * U32_PER_FLOW + FLOW_ID]!,
      verdict,
      reason: stateAlive ? 'state-alive' : verdict === 'window' ? 'purge-window' : previous !== undefined ? 'state-expired' : 'never-seen',
      lastUs: this.prevLastUs,
      previous,
      pastExpiryUs,
      multicast: this.isGroupAddress(false),
      wireBytes: pkt.record.origLenBytes,
      payloadBytes: pkt.udpLenBytes >= 8 ? pkt.udpLenBytes - 8 : 0,
      icmpType: -1,
      icmpCode: -1,
    });
  }

  // --- roles -------------------------------------------------------------------------------------------------

  private roleOf(pkt: DecodedPacket): PacketRole {
    // The capture's own word wins (pflog dir, NFLOG hook, SLL packet type, pcapng epb_flags, PKTAP).
    if (pkt.direction === 'in') return 'inbound';
    if (pkt.direction === 'out') return 'outbound';
    return this.addressRole(true);
  }

  /** The role of a packet sent by the loaded key's source (or, `fromSource` false, by its destination), by address. */
  private addressRole(fromSource: boolean): PacketRole {
    const receiverGroup = this.isGroupAddress(!fromSource);
    const receiverLocal = this.isLocalAddress(!fromSource);
    if (this.isUnspecified(fromSource) || this.isLocalAddress(fromSource)) return receiverLocal && !receiverGroup ? 'local' : 'outbound';
    // A group destination reaches the host without being addressed to it.
    return receiverLocal || receiverGroup ? 'inbound' : 'transit';
  }

  /** The unspecified address (0.0.0.0, ::) is this host before it has an address (DHCP DISCOVER, DAD). */
  private isUnspecified(source: boolean): boolean {
    return source ? this.s0 === 0 && this.s1 === 0 && this.s2 === 0 && this.s3 === 0 : this.d0 === 0 && this.d1 === 0 && this.d2 === 0 && this.d3 === 0;
  }

  private isLocalAddress(source: boolean): boolean {
    if (this.versionIs6) {
      return source ? this.local.hasIpv6(this.s0, this.s1, this.s2, this.s3) : this.local.hasIpv6(this.d0, this.d1, this.d2, this.d3);
    }
    return this.local.hasIpv4(source ? this.s0 : this.d0);
  }

  /** Multicast (224.0.0.0/4, ff00::/8) or the limited broadcast: reaches the host without being addressed to it. */
  private isGroupAddress(source: boolean): boolean {
    const w0 = source ? this.s0 : this.d0;
    if (this.versionIs6) return w0 >>> 24 === 0xff;
    return w0 >>> 28 === 0xe || w0 === 0xffffffff;
  }

  // --- keys and the hash index ---------------------------------------------------------------------------------

  private versionIs6 = false;
  /** Latest packet time given to advance(). */
  private nowUs = -1;
  private prevLastUs = -1;

  /** Hash of the key of the last packet given to observe(). */
  private lastHash = 0;

  private copyKey(from: FlowTable): void {
    this.versionIs6 = from.versionIs6;
    this.s0 = from.s0;
    this.s1 = from.s1;
    this.s2 = from.s2;
    this.s3 = from.s3;
    this.d0 = from.d0;
    this.d1 = from.d1;
    this.d2 = from.d2;
    this.d3 = from.d3;
  }

  private loadKey(pkt: DecodedPacket): void {
    if (pkt.ipVersion === 6) {
      this.loadWords(pkt.data, pkt.srcAddrOffset, pkt.dstAddrOffset, 6);
    } else {
      this.versionIs6 = false;
      this.s0 = pkt.src4;
      this.d0 = pkt.dst4;
      this.s1 = this.s2 = this.s3 = this.d1 = this.d2 = this.d3 = 0;
    }
  }

  private loadWords(data: Uint8Array, srcOffset: number, dstOffset: number, version: 4 | 6): void {
    this.versionIs6 = version === 6;
    this.s0 = word(data, srcOffset);
    this.d0 = word(data, dstOffset);
    if (version === 4) {
      this.s1 = this.s2 = this.s3 = this.d1 = this.d2 = this.d3 = 0;
      return;
    }
    this.s1 = word(data, srcOffset + 4);
    this.s2 = word(data, srcOffset + 8);
    this.s3 = word(data, srcOffset + 12);
    this.d1 = word(data, dstOffset + 4);
    this.d2 = word(data, dstOffset + 8);
    this.d3 = word(data, dstOffset + 12);
  }

  private srcSortsFirst(srcPort: number, dstPort: number): boolean {
    return keySortsFirst(this.s0, this.s1, this.s2, this.s3, this.d0, this.d1, this.d2, this.d3, srcPort, dstPort);
  }

  /**
   * Hash of the loaded key in canonical order (side A first): one call site per observe, so the optimizing compiler
   * inlines it once (two sites, one per order, spent the inlining budget that account() and updateState() need).
   */
  private hashOfKey(srcIsA: boolean, srcPort: number, dstPort: number): number {
    return keyHash(this.versionIs6, srcIsA, this.s0, this.s1, this.s2, this.s3, this.d0, this.d1, this.d2, this.d3, srcPort, dstPort);
  }

  /** The cursor pointed at flow slot `f`, or undefined for -1 (find's "none"). */
  private at(f: number): FlowRecord | undefined {
    if (f < 0) return undefined;
    this.cursor.index = f;
    return this.cursor;
  }

  /** The flow slot holding the packet's key, or -1. */
  private find(hash: number, version: 4 | 6, srcPort: number, dstPort: number, srcIsA: boolean): number {
    const pa = srcIsA ? srcPort : dstPort;
    const pb = srcIsA ? dstPort : srcPort;
    const a0 = srcIsA ? this.s0 : this.d0;
    const b0 = srcIsA ? this.d0 : this.s0;
    // Compare against the store's arrays directly: every packet of every table comes here.
    const store = this.store;
    const slots = this.slots;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const entry = slots[i]!;
      if (entry === 0) return -1;
      if (this.slotHashes[i] !== hash) continue;
      const f = entry - 1;
      if (
        store.u16[f * U16_PER_FLOW + PORT_A] === pa &&
        store.u16[f * U16_PER_FLOW + PORT_B] === pb &&
        store.u32[f * U32_PER_FLOW + KEY_A0] === a0 &&
        store.u32[f * U32_PER_FLOW + KEY_B0] === b0 &&
        store.u8[f * BYTES_PER_FLOW + IP_VERSION] === version &&
        (version === 4 || this.sameV6(f, srcIsA))
      ) {
        return f;
      }
    }
  }

  private sameV6(f: number, srcIsA: boolean): boolean {
    const s = this.store;
    return srcIsA
      ? s.u32[f * U32_PER_FLOW + KEY_A1] === this.s1 && s.u32[f * U32_PER_FLOW + KEY_A2] === this.s2 && s.u32[f * U32_PER_FLOW + KEY_A3] === this.s3 && s.u32[f * U32_PER_FLOW + KEY_B1] === this.d1 && s.u32[f * U32_PER_FLOW + KEY_B2] === this.d2 && s.u32[f * U32_PER_FLOW + KEY_B3] === this.d3
      : s.u32[f * U32_PER_FLOW + KEY_A1] === this.d1 && s.u32[f * U32_PER_FLOW + KEY_A2] === this.d2 && s.u32[f * U32_PER_FLOW + KEY_A3] === this.d3 && s.u32[f * U32_PER_FLOW + KEY_B1] === this.s1 && s.u32[f * U32_PER_FLOW + KEY_B2] === this.s2 && s.u32[f * U32_PER_FLOW + KEY_B3] === this.s3;
  }

  private insert(f: number, hash: number): void {
    if ((this.live + 1) * 2 > this.slots.length) this.grow();
    let i = hash & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = f + 1;
    this.slotHashes[i] = hash;
    this.live++;
    if (this.live > this.counts.liveFlowsPeak) this.counts.liveFlowsPeak = this.live;
  }

  private remove(f: number, hash: number): void {
    const entry = f + 1;
    let i = hash & this.mask;
    while (this.slots[i] !== entry) {
      if (this.slots[i] === 0) return;
      i = (i + 1) & this.mask;
    }
    // Backward-shift deletion keeps linear probing correct without tombstones.
    this.slots[i] = 0;
    this.live--;
    let j = (i + 1) & this.mask;
    for (;;) {
      const moving = this.slots[j]!;
      if (moving === 0) return;
      const home = this.slotHashes[j]! & this.mask;
      const distanceToHole = (i - home) & this.mask;
      const distanceToHere = (j - home) & this.mask;
      if (distanceToHole < distanceToHere) {
        this.slots[i] = moving;
        this.slotHashes[i] = this.slotHashes[j]!;
        this.slots[j] = 0;
        i = j;
      }
      j = (j + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const oldHashes = this.slotHashes;
    const capacity = old.length * 2;
    this.slots = new Int32Array(capacity);
    this.slotHashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let k = 0; k < old.length; k++) {
      const entry = old[k]!;
      if (entry === 0) continue;
      const hash = oldHashes[k]!;
      let i = hash & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = entry;
      this.slotHashes[i] = hash;
    }
  }

  // --- the timing wheel ---------------------------------------------------------------------------------------

  /** When flow slot `f` is due: its state's expiry (plus pf's purge lag), or the hold of a denied-only flow. */
  private dueUs(f: number): number {
    const s = this.store;
    return s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1 ? s.f64[f * F64_PER_FLOW + EXPIRES_US]! + this.lagUs : s.f64[f * F64_PER_FLOW + LAST_US]! + this.deniedHoldUs;
  }

  /** File flow slot `f` at the second it comes due (the next second when that is already past). */
  private fileInWheel(f: number): void {
    const dueSec = Math.floor(this.dueUs(f) / US_PER_SEC);
    this.link(f, this.wheelSec >= 0 && dueSec <= this.wheelSec ? this.wheelSec + 1 : dueSec);
  }

  /** Append flow slot `f` to the list of second `slotSec` (taking it out of the list it was in). */
  private link(f: number, slotSec: number): void {
    const s = this.store;
    if (s.i32[f * U32_PER_FLOW + WHEEL_SEC]! >= 0) this.unlinkFromWheel(f);
    const index = slotSec & WHEEL_MASK;
    const tail = this.wheelTail[index]!;
    s.i32[f * U32_PER_FLOW + WHEEL_SEC] = slotSec;
    s.i32[f * U32_PER_FLOW + WHEEL_PREV] = tail;
    s.i32[f * U32_PER_FLOW + WHEEL_NEXT] = -1;
    if (tail < 0) this.wheelHead[index] = f;
    else s.i32[tail * U32_PER_FLOW + WHEEL_NEXT] = f;
    this.wheelTail[index] = f;
  }

  private unlinkFromWheel(f: number): void {
    const s = this.store;
    const slotSec = s.i32[f * U32_PER_FLOW + WHEEL_SEC]!;
    if (slotSec < 0) return;
    const index = slotSec & WHEEL_MASK;
    const prev = s.i32[f * U32_PER_FLOW + WHEEL_PREV]!;
    const next = s.i32[f * U32_PER_FLOW + WHEEL_NEXT]!;
    if (prev < 0) this.wheelHead[index] = next;
    else s.i32[prev * U32_PER_FLOW + WHEEL_NEXT] = next;
    if (next < 0) this.wheelTail[index] = prev;
    else s.i32[next * U32_PER_FLOW + WHEEL_PREV] = prev;
    s.i32[f * U32_PER_FLOW + WHEEL_SEC] = s.i32[f * U32_PER_FLOW + WHEEL_PREV] = s.i32[f * U32_PER_FLOW + WHEEL_NEXT] = -1;
  }

  private processSlot(slotSec: number, nowUs: number, nowSec: number): void {
    const index = slotSec & WHEEL_MASK;
    let f = this.wheelHead[index]!;
    if (f < 0) return;
    // Take the whole list: flows filed into this same wheel slot while it is processed (a lap ahead) wait for it.
    this.wheelHead[index] = -1;
    this.wheelTail[index] = -1;
    const s = this.store;
    while (f >= 0) {
      const next = s.i32[f * U32_PER_FLOW + WHEEL_NEXT]!;
      const filedSec = s.i32[f * U32_PER_FLOW + WHEEL_SEC]!;
      s.i32[f * U32_PER_FLOW + WHEEL_SEC] = s.i32[f * U32_PER_FLOW + WHEEL_PREV] = s.i32[f * U32_PER_FLOW + WHEEL_NEXT] = -1;
      if (filedSec > slotSec) {
        // Filed a whole lap (4096 s) or more ahead in this same slot: keep it there.
        this.link(f, filedSec);
      } else {
        const due = this.dueUs(f);
        if (due <= nowUs) {
          this.endFlow(f, s.u8[f * BYTES_PER_FLOW + HAS_STATE] === 1 ? 'idle-timeout' : 'denied-only-idle');
        } else {
          // Not due yet (refreshed since it was filed): re-arm at its current due second (Zeek re-arms the same way).
          const dueSec = Math.floor(due / US_PER_SEC);
          this.link(f, dueSec > nowSec ? dueSec : nowSec + 1);
        }
      }
      f = next;
    }
  }
}

function word(data: Uint8Array, offset: number): number {
  return ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0;
}

/**
 * The hash a table files a UDP packet's flow under (`observe` with a packet of that key), for a thread that decodes
 * packets for tables in another (pipeline/packet-ring.ts): hashed there, it is work the tables' thread skips
 * (issue 7: ~4 % of that thread's time on the 10M-packet workload). The packet must have UDP ports (hasUdp).
 */
export function packetFlowHash(pkt: DecodedPacket): number {
  let s0 = pkt.src4;
  let d0 = pkt.dst4;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  const is6 = pkt.ipVersion === 6;
  if (is6) {
    const data = pkt.data;
    const src = pkt.srcAddrOffset;
    const dst = pkt.dstAddrOffset;
    s0 = word(data, src);
    s1 = word(data, src + 4);
    s2 = word(data, src + 8);
    s3 = word(data, src + 12);
    d0 = word(data, dst);
    d1 = word(data, dst + 4);
    d2 = word(data, dst + 8);
    d3 = word(data, dst + 12);
  }
  const srcIsA = keySortsFirst(s0, s1, s2, s3, d0, d1, d2, d3, pkt.srcPort, pkt.dstPort);
  return keyHash(is6, srcIsA, s0, s1, s2, s3, d0, d1, d2, d3, pkt.srcPort, pkt.dstPort);
}

/**
 * Canonical order: the (address, port) that sorts first is side A (softflowd ndx; Zeek addr_port_canon_lt).
 * Addresses as four words each (IPv4 in the first, the others 0).
 */
function keySortsFirst(s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number, srcPort: number, dstPort: number): boolean {
  if (s0 !== d0) return s0 < d0;
  if (s1 !== d1) return s1 < d1;
  if (s2 !== d2) return s2 < d2;
  if (s3 !== d3) return s3 < d3;
  return srcPort <= dstPort;
}

/** Hash of a flow key in canonical order, side A first (murmur3's mixing): the addresses' words, then the ports. */
function keyHash(is6: boolean, srcIsA: boolean, s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number, srcPort: number, dstPort: number): number {
  let h = is6 ? 0x6b43a9b5 : 0x2545f491;
  h = mix(h, srcIsA ? s0 : d0);
  h = mix(h, srcIsA ? d0 : s0);
  if (is6) {
    h = mix(h, srcIsA ? s1 : d1);
    h = mix(h, srcIsA ? s2 : d2);
    h = mix(h, srcIsA ? s3 : d3);
    h = mix(h, srcIsA ? d1 : s1);
    h = mix(h, srcIsA ? d2 : s2);
    h = mix(h, srcIsA ? d3 : s3);
  }
  h = mix(h, srcIsA ? (srcPort << 16) | dstPort : (dstPort << 16) | srcPort);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

function mix(h: number, value: number): number {
  let k = Math.imul(value, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
