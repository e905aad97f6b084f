/**
 * The live classifier behind `udptrack tail`: explain.ts's checks (`explainDenial`) on packets as they arrive.
 *
 * A verdict made when a denied packet arrives uses the packets seen so far. When later packets could still change
 * it (`settlesAfterUs`: the host sending again tells idle expiry from a killed client; a new flow from another port
 * makes it a restart; a burst of denials in the same second makes it a flush), it is provisional: the facts that
 * look ahead are kept up to date as packets arrive, the verdict is re-evaluated, a revision is reported when its
 * cause changes, and it becomes final when its deciding window closes — the flush window (1 s) for causes decided
 * by earlier packets, `settleAfterUs` after the denied packet for causes decided by later ones.
 *
 * Memory is bounded over days of running. Per flow (5-tuple seen from the host) only what the checks read is kept:
 * counters, its first packet, the host's first and last packets, the last passed packet, the last OpenVPN reset,
 * the host's last few packets and ICMP errors; a flow's record is dropped `historyKeepUs` after its last packet
 * (a day by default: the strays that matter arrive after a laptop slept for hours, long after the flow table forgot
 * the state), and at most `maxFlows` are kept (least recently used first out), which bounds memory under scans. Each open verdict freezes the facts about the packets before it when it is
 * made, so revising it later never depends on what has been dropped since.
 */
import {
  FLUSH_WINDOW_US,
  explainDenial,
  isClientReset,
  settlesAfterUs,
  tupleKey,
  type DenialFacts,
  type Explanation,
  type ObservedPacket,
  type TimeoutContext,
} from './explain.js';
import type { CauseName } from './remedies.js';

/** A verdict as the live classifier reports it; `explanation.provisional` says whether it may still change. */
export interface LiveVerdict {
  /** 1-based, in the order the denied packets arrived. */
  readonly id: number;
  readonly explanation: Explanation;
}

/** Why a verdict became final: its window closed, the input ended, or a memory limit made room. */
export type SettleReason = 'window' | 'end-of-input' | 'limit';

/** What the live classifier reports, as it happens. */
export interface LiveExplainerEvents {
  /** The first verdict on a denied packet (final at once when nothing later can change it). */
  onVerdict?: (verdict: LiveVerdict) => void;
  /** A later packet changed the cause of an open verdict; `atUs` is the packet time it happened at. */
  onRevision?: (verdict: LiveVerdict, previousCause: CauseName, atUs: number) => void;
  /** An open verdict became final with the cause it had. */
  onSettled?: (verdict: LiveVerdict, atUs: number, reason: SettleReason) => void;
}

/** Options of the live classifier. */
export interface LiveExplainerOptions {
  timeouts: TimeoutContext;
  /** How long after a denied packet later packets may still change a verdict that depends on them (µs). */
  settleAfterUs: number;
  /** How long a flow's record is kept after its last packet (µs); at least `settleAfterUs`. Default 24 hours. */
  historyKeepUs?: number;
  /** Flows with a record at most (default 20,000); the least recently used is dropped first. */
  maxFlows?: number;
  /** Open verdicts at most (default 4,096), and per flow (default 32); the oldest is made final first. */
  maxOpenVerdicts?: number;
  maxOpenPerFlow?: number;
  events: LiveExplainerEvents;
}

const DEFAULT_HISTORY_KEEP_US = 24 * 3_600_000_000;
const DEFAULT_MAX_FLOWS = 20_000;
const DEFAULT_MAX_OPEN = 4_096;
const DEFAULT_MAX_OPEN_PER_FLOW = 32;
/** The host's last packets kept per flow: candidates for "a new flow from another port" (client-restart). */
const RECENT_LOCAL_PACKETS = 4;
/** The host's last ICMP errors kept per flow (port unreachables: nothing listens any more). */
const HOST_ICMP_ERRORS = 8;
/** Sibling flows (same remote endpoint, same local port) looked at per check: a server port may have thousands. */
const MAX_SIBLINGS = 256;
/** Recent denials looked at per new denial for the flush window, and other flows counted in a burst. */
const MAX_BURST_SCAN = 512;
const MAX_BURST_FLOWS = 256;
/** Open verdicts are checked for a closed window at most this often (packet time). */
const SWEEP_EVERY_US = 100_000;

