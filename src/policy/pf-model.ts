/**
 * A pf rule set as data: what `pf-parse.ts` reads from a pf.conf and `kill-switch.ts` proposes, and what
 * `evaluate.ts` runs packets through. It covers the filter part of pf.conf(5) a kill switch uses — macros, lists,
 * tables, `block`/`pass`/`match`, `in`/`out`, `log`, `quick`, `on`, `inet`/`inet6`, `proto`, `from`/`to` with
 * hosts and ports, ICMP types, state options, `set skip on`, anchors — and records what else a rule says without
 * modelling it (`user root`, `tagged x`), so an evaluation can say what it assumed.
 */
import type { IpNet } from './ip.js';

/** One address term of a `from`/`to` list. */
export type PfHost =
  | { kind: 'any' }
  | { kind: 'net'; net: IpNet }
  /** `<name>`: a table. */
  | { kind: 'table'; name: string }
  /** `self`: every address of this host. */
  | { kind: 'self' }
  /**
   * An interface's addresses: `en0` (fixed when loaded), `(en0)` (followed as it changes), with a modifier:
   * `:network`, `:broadcast`, `:peer`, or `:0` (no aliases).
   */
  | { kind: 'interface'; name: string; modifier: 'address' | 'network' | 'broadcast' | 'peer'; dynamic: boolean }
  /** `no-route`, `urpf-failed`: routing-table tests a log cannot answer. */
  | { kind: 'route-test'; name: 'no-route' | 'urpf-failed' }
  /** A host name pfctl resolves through DNS when it loads the rules: not known offline. */
  | { kind: 'hostname'; name: string };

/** A host term and whether it is negated (`! 10.0.0.0/8`). */
export interface PfHostItem {
  negated: boolean;
  host: PfHost;
}

/** One port term: `= 53`, `!= 53`, `< 1024`, `67:68` (inclusive), `1000 >< 2000` (exclusive), `1000 <> 2000` (outside). */
export interface PfPortItem {
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | ':' | '><' | '<>';
  low: number;
  /** Second bound for the range operators; equal to `low` otherwise. */
  high: number;
}

/** A `from` or `to` side: hosts (undefined: any) and ports (undefined: any). */
export interface PfEndpoint {
  hosts: PfHostItem[] | undefined;
  ports: PfPortItem[] | undefined;
}

/** An interface term of `on` or `set skip on`: a name or a group, maybe negated. */
export interface PfIfItem {
  negated: boolean;
  name: string;
}

/** An ICMP or ICMPv6 type (and code) term. */
export interface PfIcmpItem {
  type: number;
  code: number | undefined;
}

/** The criteria a filter rule and an anchor rule share. */
export interface PfCriteria {
  direction: 'in' | 'out' | undefined;
  interfaces: PfIfItem[] | undefined;
  af: 4 | 6 | undefined;
  /** IP protocol numbers; undefined: any protocol. */
  protos: number[] | undefined;
  from: PfEndpoint;
  to: PfEndpoint;
  /** `icmp-type` (family 4) or `icmp6-type` (family 6) terms. */
  icmp: { af: 4 | 6; items: PfIcmpItem[] } | undefined;
  /** Options that restrict a match but cannot be checked against a log (`user root`, `tagged vpn`): assumed to hold. */
  unmodelled: string[];
}

/** Where a statement came from, for reports. */
export interface PfSource {
  /** 1-based line of the statement's first token in its file; 0 for rules udptrack wrote itself. */
  line: number;
  /** The statement as written (comments dropped, continuation lines joined, blanks collapsed). */
  text: string;
}

/** `pass`, `block` or `match` with its criteria. */
export interface PfFilterRule extends PfCriteria, PfSource {
  kind: 'filter';
  action: 'pass' | 'block' | 'match';
  /** `drop`, `return`, `return-rst`, `return-icmp`, `return-icmp6`; undefined: `set block-policy`. */
  blockPolicy: string | undefined;
  log: boolean;
  quick: boolean;
  /** `keep state` is pf's default for pass rules (OpenBSD 4.1+, macOS): `default` means no state option written. */
  state: 'default' | 'keep' | 'modulate' | 'synproxy' | 'no';
  /** `flags S/SA` or `any` as written; undefined: pf's default (S/SA on stateful TCP pass rules). */
  tcpFlags: string | undefined;
}

/** `anchor "name" [criteria] [{ rules }]`: rules evaluated in place when the criteria match. */
export interface PfAnchorRule extends PfCriteria, PfSource {
  kind: 'anchor';
  name: string;
  quick: boolean;
  /** Rules written inline between braces; undefined when they are loaded at run time or from another file. */
  rules: PfStatement[] | undefined;
}

/** A statement of the filter rule set. */
export type PfStatement = PfFilterRule | PfAnchorRule;

/** A `table <name> { … }` definition. */
export interface PfTable {
  name: string;
  line: number;
  /** Entries with negation (`!192.0.2.1` excludes it from a wider entry). */
  entries: Array<{ negated: boolean; net: IpNet }>;
  /** Interface-named entries (`en0`, `en0:network`): resolved like hosts at evaluation. */
  interfaceEntries: Array<{ negated: boolean; host: PfHost }>;
  /** `file "…"` sources: contents not known here. */
  files: string[];
}

