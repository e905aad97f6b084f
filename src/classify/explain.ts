/**
 * Explains each denied inbound UDP packet: which cause (behaviour.md §7a), how sure, the evidence that decided it,
 * the causes ruled out and why, and the remedy. Checks run in a fixed order, first match wins, and every check that
 * did not match says why in `ruledOut`.
 *
 * The checks read `DenialFacts`: what the packets around the denied one say (the flow's last packet from the host,
 * the host's next one, denials of other flows in the same second, …). Offline, `explainDenials` takes them from the
 * whole timeline of a capture/log, so it may look ahead; the live tail (`LiveExplainer`) keeps them up to date as
 * packets arrive, and `settlesAfterUs` says how long later packets can still change a verdict.
 */
import { formatEndpoint } from '../address.js';
import type { Denial } from '../flow/table.js';
import { remedyFor, type CauseName } from './remedies.js';

/** One UDP packet of the timeline, as the classifier sees it. */
export interface ObservedPacket {
  /** Position in the timeline. */
  index: number;
  /** Record number in its source (the denial log for logged packets, else the capture). */
  frame: number;
  source: 'capture' | 'log';
  tsUs: number;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  /** Sent by the local side. */
  fromLocal: boolean;
  service: string;
  /** OpenVPN header, when the payload has one. */
  openvpnOpcode: number;
  openvpnOpcodeName: string;
  openvpnSession: string;
  payloadBytes: number;
  multicast: boolean;
  /**
   * An ICMP/ICMPv6 error about this UDP flow (the addresses and ports above are then the quoted flow's, seen from
   * the host), with the error's sender (the remote itself, or a router on the path). Undefined for UDP.
   */
  icmp?: { type: number; code: number; sender: string } | undefined;
  /** The firewall (log) or the model denied it. */
  denied: boolean;
  /** The model's denial record, for denied packets. */
  denial: Denial | undefined;
}

/** What the model said about timeouts, for evidence. */
export interface TimeoutContext {
  profileName: string;
  /** The timeout that applies to a flow the local side keeps alive (pf udp.multiple, conntrack replied…). */
  steadyTimeoutUs: number;
  /** Estimated from a denial log: longest idle gap that passed, shortest that was denied. */
  estimate: { longestPassedUs: number; shortestDeniedUs: number } | undefined;
}

/** The verdict on one denied packet. */
export interface Explanation {
  packet: ObservedPacket;
  cause: CauseName;
  confidence: number;
  evidence: string[];
  ruledOut: Array<{ cause: CauseName; why: string }>;
  remedy: string[];
  text: string;
  /** Live mode only: the verdict may change when later packets arrive. */
  provisional: boolean;
}

const SEC = 1_000_000;
/** Two denials of different flows this close together point at one event (a flush), not at idle timers. */
export const FLUSH_WINDOW_US = 1 * SEC;
const FLUSH_MIN_FLOWS = 3;
/** Strays of a graceful exit are in flight only: they arrive within a round trip or two of the last local packet. */
const INFLIGHT_US = 2 * SEC;
/** A new flow to the same server counts as the client's restart up to this long after the old flow's last stray. */
const RESTART_AFTER_LAST_STRAY_US = 5 * SEC;
const DNS_LIKE = new Set(['dns', 'mdns', 'llmnr', 'ntp', 'stun', 'netbios-ns']);

const fmt = (us: number): string => `${Number((us / SEC).toFixed(us < 10 * SEC ? 3 : 1))} s`;

/** Index of the timeline by flow and by remote endpoint, built once. */
export class Timeline {
  readonly byTuple = new Map<string, ObservedPacket[]>();
  readonly byRemote = new Map<string, ObservedPacket[]>();
  readonly byLocalPort = new Map<string, ObservedPacket[]>();
  /** ICMP errors by the flow they are about: kept apart, since an error is not the host using the flow. */
  readonly icmpByTuple = new Map<string, ObservedPacket[]>();
  readonly denied: ObservedPacket[] = [];

