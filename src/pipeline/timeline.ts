/**
 * Gathers what the HTML report draws, riding along a replay (analyze, simulate) or explain's own table: for every
 * 5-tuple that had denials or an expiry, its packets by direction, each state lifetime per profile (created →
 * expiry, by timeout key) and each denied packet.
 *
 * Memory stays bounded whatever the capture's size. While a flow is alive only its first `packetsHead` and last
 * `packetsTail` packet times are held (in flat number arrays) plus its few state changes; when it ends, a flow that
 * neither expired nor saw a denial is dropped at once. A flow that only expired waits in a fixed-size queue, because
 * a denial on the same 5-tuple may still come and then needs the expired state's packets; when it leaves the queue
 * it is drawn (the first `drawnExpired` of them) or becomes one row of the list. Denials promote their 5-tuple to a
 * drawn timeline up to a budget (`drawnLost` for traffic the host wanted, `drawnUnsolicited` for the rest); past it
 * they are counted in the list. The page says whenever a cap bit.
 */
import { formatAddress, formatEndpoint } from '../address.js';
import type { Explanation } from '../classify/explain.js';
import type { LocalSide } from '../flow/local.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import type { Denial, Flow, FlowTable, StateEvent } from '../flow/table.js';
import type {
  DeniedPacket,
  FlowTimeline,
  ListedFlow,
  ListedVerdict,
  StateLifetime,
  StateSegment,
  TimelineData,
  TimelineImportance,
  TimelineLimits,
  TimelinePacket,
} from '../report/html/model.js';
import type { DecodedPacket } from '../types.js';
import type { ReplayEvents } from './replay.js';

/** The default limits: a page of ~150 drawn timelines stays a few MB and opens instantly. */
export const TIMELINE_LIMITS: TimelineLimits = {
  drawnLost: 100,
  drawnUnsolicited: 25,
  drawnExpired: 25,
  packetsHead: 32,
  packetsTail: 96,
  packetsPerTimeline: 2048,
  lifetimesPerLane: 64,
  deniedPerLane: 200,
  listed: 2000,
};

/** Expired-only 5-tuples waiting for a denial that would make them worth drawing. */
const PENDING_CAPACITY = 4096;

const EVENT_CREATED = 0;
const EVENT_CHANGED = 1;
const EVENT_EXPIRED = 2;

/**
 * What is held for a flow while it is alive, as one object with flat number arrays (a live flow may be one of
 * hundreds of thousands): its state events as (atUs, timeoutUs, key index, kind) quadruples, and on profile 0 (every
 * profile sees the same packets) its first `head` and last `tail` packets as (tsUs, frame × 2 + fromLocal) pairs.
 */
class LiveFlow {
  states: number[] | undefined;
  packetsTotal = 0;
  private head: number[] | undefined;
  private tail: number[] | undefined;
  private tailNext = 0;

  addState(atUs: number, timeoutUs: number, keyIndex: number, kind: number): void {
    (this.states ??= []).push(atUs, timeoutUs, keyIndex, kind);
  }

  addPacket(tsUs: number, frame: number, fromLocal: boolean, headMax: number, tailMax: number): void {
    this.packetsTotal++;
    const code = frame * 2 + (fromLocal ? 1 : 0);
    const head = (this.head ??= []);
    if (head.length < headMax * 2) {
      head.push(tsUs, code);
      return;
    }
    const tail = (this.tail ??= []);
    if (tail.length < tailMax * 2) {
      tail.push(tsUs, code);
      return;
    }
    tail[this.tailNext] = tsUs;
    tail[this.tailNext + 1] = code;
    this.tailNext = (this.tailNext + 2) % (tailMax * 2);
  }

