/**
 * What the HTML report draws: plain data in packet-time microseconds, built by the pipeline's timeline collector
 * (pipeline/timeline.ts) and by the page builders below from each command's report. The renderer only lays it out.
 *
 * A *timeline* is one 5-tuple seen from the local host (a "conversation"): its packets by direction, and per profile
 * a lane with each state lifetime the model gave it (created → expiry, by timeout key, then pf's purge window) and
 * the packets that profile denied, each with its cause.
 */

/** One packet of a timeline. */
export interface TimelinePacket {
  tsUs: number;
  /** Record number as the command's text report gives it (explain: the denial log's, for logged packets). */
  frame: number;
  /** Sent by the local host (drawn above the axis), else received (below). */
  fromLocal: boolean;
}

/** A stretch of a state lifetime under one timeout key. */
export interface StateSegment {
  fromUs: number;
  toUs: number;
  timeoutKey: string;
  timeoutUs: number;
  /** Position of the key in its profile (0 first, 1, 2): picks the shade. */
  keyRank: number;
}

/** One state the model held for the 5-tuple: one flow record of the table. */
export interface StateLifetime {
  /** The flow table's id of the record (what `previousFlowId` of a denial points at). */
  flowId: number;
  createdUs: number;
  /** Expiry for an expired state; for a state still alive at the end of the capture, the capture's last packet time. */
  endUs: number;
  expired: boolean;
  /** When the state would have expired had nothing more arrived (alive states). */
  wouldExpireUs: number;
  /** pf: an expired state still matches until the next purge, up to `interval` later. Undefined elsewhere. */
  purgeEndUs: number | undefined;
  /** Last packet of the record (the one the timeout counts from, under most profiles). */
  lastPacketUs: number;
  segments: StateSegment[];
}

/** A packet a profile denied (or let through only inside pf's purge window). */
export interface DeniedPacket {
  frame: number;
  tsUs: number;
  /** The classifier's cause (explain), else the model's reason. */
  cause: string;
  /** The model's reason: state-expired, never-seen, purge-window, state-alive. */
  reason: string;
  /** `window`: inside pf's purge lag, where it may still have matched. */
  verdict: 'deny' | 'window';
  fromLocal: boolean;
  /** The expired state this packet found gone (state-expired), with its last packet, expiry and timeout. */
  previous: { flowId: number; lastPacketUs: number; expiredUs: number; timeoutKey: string; timeoutUs: number } | undefined;
  /** How far past the modelled expiry a purge-window packet came. */
  pastExpiryUs: number;
  /** Interface and process the capture records for it (attacker-controlled text: always escaped). */
  ifName: string | undefined;
  process: string | undefined;
  /** explain: the verdict's evidence and remedy. */
  explanation: { confidence: number; evidence: string[]; remedy: string[] } | undefined;
}

/** One profile's view of a timeline. */
export interface TimelineLane {
  profile: string;
  lifetimes: StateLifetime[];
  /** State lifetimes past the per-lane cap, not drawn. */
  lifetimesOmitted: number;
  denied: DeniedPacket[];
  /** Every denial on the lane, drawn or not. */
  deniedTotal: number;
}

/** Why a timeline is drawn: traffic the host wanted was lost, unsolicited traffic was denied, or a state only expired. */
export type TimelineImportance = 'lost' | 'unsolicited' | 'expired';

/** One 5-tuple drawn in full. */
export interface FlowTimeline {
  local: string;
  remote: string;
  service: string;
  importance: TimelineImportance;
  packets: TimelinePacket[];
  /** Every packet of the 5-tuple while it was followed; `packets` may hold fewer (see `packetsOmitted`). */
  packetsTotal: number;
  packetsOmitted: number;
  /** One per profile, in the profiles' order. */
  lanes: TimelineLane[];
}

/** A 5-tuple that had denials or an expiry but is not drawn in full. */
export interface ListedFlow {
  local: string;
  remote: string;
  service: string;
  firstUs: number;
  lastUs: number;
  packets: number;
  /** Denials per profile, in the profiles' order. */
  denied: number[];
  /** The model's reasons for its denials. */
  reasons: string[];
  /** States that expired, over every profile. */
  expirations: number;
  /** Short reason it is listed: `expired (udp.single 30 s)`, `3 denied: never-seen`. */
  summary: string;
}

/** The limits that keep the page and the collector's memory bounded; the page states them when they bite. */
export interface TimelineLimits {
  drawnLost: number;
  drawnUnsolicited: number;
  drawnExpired: number;
  packetsHead: number;
  packetsTail: number;
  packetsPerTimeline: number;
  lifetimesPerLane: number;
  deniedPerLane: number;
  listed: number;
}

/** Everything the collector gathered. */
export interface TimelineData {
  profiles: string[];
  timelines: FlowTimeline[];
  listed: ListedFlow[];
  /** Flows that only expired, past the list's cap: counted, not listed. */
  listedOmittedFlows: number;
  /** Denied packets of flows past the list's cap: counted, not listed. */
  listedOmittedDenials: number;
  /** Denials per profile by the model's reason (analyze, simulate); explain counts its causes itself. */
  deniedByReason: Array<Record<string, number>>;
  /** Timelines whose packet ticks were capped. */
  cappedTimelines: number;
  limits: TimelineLimits;
}

/** A profile as the page names it. */
export interface PageProfile {
  name: string;
  title: string;
  timeouts: Record<string, number>;
  /** Per-profile outcome (simulate): denied, legitimate, flows broken. */
  outcome?: { denied: number; legitimate: number; flowsBroken: number; purgeWindow: number } | undefined;
}

/** An explanation the timelines could not show (no capture, or past the drawing budget), listed as text. */
export interface ListedVerdict {
  frame: number;
  tsUs: number;
  from: string;
  to: string;
  cause: string;
  confidence: number;
  text: string;
}

/** The whole page. */
export interface HtmlPage {
  command: 'analyze' | 'explain' | 'simulate';
  /** Input files as the user named them. */
  inputs: string[];
  /** Key facts for the summary (packets, time span, timeout estimate …). */
  facts: Array<[string, string]>;
  local: { addresses: string[]; reason: string };
  profiles: PageProfile[];
  /** Counts by cause, one column per profile (explain and analyze: one). */
  causes: Array<{ cause: string; counts: number[] }>;
  /** The counts name the model's reasons (analyze, simulate) or the classifier's causes (explain). */
  causesAre: 'reasons' | 'causes';
  timeline: TimelineData;
  verdictsNotDrawn: ListedVerdict[];
  verdictsNotDrawnOmitted: number;
}
