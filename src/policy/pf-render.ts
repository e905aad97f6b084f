/**
 * Writes a filter rule back as pf.conf text, in pf.conf(5)'s order, so that what the advisor proposes is exactly
 * what `parsePfConf` reads and `evaluatePacket` checks. Interface names may be replaced by macros (`$wifi`).
 */
import { formatNet } from './ip.js';
import { icmp6TypeName, protocolName, ICMP_TYPES, type PfEndpoint, type PfFilterRule, type PfHost, type PfHostItem, type PfPortItem } from './pf-model.js';

/** How interface names are written: a macro reference, or the name itself. */
export type InterfaceWriter = (ifName: string) => string;

const byName: InterfaceWriter = (name) => name;

function list<T>(items: readonly T[], one: (item: T) => string): string {
  return items.length === 1 ? one(items[0]!) : `{ ${items.map(one).join(', ')} }`;
}

function hostText(host: PfHost, iface: InterfaceWriter): string {
  switch (host.kind) {
    case 'any':
      return 'any';
    case 'self':
      return 'self';
    case 'net':
      return formatNet(host.net);
    case 'table':
      return `<${host.name}>`;
    case 'route-test':
      return host.name;
    case 'hostname':
      return host.name;
    case 'interface': {
      const text = `${iface(host.name)}${host.modifier === 'address' ? '' : `:${host.modifier}`}`;
      return host.dynamic ? `(${text})` : text;
    }
  }
}

function hostItemText(item: PfHostItem, iface: InterfaceWriter): string {
  return `${item.negated ? '! ' : ''}${hostText(item.host, iface)}`;
}

function portText(item: PfPortItem): string {
  switch (item.op) {
    case '=':
      return String(item.low);
    case ':':
      return `${item.low}:${item.high}`;
    case '><':
    case '<>':
      return `${item.low} ${item.op} ${item.high}`;
    default:
      return `${item.op} ${item.low}`;
  }
}

function endpointText(endpoint: PfEndpoint, iface: InterfaceWriter): string {
  const hosts = endpoint.hosts === undefined ? 'any' : list(endpoint.hosts, (h) => hostItemText(h, iface));
  return endpoint.ports === undefined ? hosts : `${hosts} port ${list(endpoint.ports, portText)}`;
}

function icmpName(af: 4 | 6, type: number): string {
  if (af === 6) return icmp6TypeName(type);
  for (const [name, value] of ICMP_TYPES) if (value === type) return name;
  return String(type);
}

/** pf.conf text of one filter rule. */
export function renderPfRule(rule: PfFilterRule, iface: InterfaceWriter = byName): string {
  const words: string[] = [rule.action];
  if (rule.action === 'block' && rule.blockPolicy !== undefined) words.push(rule.blockPolicy);
  if (rule.direction !== undefined) words.push(rule.direction);
  if (rule.log) words.push('log');
  if (rule.quick) words.push('quick');
  if (rule.interfaces !== undefined) words.push('on', list(rule.interfaces, (i) => `${i.negated ? '! ' : ''}${iface(i.name)}`));
  if (rule.af !== undefined) words.push(rule.af === 4 ? 'inet' : 'inet6');
  if (rule.protos !== undefined) words.push('proto', list(rule.protos, protocolName));
  const anyFrom = rule.from.hosts === undefined && rule.from.ports === undefined;
  const anyTo = rule.to.hosts === undefined && rule.to.ports === undefined;
  if (anyFrom && anyTo) {
    if (rule.icmp !== undefined || rule.state !== 'default' || words.length <= 2) words.push('all');
  } else words.push('from', endpointText(rule.from, iface), 'to', endpointText(rule.to, iface));
  if (rule.icmp !== undefined) {
    const af = rule.icmp.af;
    words.push(af === 4 ? 'icmp-type' : 'icmp6-type', list(rule.icmp.items, (i) => `${icmpName(af, i.type)}${i.code === undefined ? '' : ` code ${i.code}`}`));
  }
  for (const criterion of rule.unmodelled) words.push(criterion);
  if (rule.tcpFlags !== undefined) words.push('flags', rule.tcpFlags);
  if (rule.state === 'keep' || rule.state === 'modulate' || rule.state === 'synproxy') words.push(rule.state, 'state');
  if (rule.state === 'no') words.push('no', 'state');
  return words.join(' ');
}