  /** The packets kept, in time order. */
  packets(): TimelinePacket[] {
    const out: TimelinePacket[] = [];
    const push = (values: readonly number[], from: number, to: number): void => {
      for (let i = from; i < to; i += 2) out.push({ tsUs: values[i]!, frame: Math.floor(values[i + 1]! / 2), fromLocal: values[i + 1]! % 2 === 1 });
    };
    if (this.head !== undefined) push(this.head, 0, this.head.length);
    if (this.tail !== undefined) {
      push(this.tail, this.tailNext, this.tail.length);
      push(this.tail, 0, this.tailNext);
    }
    return out;
  }
}

/** A denied packet while it is being collected: `modelFrame` pairs it with the packet the table just observed. */
interface DeniedMark extends DeniedPacket {
  modelFrame: number;
}

interface LaneBuilder {
  lifetimes: StateLifetime[];
  lifetimesOmitted: number;
  denied: DeniedMark[];
  deniedTotal: number;
}

/** One 5-tuple being gathered. */
class Group {
  service = '';
  packets: TimelinePacket[] = [];
  packetsTotal = 0;
  packetsOmitted = 0;
  firstUs = Number.POSITIVE_INFINITY;
  lastUs = Number.NEGATIVE_INFINITY;
  expirations = 0;
  /** Where it was drawn from, once it is drawn. */
  importance: TimelineImportance | undefined;
  /** Position in the queue of expired-only 5-tuples. */
  pendingSeq = -1;
  /** Set once a packet's role named the local side (a denial alone guesses: destination is local). */
  orientationKnown = false;
  readonly lanes: LaneBuilder[];

  constructor(
    readonly key: string,
    public local: string,
    public remote: string,
    profiles: number,
  ) {
    this.lanes = Array.from({ length: profiles }, () => ({ lifetimes: [], lifetimesOmitted: 0, denied: [], deniedTotal: 0 }));
  }
}

/** A 5-tuple's text: both endpoints, local first, and a key that does not depend on which side is which. */
interface TupleText {
  key: string;
  local: string;
  remote: string;
}

function tupleText(first: string, second: string, firstIsLocal: boolean): TupleText {
  return {
    key: first < second ? `${first}|${second}` : `${second}|${first}`,
    local: firstIsLocal ? first : second,
    remote: firstIsLocal ? second : first,
  };
}

const LOST_REASONS = new Set(['state-expired', 'purge-window', 'state-alive']);
const IMPORTANCE_ORDER: Record<TimelineImportance, number> = { lost: 0, unsolicited: 1, expired: 2 };

/** Options of a collector. */
export interface TimelineCollectorOptions {
  /** The profiles whose tables are indexes 0 … n−1 of the replay; later tables (sweeps, observers) are ignored. */
  profiles: readonly TimeoutProfile[];
  limits?: Partial<TimelineLimits> | undefined;
}

/** Collects the timelines of one run. Feed it through `replayEvents` (or the methods, for explain's own table). */
export class TimelineCollector {
  readonly limits: TimelineLimits;
  private readonly profiles: readonly TimeoutProfile[];
  private readonly purgeLagUs: number[];
  private readonly live: Array<Map<number, LiveFlow>>;
  private readonly keyNames: string[] = [];
  private readonly keyIndex = new Map<string, number>();
  private readonly drawn = new Map<string, Group>();
  private readonly drawnCount: Record<TimelineImportance, number> = { lost: 0, unsolicited: 0, expired: 0 };
  private readonly pending = new Map<string, Group>();
  private readonly pendingRingKey: string[] = [];
  private readonly pendingRingSeq = new Float64Array(PENDING_CAPACITY);
  private pendingSeq = 0;
  private readonly listed = new Map<string, ListedFlow>();
  private listedOmittedFlows = 0;
  private listedOmittedDenials = 0;
  private readonly deniedByReason: Array<Record<string, number>>;
  /** The mark each table's last denial made, until the observation of the same packet completes it. */
  private readonly lastMark: Array<{ mark: DeniedMark | undefined; group: Group } | undefined>;
  private readonly lastDenialTuple: Array<{ flowId: number; text: TupleText } | undefined>;
  private readonly marksByDenial = new Map<Denial, { mark: DeniedMark; group: Group }>();
  private keepDenialObjects = false;
  private explained = false;
  private lastSeenUs = -1;
  private local: LocalSide | undefined;

