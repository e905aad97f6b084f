/**
 * The kill-switch advisor: from the packets a kill switch denied, the most specific pf rules that admit the
 * legitimate ones, and the denials that should stay denied with what to do instead.
 *
 * What a kill switch must let through, and what breaks when it does not (behaviour.md §5.2, the rule sets of
 * killswitch and Mullvad in §5.1): DHCP and DHCPv6 (the lease), IPv6 router and neighbour discovery (the router
 * and the neighbours' link-layer addresses), mDNS (Bonjour, AirPlay, printers), the VPN client's packets to its
 * server, and the tunnel itself. Everything else on the physical interface stays denied: unsolicited probes, strays
 * of a VPN session whose state is gone (a keepalive or exit-notify change, per explain), DNS and other traffic
 * leaving outside the tunnel (what the kill switch is for).
 *
 * Addresses are generalised only to the scope the protocol defines, never further: link-local (fe80::/10),
 * solicited-node groups (ff02::1:ff00:0/104), the named groups themselves, the interface's own addresses
 * (`($wifi)`, followed as they change) and its on-link prefix (`($wifi:network)`). Ports are the ones seen. No rule
 * passes all UDP or all traffic on a physical interface; `allowBroad` writes the usual `pass on $wifi proto udp`
 * instead, and the advice then lists, from this very log, what it would let through.
 *
 * Every proposal is checked with the pf evaluator on top of `block all`: the admitted denials must pass and the
 * others must still be blocked.
 */
import { evaluatePacket, type HostContext, type PacketFacts } from '../policy/evaluate.js';
import { ruleBreadth } from '../policy/breadth.js';
import { NETS, netContains, parseIp, parseNet, type IpNet } from '../policy/ip.js';
import { renderNftRule, type NftRule } from '../policy/nft-render.js';
import { icmp6TypeName, interfaceKind, type InterfaceKind, type PfFilterRule, type PfHostItem, type PfRuleset } from '../policy/pf-model.js';
import { renderPfRule } from '../policy/pf-render.js';
import type { Explanation } from './explain.js';
import { defaultProcessPath } from './lsrules.js';

/** One record of the denial log, as the advisor sees it. */
export interface LoggedPacket extends PacketFacts {
  /** 1-based record number in the log. */
  frame: number;
  tsUs: number;
  /** The log says the firewall blocked it (pflog block, NFLOG drop prefix). */
  denied: boolean;
  /** What runs over it (payload fingerprint, else port), for UDP; '' otherwise. */
  service: string;
}

/** An interface seen in the log and the macro rules use for it. */
export interface InterfaceInfo {
  name: string;
  kind: InterfaceKind;
  /** `wifi` for the busiest physical interface, `vpn` for the live tunnel, else `<kind>_<name>`. */
  macro: string;
  records: number;
  denials: number;
  /** For tunnels: the one the log saw last (the live tunnel). */
  live: boolean;
}

/** Denials a rule is proposed for. */
export type AdmitCategory = 'dhcp' | 'dhcpv6' | 'neighbour-discovery' | 'mdns' | 'vpn-endpoint' | 'tunnel' | 'loopback' | 'broad-udp';

/** Denials that should stay denied. */
export type StayCategory =
  | 'vpn-stray'
  | 'unsolicited'
  | 'stray'
  | 'lan-multicast'
  | 'dns-outside-tunnel'
  | 'outside-tunnel'
  | 'tunnel-inbound'
  | 'icmp'
  | 'not-udp';

/** A Little Snitch rule (formats.md §8 keys) for one proposal. */
export interface LsRule {
  process: string;
  direction: 'incoming' | 'outgoing';
  action: 'allow';
  protocol: 'udp';
  remote?: string;
  'remote-addresses'?: string;
  ports: string;
  notes: string;
}

/** A proposed rule, in every target's syntax, with what it admits and why it is safe. */
export interface ProposedRule {
  /** `r1`, `r2`, … in output order. */
  id: string;
  category: AdmitCategory;
  rule: PfFilterRule;
  /** pf.conf text with interface macros. */
  pf: string;
  nft: NftRule[];
  /** The Little Snitch rule, or why there is none. */
  lsrules: LsRule | { notWritten: string };
  /** What the rule is for. */
  why: string;
  /** Why it is safe (what it does not open). */
  safe: string;
  /** Evidence and narrower variants. */
  notes: string[];
  admits: LoggedPacket[];
}

/** Denials that stay denied, grouped by category and flow. */
export interface StayDenied {
  category: StayCategory;
  /** explain's cause, for UDP denials. */
  cause: string | undefined;
  /** One line: what these packets are. */
  summary: string;
  remedy: string[];
  packets: LoggedPacket[];
}

/** The verdict on one denial. */
export interface DenialDecision {
  packet: LoggedPacket;
  verdict: 'admit' | 'stay-denied';
  category: AdmitCategory | StayCategory;
  cause: string | undefined;
  /** The rule that admits it (admitted denials). */
  ruleId: string | undefined;
}