/** What is kept about one flow (5-tuple seen from the host). */
class FlowRecord {
  payloadService = '';
  portService = '';
  /** UDP packets of the flow so far (ICMP errors about it are not the flow's packets), and the remote's. */
  packets = 0;
  inbound = 0;
  first: ObservedPacket | undefined = undefined;
  firstLocal: ObservedPacket | undefined = undefined;
  lastLocal: ObservedPacket | undefined = undefined;
  lastPassed: ObservedPacket | undefined = undefined;
  lastLocalReset: ObservedPacket | undefined = undefined;
  readonly recentLocal: ObservedPacket[] = [];
  readonly hostIcmp: ObservedPacket[] = [];
  lastUs = 0;
  readonly open: OpenVerdict[] = [];

  constructor(
    readonly key: string,
    readonly remoteKey: string,
    readonly localAddr: string,
    readonly localPort: number,
    readonly remoteAddr: string,
  ) {}

  /** The flow's service: its first payload fingerprint, else the port guess. */
  get service(): string {
    return this.payloadService || this.portService;
  }
}

/** A verdict whose facts may still change. */
class OpenVerdict implements LiveVerdict {
  explanation: Explanation;
  // Facts about the packets before p, frozen when the verdict is made.
  readonly packetsBefore: number;
  readonly inboundBefore: number;
  readonly first: ObservedPacket;
  readonly lastPassed: ObservedPacket | undefined;
  readonly lastLocal: ObservedPacket | undefined;
  readonly lastLocalReset: ObservedPacket | undefined;
  // Facts about later packets, kept up to date.
  nextLocal: ObservedPacket | undefined = undefined;
  inboundAfter = 0;
  lastInboundAfter: ObservedPacket | undefined = undefined;
  /** The host's first packet after p to p's remote endpoint from another local port. */
  restartAfter: ObservedPacket | undefined = undefined;
  /** Other flows with a denial within the flush window of p. */
  readonly burst = new Set<string>();
  settleAtUs = 0;
  dirty = false;
  settled = false;

  constructor(
    readonly id: number,
    readonly p: ObservedPacket,
    readonly flow: FlowRecord,
  ) {
    this.packetsBefore = flow.packets;
    this.inboundBefore = flow.inbound;
    this.first = flow.first ?? p;
    this.lastPassed = flow.lastPassed;
    this.lastLocal = flow.lastLocal;
    this.lastLocalReset = flow.lastLocalReset;
    this.explanation = undefined as unknown as Explanation;
  }
}

/** A denial within the last flush window, for state-flush bursts. */
interface RecentDenial {
  tsUs: number;
  key: string;
  multicast: boolean;
  verdict: OpenVerdict | undefined;
}

/** Explains denied packets as they arrive; see the file comment. */
export class LiveExplainer {
  private readonly timeouts: TimeoutContext;
  private readonly settleAfterUs: number;
  private readonly historyKeepUs: number;
  private readonly maxFlows: number;
  private readonly maxOpen: number;
  private readonly maxOpenPerFlow: number;
  private readonly events: LiveExplainerEvents;
  /** Flow records in least-recently-used order (a Map keeps insertion order; a packet re-inserts its flow). */
  private readonly flows = new Map<string, FlowRecord>();
  private readonly byRemote = new Map<string, Set<FlowRecord>>();
  private readonly byLocalPort = new Map<number, Set<FlowRecord>>();
  /** Flows with open verdicts, by remote endpoint: the only ones a host packet to that endpoint can change. */
  private readonly openByRemote = new Map<string, Set<FlowRecord>>();
  /** Open verdicts by id (creation order). */
  private readonly open = new Map<number, OpenVerdict>();
  private readonly recentDenials: RecentDenial[] = [];
  private nextId = 1;
  private nowUs = 0;
  private lastSweepUs = -Infinity;

  constructor(options: LiveExplainerOptions) {
    this.timeouts = options.timeouts;
    this.settleAfterUs = Math.max(options.settleAfterUs, FLUSH_WINDOW_US);
    this.historyKeepUs = Math.max(options.historyKeepUs ?? DEFAULT_HISTORY_KEEP_US, this.settleAfterUs + FLUSH_WINDOW_US);
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    this.maxOpen = options.maxOpenVerdicts ?? DEFAULT_MAX_OPEN;
    this.maxOpenPerFlow = options.maxOpenPerFlow ?? DEFAULT_MAX_OPEN_PER_FLOW;
    this.events = options.events;
  }