  constructor(options: TimelineCollectorOptions) {
    this.profiles = options.profiles;
    this.limits = { ...TIMELINE_LIMITS, ...options.limits };
    // pf keeps matching an expired state until its purge runs, up to `interval` later (behaviour.md §1.1).
    this.purgeLagUs = this.profiles.map((p) => (p.family === 'pf' ? (p.timeoutsUs['interval'] ?? 0) : 0));
    this.live = this.profiles.map(() => new Map());
    this.deniedByReason = this.profiles.map(() => ({}));
    this.lastMark = this.profiles.map(() => undefined);
    this.lastDenialTuple = this.profiles.map(() => undefined);
  }

  /** The replay events that feed this collector. */
  get replayEvents(): ReplayEvents {
    return {
      onLocalSide: (local) => this.setLocalSide(local),
      onObservation: (index, table, pkt, tsUs) => this.observe(index, table, pkt, tsUs, pkt.record.frame),
      onStateEvent: (index, flow, event) => this.stateEvent(index, flow, event),
      onDenial: (index, denial) => this.denial(index, denial),
      onFlowEnd: (index, flow) => this.flowEnd(index, flow),
    };
  }

  /** The local side, for reading which end of a denied packet is this host's before any packet said so. */
  setLocalSide(local: LocalSide): void {
    this.local = local;
  }

  /** explain maps its verdicts back to the table's denial records: keep them (explain's own memory bounds them). */
  keepDenials(): void {
    this.keepDenialObjects = true;
  }

  /** After table `index` observed `pkt` (its verdict in `table.last`); `frame` is the number reports give it. */
  observe(index: number, table: FlowTable, pkt: DecodedPacket, tsUs: number, frame: number): void {
    if (index >= this.profiles.length) return;
    if (tsUs > this.lastSeenUs) this.lastSeenUs = tsUs;
    const obs = table.last;
    const fromLocal = obs.role === 'outbound' || obs.role === 'local';
    const last = this.lastMark[index];
    if (last !== undefined) {
      this.lastMark[index] = undefined;
      const mark = last.mark;
      if (mark !== undefined && mark.modelFrame === pkt.record.frame) {
        mark.frame = frame;
        mark.fromLocal = fromLocal;
        mark.ifName = pkt.ifName;
        mark.process = processOf(pkt);
      }
      // A denial alone took its destination as the local end; the packet's role says for sure (a log may hold the
      // host's own blocked DHCP request, sent from the local side).
      const group = last.group;
      if (!group.orientationKnown && (obs.role === 'inbound' || fromLocal)) {
        group.orientationKnown = true;
        if (fromLocal) [group.local, group.remote] = [group.remote, group.local];
      }
    }
    const flow = obs.flow;
    if (index !== 0 || flow === undefined || flow.localSide === undefined) return;
    this.liveFlow(0, flow.id).addPacket(tsUs, frame, fromLocal, this.limits.packetsHead, this.limits.packetsTail);
  }

  /** A state was created, changed its timeout, or expired. */
  stateEvent(index: number, flow: Flow, event: StateEvent): void {
    if (index >= this.profiles.length || flow.localSide === undefined) return;
    const kind = event.event === 'created' ? EVENT_CREATED : event.event === 'expired' ? EVENT_EXPIRED : EVENT_CHANGED;
    this.liveFlow(index, flow.id).addState(event.atUs, event.timeoutUs, this.internKey(event.timeoutKey), kind);
  }

