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
import { ExpiredStates, type ExpiredState } from './expired.js';
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
  /** Frame number of the first and last packet. */
  firstFrame: number;
  lastFrame: number;
  firstUs: number;
  lastUs: number;
  /** Sent by side A / side B. */
  fromA: DirectionCounters;
  fromB: DirectionCounters;
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
  lastRefreshUs: number;
  expiresUs: number;
  timeoutKey: string;
  timeoutUs: number;
  history: StateEvent[];
  /** Service guess, set by the pipeline from the payload or ports. */
  service: string;
  serviceBy: 'payload' | 'port' | '';
  endUs: number;
  endReason: FlowEndReason | undefined;
  // Model state: pf peer states (0 NO_TRAFFIC, 1 SINGLE, 2 MULTIPLE), conntrack reply flag and stream time.
  peerStateA: number;
  peerStateB: number;
  seenReply: boolean;
  streamAtUs: number;
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
  /** Wheel bookkeeping. */
  removed: boolean;
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
}

/** Observers of the replay (Zeek events): each is called as the replay goes. */
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
}

const PF_NO_TRAFFIC = 0;
const PF_SINGLE = 1;
const PF_MULTIPLE = 2;
const WHEEL_SLOTS = 4096; // 1 s each: ~68 minutes before a slot is revisited
const WHEEL_MASK = WHEEL_SLOTS - 1;
const US_PER_SEC = 1_000_000;
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

/**
 * The concrete flow: a class so every flow shares one hidden class (V8 keeps property access fast) and the address
 * getters live on the prototype. Addresses are kept as key words; bytes are made only when a report asks.
 */
class FlowRecord implements Flow {
  id = 0;
  ipVersion: 4 | 6 = 4;
  portA = 0;
  portB = 0;
  localSide: 'a' | 'b' | undefined = undefined;
  opener: 'a' | 'b' = 'a';
  firstFrame = 0;
  lastFrame = 0;
  firstUs = 0;
  lastUs = 0;
  fromA: DirectionCounters = newCounters();
  fromB: DirectionCounters = newCounters();
  maxGapUs = 0;
  deniedPackets = 0;
  windowPackets = 0;
  hasState = false;
  stateCreatedUs = -1;
  lastRefreshUs = -1;
  expiresUs = -1;
  timeoutKey = '';
  timeoutUs = 0;
  history: StateEvent[] = [];
  service = '';
  serviceBy: 'payload' | 'port' | '' = '';
  endUs = -1;
  endReason: FlowEndReason | undefined = undefined;
  peerStateA = 0;
  peerStateB = 0;
  seenReply = false;
  streamAtUs = 0;
  keyA0 = 0;
  keyA1 = 0;
  keyA2 = 0;
  keyA3 = 0;
  keyB0 = 0;
  keyB1 = 0;
  keyB2 = 0;
  keyB3 = 0;
  hash = 0;
  removed = false;

  get addrA(): Uint8Array {
    return wordsToBytes(this.ipVersion, this.keyA0, this.keyA1, this.keyA2, this.keyA3);
  }

  get addrB(): Uint8Array {
    return wordsToBytes(this.ipVersion, this.keyB0, this.keyB1, this.keyB2, this.keyB3);
  }
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
  private readonly lagUs: number;
  private readonly scale: number;
  // Hash index: slot → flow; capacity is a power of two, load ≤ 1/2.
  private slots: (Flow | undefined)[];
  private slotHashes: Int32Array;
  private mask: number;
  private live = 0;
  private nextId = 1;
  // Timing wheel.
  private readonly wheel: Flow[][] = Array.from({ length: WHEEL_SLOTS }, () => []);
  private wheelSec = -1;
  private spare: Flow[] = [];
  /** Recently expired states by key hash; the ended flow is kept to compare the full key. */
  private readonly recentExpired = new ExpiredStates(MAX_RECENT_EXPIRED);
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
    this.scale = options.profile.family === 'pf' ? pfAdaptiveFactor(options.profile) : 1;
    this.lagUs = options.profile.family === 'pf' ? (options.profile.timeoutsUs['interval'] ?? 0) : 0;
    const capacity = 1024;
    this.slots = new Array<Flow | undefined>(capacity).fill(undefined);
    this.slotHashes = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Flows alive now. */
  get liveFlows(): number {
    return this.live;
  }

