/**
 * How much a pass rule opens on the interfaces a kill switch guards. A kill switch exists so that nothing leaves
 * or enters the physical interface except what must (behaviour.md §5); a pass rule there that names no address
 * and no port opens every service of that protocol to every address, outside the tunnel.
 */
import type { HostContext } from './evaluate.js';
import { matchInterfaceName } from './evaluate.js';
import { interfaceKind, type PfFilterRule } from './pf-model.js';

/**
 * - `all-traffic`: any protocol, any address, any port (`pass on $wifi`, `pass all`)
 * - `all-udp`: UDP (maybe with other protocols) to and from any address on any port (`pass on $wifi proto udp`)
 * - `all-protocol`: every port of another protocol to and from any address (`pass on $wifi proto tcp`)
 * - `any-port`: restricted by address only, so every port and protocol to those addresses (`pass to $vpn_ip`)
 * - `narrow`: restricted by port, ICMP type, or to tunnel and loopback interfaces
 */
export type Breadth = 'all-traffic' | 'all-udp' | 'all-protocol' | 'any-port' | 'narrow';

/**
 * Whether the rule applies to a physical interface: no `on` (every interface), a negated interface (every other
 * one), a physical interface by name, or a group with a physical member in `known`.
 */
export function touchesPhysical(rule: PfFilterRule, known: readonly string[], context?: HostContext): boolean {
  if (rule.interfaces === undefined) return true;
  return rule.interfaces.some((item) => {
    if (item.negated || item.name === 'egress') return true;
    if (interfaceKind(item.name) === 'physical' && /\d$/.test(item.name)) return true;
    const members = context === undefined ? [] : known.filter((name) => matchInterfaceName(item.name, name, context));
    return members.some((name) => interfaceKind(name) === 'physical');
  });
}

/** The breadth of a pass rule (block and match rules are `narrow`: they open nothing). */
export function ruleBreadth(rule: PfFilterRule, known: readonly string[] = [], context?: HostContext): Breadth {
  if (rule.action !== 'pass' || !touchesPhysical(rule, known, context)) return 'narrow';
  if (rule.icmp !== undefined) return 'narrow';
  const anyHosts = rule.from.hosts === undefined && rule.to.hosts === undefined;
  const anyPorts = rule.from.ports === undefined && rule.to.ports === undefined;
  if (!anyPorts) return 'narrow';
  if (anyHosts && rule.protos === undefined) return 'all-traffic';
  if (anyHosts && rule.protos!.includes(17)) return 'all-udp';
  if (anyHosts) return 'all-protocol';
  return rule.protos === undefined || rule.protos.some((p) => p === 6 || p === 17) ? 'any-port' : 'narrow';
}