/** What the advisor found. */
export interface KillSwitchAdvice {
  interfaces: InterfaceInfo[];
  rules: ProposedRule[];
  stayDenied: StayDenied[];
  decisions: DenialDecision[];
  /** Set when DHCP or neighbour discovery was denied: why Wi-Fi does not come back. */
  wifiBreakers: { dhcp: number; dhcpv6: number; neighbourDiscovery: number; text: string } | undefined;
  /** `allowBroad` only: what the broad rule leaks. */
  warnings: string[];
  /** The proposals run through the pf evaluator on top of `block all`. */
  verification: { admitted: number; admittedOf: number; stillDenied: number; stillDeniedOf: number; failures: string[] };
  /** The host's addresses per interface, as the log shows them (for evaluating rules). */
  context: HostContext;
}

/** Options of the advisor. */
export interface AdviseOptions {
  /** Write the usual broad rule instead of the narrow UDP rules, with a warning of what it leaks. */
  allowBroad: boolean;
}

const VPN_SERVICES = new Set(['openvpn', 'wireguard', 'ike', 'esp-in-udp']);
const CATEGORY_ORDER: readonly AdmitCategory[] = ['dhcp', 'dhcpv6', 'neighbour-discovery', 'mdns', 'vpn-endpoint', 'broad-udp', 'tunnel', 'loopback'];
/** ICMPv6 neighbour discovery: router solicitation … redirect (RFC 4861 §4). */
const ND_TYPES = new Set([133, 134, 135, 136, 137]);
/** macOS runs its DHCP client (IPConfiguration) inside configd and its mDNS stack in mDNSResponder. */
const MACOS_DHCP_PROCESS = '/usr/libexec/configd';
const MACOS_MDNS_PROCESS = '/usr/sbin/mDNSResponder';

/** The advice for a denial log. `explanations` are explain's verdicts on its UDP denials (joined by frame). */
export function adviseKillSwitch(records: readonly LoggedPacket[], explanations: readonly Explanation[], options: AdviseOptions): KillSwitchAdvice {
  const interfaces = describeInterfaces(records);
  const macroOf = new Map(interfaces.map((i) => [i.name, i.macro]));
  const context = hostContext(records, interfaces);
  const explained = new Map<number, Explanation>();
  for (const e of explanations) if (e.packet.source === 'log') explained.set(e.packet.frame, e);
  const vpnEndpoints = findVpnEndpoints(records);

  const decisions: DenialDecision[] = [];
  const admitted: Array<{ packet: LoggedPacket; category: AdmitCategory }> = [];
  const stays: Array<{ packet: LoggedPacket; category: StayCategory; cause: string | undefined; summary: string; remedy: string[] }> = [];
  for (const packet of records) {
    if (!packet.denied) continue;
    const verdict = categorize(packet, explained.get(packet.frame), vpnEndpoints);
    if (verdict.verdict === 'admit') {
      admitted.push({ packet, category: verdict.category });
      decisions.push({ packet, verdict: 'admit', category: verdict.category, cause: verdict.cause, ruleId: undefined });
    } else {
      stays.push({ packet, category: verdict.category, cause: verdict.cause, summary: verdict.summary, remedy: verdict.remedy });
      decisions.push({ packet, verdict: 'stay-denied', category: verdict.category, cause: verdict.cause, ruleId: undefined });
    }
  }

  let drafts = mergeDrafts(admitted.map((a) => draftFor(a.packet, a.category, context)));
  if (options.allowBroad) drafts = broaden(drafts);
  drafts.sort((a, b) => CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category) || a.admits[0]!.frame - b.admits[0]!.frame);
  const iface = (name: string): string => (macroOf.has(name) ? `$${macroOf.get(name)}` : name);
  const rules: ProposedRule[] = drafts.map((d, i) => {
    const id = `r${i + 1}`;
    const first = d.admits[0]!;
    const text = describeRule(d.category, first, interfaces, d.rule.icmp?.items.map((i) => i.type) ?? []);
    return {
      id,
      category: d.category,
      rule: d.rule,
      pf: renderPfRule(d.rule, iface),
      nft: renderNftRule(d.rule, iface, `${id} ${d.category}`),
      lsrules: lsRuleFor(d, text.why),
      why: text.why,
      safe: text.safe,
      notes: d.notes,
      admits: d.admits,
    };
  });
  for (const decision of decisions) {
    if (decision.verdict !== 'admit') continue;
    decision.ruleId = rules.find((r) => r.admits.includes(decision.packet))?.id;
  }
  for (const rule of rules) {
    const breadth = ruleBreadth(rule.rule, interfaces.map((i) => i.name), context);
    if (!options.allowBroad && (breadth === 'all-traffic' || breadth === 'all-udp' || breadth === 'all-protocol')) {
      // The advisor's own promise: a bug here must not reach a user's firewall.
      throw new Error(`internal: proposed rule ${rule.id} (${rule.pf}) is ${breadth} on a physical interface`);
    }
  }

  const verification = verify(rules, decisions, context);
  const warnings = options.allowBroad ? broadWarnings(rules, decisions, context, interfaces) : [];
  return {
    interfaces,
    rules,
    stayDenied: groupStays(stays),
    decisions,
    wifiBreakers: wifiBreakers(decisions),
    warnings,
    verification,
    context,
  };
}