  /** A table denied a packet (or let it through inside pf's purge window). */
  denial(index: number, denial: Denial): void {
    if (index >= this.profiles.length) return;
    const counts = this.deniedByReason[index]!;
    counts[denial.reason] = (counts[denial.reason] ?? 0) + 1;
    const text = this.denialTuple(index, denial);
    const importance: TimelineImportance = LOST_REASONS.has(denial.reason) ? 'lost' : 'unsolicited';
    const group = this.drawn.get(text.key) ?? this.promote(text, importance);
    if (group === undefined) {
      // Past the drawing budget: the 5-tuple becomes a row of the list, with the expired state that came before.
      const waiting = this.pending.get(text.key);
      if (waiting !== undefined) {
        this.pending.delete(text.key);
        this.list(waiting);
      }
      const row = this.listedRow(text);
      if (row === undefined) this.listedOmittedDenials++;
      else {
        row.denied[index] = (row.denied[index] ?? 0) + 1;
        if (!row.reasons.includes(denial.reason)) row.reasons.push(denial.reason);
        if (denial.tsUs < row.firstUs) row.firstUs = denial.tsUs;
        if (denial.tsUs > row.lastUs) row.lastUs = denial.tsUs;
      }
      return;
    }
    if (importance === 'lost') group.importance = 'lost';
    const lane = group.lanes[index]!;
    lane.deniedTotal++;
    let mark: DeniedMark | undefined;
    if (lane.denied.length < this.limits.deniedPerLane) {
      const previous = denial.previous;
      mark = {
        modelFrame: denial.frame,
        frame: denial.frame,
        tsUs: denial.tsUs,
        cause: denial.reason,
        reason: denial.reason,
        verdict: denial.verdict,
        fromLocal: false,
        previous:
          previous === undefined
            ? undefined
            : { flowId: previous.flowId, lastPacketUs: previous.lastUs, expiredUs: previous.expiresUs, timeoutKey: previous.timeoutKey, timeoutUs: previous.timeoutUs },
        pastExpiryUs: denial.pastExpiryUs,
        ifName: undefined,
        process: undefined,
        explanation: undefined,
      };
      lane.denied.push(mark);
      if (this.keepDenialObjects) this.marksByDenial.set(denial, { mark, group });
    }
    this.lastMark[index] = { mark, group };
  }

  /** A flow record ended: keep what a timeline needs of it, or drop it. */
  flowEnd(index: number, flow: Flow): void {
    if (index >= this.profiles.length) return;
    const liveMap = this.live[index]!;
    const live = liveMap.get(flow.id);
    if (live !== undefined) liveMap.delete(flow.id);
    if (flow.localSide === undefined) return;
    const text = this.flowTuple(flow);
    let group = this.drawn.get(text.key) ?? this.pending.get(text.key);
    if (group === undefined) {
      // Denials past the drawing budget were counted in the list when they came.
      if (flow.deniedPackets > 0 || flow.windowPackets > 0 || !this.stateLapsed(index, flow)) return;
      group = new Group(text.key, text.local, text.remote, this.profiles.length);
      this.addPending(group);
    }
    if (!group.orientationKnown) {
      group.orientationKnown = true;
      group.local = text.local;
      group.remote = text.remote;
    }
    this.addRecord(group, index, flow, live);
  }

  /**
   * explain: name each drawn denial by its verdict (cause, evidence, remedy, and the frame the text report gives).
   * Denials the model made but the log did not record are not verdicts and are dropped from the lanes. Returns the
   * verdicts no timeline shows (no capture behind them, or past the drawing budget).
   */
  attachExplanations(explanations: readonly Explanation[]): Explanation[] {
    this.explained = true;
    const notDrawn: Explanation[] = [];
    for (const e of explanations) {
      const found = e.packet.denial === undefined ? undefined : this.marksByDenial.get(e.packet.denial);
      if (found === undefined) {
        notDrawn.push(e);
        continue;
      }
      const { mark, group } = found;
      mark.cause = e.cause;
      mark.frame = e.packet.frame;
      mark.explanation = { confidence: e.confidence, evidence: e.evidence, remedy: e.remedy };
      if (group.service === '') group.service = e.packet.service;
    }
    return notDrawn;
  }

