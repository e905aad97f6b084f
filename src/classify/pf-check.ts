/**
 * `rules --check`: a user's pf.conf against the denial log. Every denied packet goes through the rule set with the
 * pf evaluator (which rule decides it, pass or block), and the advisor says whether it should pass. From that:
 * which packets each rule admits, the legitimate ones still blocked (DHCP and neighbour discovery first: they are
 * why Wi-Fi does not come back), what the rule set lets through that should stay denied, pass rules broader than
 * their traffic needs, block rules without `log` (pflog then shows nothing), and rules written for a tunnel
 * interface other than the live one (the utun number changes when the VPN reconnects; behaviour.md §5.1, §5.4).
 */
import { ruleBreadth, type Breadth } from '../policy/breadth.js';
import { evaluatePacket, matchInterfaceName, type Verdict } from '../policy/evaluate.js';
import { allFilterRules, interfaceKind, type PfFilterRule, type PfRuleset, type PfStatement } from '../policy/pf-model.js';
import { renderPfRule } from '../policy/pf-render.js';
import { describeLoggedPacket, type DenialDecision, type KillSwitchAdvice, type LoggedPacket } from './kill-switch.js';

/** One denied packet under the checked rule set. */
export interface CheckedDenial {
  decision: DenialDecision;
  verdict: Verdict;
  /** The rule set does what the advisor says it should (admit → pass, stay denied → block). */
  asAdvised: boolean;
}

/** What one filter rule of the checked set does with the log. */
export interface RuleUse {
  rule: PfFilterRule;
  anchors: string[];
  /** Denied packets this rule decides to pass, and to block. */
  admits: DenialDecision[];
  blocks: DenialDecision[];
  /** Logged packets of any kind (pass records too) this rule would pass: the traffic it is really used for. */
  passesLogged: LoggedPacket[];
  breadth: Breadth;
}

/** A finding, most severe first. */
export interface CheckFinding {
  /** Stable kebab-case code. */
  code: 'wifi-breakers' | 'still-blocked' | 'admits-stay-denied' | 'passes-all-traffic' | 'passes-all-udp' | 'passes-all-protocol' | 'any-port' | 'stale-tunnel-interface' | 'block-without-log' | 'not-evaluated';
  severity: 'high' | 'medium' | 'info';
  line: number | undefined;
  rule: string | undefined;
  message: string;
  frames: number[];
  /** What to write instead or in addition (pf lines or instructions). */
  fix: string[];
}

/** The whole check. */
export interface PfCheck {
  denials: CheckedDenial[];
  rules: RuleUse[];
  findings: CheckFinding[];
  /** Set when DHCP or neighbour discovery is still blocked. */
  wifiBreakers: string | undefined;
  /** Tunnel interfaces in the log, the live one first. */
  liveTunnels: string[];
  assumptions: string[];
}

const SEVERITY_ORDER = { high: 0, medium: 1, info: 2 } as const;
const WIFI_CATEGORIES = new Set(['dhcp', 'dhcpv6', 'neighbour-discovery']);
const LEAK_CATEGORIES = new Set(['dns-outside-tunnel', 'outside-tunnel']);

function frames(list: readonly { packet: LoggedPacket }[] | readonly LoggedPacket[]): number[] {
  return list.map((x) => ('packet' in x ? x.packet.frame : x.frame));
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Array<[string, T[]]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return [...map];
}

function ruleLabel(rule: PfFilterRule): string {
  return `line ${rule.line} "${rule.text}"`;
}

