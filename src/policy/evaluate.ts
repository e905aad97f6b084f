/**
 * Runs one packet through a pf rule set the way pf_test_rule does for a packet that matches no state — which is
 * what every logged block record is: interfaces in `set skip on` are not filtered at all; otherwise rules are
 * evaluated from first to last, the last matching `pass` or `block` decides, a matching `quick` rule decides at
 * once, and with no matching rule the packet passes (pf.conf(5) "PACKET FILTERING"). Anchors are evaluated in
 * place when their own criteria match; a quick rule inside one ends the whole evaluation, and an anchor marked
 * quick ends it after the anchor when any rule inside matched.
 *
 * Lists follow pfctl's expansion into one rule per element, so `on { en0 ! en1 }` and `from { ! a, ! b }` match
 * when ANY element matches — pf.conf(5)'s warning about negated lists included. Tables take the longest matching
 * prefix, where a negated entry excludes.
 *
 * A log cannot answer everything a rule may ask (`user root`, a host name, an interface's network): such criteria
 * are assumed and every verdict lists what it assumed.
 */
import { broadcastOf, netContains, networkOf, parseIp, type IpNet } from './ip.js';
import type { PfCriteria, PfFilterRule, PfHost, PfHostItem, PfIfItem, PfPortItem, PfRuleset, PfStatement } from './pf-model.js';

/** What a rule can look at in one packet. */
export interface PacketFacts {
  /** Interface the packet crossed; undefined when the log does not name it (NFLOG carries indexes). */
  ifName: string | undefined;
  direction: 'in' | 'out' | 'unknown';
  af: 4 | 6;
  /** IP protocol number (17 UDP, 6 TCP, 58 ICMPv6, …). */
  proto: number;
  src: string;
  dst: string;
  sport: number | undefined;
  dport: number | undefined;
  icmpType: number | undefined;
  icmpCode: number | undefined;
  /** TCP flag byte (RFC 9293 §3.1), when the packet is TCP and the header was captured. */
  tcpFlags: number | undefined;
}

/** What the evaluation knows about the host, from the log. */
export interface HostContext {
  /** The host's own addresses per interface (sources of outbound, destinations of inbound unicast packets). */
  addressesByInterface: ReadonlyMap<string, readonly string[]>;
  /** Interfaces that count as `egress` (the physical ones in the log). */
  egress: readonly string[];
}

/** Which rule decided and what the evaluation had to assume. */
export interface Verdict {
  action: 'pass' | 'block';
  /** The deciding rule; undefined when no rule matched (pf passes) or the interface is skipped. */
  rule: PfFilterRule | undefined;
  /** `set skip on` covers the interface: pf does not filter it. */
  skipped: boolean;
  /** Anchor names from the main rule set to the deciding rule. */
  anchors: string[];
  /** Criteria the log could not answer, by rule line: what was assumed. */
  assumptions: string[];
}

/** IPv4 networks are assumed to be /24 and IPv6 ones /64 when a rule asks for `IF:network` (the usual LAN sizes). */
export const ASSUMED_PREFIX = { 4: 24, 6: 64 } as const;

const TCP_FLAG_BITS: Readonly<Record<string, number>> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, W: 0x80 };

type Match = { result: 'match' | 'no' | 'assumed-no'; assumed: string[] };

/** Evaluate one packet against a rule set. */
export function evaluatePacket(ruleset: PfRuleset, facts: PacketFacts, context: HostContext): Verdict {
  if (facts.ifName !== undefined && ruleset.skip.some((item) => matchInterfaceItem(item, facts.ifName!, context))) {
    return { action: 'pass', rule: undefined, skipped: true, anchors: [], assumptions: [] };
  }
  const evaluation = new Evaluation(ruleset, facts, context);
  evaluation.run(ruleset.statements, []);
  const last = evaluation.last;
  return {
    action: last === undefined || last.rule.action === 'pass' ? 'pass' : 'block',
    rule: last?.rule,
    skipped: false,
    anchors: last?.anchors ?? [],
    assumptions: [...new Set(evaluation.assumptions)],
  };
}

class Evaluation {
  last: { rule: PfFilterRule; anchors: string[] } | undefined;
  readonly assumptions: string[] = [];
  private readonly src: IpNet | undefined;
  private readonly dst: IpNet | undefined;

  constructor(
    private readonly ruleset: PfRuleset,
    private readonly facts: PacketFacts,
    private readonly context: HostContext,
  ) {
    this.src = parseIp(facts.src);
    this.dst = parseIp(facts.dst);
  }