  /** Flows with a record, and verdicts still open (for the summary and the memory tests). */
  get flowCount(): number {
    return this.flows.size;
  }

  get openCount(): number {
    return this.open.size;
  }

  /**
   * One packet, in arrival order with a growing `index`. `portService` is the port guess for its flow; the packet's
   * `service` is set to the flow's (its first payload fingerprint wins, as offline).
   */
  add(p: ObservedPacket, portService: string): void {
    this.advance(p.tsUs);
    const key = tupleKey(p);
    const flow = this.touchFlow(key, p);
    // Kept packets share their flow's address strings.
    p.localAddr = flow.localAddr;
    p.remoteAddr = flow.remoteAddr;
    if (flow.portService === '') flow.portService = portService;
    if (p.icmp === undefined && p.service !== '' && flow.payloadService === '') {
      flow.payloadService = p.service;
      this.serviceKnown(flow);
    }
    p.service = flow.service;

    // What the packet changes for the verdicts made before it.
    if (p.icmp === undefined) {
      for (const v of flow.open) {
        if (p.fromLocal) {
          if (v.nextLocal === undefined) {
            v.nextLocal = p;
            v.dirty = true;
          }
        } else {
          v.inboundAfter++;
          v.lastInboundAfter = p;
          v.dirty = true;
        }
      }
      if (p.fromLocal) this.noteHostPacketToRemote(flow, p);
    } else if (p.fromLocal) {
      for (const v of flow.open) v.dirty = true;
    }
    let verdict: OpenVerdict | undefined;
    if (p.denied) {
      verdict = new OpenVerdict(this.nextId++, p, flow);
      this.noteDenial(p, key, verdict);
    }
    this.record(flow, p);
    this.evaluateDirty();
    if (verdict !== undefined) this.start(verdict);
  }

  /** Packet time moved on to `nowUs` (a packet, or the wall-clock tick while the input is quiet). */
  advance(nowUs: number): void {
    if (nowUs > this.nowUs) this.nowUs = nowUs;
    if (this.nowUs - this.lastSweepUs < SWEEP_EVERY_US) return;
    this.lastSweepUs = this.nowUs;
    for (const v of this.open.values()) {
      if (v.settleAtUs <= this.nowUs) this.settle(v, v.settleAtUs, 'window');
    }
    const keepFrom = this.nowUs - this.historyKeepUs;
    for (const flow of this.flows.values()) {
      if (flow.lastUs >= keepFrom || flow.open.length > 0) break;
      this.dropFlow(flow);
    }
  }

  /** End of input: every open verdict becomes final with the cause it has. */
  finish(): void {
    for (const v of [...this.open.values()]) this.settle(v, this.nowUs, 'end-of-input');
  }

  // --- flows -------------------------------------------------------------------------------------------------

  private touchFlow(key: string, p: ObservedPacket): FlowRecord {
    let flow = this.flows.get(key);
    if (flow !== undefined) {
      this.flows.delete(key);
      this.flows.set(key, flow);
      return flow;
    }
    flow = new FlowRecord(key, `${p.remoteAddr}|${p.remotePort}`, p.localAddr, p.localPort, p.remoteAddr);
    this.flows.set(key, flow);
    addTo(this.byRemote, flow.remoteKey, flow);
    addTo(this.byLocalPort, flow.localPort, flow);
    while (this.flows.size > this.maxFlows) {
      const oldest = this.flows.values().next().value as FlowRecord;
      for (const v of [...oldest.open]) this.settle(v, this.nowUs, 'limit');
      this.dropFlow(oldest);
    }
    return flow;
  }

  private dropFlow(flow: FlowRecord): void {
    this.flows.delete(flow.key);
    removeFrom(this.byRemote, flow.remoteKey, flow);
    removeFrom(this.byLocalPort, flow.localPort, flow);
  }