  /**
   * Apply one UDP packet at packet time `tsUs` (call `advance(tsUs)` first to expire what is due). Returns the
   * verdict; details in `this.last`. Packets without UDP ports must not be passed in.
   */
  observe(pkt: DecodedPacket, tsUs: number, loggedDenied = false): Verdict {
    const obs = this.last;
    obs.created = false;
    this.loadKey(pkt);
    const srcIsA = this.srcSortsFirst(pkt.srcPort, pkt.dstPort);
    const role = this.roleOf(pkt);
    obs.role = role;
    obs.fromA = srcIsA;
    const hash = srcIsA ? this.hashKey(this.s0, this.s1, this.s2, this.s3, pkt.srcPort, this.d0, this.d1, this.d2, this.d3, pkt.dstPort)
                        : this.hashKey(this.d0, this.d1, this.d2, this.d3, pkt.dstPort, this.s0, this.s1, this.s2, this.s3, pkt.srcPort);
    let flow = this.find(hash, pkt, srcIsA);
    if (flow !== undefined && flow.hasState && tsUs >= flow.expiresUs + this.lagUs) {
      this.endFlow(flow, 'idle-timeout');
      flow = undefined;
    } else if (flow !== undefined && !flow.hasState && tsUs >= flow.lastUs + this.deniedHoldUs) {
      this.endFlow(flow, 'denied-only-idle');
      flow = undefined;
    }
    this.prevLastUs = flow === undefined ? -1 : flow.lastUs;
    let verdict: Verdict = 'pass';
    if (loggedDenied && flow !== undefined && flow.hasState && tsUs < flow.expiresUs + this.lagUs) {
      // A denial log says the firewall dropped a packet the model still holds state for: the firewall's memory was
      // lost some other way (a flush, a reload, a restart). The dropped packet refreshes nothing.
      verdict = 'deny';
      this.account(flow, pkt, srcIsA, tsUs);
      flow.deniedPackets++;
      this.counts.denied++;
      this.emitDenial(pkt, flow, tsUs, 'deny', 0, true);
    } else if ((role === 'inbound' || loggedDenied) && (flow === undefined || !flow.hasState)) {
      verdict = 'deny';
      if (flow === undefined) flow = this.createFlow(pkt, hash, srcIsA, tsUs, false);
      this.account(flow, pkt, srcIsA, tsUs);
      flow.deniedPackets++;
      this.counts.denied++;
      this.emitDenial(pkt, flow, tsUs, 'deny', 0);
    } else {
      let stateIsNew = true;
      if (flow === undefined) {
        flow = this.createFlow(pkt, hash, srcIsA, tsUs, true);
      } else if (!flow.hasState) {
        // A flow seen only as denied packets gains state when the local side sends (or transit traffic passes).
        flow.opener = srcIsA ? 'a' : 'b';
        this.startState(flow, tsUs);
      } else if (tsUs >= flow.expiresUs) {
        stateIsNew = false;
        verdict = 'window';
        flow.windowPackets++;
        this.counts.window++;
        if (role === 'inbound') this.emitDenial(pkt, flow, tsUs, 'window', tsUs - flow.expiresUs);
      } else {
        stateIsNew = false;
      }
      this.account(flow, pkt, srcIsA, tsUs);
      // The packet that creates a state only creates it (udp.first / unreplied); later ones update it.
      if (!stateIsNew) this.updateState(flow, srcIsA, role, tsUs);
    }
    obs.verdict = verdict;
    obs.flow = flow;
    return verdict;
  }

  /** Expire every flow due before packet time `nowUs` (timing wheel; slots of whole seconds before now). */
  advance(nowUs: number): void {
    const nowSec = Math.floor(nowUs / US_PER_SEC);
    if (this.wheelSec < 0) {
      this.wheelSec = nowSec;
      return;
    }
    if (nowSec <= this.wheelSec) return;
    const steps = Math.min(nowSec - this.wheelSec, WHEEL_SLOTS);
    for (let i = 1; i <= steps; i++) this.processSlot(this.wheelSec + i, nowUs, nowSec);
    this.wheelSec = nowSec;
  }