// ---- interfaces and the host -------------------------------------------------------------------------------------

function describeInterfaces(records: readonly LoggedPacket[]): InterfaceInfo[] {
  const stats = new Map<string, { records: number; denials: number; lastFrame: number }>();
  for (const r of records) {
    if (r.ifName === undefined) continue;
    const s = stats.get(r.ifName) ?? { records: 0, denials: 0, lastFrame: 0 };
    s.records++;
    if (r.denied) s.denials++;
    s.lastFrame = Math.max(s.lastFrame, r.frame);
    stats.set(r.ifName, s);
  }
  const names = [...stats.keys()];
  const byKind = (kind: InterfaceKind): string[] => names.filter((n) => interfaceKind(n) === kind);
  const physical = byKind('physical').sort((a, b) => stats.get(b)!.records - stats.get(a)!.records || a.localeCompare(b));
  const tunnels = byKind('tunnel').sort((a, b) => stats.get(b)!.lastFrame - stats.get(a)!.lastFrame);
  const macro = (name: string): string => {
    const kind = interfaceKind(name);
    if (kind === 'physical') return name === physical[0] ? 'wifi' : `if_${name}`;
    if (kind === 'tunnel') return name === tunnels[0] ? 'vpn' : `vpn_${name}`;
    return name;
  };
  return [...physical, ...tunnels, ...byKind('loopback')].map((name) => ({
    name,
    kind: interfaceKind(name),
    macro: macro(name),
    records: stats.get(name)!.records,
    denials: stats.get(name)!.denials,
    live: interfaceKind(name) === 'tunnel' && name === tunnels[0],
  }));
}

function isGroup(addr: IpNet): boolean {
  return netContains(NETS.v4Multicast, addr) || netContains(NETS.v6Multicast, addr) || (addr.af === 4 && addr.value === NETS.v4Broadcast.value);
}

function isUnspecified(addr: IpNet): boolean {
  return addr.value === 0n;
}

/** The host's own addresses per interface: sources of what it sent, destinations of unicast it received. */
function hostContext(records: readonly LoggedPacket[], interfaces: readonly InterfaceInfo[]): HostContext {
  const byInterface = new Map<string, string[]>();
  for (const r of records) {
    if (r.ifName === undefined || r.direction === 'unknown') continue;
    const text = r.direction === 'out' ? r.src : r.dst;
    const addr = parseIp(text);
    if (addr === undefined || isGroup(addr) || isUnspecified(addr)) continue;
    const list = byInterface.get(r.ifName) ?? [];
    if (!list.includes(text)) list.push(text);
    byInterface.set(r.ifName, list);
  }
  return { addressesByInterface: byInterface, egress: interfaces.filter((i) => i.kind === 'physical').map((i) => i.name) };
}

/** Remote endpoints of VPN sessions on physical interfaces, as `addr` and `addr|port`. */
function findVpnEndpoints(records: readonly LoggedPacket[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    if (r.proto !== 17 || !VPN_SERVICES.has(r.service)) continue;
    if (r.ifName !== undefined && interfaceKind(r.ifName) !== 'physical') continue;
    const [addr, port] = r.direction === 'in' ? [r.src, r.sport] : [r.dst, r.dport];
    out.add(addr);
    out.add(`${addr}|${port}`);
  }
  return out;
}

// ---- one denial ----------------------------------------------------------------------------------------------------

type Categorized =
  | { verdict: 'admit'; category: AdmitCategory; cause: string | undefined }
  | { verdict: 'stay'; category: StayCategory; cause: string | undefined; summary: string; remedy: string[] };