  /** Everything gathered, in the order the page shows it. */
  finish(): TimelineData {
    // What still waits for a denial now settles: drawn (the first few), else listed.
    for (const group of this.pending.values()) this.settle(group);
    this.pending.clear();
    const timelines: Array<{ timeline: FlowTimeline; firstDenialUs: number; firstUs: number }> = [];
    for (const group of this.drawn.values()) {
      const lanes = group.lanes.map((lane, i) => {
        let denied = lane.denied;
        let deniedTotal = lane.deniedTotal;
        if (this.explained) {
          denied = denied.filter((m) => m.explanation !== undefined);
          deniedTotal -= lane.denied.length - denied.length;
        }
        return {
          profile: this.profiles[i]!.name,
          lifetimes: lane.lifetimes,
          lifetimesOmitted: lane.lifetimesOmitted,
          denied: denied.map(({ modelFrame: _modelFrame, ...packet }) => packet),
          deniedTotal,
        };
      });
      const firstDenialUs = Math.min(...lanes.flatMap((l) => l.denied.map((d) => d.tsUs)), Number.POSITIVE_INFINITY);
      timelines.push({
        timeline: {
          local: group.local,
          remote: group.remote,
          service: group.service,
          importance: group.importance ?? 'expired',
          packets: group.packets,
          packetsTotal: group.packetsTotal,
          packetsOmitted: group.packetsOmitted,
          lanes,
        },
        firstDenialUs,
        firstUs: group.firstUs,
      });
    }
    timelines.sort(
      (a, b) =>
        IMPORTANCE_ORDER[a.timeline.importance] - IMPORTANCE_ORDER[b.timeline.importance] ||
        a.firstDenialUs - b.firstDenialUs ||
        a.firstUs - b.firstUs ||
        (a.timeline.local + a.timeline.remote < b.timeline.local + b.timeline.remote ? -1 : 1),
    );
    const listed = [...this.listed.values()].sort((a, b) => a.firstUs - b.firstUs || (a.local + a.remote < b.local + b.remote ? -1 : 1));
    return {
      profiles: this.profiles.map((p) => p.name),
      timelines: timelines.map((t) => t.timeline),
      listed,
      listedOmittedFlows: this.listedOmittedFlows,
      listedOmittedDenials: this.listedOmittedDenials,
      deniedByReason: this.deniedByReason,
      cappedTimelines: timelines.filter((t) => t.timeline.packetsOmitted > 0).length,
      limits: this.limits,
    };
  }

  // --- internals ---------------------------------------------------------------------------------------------

  private liveFlow(index: number, flowId: number): LiveFlow {
    const map = this.live[index]!;
    let live = map.get(flowId);
    if (live === undefined) {
      live = new LiveFlow();
      map.set(flowId, live);
    }
    return live;
  }

  private internKey(key: string): number {
    let index = this.keyIndex.get(key);
    if (index === undefined) {
      index = this.keyNames.length;
      this.keyNames.push(key);
      this.keyIndex.set(key, index);
    }
    return index;
  }

  private denialTuple(index: number, denial: Denial): TupleText {
    const cached = this.lastDenialTuple[index];
    if (cached !== undefined && cached.flowId === denial.flowId) return cached.text;
    const src = formatEndpoint(formatAddress(denial.src, 0, denial.ipVersion), denial.srcPort);
    const dst = formatEndpoint(formatAddress(denial.dst, 0, denial.ipVersion), denial.dstPort);
    // Until a packet's role says otherwise, the denied packet came in: its destination is this host.
    const srcIsLocal = this.local !== undefined && isLocal(this.local, denial.src, denial.ipVersion) && !isLocal(this.local, denial.dst, denial.ipVersion);
    const text = tupleText(src, dst, srcIsLocal);
    this.lastDenialTuple[index] = { flowId: denial.flowId, text };
    return text;
  }

  private flowTuple(flow: Flow): TupleText {
    const a = formatEndpoint(formatAddress(flow.addrA, 0, flow.ipVersion), flow.portA);
    const b = formatEndpoint(formatAddress(flow.addrB, 0, flow.ipVersion), flow.portB);
    return tupleText(a, b, flow.localSide === 'a');
  }