  /** Evaluate statements in order; true when a quick match ended the whole evaluation. */
  run(statements: readonly PfStatement[], anchors: string[]): boolean {
    for (const statement of statements) {
      const match = this.matchCriteria(statement, statement.kind === 'filter' ? statement : undefined);
      this.note(statement.line, match);
      if (match.result !== 'match') continue;
      if (statement.kind === 'filter') {
        // `match` rules (OpenBSD 4.6+) set options but never decide pass or block.
        if (statement.action === 'match') continue;
        this.last = { rule: statement, anchors };
        if (statement.quick) return true;
        continue;
      }
      if (statement.rules === undefined) continue;
      const before = this.last;
      if (this.run(statement.rules, [...anchors, statement.name])) return true;
      if (statement.quick && this.last !== before) return true;
    }
    return false;
  }

  private note(line: number, match: Match): void {
    if (match.result === 'no') return;
    const where = line > 0 ? `line ${line}` : 'proposed rule';
    for (const a of match.assumed) this.assumptions.push(`${where}: ${a}`);
  }

  private matchCriteria(c: PfCriteria, rule: PfFilterRule | undefined): Match {
    const f = this.facts;
    const assumed: string[] = [];
    let assumedNo = false;
    const no: Match = { result: 'no', assumed: [] };
    if (c.direction !== undefined && c.direction !== f.direction) {
      if (f.direction !== 'unknown') return no;
      assumed.push('the log does not say the direction; assumed not to match');
      assumedNo = true;
    }
    if (c.interfaces !== undefined) {
      if (f.ifName === undefined) {
        assumed.push('the log does not name the interface; assumed not to match');
        assumedNo = true;
      } else if (!c.interfaces.some((item) => matchInterfaceItem(item, f.ifName!, this.context))) return no;
      else if (c.interfaces.some((item) => item.name === 'egress')) assumed.push(`egress taken as the physical interfaces in the log (${this.context.egress.join(', ') || 'none'})`);
      else {
        const group = c.interfaces.find((item) => !item.negated && item.name !== f.ifName && item.name !== 'lo' && matchInterfaceName(item.name, f.ifName!, this.context));
        if (group !== undefined) assumed.push(`${group.name} taken as the interface group of every ${group.name}N (OpenBSD/FreeBSD); ${f.ifName} is one`);
      }
    }
    if (c.af !== undefined && c.af !== f.af) return no;
    if (c.protos !== undefined && !c.protos.includes(f.proto)) return no;
    for (const [side, endpoint, addr, port] of [
      ['from', c.from, this.src, f.sport],
      ['to', c.to, this.dst, f.dport],
    ] as const) {
      if (endpoint.hosts !== undefined) {
        const hosts = this.matchHosts(endpoint.hosts, addr, assumed);
        if (hosts === 'no') return no;
        if (hosts === 'assumed-no') assumedNo = true;
      }
      if (endpoint.ports !== undefined) {
        if (port === undefined) {
          if (f.proto !== 6 && f.proto !== 17) return no;
          assumed.push(`the ${side} port was not captured; assumed not to match`);
          assumedNo = true;
        } else if (!endpoint.ports.some((item) => matchPort(item, port))) return no;
      }
    }
    if (c.icmp !== undefined) {
      if (f.icmpType === undefined) return no;
      if (!c.icmp.items.some((i) => i.type === f.icmpType && (i.code === undefined || i.code === f.icmpCode))) return no;
    }
    if (rule !== undefined && f.proto === 6) {
      const flags = rule.tcpFlags ?? (rule.action === 'pass' && rule.state !== 'no' ? 'S/SA' : 'any');
      if (flags !== 'any') {
        if (f.tcpFlags === undefined) assumed.push(`TCP flags ${flags} (the packet's flags were not captured) assumed to match`);
        else if (!matchTcpFlags(flags, f.tcpFlags)) return no;
      }
    }
    for (const criterion of c.unmodelled) assumed.push(`"${criterion}" cannot be checked against a log; assumed to hold`);
    return { result: assumedNo ? 'assumed-no' : 'match', assumed };
  }

  private matchHosts(items: readonly PfHostItem[], addr: IpNet | undefined, assumed: string[]): 'match' | 'no' | 'assumed-no' {
    if (addr === undefined) return 'no';
    let sawAssumedNo = false;
    for (const item of items) {
      const m = this.matchHost(item.host, addr, assumed);
      if (m === 'unknown') {
        sawAssumedNo = true;
        continue;
      }
      if (m !== item.negated) return 'match';
    }
    return sawAssumedNo ? 'assumed-no' : 'no';
  }