  /** End of input: report every flow still alive (ordered by first packet), then forget them. */
  finish(): void {
    const alive: Flow[] = [];
    for (const flow of this.slots) if (flow !== undefined) alive.push(flow);
    alive.sort((x, y) => x.firstUs - y.firstUs || x.id - y.id);
    for (const flow of alive) this.endFlow(flow, 'end-of-input');
  }

  /** The timeout a flow's state would get now, for "what keepalive would have kept it" questions. */
  timeoutFor(flow: Flow): number {
    return flow.timeoutUs;
  }

  // --- state machines -------------------------------------------------------------------------------------

  private startState(flow: Flow, tsUs: number): void {
    flow.hasState = true;
    flow.stateCreatedUs = tsUs;
    flow.lastRefreshUs = tsUs;
    flow.seenReply = false;
    flow.streamAtUs = tsUs + this.profile.streamDelayUs;
    // pf: the opener becomes SINGLE, the peer NO_TRAFFIC, on udp.first (pf.c pf_test_rule → pf_create_state).
    flow.peerStateA = flow.opener === 'a' ? PF_SINGLE : PF_NO_TRAFFIC;
    flow.peerStateB = flow.opener === 'b' ? PF_SINGLE : PF_NO_TRAFFIC;
    const key = this.initialKey();
    this.setTimeout(flow, key, tsUs, 'created');
  }

  private initialKey(): string {
    switch (this.profile.family) {
      case 'pf':
        return 'udp.first';
      case 'conntrack':
        return 'unreplied';
      case 'two-state':
      case 'idle':
        return this.profile.keys[0]!.name;
    }
  }

  private updateState(flow: Flow, fromA: boolean, role: PacketRole, tsUs: number): void {
    const profile = this.profile;
    const fromOpener = (flow.opener === 'a') === fromA;
    let key: string;
    switch (profile.family) {
      case 'pf': {
        // pf.c, UDP state update: the sender rises to at least SINGLE; a SINGLE receiver becomes MULTIPLE;
        // udp.multiple only when both are MULTIPLE, else udp.single.
        let sender = fromA ? flow.peerStateA : flow.peerStateB;
        let receiver = fromA ? flow.peerStateB : flow.peerStateA;
        if (sender < PF_SINGLE) sender = PF_SINGLE;
        if (receiver === PF_SINGLE) receiver = PF_MULTIPLE;
        if (fromA) {
          flow.peerStateA = sender;
          flow.peerStateB = receiver;
        } else {
          flow.peerStateB = sender;
          flow.peerStateA = receiver;
        }
        key = flow.peerStateA === PF_MULTIPLE && flow.peerStateB === PF_MULTIPLE ? 'udp.multiple' : 'udp.single';
        break;
      }
      case 'conntrack': {
        // nf_conntrack_udp_packet: replied (stream) timeout only once a reply was seen and the flow is older than
        // stream_ts (creation + 2 s); IPS_SEEN_REPLY is set after the reply itself is processed.
        key = flow.seenReply && tsUs > flow.streamAtUs ? 'replied' : 'unreplied';
        if (!fromOpener) flow.seenReply = true;
        break;
      }
      case 'two-state': {
        const bothWays = flow.fromA.packets > 0 && flow.fromB.packets > 0;
        const packets = flow.fromA.packets + flow.fromB.packets;
        key = bothWays && packets >= profile.establishAfterPackets ? profile.keys[1]!.name : profile.keys[0]!.name;
        break;
      }
      case 'idle':
        key = profile.keys[0]!.name;
        break;
    }
    // RFC 4787 REQ-6: a NAT must refresh on outbound traffic; inbound refresh is optional and modelled off.
    if (!profile.inboundRefresh && role === 'inbound') return;
    this.setTimeout(flow, key, tsUs, 'timeout-changed');
  }

