/**
 * The same filter rule in nftables syntax (nft(8) "PAYLOAD EXPRESSIONS", "META EXPRESSIONS"), for a Linux kill
 * switch: `in` rules go to an input chain with `iifname`, `out` rules to an output chain with `oifname`, a rule
 * without direction to both. Interface-address terms (`($wifi)`) have no nft equivalent without a named set; they
 * are left out and said so, the interface condition still restricting the rule. nftables tracks every flow, so
 * pf's `keep state` becomes the usual `ct state established,related accept` of the chain that jumps here.
 */
import { formatNet, type IpNet } from './ip.js';
import type { InterfaceWriter } from './pf-render.js';
import { protocolName, type PfEndpoint, type PfFilterRule, type PfPortItem } from './pf-model.js';

/** One nft rule and the chain it belongs to. */
export interface NftRule {
  chain: 'input' | 'output';
  text: string;
  /** pf terms that could not be written in nft. */
  omitted: string[];
}

/** nft names of ICMPv6 types (nft(8) "ICMPV6 TYPE"), by RFC 4443 / RFC 4861 number. */
const NFT_ICMP6_TYPES: ReadonlyMap<number, string> = new Map([
  [1, 'destination-unreachable'],
  [2, 'packet-too-big'],
  [3, 'time-exceeded'],
  [4, 'parameter-problem'],
  [128, 'echo-request'],
  [129, 'echo-reply'],
  [130, 'mld-listener-query'],
  [131, 'mld-listener-report'],
  [132, 'mld-listener-done'],
  [133, 'nd-router-solicit'],
  [134, 'nd-router-advert'],
  [135, 'nd-neighbor-solicit'],
  [136, 'nd-neighbor-advert'],
  [137, 'nd-redirect'],
]);

/** nft names of ICMP types (nft(8) "ICMP TYPE"), by RFC 792 number. */
const NFT_ICMP_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'echo-reply'],
  [3, 'destination-unreachable'],
  [5, 'redirect'],
  [8, 'echo-request'],
  [11, 'time-exceeded'],
  [12, 'parameter-problem'],
]);

function set(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : `{ ${values.join(', ')} }`;
}

function portExpr(items: readonly PfPortItem[]): string {
  if (items.length === 1) {
    const item = items[0]!;
    switch (item.op) {
      case '=':
        return String(item.low);
      case ':':
        return `${item.low}-${item.high}`;
      case '><':
        return `${item.low + 1}-${item.high - 1}`;
      case '<>':
        return `!= ${item.low}-${item.high}`;
      default:
        return `${item.op} ${item.low}`;
    }
  }
  return set(items.map((i) => (i.op === ':' ? `${i.low}-${i.high}` : String(i.low))));
}

function hostsExpr(endpoint: PfEndpoint, field: 'saddr' | 'daddr', omitted: string[]): string[] {
  if (endpoint.hosts === undefined) return [];
  const nets: Array<{ negated: boolean; net: IpNet }> = [];
  for (const item of endpoint.hosts) {
    if (item.host.kind === 'net') nets.push({ negated: item.negated, net: item.host.net });
    else if (item.host.kind !== 'any') omitted.push(`${field === 'saddr' ? 'from' : 'to'} ${describeHost(item.host)}`);
  }
  if (nets.length === 0) return [];
  const af = nets[0]!.net.af;
  const family = af === 4 ? 'ip' : 'ip6';
  const negated = nets.filter((n) => n.negated);
  const plain = nets.filter((n) => !n.negated);
  const out: string[] = [];
  if (plain.length > 0) out.push(`${family} ${field} ${set(plain.map((n) => formatNet(n.net)))}`);
  if (negated.length > 0) out.push(`${family} ${field} != ${set(negated.map((n) => formatNet(n.net)))}`);
  return out;
}

function describeHost(host: NonNullable<PfEndpoint['hosts']>[number]['host']): string {
  if (host.kind === 'interface') return `the addresses of ${host.name}${host.modifier === 'address' ? '' : `:${host.modifier}`}`;
  if (host.kind === 'table') return `table <${host.name}>`;
  return host.kind === 'hostname' || host.kind === 'route-test' ? host.name : host.kind;
}

/** The nft rules for one pf filter rule, with an optional comment (nft keeps at most 128 characters). */
export function renderNftRule(rule: PfFilterRule, iface: InterfaceWriter, comment?: string): NftRule[] {
  const chains: Array<'input' | 'output'> = rule.direction === 'in' ? ['input'] : rule.direction === 'out' ? ['output'] : ['input', 'output'];
  return chains.map((chain) => {
    const omitted: string[] = [];
    const parts: string[] = [];
    if (rule.interfaces !== undefined) {
      const key = chain === 'input' ? 'iifname' : 'oifname';
      const plain = rule.interfaces.filter((i) => !i.negated).map((i) => iface(i.name));
      const negated = rule.interfaces.filter((i) => i.negated).map((i) => iface(i.name));
      if (plain.length > 0) parts.push(`${key} ${set(plain)}`);
      if (negated.length > 0) parts.push(`${key} != ${set(negated)}`);
    }
    const addresses = [...hostsExpr(rule.from, 'saddr', omitted), ...hostsExpr(rule.to, 'daddr', omitted)];
    const protos = rule.protos ?? [];
    const hasPorts = rule.from.ports !== undefined || rule.to.ports !== undefined;
    if (rule.af !== undefined && addresses.length === 0 && rule.icmp === undefined) parts.push(`meta nfproto ${rule.af === 4 ? 'ipv4' : 'ipv6'}`);
    parts.push(...addresses);
    if (rule.icmp !== undefined) {
      const names = rule.icmp.af === 6 ? NFT_ICMP6_TYPES : NFT_ICMP_TYPES;
      parts.push(`${rule.icmp.af === 6 ? 'icmpv6' : 'icmp'} type ${set(rule.icmp.items.map((i) => names.get(i.type) ?? String(i.type)))}`);
      if (rule.icmp.items.some((i) => i.code !== undefined)) omitted.push('ICMP codes');
    } else if (hasPorts) {
      const l4 = protos.length === 1 ? protocolName(protos[0]!) : 'th';
      if (protos.length > 1) parts.push(`meta l4proto ${set(protos.map(protocolName))}`);
      if (rule.from.ports !== undefined) parts.push(`${l4} sport ${portExpr(rule.from.ports)}`);
      if (rule.to.ports !== undefined) parts.push(`${l4} dport ${portExpr(rule.to.ports)}`);
    } else if (protos.length > 0) {
      parts.push(`meta l4proto ${set(protos.map((p) => (p === 58 ? 'ipv6-icmp' : protocolName(p))))}`);
    }
    parts.push(rule.action === 'pass' ? 'accept' : 'drop');
    if (comment !== undefined) parts.push(`comment "${comment.replaceAll('"', "'").slice(0, 128)}"`);
    return { chain, text: parts.join(' '), omitted };
  });
}