/** A parsed pf.conf. */
export interface PfRuleset {
  /** Macro name → value as defined (before expansion into rules). */
  macros: Map<string, string>;
  tables: Map<string, PfTable>;
  /** `set skip on …`: interfaces pf does not filter at all. */
  skip: PfIfItem[];
  /** `set block-policy`, default `drop`. */
  blockPolicy: string;
  statements: PfStatement[];
  /** Statements read but not modelled (translation, scrub, queueing, antispoof, `load anchor`), with their lines. */
  ignored: Array<{ line: number; text: string; why: string }>;
}

/** Every filter rule of a rule set in evaluation order, inline anchors included. */
export function allFilterRules(statements: readonly PfStatement[]): PfFilterRule[] {
  return statements.flatMap((s) => (s.kind === 'filter' ? [s] : allFilterRules(s.rules ?? [])));
}

/** pf's protocol names (OpenBSD/macOS /etc/protocols, the ones kill-switch rule sets use). */
export const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['icmp', 1],
  ['igmp', 2],
  ['ipencap', 4],
  ['tcp', 6],
  ['udp', 17],
  ['ipv6', 41],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['icmp6', 58],
  ['ipv6-icmp', 58],
  ['ospf', 89],
  ['pim', 103],
  ['carp', 112],
  ['sctp', 132],
  ['pfsync', 240],
]);

/** Name of a protocol number as pf writes it. */
export function protocolName(proto: number): string {
  if (proto === 58) return 'icmp6';
  for (const [name, value] of PROTOCOL_NUMBERS) if (value === proto) return name;
  return String(proto);
}

/** Port names from /etc/services that kill-switch rule sets use (IANA registry). */
export const PORT_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['domain', 53],
  ['bootps', 67],
  ['bootpc', 68],
  ['http', 80],
  ['www', 80],
  ['ntp', 123],
  ['netbios-ns', 137],
  ['https', 443],
  ['isakmp', 500],
  ['dhcpv6-client', 546],
  ['dhcpv6-server', 547],
  ['ipp', 631],
  ['openvpn', 1194],
  ['ssdp', 1900],
  ['ipsec-nat-t', 4500],
  ['mdns', 5353],
  ['llmnr', 5355],
]);

/** ICMPv6 type names of pf.conf(5) (`icmp6-type neighbrsol`), RFC 4443 and RFC 4861 numbers. */
export const ICMP6_TYPES: ReadonlyMap<string, number> = new Map([
  ['unreach', 1],
  ['toobig', 2],
  ['timex', 3],
  ['paramprob', 4],
  ['echoreq', 128],
  ['echorep', 129],
  ['groupqry', 130],
  ['listqry', 130],
  ['grouprep', 131],
  ['listenrep', 131],
  ['groupterm', 132],
  ['listendone', 132],
  ['routersol', 133],
  ['routeradv', 134],
  ['neighbrsol', 135],
  ['neighbradv', 136],
  ['redir', 137],
  ['routrrenum', 138],
  ['wrureq', 139],
  ['wrurep', 140],
  ['fqdnreq', 139],
  ['fqdnrep', 140],
  ['niqry', 139],
  ['nirep', 140],
  ['mtraceresp', 200],
  ['mtrace', 201],
]);

/** ICMP type names of pf.conf(5) (`icmp-type echoreq`), RFC 792 numbers. */
export const ICMP_TYPES: ReadonlyMap<string, number> = new Map([
  ['echorep', 0],
  ['unreach', 3],
  ['squench', 4],
  ['redir', 5],
  ['althost', 6],
  ['echoreq', 8],
  ['routeradv', 9],
  ['routersol', 10],
  ['timex', 11],
  ['paramprob', 12],
  ['timereq', 13],
  ['timerep', 14],
  ['inforeq', 15],
  ['inforep', 16],
  ['maskreq', 17],
  ['maskrep', 18],
  ['trace', 30],
]);

/** pf's name for an ICMPv6 type, or its number. */
export function icmp6TypeName(type: number): string {
  for (const [name, value] of ICMP6_TYPES) if (value === type) return name;
  return String(type);
}

/** Interface names of tunnels (macOS utun/ipsec/ppp, BSD tun/tap/wg/gif/gre), which a kill switch passes. */
const TUNNEL_INTERFACE = /^(utun|tun|tap|wg|ipsec|ppp|gif|gre|ovpn|tailscale|zt)\d*$/;
/** Loopback interfaces and pf's `lo` group. */
const LOOPBACK_INTERFACE = /^lo\d*$/;

/** What role an interface plays for a kill switch. */
export type InterfaceKind = 'physical' | 'tunnel' | 'loopback';

/** The role of an interface by its name. */
export function interfaceKind(name: string): InterfaceKind {
  if (LOOPBACK_INTERFACE.test(name)) return 'loopback';
  if (TUNNEL_INTERFACE.test(name)) return 'tunnel';
  return 'physical';
}