  private setTimeout(flow: Flow, key: string, tsUs: number, event: 'created' | 'timeout-changed'): void {
    const timeoutUs = this.scaledTimeoutUs(key);
    flow.lastRefreshUs = tsUs;
    flow.expiresUs = tsUs + timeoutUs;
    if (event === 'created' || key !== flow.timeoutKey || timeoutUs !== flow.timeoutUs) {
      flow.timeoutKey = key;
      flow.timeoutUs = timeoutUs;
      const stateEvent: StateEvent = { atUs: tsUs, event, timeoutKey: key, timeoutUs };
      flow.history.push(stateEvent);
      this.events.onStateEvent?.(flow, stateEvent);
    }
  }

  /**
   * The profile's timeout for `key` after pf's adaptive scaling. Every packet asks, so the last answer is kept:
   * a profile has at most three state keys and the keys are interned constants (pointer compare).
   */
  private scaledTimeoutUs(key: string): number {
    if (key === this.cachedKey) return this.cachedTimeoutUs;
    const timeoutUs = Math.round((this.profile.timeoutsUs[key] ?? 0) * this.scale);
    this.cachedKey = key;
    this.cachedTimeoutUs = timeoutUs;
    return timeoutUs;
  }

  private cachedKey = '';
  private cachedTimeoutUs = 0;

  // --- flows ------------------------------------------------------------------------------------------------

  private createFlow(pkt: DecodedPacket, hash: number, srcIsA: boolean, tsUs: number, withState: boolean): Flow {
    const version = pkt.ipVersion === 6 ? 6 : 4;
    const role = this.last.role;
    let localSide: 'a' | 'b' | undefined;
    if (role === 'outbound' || role === 'local') localSide = srcIsA ? 'a' : 'b';
    else if (role === 'inbound') localSide = srcIsA ? 'b' : 'a';
    const flow = new FlowRecord();
    flow.id = this.nextId++;
    flow.ipVersion = version;
    flow.portA = srcIsA ? pkt.srcPort : pkt.dstPort;
    flow.portB = srcIsA ? pkt.dstPort : pkt.srcPort;
    flow.localSide = localSide;
    flow.opener = srcIsA ? 'a' : 'b';
    flow.firstFrame = pkt.record.frame;
    flow.lastFrame = pkt.record.frame;
    flow.firstUs = tsUs;
    flow.lastUs = tsUs;
    flow.fromA = newCounters();
    flow.fromB = newCounters();
    flow.maxGapUs = 0;
    flow.deniedPackets = 0;
    flow.windowPackets = 0;
    flow.hasState = false;
    flow.stateCreatedUs = -1;
    flow.lastRefreshUs = -1;
    flow.expiresUs = -1;
    flow.timeoutKey = '';
    flow.timeoutUs = 0;
    flow.history = [];
    flow.service = '';
    flow.serviceBy = '';
    flow.endUs = -1;
    flow.endReason = undefined;
    flow.peerStateA = PF_NO_TRAFFIC;
    flow.peerStateB = PF_NO_TRAFFIC;
    flow.seenReply = false;
    flow.streamAtUs = 0;
    flow.keyA0 = srcIsA ? this.s0 : this.d0;
    flow.keyA1 = srcIsA ? this.s1 : this.d1;
    flow.keyA2 = srcIsA ? this.s2 : this.d2;
    flow.keyA3 = srcIsA ? this.s3 : this.d3;
    flow.keyB0 = srcIsA ? this.d0 : this.s0;
    flow.keyB1 = srcIsA ? this.d1 : this.s1;
    flow.keyB2 = srcIsA ? this.d2 : this.s2;
    flow.keyB3 = srcIsA ? this.d3 : this.s3;
    flow.hash = hash;
    flow.removed = false;
    this.insert(flow);
    this.counts.flowsCreated++;
    this.last.created = true;
    if (withState) this.startState(flow, tsUs);
    this.fileInWheel(flow);
    return flow;
  }

  private account(flow: Flow, pkt: DecodedPacket, fromA: boolean, tsUs: number): void {
    const c = fromA ? flow.fromA : flow.fromB;
    if (c.packets === 0) c.firstUs = tsUs;
    c.packets++;
    c.payloadBytes += pkt.udpLenBytes >= 8 ? pkt.udpLenBytes - 8 : 0;
    c.ipBytes += pkt.ipLenBytes;
    c.wireBytes += pkt.record.origLenBytes;
    c.lastUs = tsUs;
    if (tsUs - flow.lastUs > flow.maxGapUs) flow.maxGapUs = tsUs - flow.lastUs;
    flow.lastUs = tsUs;
    flow.lastFrame = pkt.record.frame;
  }