  /** The packet becomes part of its flow's record (after the verdicts that look back at the flow were made). */
  private record(flow: FlowRecord, p: ObservedPacket): void {
    flow.lastUs = Math.max(flow.lastUs, p.tsUs);
    if (p.icmp !== undefined) {
      if (p.fromLocal) pushBounded(flow.hostIcmp, p, HOST_ICMP_ERRORS);
      return;
    }
    flow.packets++;
    if (!p.fromLocal) flow.inbound++;
    flow.first ??= p;
    if (!p.denied) flow.lastPassed = p;
    if (p.fromLocal) {
      flow.firstLocal ??= p;
      if (!p.denied) flow.lastLocal = p;
      if (p.openvpnOpcode >= 0 && isClientReset(p.openvpnOpcode)) flow.lastLocalReset = p;
      pushBounded(flow.recentLocal, p, RECENT_LOCAL_PACKETS);
    }
  }

  /** A payload fingerprint named the flow's service: the kept packets and open verdicts take it (as offline). */
  private serviceKnown(flow: FlowRecord): void {
    const service = flow.service;
    for (const q of [flow.first, flow.firstLocal, flow.lastLocal, flow.lastPassed, flow.lastLocalReset, ...flow.recentLocal, ...flow.hostIcmp]) {
      if (q !== undefined) q.service = service;
    }
    for (const v of flow.open) {
      v.p.service = service;
      v.dirty = true;
    }
  }

  /** The host sent to a remote endpoint: for open verdicts on its other flows to it, a new flow from another port. */
  private noteHostPacketToRemote(flow: FlowRecord, p: ObservedPacket): void {
    const siblings = this.openByRemote.get(flow.remoteKey);
    if (siblings === undefined) return;
    for (const s of siblings) {
      if (s === flow || s.localAddr !== flow.localAddr || s.localPort === flow.localPort) continue;
      for (const v of s.open) {
        if (v.restartAfter === undefined) {
          v.restartAfter = p;
          v.dirty = true;
        }
      }
    }
  }

  /** A denied packet: the flush window's burst counts for it and for the open verdicts around it. */
  private noteDenial(p: ObservedPacket, key: string, verdict: OpenVerdict): void {
    const recent = this.recentDenials;
    let keepFrom = 0;
    while (keepFrom < recent.length && recent[keepFrom]!.tsUs < p.tsUs - FLUSH_WINDOW_US) keepFrom++;
    if (keepFrom > 0) recent.splice(0, keepFrom);
    for (let i = Math.max(0, recent.length - MAX_BURST_SCAN); i < recent.length; i++) {
      const q = recent[i]!;
      if (q.key === key || Math.abs(q.tsUs - p.tsUs) > FLUSH_WINDOW_US) continue;
      if (!q.multicast && verdict.burst.size < MAX_BURST_FLOWS) verdict.burst.add(q.key);
      const other = q.verdict;
      if (!p.multicast && other !== undefined && !other.settled && !other.burst.has(key) && other.burst.size < MAX_BURST_FLOWS) {
        other.burst.add(key);
        other.dirty = true;
      }
    }
    recent.push({ tsUs: p.tsUs, key, multicast: p.multicast, verdict });
    if (recent.length > MAX_BURST_SCAN * 2) recent.splice(0, recent.length - MAX_BURST_SCAN);
  }

  // --- verdicts ----------------------------------------------------------------------------------------------

  private facts(v: OpenVerdict): DenialFacts {
    return {
      packetsBefore: v.packetsBefore,
      inboundBefore: v.inboundBefore,
      first: v.first,
      lastPassed: v.lastPassed,
      lastLocal: v.lastLocal,
      lastLocalReset: v.lastLocalReset,
      nextLocal: v.nextLocal,
      inboundAfter: v.inboundAfter,
      lastInboundAfter: v.lastInboundAfter,
      otherFlowsDeniedNear: v.burst.size,
      sameServiceOtherRemote: this.earliestSibling(this.byLocalPort.get(v.p.localPort), v.flow, (s, q) =>
        q.index < v.p.index && q.localAddr === v.p.localAddr && s.service !== '' && s.service === v.p.service),
      sameRemoteOtherLocalAddress: this.earliestSibling(this.byRemote.get(v.flow.remoteKey), v.flow, (s, q) =>
        q.index < v.p.index && q.localPort === v.p.localPort && q.localAddr !== v.p.localAddr),
      newFlowToRemote: (fromUs, toUs) => this.newFlowToRemote(v, fromUs, toUs),
      hostUnreachablesSince: (fromUs) => {
        const errors = v.flow.hostIcmp.filter((q) => q.tsUs >= fromUs);
        return { count: errors.length, first: errors[0] };
      },
    };
  }