/** Check a parsed pf.conf against the advice the log gave. */
export function checkPfRuleset(ruleset: PfRuleset, advice: KillSwitchAdvice, records: readonly LoggedPacket[]): PfCheck {
  const context = advice.context;
  const known = advice.interfaces.map((i) => i.name);
  const liveTunnels = advice.interfaces.filter((i) => i.kind === 'tunnel').sort((a, b) => Number(b.live) - Number(a.live)).map((i) => i.name);
  const rules = allFilterRules(ruleset.statements);
  const anchorsOf = anchorPaths(ruleset.statements);
  const uses = new Map<PfFilterRule, RuleUse>(
    rules.map((rule) => [rule, { rule, anchors: anchorsOf.get(rule) ?? [], admits: [], blocks: [], passesLogged: [], breadth: ruleBreadth(rule, known, context) }]),
  );
  const assumptions = new Set<string>();

  const denials: CheckedDenial[] = advice.decisions.map((decision) => {
    const verdict = evaluatePacket(ruleset, decision.packet, context);
    for (const a of verdict.assumptions) assumptions.add(a);
    if (verdict.rule !== undefined) {
      const use = uses.get(verdict.rule)!;
      (verdict.action === 'pass' ? use.admits : use.blocks).push(decision);
    }
    const asAdvised = decision.verdict === 'admit' ? verdict.action === 'pass' : verdict.action === 'block';
    return { decision, verdict, asAdvised };
  });
  for (const record of records) {
    const verdict = evaluatePacket(ruleset, record, context);
    if (verdict.action === 'pass' && verdict.rule !== undefined) uses.get(verdict.rule)!.passesLogged.push(record);
  }

  const findings: CheckFinding[] = [];
  // Fixes are written in the user's own words: an interface by the macro their pf.conf already has for it.
  const macroOf = (name: string): string => {
    const macro = [...ruleset.macros].find(([, value]) => value === name)?.[0];
    return macro === undefined ? name : `$${macro}`;
  };
  const fixesFor = (decisions: readonly DenialDecision[]): string[] => {
    const ids = new Set(decisions.map((d) => d.ruleId).filter((id): id is string => id !== undefined));
    return advice.rules.filter((r) => ids.has(r.id)).map((r) => renderPfRule(r.rule, macroOf));
  };
  const blockedLegit = denials.filter((d) => d.decision.verdict === 'admit' && d.verdict.action === 'block');

  // 1. DHCP and neighbour discovery still blocked.
  const wifi = blockedLegit.filter((d) => WIFI_CATEGORIES.has(d.decision.category));
  let wifiText: string | undefined;
  if (wifi.length > 0) {
    const groups = countBy(wifi, (d) => d.decision.category);
    const names: Readonly<Record<string, string>> = { dhcp: 'DHCP', dhcpv6: 'DHCPv6', 'neighbour-discovery': 'IPv6 neighbour discovery' };
    const parts = groups.map(([c, list]) => `${names[c] ?? c} (${list.length})`);
    const deciders = [...new Set(wifi.map((d) => (d.verdict.rule === undefined ? 'the default' : ruleLabel(d.verdict.rule))))];
    const effects: string[] = [];
    if (groups.some(([c]) => c !== 'neighbour-discovery')) effects.push('without DHCP the host cannot renew its address');
    if (groups.some(([c]) => c === 'neighbour-discovery')) effects.push('without neighbour discovery it finds no IPv6 router and cannot reach its neighbours');
    wifiText = `${joinAnd(parts)} ${parts.length === 1 ? 'is' : 'are'} blocked by ${deciders.join(' and ')}: this is why Wi-Fi does not come back after sleep — ${effects.join(', and ')}.`;
    findings.push({ code: 'wifi-breakers', severity: 'high', line: wifi[0]!.verdict.rule?.line, rule: wifi[0]!.verdict.rule?.text, message: wifiText, frames: frames(wifi.map((d) => d.decision)), fix: fixesFor(wifi.map((d) => d.decision)) });
  }

  // 2. Other legitimate traffic still blocked.
  for (const [category, list] of countBy(blockedLegit.filter((d) => !WIFI_CATEGORIES.has(d.decision.category)), (d) => d.decision.category)) {
    const first = list[0]!;
    const what =
      category === 'vpn-endpoint'
        ? 'the VPN client cannot reach its server, so the tunnel cannot come up'
        : category === 'tunnel'
          ? 'traffic through the tunnel is blocked: nothing works even with the VPN connected'
          : category === 'mdns'
            ? 'Bonjour, AirPlay and printers on this network do not work'
            : `${category} traffic is blocked`;
    findings.push({
      code: 'still-blocked',
      severity: category === 'mdns' ? 'medium' : 'high',
      line: first.verdict.rule?.line,
      rule: first.verdict.rule?.text,
      message: `${list.length} ${category} packet${list.length === 1 ? '' : 's'} blocked by ${first.verdict.rule === undefined ? 'no rule' : ruleLabel(first.verdict.rule)}: ${what} (first: frame ${first.decision.packet.frame}, ${describeLoggedPacket(first.decision.packet)}).`,
      frames: frames(list.map((d) => d.decision)),
      fix: fixesFor(list.map((d) => d.decision)),
    });
  }

  // 3. What should stay denied and passes, by the rule that passes it.
  const leaks = denials.filter((d) => d.decision.verdict === 'stay-denied' && d.verdict.action === 'pass');
  for (const [, list] of countBy(leaks, (d) => (d.verdict.rule === undefined ? (d.verdict.skipped ? 'skip' : 'default') : String(d.verdict.rule.line)))) {
    const first = list[0]!;
    const byCategory = countBy(list, (d) => d.decision.category).map(([c, l]) => `${l.length} ${c} (frame ${l[0]!.decision.packet.frame}: ${describeLoggedPacket(l[0]!.decision.packet)})`);
    const decider = first.verdict.rule === undefined ? (first.verdict.skipped ? 'set skip on' : 'no rule (pf passes what no rule matches)') : ruleLabel(first.verdict.rule);
    findings.push({
      code: 'admits-stay-denied',
      severity: list.some((d) => LEAK_CATEGORIES.has(d.decision.category)) ? 'high' : 'medium',
      line: first.verdict.rule?.line,
      rule: first.verdict.rule?.text,
      message: `${decider} lets through what should stay denied: ${byCategory.join('; ')}.`,
      frames: frames(list.map((d) => d.decision)),
      fix: [...new Set(list.flatMap((d) => advice.stayDenied.find((s) => s.packets.includes(d.decision.packet))?.remedy.slice(0, 1) ?? []))],
    });
  }

  // 4. Pass rules broader than their traffic needs, on an interface of this log (or on every interface).
  for (const use of uses.values()) {
    if (use.breadth === 'narrow' || !concernsLoggedPhysical(use.rule, known, context)) continue;
    const code = use.breadth === 'any-port' ? 'any-port' : (`passes-${use.breadth}` as CheckFinding['code']);
    const where = describeInterfaces(use.rule, known, context);
    const admittedLegit = use.admits.filter((d) => d.verdict === 'admit');
    const admittedStay = use.admits.filter((d) => d.verdict === 'stay-denied');
    const used = summarisePassed(use.passesLogged);
    const head =
      use.breadth === 'all-traffic'
        ? `passes every protocol, address and port on ${where}, outside the tunnel`
        : use.breadth === 'all-udp'
          ? `passes every UDP port to and from every address on ${where}, outside the tunnel: DNS (every name looked up), QUIC on 443, WebRTC and STUN (the real address), NTP`
          : use.breadth === 'all-protocol'
            ? `passes every port of ${use.rule.protos!.join('/')} to and from every address on ${where}, outside the tunnel`
            : `passes every port${use.rule.protos === undefined ? ' and protocol' : ''} for the addresses it names, on ${where}`;
    const evidence: string[] = [];
    const admitted: string[] = [];
    if (admittedLegit.length > 0) admitted.push(`${admittedLegit.length} that need a rule (${countBy(admittedLegit, (d) => d.category).map(([c, l]) => `${l.length} ${c}`).join(', ')})`);
    if (admittedStay.length > 0) admitted.push(`${admittedStay.length} that should stay denied (${countBy(admittedStay, (d) => d.category).map(([c, l]) => `${l.length} ${c}`).join(', ')})`);
    if (admitted.length > 0) evidence.push(`of the denials it admits ${admitted.join(' and ')}`);
    // What else it carries matters when the denials do not show why the rule is there.
    if (admittedLegit.length === 0 && used.length > 0) evidence.push(`in this log it passes ${used.slice(0, 5).join(', ')}${used.length > 5 ? ', …' : ''}`);
    findings.push({
      code,
      severity: use.breadth === 'any-port' ? 'medium' : 'high',
      line: use.rule.line,
      rule: use.rule.text,
      message: `${ruleLabel(use.rule)} ${head}${evidence.length > 0 ? `; ${evidence.join('; ')}` : '; nothing in this log needs it'}.`,
      frames: frames(use.admits),
      fix: admittedLegit.length > 0 ? fixesFor(admittedLegit) : narrowerFromTraffic(use, macroOf),
    });
  }

  // 5. Rules for a tunnel interface that is not the live one.
  if (liveTunnels.length > 0) {
    for (const rule of rules) {
      const stale = (rule.interfaces ?? []).filter((i) => !i.negated && interfaceKind(i.name) === 'tunnel' && /\d$/.test(i.name) && !liveTunnels.includes(i.name));
      if (stale.length === 0) continue;
      const blockedOnLive = denials.filter((d) => d.decision.packet.ifName === liveTunnels[0] && d.verdict.action === 'block');
      findings.push({
        code: 'stale-tunnel-interface',
        severity: 'high',
        line: rule.line,
        rule: rule.text,
        message: `${ruleLabel(rule)} is written for ${stale.map((i) => i.name).join(', ')}, but the live tunnel in this log is ${liveTunnels[0]}${blockedOnLive.length > 0 ? `: ${blockedOnLive.length} packet${blockedOnLive.length === 1 ? '' : 's'} through ${liveTunnels[0]} ${blockedOnLive.length === 1 ? 'is' : 'are'} blocked (frame${blockedOnLive.length === 1 ? '' : 's'} ${frames(blockedOnLive.map((d) => d.decision)).join(', ')})` : ''}. The utun number changes when the VPN reconnects.`,
        frames: frames(blockedOnLive.map((d) => d.decision)),
        fix: [
          `write the rule for the tunnel in use (${stale.map((i) => {
            const macro = [...ruleset.macros].find(([, value]) => value === i.name)?.[0];
            return macro === undefined ? `on ${liveTunnels[0]}` : `${macro} = "${liveTunnels[0]}"`;
          }).join(', ')}) and regenerate it whenever the VPN reconnects`,
          'on OpenBSD and FreeBSD an interface group matches every unit ("pass out on tun", "pass out on wg")',
        ],
      });
    }
  }

  // 6. Block rules without log: pflog shows nothing for them.
  for (const use of uses.values()) {
    if (use.rule.action !== 'block' || use.rule.log) continue;
    findings.push({
      code: 'block-without-log',
      severity: 'medium',
      line: use.rule.line,
      rule: use.rule.text,
      message: `${ruleLabel(use.rule)} has no log: pflog shows nothing for what it blocks${use.blocks.length > 0 ? ` (here it decides ${use.blocks.length} of the denials)` : ''}.`,
      frames: frames(use.blocks),
      // pf.conf(5): action [direction] [log] [quick] …, so log goes after in/out.
      fix: [use.rule.text.replace(/^block(\s+(drop|return-rst|return-icmp6?|return))?(\s+(in|out))?/, (m) => `${m} log`), 'then watch it: sudo ifconfig pflog0 create; sudo tcpdump -n -e -i pflog0 -w pflog.pcap'],
    });
  }

  // 7. What the check could not evaluate.
  for (const ignored of ruleset.ignored) {
    findings.push({ code: 'not-evaluated', severity: 'info', line: ignored.line, rule: ignored.text, message: `line ${ignored.line} "${ignored.text}": ${ignored.why}.`, frames: [], fix: [] });
  }

  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.line ?? 0) - (b.line ?? 0));
  return { denials, rules: [...uses.values()], findings, wifiBreakers: wifiText, liveTunnels, assumptions: [...assumptions] };
}