  private endFlow(flow: Flow, reason: FlowEndReason): void {
    if (flow.removed) return;
    flow.removed = true;
    this.remove(flow);
    flow.endReason = reason;
    if (reason === 'idle-timeout') {
      flow.endUs = flow.expiresUs;
      flow.hasState = false;
      const expired: StateEvent = { atUs: flow.expiresUs, event: 'expired', timeoutKey: flow.timeoutKey, timeoutUs: flow.timeoutUs };
      flow.history.push(expired);
      this.events.onStateEvent?.(flow, expired);
      this.rememberExpired(flow);
    } else if (reason === 'denied-only-idle') {
      flow.endUs = flow.lastUs + this.deniedHoldUs;
    } else {
      flow.endUs = flow.lastUs;
    }
    this.counts.flowsEnded++;
    this.counts.expiredByReason[reason] = (this.counts.expiredByReason[reason] ?? 0) + 1;
    this.events.onFlowEnd?.(flow);
  }

  private rememberExpired(flow: Flow): void {
    const local = flow.localSide === undefined ? undefined : flow.localSide === 'a' ? flow.fromA : flow.fromB;
    const remote = flow.localSide === undefined ? undefined : flow.localSide === 'a' ? flow.fromB : flow.fromA;
    this.recentExpired.remember(
      flow,
      flow.id,
      flow.lastUs,
      flow.expiresUs,
      flow.timeoutKey,
      flow.timeoutUs,
      local?.packets ?? 0,
      remote?.packets ?? 0,
      flow.localSide === flow.opener,
    );
  }

  private emitDenial(pkt: DecodedPacket, flow: Flow, tsUs: number, verdict: 'deny' | 'window', pastExpiryUs: number, stateAlive = false): void {
    if (this.events.onDenial === undefined) return;
    const addrBytes = pkt.ipVersion === 6 ? 16 : 4;
    let previous: ExpiredState | undefined;
    if (verdict === 'deny' && !stateAlive) {
      previous = this.recentExpired.lookup(flow);
    }
    this.events.onDenial({
      frame: pkt.record.frame,
      tsUs,
      ipVersion: pkt.ipVersion === 6 ? 6 : 4,
      src: pkt.data.slice(pkt.srcAddrOffset, pkt.srcAddrOffset + addrBytes),
      srcPort: pkt.srcPort,
      dst: pkt.data.slice(pkt.dstAddrOffset, pkt.dstAddrOffset + addrBytes),
      dstPort: pkt.dstPort,
      flowId: flow.id,
      verdict,
      reason: stateAlive ? 'state-alive' : verdict === 'window' ? 'purge-window' : previous !== undefined ? 'state-expired' : 'never-seen',
      lastUs: this.prevLastUs,
      previous,
      pastExpiryUs,
      multicast: this.isGroupDestination(pkt),
      wireBytes: pkt.record.origLenBytes,
      payloadBytes: pkt.udpLenBytes >= 8 ? pkt.udpLenBytes - 8 : 0,
    });
  }

  // --- roles -------------------------------------------------------------------------------------------------

  private roleOf(pkt: DecodedPacket): PacketRole {
    // The capture's own word wins (pflog dir, NFLOG hook, SLL packet type, pcapng epb_flags, PKTAP).
    if (pkt.direction === 'in') return 'inbound';
    if (pkt.direction === 'out') return 'outbound';
    const srcLocal = this.isLocalSource();
    const dstLocal = this.isLocalAddress(false) || this.isGroupDestination(pkt);
    if (srcLocal) return dstLocal && !this.isGroupDestination(pkt) ? 'local' : 'outbound';
    if (dstLocal) return 'inbound';
    return 'transit';
  }

  private isLocalSource(): boolean {
    // The unspecified address (0.0.0.0, ::) is this host before it has an address (DHCP DISCOVER, DAD).
    if (this.s0 === 0 && this.s1 === 0 && this.s2 === 0 && this.s3 === 0) return true;
    return this.isLocalAddress(true);
  }