  private promote(text: TupleText, importance: TimelineImportance): Group | undefined {
    const budget = importance === 'lost' ? this.limits.drawnLost : this.limits.drawnUnsolicited;
    if (this.drawnCount[importance] >= budget) return undefined;
    let group = this.pending.get(text.key);
    if (group !== undefined) this.pending.delete(text.key);
    else group = new Group(text.key, text.local, text.remote, this.profiles.length);
    group.importance = importance;
    this.drawn.set(text.key, group);
    this.drawnCount[importance]++;
    return group;
  }

  private addPending(group: Group): void {
    // Oldest out first, through a ring of (key, sequence) as the flow table does: taking a Map's first key after many
    // deletes walks every deleted slot before it. A slot whose group was promoted since is stale and skipped.
    const slot = this.pendingSeq % PENDING_CAPACITY;
    if (this.pendingSeq >= PENDING_CAPACITY) {
      const oldest = this.pending.get(this.pendingRingKey[slot]!);
      if (oldest !== undefined && oldest.pendingSeq === this.pendingRingSeq[slot]) {
        this.pending.delete(oldest.key);
        this.settle(oldest);
      }
    }
    group.pendingSeq = this.pendingSeq;
    this.pendingRingKey[slot] = group.key;
    this.pendingRingSeq[slot] = this.pendingSeq;
    this.pendingSeq++;
    this.pending.set(group.key, group);
  }

  /** A 5-tuple that only expired leaves the queue: drawn while the budget lasts, else one row of the list. */
  private settle(group: Group): void {
    if (this.drawnCount.expired < this.limits.drawnExpired && !this.drawn.has(group.key)) {
      group.importance = 'expired';
      this.drawn.set(group.key, group);
      this.drawnCount.expired++;
      return;
    }
    this.list(group);
  }

  /** A 5-tuple that is not drawn: its row of the list, or a count past the list's cap. */
  private list(group: Group): void {
    const row = this.listedRow({ key: group.key, local: group.local, remote: group.remote });
    if (row === undefined) {
      this.listedOmittedFlows++;
      return;
    }
    row.service ||= group.service;
    row.packets += group.packetsTotal;
    row.expirations += group.expirations;
    row.firstUs = Math.min(row.firstUs, group.firstUs);
    row.lastUs = Math.max(row.lastUs, group.lastUs);
    const expired = group.lanes.flatMap((l) => l.lifetimes).filter((l) => l.expired).at(-1);
    const segment = expired?.segments.at(-1);
    if (segment !== undefined && row.summary === '') row.summary = `expired (${segment.timeoutKey} ${segment.timeoutUs / 1e6} s)`;
  }

  private listedRow(text: TupleText): ListedFlow | undefined {
    let row = this.listed.get(text.key);
    if (row === undefined) {
      if (this.listed.size >= this.limits.listed) return undefined;
      row = { local: text.local, remote: text.remote, service: '', firstUs: Number.POSITIVE_INFINITY, lastUs: Number.NEGATIVE_INFINITY, packets: 0, denied: this.profiles.map(() => 0), reasons: [], expirations: 0, summary: '' };
      this.listed.set(text.key, row);
    }
    return row;
  }

  /** One flow record of a 5-tuple: its packets (profile 0), its state lifetime, its counts. */
  private addRecord(group: Group, index: number, flow: Flow, live: LiveFlow | undefined): void {
    if (group.service === '' && flow.service !== '') group.service = flow.service;
    if (flow.firstUs < group.firstUs) group.firstUs = flow.firstUs;
    if (flow.lastUs > group.lastUs) group.lastUs = flow.lastUs;
    if (this.stateLapsed(index, flow)) group.expirations++;
    if (index === 0 && live !== undefined && live.packetsTotal > 0) {
      const kept = live.packets();
      const room = Math.max(0, this.limits.packetsPerTimeline - group.packets.length);
      for (let i = 0; i < kept.length && i < room; i++) group.packets.push(kept[i]!);
      group.packetsTotal += live.packetsTotal;
      group.packetsOmitted += live.packetsTotal - Math.min(kept.length, room);
    }
    const states = live?.states;
    if (states === undefined || states.length === 0) return;
    const lane = group.lanes[index]!;
    if (lane.lifetimes.length >= this.limits.lifetimesPerLane) {
      lane.lifetimesOmitted++;
      return;
    }
    lane.lifetimes.push(this.lifetimeOf(index, flow, states));
  }