  constructor(readonly packets: readonly ObservedPacket[]) {
    for (const p of packets) {
      if (p.denied) this.denied.push(p);
      if (p.icmp !== undefined) {
        push(this.icmpByTuple, tupleKey(p), p);
        continue;
      }
      push(this.byTuple, tupleKey(p), p);
      push(this.byRemote, `${p.remoteAddr}|${p.remotePort}`, p);
      push(this.byLocalPort, `${p.localPort}`, p);
    }
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** `local|remote` key of a packet's flow. */
export function tupleKey(p: ObservedPacket): string {
  return `${p.localAddr}|${p.localPort}|${p.remoteAddr}|${p.remotePort}`;
}

const endpoint = formatEndpoint;

/**
 * What the classifier needs to know about the packets around one denied packet `p`, whose flow is its 5-tuple (seen
 * from the host). "Before" and "after" are positions in the timeline; ICMP errors about the flow are kept apart (an
 * error is not the host using the flow) and are only asked for through `hostUnreachablesSince`.
 */
export interface DenialFacts {
  /** The flow's packets before p, and how many of them the remote side sent. */
  packetsBefore: number;
  inboundBefore: number;
  /** The flow's first packet (p itself when p opened it). */
  first: ObservedPacket | undefined;
  /** The last packet before p that the firewall let through, either direction. */
  lastPassed: ObservedPacket | undefined;
  /** The last packet before p that the host sent and the firewall let through. */
  lastLocal: ObservedPacket | undefined;
  /** The last OpenVPN hard reset the host sent on this flow before p (passed or not). */
  lastLocalReset: ObservedPacket | undefined;
  /** After p: the host's next packet on the flow, and the remote's later packets (how many, the last). */
  nextLocal: ObservedPacket | undefined;
  inboundAfter: number;
  lastInboundAfter: ObservedPacket | undefined;
  /** Other flows (not multicast) with a denied packet within FLUSH_WINDOW_US of p, before or after it. */
  otherFlowsDeniedNear: number;
  /** Before p: a packet the host sent from p's local address and port to another remote, of p's service. */
  sameServiceOtherRemote: ObservedPacket | undefined;
  /** Before p: a packet the host sent to p's remote endpoint from p's local port but another local address. */
  sameRemoteOtherLocalAddress: ObservedPacket | undefined;
  /** The first packet the host sent from p's local address, another port, to p's remote endpoint within [fromUs, toUs]. */
  newFlowToRemote(fromUs: number, toUs: number): ObservedPacket | undefined;
  /** ICMP errors the host sent about this flow at or after `fromUs`: how many, and the first. */
  hostUnreachablesSince(fromUs: number): { count: number; first: ObservedPacket | undefined };
}

/** Explain every denied packet of the timeline. */
export function explainDenials(timeline: Timeline, timeouts: TimeoutContext): Explanation[] {
  return timeline.denied.map((p) => explainDenial(p, timelineFacts(p, timeline), timeouts));
}

/** The facts about `p` from a whole timeline (offline: everything before and after it is known). */
export function timelineFacts(p: ObservedPacket, timeline: Timeline): DenialFacts {
  const key = tupleKey(p);
  const tuple = timeline.byTuple.get(key) ?? [];
  const before = tuple.filter((q) => q.index < p.index);
  const after = tuple.filter((q) => q.index > p.index);
  const laterInbound = after.filter((q) => !q.fromLocal);
  const reversed = [...before].reverse();
  const sameRemote = timeline.byRemote.get(`${p.remoteAddr}|${p.remotePort}`) ?? [];
  const burst = timeline.denied.filter((q) => Math.abs(q.tsUs - p.tsUs) <= FLUSH_WINDOW_US && tupleKey(q) !== key && !q.multicast);
  return {
    packetsBefore: before.length,
    inboundBefore: before.filter((q) => !q.fromLocal).length,
    first: tuple[0],
    lastPassed: reversed.find((q) => !q.denied),
    lastLocal: reversed.find((q) => q.fromLocal && !q.denied),
    lastLocalReset: reversed.find((q) => q.fromLocal && q.openvpnOpcode >= 0 && isClientReset(q.openvpnOpcode)),
    nextLocal: after.find((q) => q.fromLocal),
    inboundAfter: laterInbound.length,
    lastInboundAfter: laterInbound.at(-1),
    otherFlowsDeniedNear: new Set(burst.map(tupleKey)).size,
    sameServiceOtherRemote: (timeline.byLocalPort.get(`${p.localPort}`) ?? []).find(
      (q) => q.index < p.index && q.fromLocal && q.localAddr === p.localAddr && (q.remoteAddr !== p.remoteAddr || q.remotePort !== p.remotePort) && q.service !== '' && q.service === p.service,
    ),
    sameRemoteOtherLocalAddress: sameRemote.find((q) => q.index < p.index && q.fromLocal && q.localPort === p.localPort && q.localAddr !== p.localAddr),
    newFlowToRemote: (fromUs, toUs) =>
      sameRemote.find((q) => q.fromLocal && q.localAddr === p.localAddr && q.localPort !== p.localPort && q.tsUs >= fromUs && q.tsUs <= toUs),
    hostUnreachablesSince: (fromUs) => {
      const errors = (timeline.icmpByTuple.get(key) ?? []).filter((q) => q.fromLocal && q.tsUs >= fromUs);
      return { count: errors.length, first: errors[0] };
    },
  };
}

/**
 * How long after the denied packet later packets can still change a verdict with this cause (behaviour.md §7a): 0
 * when nothing later is looked at (DHCP, multicast, ICMP errors, a flush: more denials only confirm it), the flush
 * window for causes decided by earlier packets alone (a burst of denials in the same second would still make it a
 * flush), and undefined when the host's or the server's later packets decide (the host sending again tells idle
 * expiry from a killed client; a new flow from another port makes it a restart). The live tail keeps such verdicts
 * provisional until a window of its own closes.
 */
export function settlesAfterUs(cause: CauseName): number | undefined {
  switch (cause) {
    case 'dhcp':
    case 'link-local-multicast':
    case 'icmp-error':
    case 'state-flush':
      return 0;
    case 'endpoint-change':
    case 'local-address-change':
    case 'unsolicited':
    case 'same-port-restart':
      return FLUSH_WINDOW_US;
    case 'graceful-exit-inflight':
    case 'client-restart':
    case 'late-reply':
    case 'client-killed':
    case 'idle-expiry':
      return undefined;
  }
}

/** The verdict on one denied packet, from the facts about the packets around it. */
export function explainDenial(p: ObservedPacket, facts: DenialFacts, timeouts: TimeoutContext): Explanation {
  const ruledOut: Array<{ cause: CauseName; why: string }> = [];
  const evidence: string[] = [];
  const lastLocal = facts.lastLocal;
  const lastAny = facts.lastPassed;
  const nextLocal = facts.nextLocal;
  // A log may also hold outbound packets the firewall blocked (DHCP requests under a kill switch).
  const from = p.fromLocal ? endpoint(p.localAddr, p.localPort) : endpoint(p.remoteAddr, p.remotePort);
  const to = p.fromLocal ? endpoint(p.remoteAddr, p.remotePort) : endpoint(p.localAddr, p.localPort);
  const done = (cause: CauseName, confidence: number, lines: string[]): Explanation => {
    const remedy = remedyFor(cause, { service: p.service, remote: from, localPort: p.localPort, steadyTimeoutUs: timeouts.steadyTimeoutUs });
    const text = `${from} → ${to}${p.service ? ` (${p.service})` : ''}: ${cause}. ${lines.join(' ')} Fix: ${remedy[0] ?? 'nothing to do.'}`;
    return { packet: p, cause, confidence, evidence: lines, ruledOut, remedy, text, provisional: false };
  };

  // 0. An ICMP error about a UDP flow: passed only as related to a live state (behaviour.md §7a).
  if (p.icmp !== undefined) return explainIcmpError(p, lastAny, timeouts, done);
  ruledOut.push({ cause: 'icmp-error', why: 'a UDP datagram, not an ICMP error about one' });

  // 1. DHCP: the lease exchange itself (RFC 2131 ports 67/68, RFC 8415 546/547).
  const dhcpPorts = new Set([67, 68, 546, 547]);
  if (dhcpPorts.has(p.remotePort) && dhcpPorts.has(p.localPort)) {
    return done('dhcp', 0.97, [
      p.fromLocal
        ? `The host's own DHCP request (${p.localPort}→${p.remotePort}) was blocked on its way out, so it cannot get or renew an address — this is why Wi-Fi does not come back after sleep.`
        : `DHCP ${p.remotePort}→${p.localPort}${p.multicast ? ' to a broadcast address' : ''}: the server's offer/ack reaches the host as new inbound traffic, which a default-deny policy drops — this is why the address is not renewed and Wi-Fi does not come back after sleep.`,
    ]);
  }
  ruledOut.push({ cause: 'dhcp', why: `ports ${p.remotePort}/${p.localPort} are not DHCP's` });

  // 2. LAN multicast and broadcast: never part of a state the host opened.
  if (p.multicast) {
    return done('link-local-multicast', 0.95, [
      `Sent to the group/broadcast address ${p.localAddr}${p.service ? ` (${p.service})` : ''} by ${p.remoteAddr}; replies to multicast come from other hosts' unicast addresses, so no outbound state can match them.`,
    ]);
  }
  ruledOut.push({ cause: 'link-local-multicast', why: `destination ${p.localAddr} is unicast` });

  // 3. State flush: several unrelated flows denied within a second although their state was alive or young.
  const flowsInBurst = facts.otherFlowsDeniedNear + 1;
  const stateAlive = p.denial?.reason === 'state-alive';
  const gapUs = lastAny === undefined ? undefined : p.tsUs - lastAny.tsUs;
  if ((stateAlive && flowsInBurst >= 2) || (flowsInBurst >= FLUSH_MIN_FLOWS && gapUs !== undefined && gapUs < timeouts.steadyTimeoutUs / 2)) {
    return done('state-flush', stateAlive ? 0.85 : 0.7, [
      `${flowsInBurst} different flows were denied within ${fmt(FLUSH_WINDOW_US)} of each other`,
      gapUs === undefined ? '' : `and this one had been silent only ${fmt(gapUs)} (the model's timeout is ${fmt(timeouts.steadyTimeoutUs)}),`,
      'so the firewall lost its state table at once (pfctl -F/-Fa on a kill-switch enable, conntrack -F, nft flush ruleset, a reload) rather than timing flows out.',
    ].filter((l) => l !== ''));
  }
  ruledOut.push({ cause: 'state-flush', why: `${flowsInBurst} flow(s) denied in that second${stateAlive ? '' : ' and the state had expired by the model'}` });

  // 4. Nothing was ever sent by the local side on this 5-tuple.
  if (lastLocal === undefined) {
    const otherRemote = facts.sameServiceOtherRemote;
    if (otherRemote !== undefined) {
      return done('endpoint-change', 0.75, [
        `The host never sent to ${from}, but its port ${p.localPort} talks ${p.service} to ${endpoint(otherRemote.remoteAddr, otherRemote.remotePort)}: the server (or a load balancer, or a round-robin name) answers from another address or port, which no state matches.`,
      ]);
    }
    ruledOut.push({ cause: 'endpoint-change', why: `port ${p.localPort} had no ${p.service || 'same-service'} flow with another remote` });
    const sameRemoteOtherLocal = facts.sameRemoteOtherLocalAddress;
    if (sameRemoteOtherLocal !== undefined) {
      return done('local-address-change', 0.75, [
        `${from} had a flow with this port from the host's previous address ${sameRemoteOtherLocal.localAddr}; the host's address changed (roaming, sleep/wake, a DHCP renew) and the state for the old address does not match.`,
      ]);
    }
    ruledOut.push({ cause: 'local-address-change', why: 'no flow from another local address to this remote endpoint' });
    ruledOut.push({ cause: 'idle-expiry', why: 'the host never sent on this flow, so there was no state to expire' });
    return done('unsolicited', facts.packetsBefore === 0 ? 0.8 : 0.65, [
      `No packet from the host to ${from} precedes it${facts.packetsBefore > 0 ? ` (${facts.packetsBefore} earlier inbound packet(s) on this flow, all unanswered)` : ''}: a scan, a peer-to-peer probe or a sender with stale information. Nothing lost.`,
    ]);
  }

  const silentUs = p.tsUs - lastLocal.tsUs;
  const prev = p.denial?.previous;
  const timeoutText = prev !== undefined ? `the modelled ${prev.timeoutKey} timeout of ${fmt(prev.timeoutUs)}` : `a timeout of about ${fmt(timeouts.steadyTimeoutUs)}`;
  evidence.push(`The host last sent on this flow ${fmt(silentUs)} before (frame ${lastLocal.frame}); the last packet either way was ${fmt(gapUs ?? silentUs)} before.`);

  // 5. A session restart on the same port: the host sent a fresh hard reset on this very 5-tuple.
  const resetHere = facts.lastLocalReset;
  if (resetHere !== undefined && resetHere.index !== facts.first?.index && p.openvpnSession !== '' && p.openvpnSession !== resetHere.openvpnSession) {
    return done('same-port-restart', 0.8, [
      ...evidence,
      `The host restarted OpenVPN on the same port: a new ${resetHere.openvpnOpcodeName} (session ${resetHere.openvpnSession}) at frame ${resetHere.frame}, while this packet still carries the old session ${p.openvpnSession}.`,
    ]);
  }
  ruledOut.push({ cause: 'same-port-restart', why: resetHere === undefined || resetHere.index === facts.first?.index ? 'no new hard reset on this 5-tuple' : 'the packet carries the new session' });

  // 6. Graceful exit: only packets already in flight arrive after the host's last word.
  const lastInbound = facts.lastInboundAfter ?? p;
  if (silentUs <= INFLIGHT_US && nextLocal === undefined && lastInbound.tsUs - lastLocal.tsUs <= INFLIGHT_US) {
    return done('graceful-exit-inflight', 0.7, [
      ...evidence,
      `It arrived within ${fmt(silentUs)} of the host's last packet${lastLocal.openvpnOpcode === 4 ? ' (a P_CONTROL_V1, as the 2.6 EXIT message is)' : ''} and nothing follows: in-flight packets of a session that was closed on purpose.`,
    ]);
  }
  ruledOut.push({ cause: 'graceful-exit-inflight', why: nextLocal !== undefined ? 'the host sends on this flow again later' : `it came ${fmt(silentUs)} after the host's last packet (in-flight is ≤ ${fmt(INFLIGHT_US)})` });

  // 7. Client restarted on a new source port: a new flow from the same host to the same server endpoint.
  const restart = facts.newFlowToRemote(lastLocal.tsUs, lastInbound.tsUs + RESTART_AFTER_LAST_STRAY_US);
  if (restart !== undefined) {
    const withReset = isClientReset(restart.openvpnOpcode);
    return done('client-restart', withReset ? 0.9 : 0.75, [
      ...evidence,
      `The host opened a new flow to the same server from port ${restart.localPort} at frame ${restart.frame}${withReset ? ` with a fresh ${restart.openvpnOpcodeName}${restart.openvpnSession ? ` (session ${restart.openvpnSession})` : ''}` : ''}, while the server keeps sending to the old port ${p.localPort}: the client restarted (OpenVPN ≥ 2.6 binds a new port) and the server still serves the old instance until its ping-restart.`,
    ]);
  }
  ruledOut.push({ cause: 'client-restart', why: `no new flow from ${p.localAddr} to ${from} on another port` });

  // 8. A late reply: a DNS/NTP-style answer after the request's state timed out.
  const remoteSent = facts.inboundBefore;
  if (DNS_LIKE.has(p.service) && remoteSent <= 2) {
    return done('late-reply', 0.75, [...evidence, `A ${p.service} reply arriving after ${timeoutText}: the request's state expired before the answer came (or the socket is gone). Harmless.`]);
  }
  ruledOut.push({ cause: 'late-reply', why: DNS_LIKE.has(p.service) ? `the remote had sent ${remoteSent} packets: a stream, not one late answer` : `${p.service || 'this service'} is not request/response` });

  // 9. Killed client vs idle expiry: does the host ever speak on this flow again?
  const strays = facts.inboundAfter + 1;
  const spacing = facts.inboundAfter > 0 ? (lastInbound.tsUs - p.tsUs) / facts.inboundAfter : undefined;
  if (nextLocal === undefined) {
    // The host's own port-unreachable answers to strays that still matched state say nothing listens any more.
    const unreachables = facts.hostUnreachablesSince(lastLocal.tsUs);
    return done('client-killed', Math.min((strays >= 2 ? 0.75 : 0.55) + (unreachables.count > 0 ? 0.1 : 0), 0.9), [
      ...evidence,
      `The host never sends on this flow again, and no new session to this server appears; the server keeps sending${strays >= 2 ? ` (${strays} packets, about every ${fmt(spacing ?? 0)})` : ''} to a client that went away without an exit notification (killed, crashed, or asleep), until its ping-restart drops the instance.`,
      ...(unreachables.count > 0
        ? [`The host answered ${unreachables.count} of the server's packets with ICMP port unreachable (first at frame ${unreachables.first!.frame}): nothing listens on port ${p.localPort} any more.`]
        : []),
    ]);
  }
  ruledOut.push({ cause: 'client-killed', why: `the host sends on this flow again at frame ${nextLocal.frame}` });

  const trap = prev?.timeoutKey === 'udp.single' && prev.packetsFromLocal === 1 ? ' pf kept it on udp.single (30 s) because the host sent only once while the peer streamed (MULTIPLE:SINGLE).' : '';
  const estimate = timeouts.estimate === undefined ? '' : ` The denial log itself puts the firewall's timeout between ${fmt(timeouts.estimate.longestPassedUs)} (longest gap that passed) and ${fmt(timeouts.estimate.shortestDeniedUs)} (shortest gap denied).`;
  return done('idle-expiry', prev !== undefined ? 0.85 : 0.7, [
    ...evidence,
    `The flow was idle longer than ${timeoutText}, so the state was gone when this packet came;${trap} the host sends again at frame ${nextLocal.frame}, which recreates the state.${estimate}`,
  ]);
}

/** RFC 792 / RFC 4443 names of the errors that quote a datagram. */
function icmpErrorName(p: ObservedPacket): string {
  const icmp = p.icmp!;
  const v6 = p.localAddr.includes(':') || p.remoteAddr.includes(':');
  if (!v6) {
    if (icmp.type === 3) return ['net unreachable', 'host unreachable', 'protocol unreachable', 'port unreachable', 'fragmentation needed'][icmp.code] ?? `destination unreachable (code ${icmp.code})`;
    if (icmp.type === 11) return 'time exceeded';
    if (icmp.type === 12) return 'parameter problem';
    return `ICMP type ${icmp.type} code ${icmp.code}`;
  }
  if (icmp.type === 1) return ['no route', 'administratively prohibited', 'beyond scope', 'address unreachable', 'port unreachable'][icmp.code] ?? `destination unreachable (code ${icmp.code})`;
  if (icmp.type === 2) return 'packet too big';
  if (icmp.type === 3) return 'time exceeded';
  if (icmp.type === 4) return 'parameter problem';
  return `ICMPv6 type ${icmp.type} code ${icmp.code}`;
}

function explainIcmpError(
  p: ObservedPacket,
  lastUdp: ObservedPacket | undefined,
  timeouts: TimeoutContext,
  done: (cause: CauseName, confidence: number, lines: string[]) => Explanation,
): Explanation {
  const icmp = p.icmp!;
  const flow = `${endpoint(p.localAddr, p.localPort)} → ${endpoint(p.remoteAddr, p.remotePort)}`;
  const by = icmp.sender === p.remoteAddr ? 'the remote itself' : `${icmp.sender} (a router on the path)`;
  const prev = p.denial?.previous;
  const lines = [`An ICMP ${icmpErrorName(p)} from ${by} about the host's UDP flow ${flow}.`];
  if (p.denial?.reason === 'state-alive') {
    lines.push('The model still held state for that flow, yet the firewall dropped the error: its state table had been cleared, or the ruleset does not pass ICMP errors as related traffic.');
  } else if (prev !== undefined) {
    lines.push(`That flow's state (${prev.timeoutKey}, ${fmt(prev.timeoutUs)}) expired ${fmt(p.tsUs - prev.expiresUs)} before, ${fmt(p.tsUs - prev.lastUs)} after its last packet, so the error matched nothing and counted as new inbound traffic.`);
  } else if (lastUdp !== undefined) {
    lines.push(`The flow's last packet was ${fmt(p.tsUs - lastUdp.tsUs)} before (the model's timeout is about ${fmt(timeouts.steadyTimeoutUs)}): its state was gone, so the error matched nothing.`);
  } else {
    lines.push('No packet of that flow precedes it here: the firewall never held its state (or the capture starts later).');
  }
  lines.push('Firewalls pass ICMP errors only as related to a live state; a late one reports an old datagram (a closed port, an unreachable host, an expired TTL). Harmless by itself; repeated port unreachables mean the remote socket is gone.');
  return done('icmp-error', prev !== undefined || lastUdp !== undefined ? 0.9 : 0.75, lines);
}

/** An OpenVPN opcode a client starts a session with (P_CONTROL_HARD_RESET_CLIENT_V1/V2/V3). */
export function isClientReset(opcode: number): boolean {
  return opcode === 7 || opcode === 10 || opcode === 1;
}