  private isLocalAddress(source: boolean): boolean {
    if (this.versionIs6) {
      return source ? this.local.hasIpv6(this.s0, this.s1, this.s2, this.s3) : this.local.hasIpv6(this.d0, this.d1, this.d2, this.d3);
    }
    return this.local.hasIpv4(source ? this.s0 : this.d0);
  }

  /** Multicast (224.0.0.0/4, ff00::/8) or limited broadcast destination: reaches the host without being addressed to it. */
  private isGroupDestination(pkt: DecodedPacket): boolean {
    if (pkt.ipVersion === 6) return this.d0 >>> 24 === 0xff;
    return this.d0 >>> 28 === 0xe || this.d0 === 0xffffffff;
  }

  // --- keys and the hash index ---------------------------------------------------------------------------------

  private versionIs6 = false;
  private prevLastUs = -1;

  private loadKey(pkt: DecodedPacket): void {
    if (pkt.ipVersion === 6) {
      this.versionIs6 = true;
      const data = pkt.data;
      let o = pkt.srcAddrOffset;
      this.s0 = word(data, o);
      this.s1 = word(data, o + 4);
      this.s2 = word(data, o + 8);
      this.s3 = word(data, o + 12);
      o = pkt.dstAddrOffset;
      this.d0 = word(data, o);
      this.d1 = word(data, o + 4);
      this.d2 = word(data, o + 8);
      this.d3 = word(data, o + 12);
    } else {
      this.versionIs6 = false;
      this.s0 = pkt.src4;
      this.d0 = pkt.dst4;
      this.s1 = this.s2 = this.s3 = this.d1 = this.d2 = this.d3 = 0;
    }
  }

  /** Canonical order: the (address, port) that sorts first is side A (softflowd ndx; Zeek addr_port_canon_lt). */
  private srcSortsFirst(srcPort: number, dstPort: number): boolean {
    if (this.s0 !== this.d0) return this.s0 < this.d0;
    if (this.s1 !== this.d1) return this.s1 < this.d1;
    if (this.s2 !== this.d2) return this.s2 < this.d2;
    if (this.s3 !== this.d3) return this.s3 < this.d3;
    return srcPort <= dstPort;
  }

  private hashKey(a0: number, a1: number, a2: number, a3: number, pa: number, b0: number, b1: number, b2: number, b3: number, pb: number): number {
    let h = this.versionIs6 ? 0x6b43a9b5 : 0x2545f491;
    h = mix(h, a0);
    h = mix(h, b0);
    if (this.versionIs6) {
      h = mix(h, a1);
      h = mix(h, a2);
      h = mix(h, a3);
      h = mix(h, b1);
      h = mix(h, b2);
      h = mix(h, b3);
    }
    h = mix(h, (pa << 16) | pb);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h | 0;
  }