  /** true/false, or 'unknown' when the log cannot tell (the term is then assumed not to match). */
  private matchHost(host: PfHost, addr: IpNet, assumed: string[]): boolean | 'unknown' {
    switch (host.kind) {
      case 'any':
        return true;
      case 'net':
        return netContains(host.net, addr);
      case 'self': {
        const all = [...this.context.addressesByInterface.values()].flat();
        assumed.push('self taken as the host\'s addresses seen in the log');
        return all.some((a) => sameAddress(a, addr));
      }
      case 'interface':
        return this.matchInterfaceAddress(host, addr, assumed);
      case 'table': {
        const table = this.ruleset.tables.get(host.name);
        if (table === undefined) return false;
        if (table.files.length > 0) assumed.push(`table <${table.name}> also loads ${table.files.join(', ')}, not read here`);
        let best: { negated: boolean; prefixBits: number } | undefined;
        const consider = (negated: boolean, net: IpNet): void => {
          if (netContains(net, addr) && (best === undefined || net.prefixBits > best.prefixBits)) best = { negated, prefixBits: net.prefixBits };
        };
        for (const entry of table.entries) consider(entry.negated, entry.net);
        for (const entry of table.interfaceEntries) {
          if (entry.host.kind !== 'interface') continue;
          for (const net of this.interfaceNets(entry.host, addr.af, assumed)) consider(entry.negated, net);
        }
        return best !== undefined && !(best as { negated: boolean }).negated;
      }
      case 'route-test':
        assumed.push(`${host.name} needs the routing table, which a log does not record; assumed not to match`);
        return 'unknown';
      case 'hostname':
        assumed.push(`${host.name} is resolved through DNS when pfctl loads the rules; not resolved here, assumed not to match`);
        return 'unknown';
    }
  }

  private matchInterfaceAddress(host: Extract<PfHost, { kind: 'interface' }>, addr: IpNet, assumed: string[]): boolean | 'unknown' {
    if (host.modifier === 'peer') {
      assumed.push(`${host.name}:peer is the far end of a point-to-point link, not in the log; assumed not to match`);
      return 'unknown';
    }
    const nets = this.interfaceNets(host, addr.af, assumed);
    if (nets.length === 0) {
      assumed.push(`the log shows no IPv${addr.af} address of ${host.name}; assumed not to match`);
      return 'unknown';
    }
    return nets.some((net) => netContains(net, addr));
  }

  /** The networks an interface term stands for, from the host's addresses on it. */
  private interfaceNets(host: Extract<PfHost, { kind: 'interface' }>, af: 4 | 6, assumed: string[]): IpNet[] {
    const addresses = [...this.context.addressesByInterface.entries()]
      .filter(([name]) => matchInterfaceName(host.name, name, this.context))
      .flatMap(([, list]) => list)
      .map((a) => parseIp(a))
      .filter((a): a is IpNet => a !== undefined && a.af === af);
    if (host.modifier === 'network') {
      if (addresses.length > 0) assumed.push(`${host.name}:network assumed to be /${ASSUMED_PREFIX[af]} around the host's address (the log does not record prefixes)`);
      return addresses.map((a) => networkOf(a, ASSUMED_PREFIX[af]));
    }
    if (host.modifier === 'broadcast') {
      if (af !== 4) return [];
      if (addresses.length > 0) assumed.push(`${host.name}:broadcast assumed to be that of a /24 (the log does not record prefixes)`);
      return addresses.map((a) => broadcastOf(a, ASSUMED_PREFIX[4]));
    }
    return addresses;
  }
}

function sameAddress(text: string, addr: IpNet): boolean {
  const other = parseIp(text);
  return other !== undefined && other.af === addr.af && other.value === addr.value;
}

/**
 * Whether an interface name in a rule stands for `ifName`: the same name, or a group — every interface belongs to
 * the group named after its driver (OpenBSD/FreeBSD ifconfig(8): `tun`, `lo`, `wg`), and `egress` holds the
 * interfaces of the default route (here: the physical ones in the log). Whether macOS pf knows driver groups other
 * than `lo` is not confirmed; a verdict that rests on a group says so.
 */
export function matchInterfaceName(ruleName: string, ifName: string, context: HostContext): boolean {
  if (ruleName === ifName) return true;
  if (ruleName === 'egress') return context.egress.includes(ifName);
  if (/\d$/.test(ruleName)) return false;
  return new RegExp(`^${ruleName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d+$`).test(ifName);
}

function matchInterfaceItem(item: PfIfItem, ifName: string, context: HostContext): boolean {
  return matchInterfaceName(item.name, ifName, context) !== item.negated;
}

function matchPort(item: PfPortItem, port: number): boolean {
  switch (item.op) {
    case '=':
      return port === item.low;
    case '!=':
      return port !== item.low;
    case '<':
      return port < item.low;
    case '<=':
      return port <= item.low;
    case '>':
      return port > item.low;
    case '>=':
      return port >= item.low;
    case ':':
      return port >= item.low && port <= item.high;
    case '><':
      return port > item.low && port < item.high;
    case '<>':
      return port < item.low || port > item.high;
  }
}

/** `flags S/SA`: of the flags in the mask, exactly those in the set are on (pf.conf(5) "flags <a>/<b>"). */
function matchTcpFlags(spec: string, flags: number): boolean {
  const [setText, maskText] = spec.includes('/') ? spec.split('/') : [spec, 'FSRPAUEW'];
  const bits = (text: string): number => [...text].reduce((acc, ch) => acc | (TCP_FLAG_BITS[ch] ?? 0), 0);
  const mask = bits(maskText ?? '');
  return (flags & mask) === bits(setText ?? '');
}