function endpointText(addr: string, port: number | undefined): string {
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function categorize(p: LoggedPacket, explanation: Explanation | undefined, vpnEndpoints: ReadonlySet<string>): Categorized {
  const cause = explanation?.cause;
  const remedy = explanation?.remedy ?? [];
  const kind = p.ifName === undefined ? 'physical' : interfaceKind(p.ifName);
  const admit = (category: AdmitCategory): Categorized => ({ verdict: 'admit', category, cause });
  const stay = (category: StayCategory, summary: string, fix: string[]): Categorized => ({ verdict: 'stay', category, cause, summary, remedy: fix });
  if (kind === 'loopback') return admit('loopback');
  if (kind === 'tunnel') {
    if (p.direction === 'out') return admit('tunnel');
    return stay('tunnel-inbound', `unsolicited inbound through the tunnel ${p.ifName}`, [
      'keep it denied: replies to what the host sent through the tunnel pass on the state of the outbound rule',
    ]);
  }
  if (p.proto === 58 && p.icmpType !== undefined && ND_TYPES.has(p.icmpType)) return admit('neighbour-discovery');
  if (p.proto === 1 || p.proto === 58) {
    return stay('icmp', `ICMP${p.proto === 58 ? 'v6' : ''} type ${p.icmpType ?? '?'} ${p.direction === 'in' ? 'from' : 'to'} ${p.direction === 'in' ? p.src : p.dst}`, [
      p.direction === 'out'
        ? 'keep it denied: ping and other ICMP outside the tunnel reveal the real address (killswitch blocks it unless --leak)'
        : 'harmless: an ICMP message about a flow whose state is gone, or a probe; nothing to do',
    ]);
  }
  if (p.proto === 17 && p.sport !== undefined && p.dport !== undefined) {
    const ports = new Set([p.sport, p.dport]);
    if (ports.has(67) && ports.has(68)) return admit('dhcp');
    if (ports.has(546) && ports.has(547)) return admit('dhcpv6');
    if (p.sport === 5353 || p.dport === 5353) return admit('mdns');
    if (p.direction === 'out') {
      if (VPN_SERVICES.has(p.service) || vpnEndpoints.has(`${p.dst}|${p.dport}`)) return admit('vpn-endpoint');
      if (p.dport === 53) {
        return stay('dns-outside-tunnel', `a DNS query to ${endpointText(p.dst, p.dport)} outside the tunnel`, [
          'keep it denied: this is the leak a kill switch exists to stop (the query would show every name looked up to the network it left on)',
          `if the VPN client needs it to find its server, write the server's address in its configuration (OpenVPN "remote ADDRESS PORT"), or pass DNS to this one resolver only: pf "pass out quick on $wifi proto udp to ${p.dst} port 53 keep state"`,
        ]);
      }
      return stay('outside-tunnel', `UDP to ${endpointText(p.dst, p.dport)} outside the tunnel`, [
        'keep it denied: traffic that should go through the tunnel left on the physical interface — what the kill switch is for',
      ]);
    }
    const dst = parseIp(p.dst);
    if (dst !== undefined && isGroup(dst)) {
      return stay('lan-multicast', `LAN ${p.service || 'multicast'} to ${p.dst} from ${p.src}`, remedy.length > 0 ? remedy : ['harmless LAN chatter; nothing to do']);
    }
    if (vpnEndpoints.has(p.src) || VPN_SERVICES.has(p.service)) {
      return stay('vpn-stray', `${p.service || 'VPN'} packets from the server ${endpointText(p.src, p.sport)} to ${endpointText(p.dst, p.dport)}${cause ? ` (${cause})` : ''}`, remedy);
    }
    if (cause === 'unsolicited' || cause === undefined) {
      return stay('unsolicited', `${p.service ? `${p.service} ` : ''}from ${endpointText(p.src, p.sport)} to port ${p.dport}, never asked for`, remedy.length > 0 ? remedy : ['harmless: keep it denied']);
    }
    return stay('stray', `${p.service ? `${p.service} ` : ''}from ${endpointText(p.src, p.sport)} to ${endpointText(p.dst, p.dport)} (${cause})`, remedy);
  }
  const protoName = p.proto === 6 ? 'TCP' : `protocol ${p.proto}`;
  if (p.direction === 'out') {
    return stay('outside-tunnel', `${protoName} to ${endpointText(p.dst, p.dport)} outside the tunnel`, [
      'keep it denied: traffic that should go through the tunnel left on the physical interface — what the kill switch is for',
    ]);
  }
  return stay('not-udp', `${protoName} from ${endpointText(p.src, p.sport)} without state`, [
    'outside what udptrack explains (UDP); an inbound packet without state is a probe or a flow whose state was flushed — keep it denied',
  ]);
}

// ---- rules ---------------------------------------------------------------------------------------------------------

interface Draft {
  category: AdmitCategory;
  rule: PfFilterRule;
  notes: string[];
  admits: LoggedPacket[];
}

function baseRule(direction: 'in' | 'out' | undefined, ifName: string | undefined, af: 4 | 6 | undefined, protos: number[] | undefined): PfFilterRule {
  return {
    kind: 'filter',
    line: 0,
    text: '',
    action: 'pass',
    blockPolicy: undefined,
    log: false,
    quick: true,
    state: 'no',
    tcpFlags: undefined,
    direction,
    interfaces: ifName === undefined ? undefined : [{ negated: false, name: ifName }],
    af,
    protos,
    from: { hosts: undefined, ports: undefined },
    to: { hosts: undefined, ports: undefined },
    icmp: undefined,
    unmodelled: [],
  };
}

function net(text: string): PfHostItem {
  return { negated: false, host: { kind: 'net', net: parseNet(text)! } };
}

function ownAddress(ifName: string | undefined, addr: string): PfHostItem | undefined {
  // `(en0)`: pf follows the interface's addresses as DHCP or SLAAC change them (pf.conf(5) "(interface)").
  return ifName === undefined ? net(addr) : { negated: false, host: { kind: 'interface', name: ifName, modifier: 'address', dynamic: true } };
}

type Scope = 'broadcast' | 'unspecified' | 'group' | 'solicited-node' | 'link-local' | 'own' | 'remote';

function scopeOf(text: string, ifName: string | undefined, context: HostContext): Scope {
  const addr = parseIp(text);
  if (addr === undefined) return 'remote';
  if (isUnspecified(addr)) return 'unspecified';
  if (addr.af === 4 && addr.value === NETS.v4Broadcast.value) return 'broadcast';
  if (netContains(NETS.v6SolicitedNode, addr)) return 'solicited-node';
  if (isGroup(addr)) return 'group';
  if (netContains(NETS.v6LinkLocal, addr)) return 'link-local';
  const own = ifName === undefined ? [...context.addressesByInterface.values()].flat() : (context.addressesByInterface.get(ifName) ?? []);
  return own.includes(text) ? 'own' : 'remote';
}

/**
 * The narrowest stable term for an address: the named group or the broadcast address itself, the solicited-node
 * range, link-local, the interface's own addresses; `remote` decides what a remote unicast address becomes.
 */
function generalise(text: string, ifName: string | undefined, context: HostContext, remote: 'any' | 'exact' | 'on-link'): PfHostItem | undefined {
  switch (scopeOf(text, ifName, context)) {
    case 'broadcast':
    case 'group':
      return net(text);
    case 'unspecified':
      return text.includes(':') ? net('::') : undefined;
    case 'solicited-node':
      return net('ff02::1:ff00:0/104');
    case 'link-local':
      return net('fe80::/10');
    case 'own':
      return ownAddress(ifName, text);
    case 'remote':
      if (remote === 'exact') return net(text);
      if (remote === 'on-link' && ifName !== undefined) return { negated: false, host: { kind: 'interface', name: ifName, modifier: 'network', dynamic: true } };
      return undefined;
  }
}

function draftFor(p: LoggedPacket, category: AdmitCategory, context: HostContext): Draft {
  const draft = (rule: PfFilterRule, notes: string[] = []): Draft => ({ category, rule, notes, admits: [p] });
  const hosts = (item: PfHostItem | undefined): PfHostItem[] | undefined => (item === undefined ? undefined : [item]);
  const udp = (): PfFilterRule => baseRule(p.direction === 'unknown' ? undefined : p.direction, p.ifName, p.af, [17]);
  switch (category) {
    case 'dhcp': {
      // Either end's address changes with every network and a renewal goes unicast (RFC 2131 §4.4.5): the ports
      // are the narrowing. Outbound keeps state so that the answer to a unicast renewal matches it.
      const rule = udp();
      rule.state = p.direction === 'out' ? 'keep' : 'no';
      rule.from = { hosts: undefined, ports: [{ op: '=', low: p.sport!, high: p.sport! }] };
      rule.to = { hosts: undefined, ports: [{ op: '=', low: p.dport!, high: p.dport! }] };
      const server = p.direction === 'in' ? p.src : p.dst;
      const serverAddr = parseIp(server);
      const pinnable = serverAddr !== undefined && !isGroup(serverAddr) && !isUnspecified(serverAddr);
      return draft(rule, pinnable ? [`the DHCP server seen is ${server}; it is not pinned because every network has its own server`] : []);
    }
    case 'dhcpv6': {
      // Link-scope both ways (RFC 8415 §7.1): requests from link-local to the DHCPv6 group, answers link-local to
      // link-local. An answer never matches the state of a request sent to a group, so no state.
      const rule = udp();
      rule.from = { hosts: hosts(generalise(p.src, p.ifName, context, 'exact')), ports: [{ op: '=', low: p.sport!, high: p.sport! }] };
      rule.to = { hosts: hosts(generalise(p.dst, p.ifName, context, 'exact')), ports: [{ op: '=', low: p.dport!, high: p.dport! }] };
      return draft(rule);
    }
    case 'mdns': {
      const rule = udp();
      rule.from = {
        hosts: p.direction === 'out' ? undefined : hosts(generalise(p.src, p.ifName, context, 'any')),
        ports: [{ op: '=', low: p.sport!, high: p.sport! }],
      };
      rule.to = { hosts: hosts(generalise(p.dst, p.ifName, context, 'any')), ports: [{ op: '=', low: p.dport!, high: p.dport! }] };
      const src = parseIp(p.src);
      const notes = p.direction === 'in' && src !== undefined && src.af === 4 ? [`seen from ${p.src}; narrower, if only that device matters: "from ${p.src} port ${p.sport}"`] : [];
      return draft(rule, notes);
    }
    case 'neighbour-discovery': {
      const rule = baseRule(p.direction === 'unknown' ? undefined : p.direction, p.ifName, 6, [58]);
      rule.from = { hosts: hosts(generalise(p.src, p.ifName, context, 'on-link')), ports: undefined };
      rule.to = { hosts: hosts(generalise(p.dst, p.ifName, context, 'on-link')), ports: undefined };
      rule.icmp = { af: 6, items: [{ type: p.icmpType!, code: undefined }] };
      return draft(rule);
    }
    case 'vpn-endpoint': {
      const rule = udp();
      rule.state = 'keep';
      rule.to = { hosts: [net(p.dst)], ports: [{ op: '=', low: p.dport!, high: p.dport! }] };
      return draft(rule, [`the host sent from port ${p.sport}; the source port is not pinned because the client picks a new one at every start (OpenVPN 2.6 nobind)`]);
    }
    case 'tunnel':
    case 'loopback': {
      const rule = baseRule(category === 'tunnel' ? 'out' : undefined, p.ifName, undefined, undefined);
      rule.state = 'keep';
      return draft(rule);
    }
    case 'broad-udp':
      throw new Error('internal: broad-udp drafts are made by broaden()');
  }
}

/** A key of a rule without one of its parts, for merging drafts that differ only there. */
function keyWithout(rule: PfFilterRule, part: 'none' | 'from-hosts' | 'icmp'): string {
  return renderPfRule({
    ...rule,
    from: part === 'from-hosts' ? { hosts: undefined, ports: rule.from.ports } : rule.from,
    icmp: part === 'icmp' ? undefined : rule.icmp,
  });
}

/**
 * Identical drafts become one rule; drafts that differ only in their source hosts (neighbour solicitations from
 * `::` and from fe80::/10) or only in their ICMPv6 types get one list.
 */
function mergeDrafts(drafts: readonly Draft[]): Draft[] {
  const merge = (list: readonly Draft[], part: 'none' | 'from-hosts' | 'icmp'): Draft[] => {
    const out = new Map<string, Draft>();
    for (const d of list) {
      const key = `${d.category}|${keyWithout(d.rule, part)}`;
      const existing = out.get(key);
      if (existing === undefined) {
        out.set(key, { ...d, rule: { ...d.rule }, notes: [...d.notes], admits: [...d.admits] });
        continue;
      }
      existing.admits.push(...d.admits);
      for (const n of d.notes) if (!existing.notes.includes(n)) existing.notes.push(n);
      if (part === 'from-hosts') existing.rule.from = { ...existing.rule.from, hosts: unionHosts(existing.rule.from.hosts, d.rule.from.hosts) };
      if (part === 'icmp' && existing.rule.icmp !== undefined && d.rule.icmp !== undefined) {
        const items = [...existing.rule.icmp.items];
        for (const item of d.rule.icmp.items) if (!items.some((i) => i.type === item.type)) items.push(item);
        existing.rule.icmp = { af: existing.rule.icmp.af, items: items.sort((a, b) => a.type - b.type) };
      }
    }
    return [...out.values()];
  };
  return merge(merge(merge(drafts, 'none'), 'from-hosts'), 'icmp');
}

function unionHosts(a: PfHostItem[] | undefined, b: PfHostItem[] | undefined): PfHostItem[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  const out = [...a];
  const text = (h: PfHostItem): string => renderPfRule({ ...baseRule(undefined, undefined, undefined, undefined), from: { hosts: [h], ports: undefined } });
  for (const item of b) if (!out.some((o) => text(o) === text(item))) out.push(item);
  return out;
}

/** `allowBroad`: the UDP rules of each physical interface become the usual `pass quick on IF proto udp`. */
function broaden(drafts: readonly Draft[]): Draft[] {
  const udpCategories = new Set<AdmitCategory>(['dhcp', 'dhcpv6', 'mdns', 'vpn-endpoint']);
  const out: Draft[] = [];
  const broad = new Map<string, Draft>();
  for (const d of drafts) {
    if (!udpCategories.has(d.category)) {
      out.push(d);
      continue;
    }
    const ifName = d.rule.interfaces?.[0]?.name;
    const key = ifName ?? '';
    let b = broad.get(key);
    if (b === undefined) {
      const rule = baseRule(undefined, ifName, undefined, [17]);
      rule.state = 'keep';
      b = { category: 'broad-udp', rule, notes: [], admits: [] };
      broad.set(key, b);
      out.push(b);
    }
    b.admits.push(...d.admits);
  }
  for (const b of broad.values()) b.admits.sort((x, y) => x.frame - y.frame);
  return out;
}

function packetLine(p: LoggedPacket): string {
  const what = p.proto === 17 ? 'udp' : p.proto === 58 ? `icmp6 ${p.icmpType === undefined ? '' : icmp6TypeName(p.icmpType)}`.trim() : p.proto === 6 ? 'tcp' : `proto ${p.proto}`;
  return `${p.direction} on ${p.ifName ?? '?'} ${what} ${endpointText(p.src, p.sport)} → ${endpointText(p.dst, p.dport)}`;
}

/** What the rule is for and why it is safe, in the words of the RFCs and of behaviour.md §5.2. */
/** What each neighbour-discovery message does (RFC 4861 §4.1–4.5). */
const ND_PURPOSE: Readonly<Record<number, string>> = {
  133: 'router solicitations (the host asks for its IPv6 router)',
  134: 'router advertisements (the router announces itself and the network\'s prefix)',
  135: 'neighbour solicitations (address resolution, duplicate address detection, reachability)',
  136: 'neighbour advertisements (the answers to solicitations)',
  137: 'redirects (a router pointing to a better first hop)',
};

function describeRule(category: AdmitCategory, first: LoggedPacket, interfaces: readonly InterfaceInfo[], icmpTypes: readonly number[]): { why: string; safe: string } {
  const out = first.direction === 'out';
  switch (category) {
    case 'dhcp':
      return out
        ? { why: `DHCP requests (RFC 2131, client port ${first.sport} → server port ${first.dport}): without them the lease is never renewed and Wi-Fi has no address after sleep`, safe: 'only the DHCP client port to the server port; the destination is not pinned because a renewal goes unicast to the server (RFC 2131 §4.4.5) and every network has its own server; keep state lets a unicast answer back in' }
        : { why: `DHCP offers and acks (server port ${first.sport} → client port ${first.dport}): the other half of the lease exchange`, safe: 'only the server port to the client port, where only the system\'s DHCP client listens (configd on macOS, dhcpleased/dhclient on the BSDs)' };
    case 'dhcpv6':
      return out
        ? { why: 'DHCPv6 requests (RFC 8415, port 546 → 547)', safe: 'only from link-local addresses to the DHCPv6 group the host used, server port only; link-scope traffic never leaves the network' }
        : { why: 'DHCPv6 answers (RFC 8415, port 547 → 546)', safe: 'only link-local to link-local, server port to client port: DHCPv6 servers and relays answer on the link' };
    case 'neighbour-discovery':
      return {
        why: `IPv6 ${icmpTypes.map((t) => ND_PURPOSE[t] ?? `ICMPv6 type ${t}`).join(' and ')}, part of neighbour discovery (RFC 4861): without it the host finds no IPv6 router and cannot reach its neighbours`,
        safe: 'only these ND message types, between link-local, solicited-node and on-link addresses; hosts accept ND only with hop limit 255, so it cannot come from beyond this link (RFC 4861 §6.1, §7.1)',
      };
    case 'mdns':
      return {
        why: 'mDNS (RFC 6762) for Bonjour, AirPlay and printers on this network; leave these lines out if you need none of them',
        safe: 'only port 5353 to the link-local mDNS group (224.0.0.251 or ff02::fb), which routers never forward (RFC 5771 §4, RFC 4291 §2.7), or to this host\'s own address: only devices on this network reach it',
      };
    case 'vpn-endpoint':
      return {
        why: `the VPN client's packets to its server ${endpointText(first.dst, first.dport)}${first.service ? ` (${first.service})` : ''}: the tunnel cannot come up without them`,
        safe: 'one protocol, one server address and port; keep state lets that server\'s answers in without opening the port to anyone else',
      };
    case 'tunnel': {
      const live = interfaces.find((i) => i.live)?.name;
      return {
        why: `traffic through the tunnel ${first.ifName}${live !== undefined && live !== first.ifName ? '' : ' (the live tunnel in this log)'}: the kill switch exists to let it through`,
        safe: 'the tunnel interface only, outbound only; keep state lets the replies in while unsolicited packets through the tunnel stay blocked',
      };
    }
    case 'loopback':
      return { why: 'the host talking to itself on the loopback interface (local DNS proxies, helpers)', safe: 'loopback traffic never leaves the host; "set skip on lo0" does the same' };
    case 'broad-udp':
      return { why: 'the usual advice: every UDP packet on the physical interface (asked for with --allow-broad)', safe: 'NOT SAFE: it lets every UDP port to every address bypass the tunnel; see the warning' };
  }
}

function lsRuleFor(d: Draft, why: string): LsRule | { notWritten: string } {
  const first = d.admits[0]!;
  const direction = first.direction === 'in' ? 'incoming' : 'outgoing';
  const notes = why;
  switch (d.category) {
    case 'dhcp':
    case 'dhcpv6':
    case 'mdns': {
      const process = d.category === 'mdns' ? MACOS_MDNS_PROCESS : MACOS_DHCP_PROCESS;
      const dst = parseIp(first.dst);
      const remote = direction === 'outgoing' && dst !== undefined && isGroup(dst) ? (dst.af === 4 && dst.value === NETS.v4Broadcast.value ? 'broadcast' : 'multicast') : 'local-net';
      // For incoming rules the meaning of "ports" is not documented (formats.md §8): the process and the local
      // network narrow them instead.
      return { process, direction, action: 'allow', protocol: 'udp', remote, ports: direction === 'outgoing' ? String(first.dport) : 'any', notes };
    }
    case 'vpn-endpoint': {
      const process = first.service === 'openvpn' ? defaultProcessPath('openvpn') : undefined;
      if (process === undefined) return { notWritten: `Little Snitch needs the VPN client's executable; udptrack knows only OpenVPN's usual path, not ${first.service || 'this client'}'s` };
      return { process, direction, action: 'allow', protocol: 'udp', 'remote-addresses': first.dst, ports: String(first.dport), notes: `${notes}. Assumed path ${process}; check with: ps -axo comm | grep openvpn` };
    }
    case 'neighbour-discovery':
      return { notWritten: 'Little Snitch rules name a process; neighbour discovery is the kernel\'s own ICMPv6, so use the pf rule' };
    case 'tunnel':
    case 'loopback':
      return { notWritten: 'Little Snitch rules do not name interfaces; use the pf rule' };
    case 'broad-udp':
      return { notWritten: 'a rule for any process to any address is not written' };
  }
}

// ---- verdicts ------------------------------------------------------------------------------------------------------

const BLOCK_ALL: PfFilterRule = { ...baseRule(undefined, undefined, undefined, undefined), action: 'block', quick: false, state: 'default', line: 0, text: 'block all' };

/** The proposals as a rule set on top of `block all`. */
export function proposalRuleset(rules: readonly ProposedRule[]): PfRuleset {
  return { macros: new Map(), tables: new Map(), skip: [], blockPolicy: 'drop', statements: [BLOCK_ALL, ...rules.map((r) => r.rule)], ignored: [] };
}

function verify(rules: readonly ProposedRule[], decisions: readonly DenialDecision[], context: HostContext): KillSwitchAdvice['verification'] {
  const ruleset = proposalRuleset(rules);
  const failures: string[] = [];
  let admitted = 0;
  let stillDenied = 0;
  const admits = decisions.filter((d) => d.verdict === 'admit');
  const stays = decisions.filter((d) => d.verdict === 'stay-denied');
  for (const d of admits) {
    if (evaluatePacket(ruleset, d.packet, context).action === 'pass') admitted++;
    else failures.push(`frame ${d.packet.frame} (${d.category}) is still blocked by the proposed rules`);
  }
  for (const d of stays) {
    const verdict = evaluatePacket(ruleset, d.packet, context);
    if (verdict.action === 'block') stillDenied++;
    else if (verdict.rule?.action === 'pass' && rules.find((r) => r.rule === verdict.rule)?.category !== 'broad-udp') {
      failures.push(`frame ${d.packet.frame} (${d.category}) should stay denied but the proposed rules pass it`);
    }
  }
  return { admitted, admittedOf: admits.length, stillDenied, stillDeniedOf: stays.length, failures };
}

function broadWarnings(rules: readonly ProposedRule[], decisions: readonly DenialDecision[], context: HostContext, interfaces: readonly InterfaceInfo[]): string[] {
  const ruleset = proposalRuleset(rules);
  const out: string[] = [];
  for (const rule of rules.filter((r) => r.category === 'broad-udp')) {
    const ifName = rule.rule.interfaces?.[0]?.name ?? 'every interface';
    const macro = interfaces.find((i) => i.name === ifName)?.macro;
    const leaked = decisions.filter((d) => d.verdict === 'stay-denied' && evaluatePacket(ruleset, d.packet, context).rule === rule.rule);
    const byCategory = new Map<string, LoggedPacket[]>();
    for (const d of leaked) byCategory.set(d.category, [...(byCategory.get(d.category) ?? []), d.packet]);
    const evidence = [...byCategory].map(([category, packets]) => `${packets.length} ${category} (first: frame ${packets[0]!.frame}, ${packetLine(packets[0]!)})`);
    out.push(
      `"${rule.pf}" passes every UDP port to and from every address on ${ifName}${macro ? ` ($${macro})` : ''}, outside the tunnel: DNS queries (every name looked up, to whoever runs this network's resolver), QUIC/HTTP3 on 443, WebRTC and STUN (your real address), NTP, and every application that falls back to UDP while the tunnel is down.` +
        (evidence.length > 0 ? ` In this log it would also have let in or out what should stay denied: ${evidence.join('; ')}.` : ''),
    );
  }
  return out;
}

function groupStays(stays: ReadonlyArray<{ packet: LoggedPacket; category: StayCategory; cause: string | undefined; summary: string; remedy: string[] }>): StayDenied[] {
  const groups = new Map<string, StayDenied>();
  for (const s of stays) {
    const p = s.packet;
    const key = `${s.category}|${s.cause ?? ''}|${p.ifName}|${p.direction}|${p.proto}|${p.src}|${p.sport}|${p.dst}|${p.dport}|${p.icmpType}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { category: s.category, cause: s.cause, summary: s.summary, remedy: s.remedy, packets: [p] });
    else group.packets.push(p);
  }
  return [...groups.values()];
}

function wifiBreakers(decisions: readonly DenialDecision[]): KillSwitchAdvice['wifiBreakers'] {
  const count = (c: string): number => decisions.filter((d) => d.category === c).length;
  const dhcp = count('dhcp');
  const dhcpv6 = count('dhcpv6');
  const nd = count('neighbour-discovery');
  if (dhcp + dhcpv6 + nd === 0) return undefined;
  const parts: string[] = [];
  if (dhcp > 0) parts.push(`DHCP (${dhcp} denied)`);
  if (dhcpv6 > 0) parts.push(`DHCPv6 (${dhcpv6} denied)`);
  if (nd > 0) parts.push(`IPv6 neighbour discovery (${nd} denied)`);
  const effects: string[] = [];
  if (dhcp + dhcpv6 > 0) effects.push('without DHCP the host cannot renew its address');
  if (nd > 0) effects.push('without neighbour discovery it finds no IPv6 router and cannot reach its neighbours');
  return {
    dhcp,
    dhcpv6,
    neighbourDiscovery: nd,
    text: `${joinAnd(parts)} ${parts.length === 1 ? 'was' : 'were'} blocked: this is why Wi-Fi does not come back after sleep — ${effects.join(', and ')}.`,
  };
}

function joinAnd(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

export { packetLine as describeLoggedPacket };