function joinAnd(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

function anchorPaths(statements: readonly PfStatement[], path: string[] = [], out = new Map<PfFilterRule, string[]>()): Map<PfFilterRule, string[]> {
  for (const s of statements) {
    if (s.kind === 'filter') out.set(s, path);
    else anchorPaths(s.rules ?? [], [...path, s.name], out);
  }
  return out;
}

/** Whether a rule applies to a physical interface this log saw (or to every interface). */
function concernsLoggedPhysical(rule: PfFilterRule, known: readonly string[], context: KillSwitchAdvice['context']): boolean {
  if (rule.interfaces === undefined) return true;
  const physical = known.filter((n) => interfaceKind(n) === 'physical');
  return rule.interfaces.some((item) => (item.negated ? physical.some((n) => n !== item.name) : physical.some((n) => matchInterfaceName(item.name, n, context))));
}

function describeInterfaces(rule: PfFilterRule, known: readonly string[], context: KillSwitchAdvice['context']): string {
  if (rule.interfaces === undefined) return 'every interface';
  const physical = known.filter((n) => interfaceKind(n) === 'physical' && rule.interfaces!.some((i) => matchInterfaceName(i.name, n, context) !== i.negated));
  return physical.join(', ') || rule.interfaces.map((i) => i.name).join(', ');
}

function summarisePassed(packets: readonly LoggedPacket[]): string[] {
  return countBy(packets, (p) => `${p.proto === 17 ? 'udp' : p.proto === 6 ? 'tcp' : `proto ${p.proto}`} ${p.direction === 'in' ? `from ${p.src}` : `to ${p.dst}`}${p.dport !== undefined ? ` port ${p.direction === 'in' ? p.sport : p.dport}` : ''}`).map(
    ([what, list]) => `${what} (${list.length} packet${list.length === 1 ? '' : 's'}, frame${list.length === 1 ? '' : 's'} ${frames(list).slice(0, 4).join(', ')}${list.length > 4 ? ' …' : ''})`,
  );
}

/** For a pass rule only used by passed traffic: the narrow rule that traffic needs (outbound UDP/TCP to one port). */
function narrowerFromTraffic(use: RuleUse, iface: (name: string) => string): string[] {
  const out = new Set<string>();
  for (const p of use.passesLogged) {
    if ((p.proto !== 17 && p.proto !== 6) || p.dport === undefined || p.direction !== 'out') continue;
    out.add(`pass out quick${p.ifName === undefined ? '' : ` on ${iface(p.ifName)}`} ${p.af === 4 ? 'inet' : 'inet6'} proto ${p.proto === 17 ? 'udp' : 'tcp'} from any to ${p.dst} port ${p.dport} keep state`);
  }
  return [...out];
}