  private find(hash: number, pkt: DecodedPacket, srcIsA: boolean): Flow | undefined {
    const version = pkt.ipVersion === 6 ? 6 : 4;
    const pa = srcIsA ? pkt.srcPort : pkt.dstPort;
    const pb = srcIsA ? pkt.dstPort : pkt.srcPort;
    const a0 = srcIsA ? this.s0 : this.d0;
    const b0 = srcIsA ? this.d0 : this.s0;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const flow = this.slots[i];
      if (flow === undefined) return undefined;
      if (
        this.slotHashes[i] === hash &&
        flow.portA === pa &&
        flow.portB === pb &&
        flow.keyA0 === a0 &&
        flow.keyB0 === b0 &&
        flow.ipVersion === version &&
        (version === 4 || this.sameV6(flow, srcIsA))
      ) {
        return flow;
      }
    }
  }

  private sameV6(flow: Flow, srcIsA: boolean): boolean {
    return srcIsA
      ? flow.keyA1 === this.s1 && flow.keyA2 === this.s2 && flow.keyA3 === this.s3 && flow.keyB1 === this.d1 && flow.keyB2 === this.d2 && flow.keyB3 === this.d3
      : flow.keyA1 === this.d1 && flow.keyA2 === this.d2 && flow.keyA3 === this.d3 && flow.keyB1 === this.s1 && flow.keyB2 === this.s2 && flow.keyB3 === this.s3;
  }

  private insert(flow: Flow): void {
    if ((this.live + 1) * 2 > this.slots.length) this.grow();
    let i = flow.hash & this.mask;
    while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
    this.slots[i] = flow;
    this.slotHashes[i] = flow.hash;
    this.live++;
    if (this.live > this.counts.liveFlowsPeak) this.counts.liveFlowsPeak = this.live;
  }

  private remove(flow: Flow): void {
    let i = flow.hash & this.mask;
    while (this.slots[i] !== flow) {
      if (this.slots[i] === undefined) return;
      i = (i + 1) & this.mask;
    }
    // Backward-shift deletion keeps linear probing correct without tombstones.
    this.slots[i] = undefined;
    this.live--;
    let j = (i + 1) & this.mask;
    for (;;) {
      const moving = this.slots[j];
      if (moving === undefined) return;
      const home = this.slotHashes[j]! & this.mask;
      const distanceToHole = (i - home) & this.mask;
      const distanceToHere = (j - home) & this.mask;
      if (distanceToHole < distanceToHere) {
        this.slots[i] = moving;
        this.slotHashes[i] = this.slotHashes[j]!;
        this.slots[j] = undefined;
        i = j;
      }
      j = (j + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = old.length * 2;
    this.slots = new Array<Flow | undefined>(capacity).fill(undefined);
    this.slotHashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (const flow of old) {
      if (flow === undefined) continue;
      let i = flow.hash & this.mask;
      while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
      this.slots[i] = flow;
      this.slotHashes[i] = flow.hash;
    }
  }

  // --- the timing wheel ---------------------------------------------------------------------------------------

  private dueUs(flow: Flow): number {
    return flow.hasState ? flow.expiresUs + this.lagUs : flow.lastUs + this.deniedHoldUs;
  }

  private fileInWheel(flow: Flow): void {
    const dueSec = Math.floor(this.dueUs(flow) / US_PER_SEC);
    const slotSec = this.wheelSec >= 0 && dueSec <= this.wheelSec ? this.wheelSec + 1 : dueSec;
    this.wheel[slotSec & WHEEL_MASK]!.push(flow);
  }

  private processSlot(slotSec: number, nowUs: number, nowSec: number): void {
    const index = slotSec & WHEEL_MASK;
    const bucket = this.wheel[index]!;
    if (bucket.length === 0) return;
    // Swap in the spare array so flows re-filed into this same slot are not visited twice.
    this.wheel[index] = this.spare;
    this.spare = bucket;
    for (let k = 0; k < bucket.length; k++) {
      const flow = bucket[k]!;
      if (flow.removed) continue;
      const due = this.dueUs(flow);
      if (due <= nowUs) {
        this.endFlow(flow, flow.hasState ? 'idle-timeout' : 'denied-only-idle');
        continue;
      }
      const dueSec = Math.floor(due / US_PER_SEC);
      // Not due yet (refreshed since it was filed): re-arm at its current due second (Zeek re-arms the same way).
      this.wheel[(dueSec > nowSec ? dueSec : nowSec + 1) & WHEEL_MASK]!.push(flow);
    }
    bucket.length = 0;
  }
}

function newCounters(): DirectionCounters {
  return { packets: 0, payloadBytes: 0, ipBytes: 0, wireBytes: 0, firstUs: -1, lastUs: -1 };
}

function word(data: Uint8Array, offset: number): number {
  return ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0;
}

function mix(h: number, value: number): number {
  let k = Math.imul(value, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function wordsToBytes(version: 4 | 6, w0: number, w1: number, w2: number, w3: number): Uint8Array {
  const bytes = new Uint8Array(version === 4 ? 4 : 16);
  const words = version === 4 ? [w0] : [w0, w1, w2, w3];
  words.forEach((w, i) => {
    bytes[i * 4] = w >>> 24;
    bytes[i * 4 + 1] = (w >>> 16) & 0xff;
    bytes[i * 4 + 2] = (w >>> 8) & 0xff;
    bytes[i * 4 + 3] = w & 0xff;
  });
  return bytes;
}