  /**
   * Whether the flow's state timed out: it ended by idle timeout, or the capture ended after its expiry (and pf's
   * purge) had passed. The table's wheel ends a flow whose timeout was shortened (pf udp.first → udp.single) only at
   * the slot it was filed in, so near the end of a capture such a flow ends as end-of-input with its expiry behind it.
   */
  private stateLapsed(index: number, flow: Flow): boolean {
    if (flow.endReason === 'idle-timeout') return true;
    return flow.endReason === 'end-of-input' && flow.hasState && flow.expiresUs + this.purgeLagUs[index]! <= this.lastSeenUs;
  }

  private lifetimeOf(index: number, flow: Flow, states: readonly number[]): StateLifetime {
    const profile = this.profiles[index]!;
    const segments: StateSegment[] = [];
    let expiredUs: number | undefined;
    for (let i = 0; i < states.length; i += 4) {
      const atUs = states[i]!;
      const kind = states[i + 3]!;
      if (segments.length > 0) segments.at(-1)!.toUs = atUs;
      if (kind === EVENT_EXPIRED) {
        expiredUs = atUs;
        break;
      }
      const timeoutKey = this.keyNames[states[i + 2]!]!;
      segments.push({ fromUs: atUs, toUs: atUs, timeoutKey, timeoutUs: states[i + 1]!, keyRank: Math.max(0, profile.keys.findIndex((k) => k.name === timeoutKey)) });
    }
    const createdUs = states[0]!;
    if (expiredUs === undefined && this.stateLapsed(index, flow)) {
      expiredUs = flow.expiresUs;
      if (segments.length > 0) segments.at(-1)!.toUs = expiredUs;
    }
    // A state alive at the end of the capture is drawn up to the capture's last packet, not to an expiry that never came.
    const endUs = expiredUs ?? Math.max(createdUs, Math.min(flow.expiresUs, Math.max(this.lastSeenUs, flow.lastUs)));
    if (expiredUs === undefined && segments.length > 0) segments.at(-1)!.toUs = endUs;
    const lagUs = this.purgeLagUs[index]!;
    return {
      flowId: flow.id,
      createdUs,
      endUs,
      expired: expiredUs !== undefined,
      wouldExpireUs: flow.expiresUs,
      purgeEndUs: expiredUs !== undefined && lagUs > 0 ? expiredUs + lagUs : undefined,
      lastPacketUs: flow.lastUs,
      segments,
    };
  }
}

/** Verdicts as the page lists them when no timeline shows them. */
export function listVerdicts(explanations: readonly Explanation[]): ListedVerdict[] {
  return explanations.map((e) => {
    const p = e.packet;
    const local = p.localAddr === '' ? (p.localPort === 0 ? 'this host' : `this host:${p.localPort}`) : formatEndpoint(p.localAddr, p.localPort);
    const remote = p.remotePort === 0 ? p.remoteAddr : formatEndpoint(p.remoteAddr, p.remotePort);
    return { frame: p.frame, tsUs: p.tsUs, from: p.fromLocal ? local : remote, to: p.fromLocal ? remote : local, cause: e.cause, confidence: e.confidence, text: e.text };
  });
}

function processOf(pkt: DecodedPacket): string | undefined {
  return pkt.pktap?.processName || pkt.record.processName || undefined;
}

function isLocal(local: LocalSide, bytes: Uint8Array, version: 4 | 6): boolean {
  const word = (i: number): number => ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
  return version === 4 ? local.hasIpv4(word(0)) : local.hasIpv6(word(0), word(4), word(8), word(12));
}