  /** The earliest first host packet of another flow in `siblings` that `accept` takes. */
  private earliestSibling(
    siblings: Set<FlowRecord> | undefined,
    self: FlowRecord,
    accept: (sibling: FlowRecord, q: ObservedPacket) => boolean,
  ): ObservedPacket | undefined {
    if (siblings === undefined) return undefined;
    let best: ObservedPacket | undefined;
    let looked = 0;
    for (const s of siblings) {
      if (++looked > MAX_SIBLINGS) break;
      const q = s.firstLocal;
      if (s === self || q === undefined || !accept(s, q)) continue;
      if (best === undefined || q.index < best.index) best = q;
    }
    return best;
  }

  /** The host's first packet to p's remote endpoint from p's local address and another port, within the times. */
  private newFlowToRemote(v: OpenVerdict, fromUs: number, toUs: number): ObservedPacket | undefined {
    let best: ObservedPacket | undefined;
    const consider = (q: ObservedPacket | undefined): void => {
      if (q === undefined || q.tsUs < fromUs || q.tsUs > toUs) return;
      if (q.localAddr !== v.p.localAddr || q.localPort === v.p.localPort) return;
      if (best === undefined || q.index < best.index) best = q;
    };
    consider(v.restartAfter);
    let looked = 0;
    for (const s of this.byRemote.get(v.flow.remoteKey) ?? []) {
      if (++looked > MAX_SIBLINGS) break;
      if (s === v.flow) continue;
      consider(s.firstLocal);
      for (const q of s.recentLocal) consider(q);
    }
    return best;
  }

  /** The new verdict's first evaluation: final at once, or open until its window closes. */
  private start(v: OpenVerdict): void {
    this.evaluate(v);
    const flow = v.flow;
    if (!v.explanation.provisional) {
      v.settled = true;
      this.events.onVerdict?.(v);
      return;
    }
    this.open.set(v.id, v);
    flow.open.push(v);
    if (flow.open.length === 1) addTo(this.openByRemote, flow.remoteKey, flow);
    this.events.onVerdict?.(v);
    if (flow.open.length > this.maxOpenPerFlow) this.settle(flow.open[0]!, this.nowUs, 'limit');
    if (this.open.size > this.maxOpen) this.settle(this.open.values().next().value as OpenVerdict, this.nowUs, 'limit');
  }

  /** Explain p from the current facts; sets when the verdict settles and whether it is still provisional. */
  private evaluate(v: OpenVerdict): void {
    const explanation = explainDenial(v.p, this.facts(v), this.timeouts);
    const afterUs = settlesAfterUs(explanation.cause);
    v.settleAtUs = afterUs === 0 ? v.p.tsUs : v.p.tsUs + (afterUs ?? this.settleAfterUs);
    explanation.provisional = v.settleAtUs > this.nowUs;
    v.explanation = explanation;
    v.dirty = false;
  }

  /** Re-evaluate the open verdicts whose facts changed; report the ones whose cause changed. */
  private evaluateDirty(): void {
    for (const v of this.open.values()) {
      if (!v.dirty) continue;
      const previous = v.explanation.cause;
      this.evaluate(v);
      const changed = v.explanation.cause !== previous;
      if (!v.explanation.provisional) this.close(v);
      if (changed) this.events.onRevision?.(v, previous, this.nowUs);
      else if (!v.explanation.provisional) this.events.onSettled?.(v, this.nowUs, 'window');
    }
  }

  private settle(v: OpenVerdict, atUs: number, reason: SettleReason): void {
    if (v.settled) return;
    v.explanation.provisional = false;
    this.close(v);
    this.events.onSettled?.(v, atUs, reason);
  }

  private close(v: OpenVerdict): void {
    v.settled = true;
    this.open.delete(v.id);
    const list = v.flow.open;
    const at = list.indexOf(v);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) removeFrom(this.openByRemote, v.flow.remoteKey, v.flow);
  }
}

function addTo<K>(index: Map<K, Set<FlowRecord>>, key: K, flow: FlowRecord): void {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([flow]));
  else set.add(flow);
}

function removeFrom<K>(index: Map<K, Set<FlowRecord>>, key: K, flow: FlowRecord): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(flow);
  if (set.size === 0) index.delete(key);
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}
