/**
 * `rules` documents. The text for people is the rule file itself — pf.conf lines (or an nftables table, or a
 * Little Snitch .lsrules file) with comments saying what each rule admits and why it is safe, followed by the
 * denials that stay denied — so it can be read, reviewed and then loaded. `--format json` carries the same for
 * machines. `--check` gets a report: each denied packet under the user's rule set and what to change.
 */
import type { KillSwitchAdvice, LoggedPacket, ProposedRule, StayDenied } from '../classify/kill-switch.js';
import type { CheckFinding, PfCheck } from '../classify/pf-check.js';
import type { PfRuleset } from '../policy/pf-model.js';
import { renderTable } from './table.js';
import { formatIsoFromUs } from './time.js';
import { renderInputDamageLine, type InputDamageJson } from './stats.js';

/** Where the advice came from, for headers. */
export interface RulesMeta {
  deniedFile: string;
  captureFile: string | undefined;
  target: 'pf' | 'nft' | 'lsrules';
  /** Log records that did not decode to an IP packet. */
  undecodable: number;
  /** Inputs that stopped being readable before their end; empty if none. */
  damage: readonly InputDamageJson[];
}

/** A rule set checked against the advice (what `--check` reports). */
export interface CheckedRuleset {
  ruleset: PfRuleset;
  check: PfCheck;
  advice: KillSwitchAdvice;
}

const WIDTH = 110;
const PROTOCOLS: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };
const ND_NAMES: Readonly<Record<number, string>> = { 133: 'routersol', 134: 'routeradv', 135: 'neighbrsol', 136: 'neighbradv', 137: 'redir' };

function endpoint(addr: string, port: number | undefined): string {
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** `out on en0 udp 0.0.0.0:68 → 255.255.255.255:67`. */
export function packetText(p: LoggedPacket): string {
  const proto = PROTOCOLS[p.proto] ?? `proto ${p.proto}`;
  const icmp = p.icmpType === undefined ? '' : ` ${p.proto === 58 ? (ND_NAMES[p.icmpType] ?? `type ${p.icmpType}`) : `type ${p.icmpType}`}`;
  return `${p.direction} on ${p.ifName ?? '?'} ${proto}${icmp} ${endpoint(p.src, p.sport)} → ${endpoint(p.dst, p.dport)}`;
}

function framesText(frames: readonly number[]): string {
  return frames.length > 6 ? `${frames.slice(0, 5).join(', ')} … ${frames.at(-1)}` : frames.join(', ');
}

function wrap(text: string, first: string, rest = first): string[] {
  const lines: string[] = [];
  let line = '';
  let prefix = first;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      prefix = rest;
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function admitsLine(rule: ProposedRule): string {
  const first = rule.admits[0]!;
  return `admits ${plural(rule.admits.length, 'denial')} (frame${rule.admits.length === 1 ? '' : 's'} ${framesText(rule.admits.map((p) => p.frame))}); first: ${packetText(first)}`;
}

function deniedCount(advice: KillSwitchAdvice): { admitted: number; stay: number } {
  return { admitted: advice.decisions.filter((d) => d.verdict === 'admit').length, stay: advice.decisions.filter((d) => d.verdict === 'stay-denied').length };
}

/** Comment lines every target starts with. */
function header(advice: KillSwitchAdvice, meta: RulesMeta, comment: string, instruction: string): string[] {
  const { admitted, stay } = deniedCount(advice);
  const out: string[] = [];
  const c = (text: string): void => void out.push(...wrap(text, `${comment} `));
  c(`udptrack rules --target ${meta.target}`);
  c(`From ${meta.deniedFile}${meta.captureFile ? ` (with ${meta.captureFile})` : ''}: ${plural(admitted + stay, 'denied packet')}; the rules below are for ${admitted}, ${stay} should stay denied.`);
  if (advice.wifiBreakers !== undefined) {
    out.push(comment);
    c(advice.wifiBreakers.text);
  }
  for (const warning of advice.warnings) {
    out.push(comment);
    c(`WARNING (--allow-broad): ${warning}`);
  }
  out.push(comment);
  const interfaces = advice.interfaces.map((i) => `${i.name} (${i.kind}${i.live ? ', live' : ''}, ${plural(i.denials, 'denial')})`);
  c(interfaces.length > 0 ? `Interfaces in the log: ${interfaces.join(', ')}.` : 'The log does not name interfaces (NFLOG records carry indexes): the rules apply on every interface.');
  c(instruction);
  if (meta.undecodable > 0) c(`${plural(meta.undecodable, 'log record')} did not decode to an IP packet and ${meta.undecodable === 1 ? 'is' : 'are'} not counted.`);
  for (const damage of meta.damage) c(renderInputDamageLine(damage, 'used'));
  const v = advice.verification;
  c(`Checked with udptrack's pf evaluator on top of "block all": the rules admit ${v.admitted} of the ${v.admittedOf} they are for and keep ${v.stillDenied} of the other ${v.stillDeniedOf} denied.`);
  for (const failure of v.failures) c(`CHECK FAILED: ${failure}`);
  return out;
}

function stayLines(stays: readonly StayDenied[], comment: string, broad: boolean): string[] {
  if (stays.length === 0) return [];
  const out = ['', `${comment} ${broad ? 'Should stay denied (the --allow-broad rule lets the UDP ones through; see the warning)' : 'Stay denied (no rule; what to do instead)'}:`];
  for (const s of stays) {
    out.push(...wrap(`${s.category}, ${plural(s.packets.length, 'denial')} (frame${s.packets.length === 1 ? '' : 's'} ${framesText(s.packets.map((p) => p.frame))}): ${s.summary}.`, `${comment}   `, `${comment}     `));
    s.remedy.forEach((r, i) => out.push(...wrap(`${i === 0 ? 'fix' : 'also'}: ${r}`, `${comment}     `, `${comment}       `)));
  }
  return out;
}

/** Macros for the interfaces seen (loopback aside), in the advice's order: physical first, the live tunnel next. */
function interfaceMacros(advice: KillSwitchAdvice): Array<{ macro: string; name: string }> {
  return advice.interfaces.filter((i) => i.kind !== 'loopback').map((i) => ({ macro: i.macro, name: i.name }));
}

/** pf.conf lines with comments. */
export function renderRulesPf(advice: KillSwitchAdvice, meta: RulesMeta): string {
  const out = header(advice, meta, '#', 'Add these lines to pf.conf after your block rules. Each has quick, so it decides as soon as it matches: put them before any "block … quick" rule.');
  const macros = interfaceMacros(advice);
  if (macros.length > 0) out.push('', ...macros.map((m) => `${m.macro} = "${m.name}"`));
  if (advice.rules.length === 0) out.push('', '# No denial here needs a rule.');
  for (const rule of advice.rules) {
    out.push('');
    out.push(...wrap(`${rule.id} ${rule.category}: ${rule.why}`, '# ', '#   '));
    out.push(...wrap(admitsLine(rule), '#   ', '#     '));
    out.push(...wrap(`safe: ${rule.safe}`, '#   ', '#     '));
    for (const note of rule.notes) out.push(...wrap(`note: ${note}`, '#   ', '#     '));
    out.push(rule.pf);
  }
  out.push(...stayLines(advice.stayDenied, '#', advice.warnings.length > 0));
  return `${out.join('\n')}\n`;
}

/** An nftables file: the rules as chains to jump to from the kill switch's own input and output chains. */
export function renderRulesNft(advice: KillSwitchAdvice, meta: RulesMeta): string {
  const out = [
    '#!/usr/sbin/nft -f',
    ...header(
      advice,
      meta,
      '#',
      'In nftables an accept in one table cannot undo a drop in another, so these chains belong in the table that holds your kill switch (written here as "inet killswitch": use your table\'s name), and its input and output chains jump to them before they drop: nft add rule inet killswitch input jump udptrack_in; nft add rule inet killswitch output jump udptrack_out. pf\'s "keep state" is nftables\' connection tracking: accept "ct state established,related" first in those chains.',
    ),
  ];
  const macros = interfaceMacros(advice);
  if (macros.length > 0) out.push('', ...macros.map((m) => `define ${m.macro} = "${m.name}"`));
  out.push('', 'table inet killswitch {');
  for (const chain of ['input', 'output'] as const) {
    out.push(`\tchain udptrack_${chain === 'input' ? 'in' : 'out'} {`);
    for (const rule of advice.rules) {
      for (const nft of rule.nft.filter((n) => n.chain === chain)) {
        out.push(...wrap(`${rule.id} ${rule.category}: ${admitsLine(rule)}`, '\t\t# ', '\t\t#   '));
        for (const omitted of nft.omitted) {
          out.push(...wrap(`not written: ${omitted} (nftables has no interface-address match without a set; the interface still restricts it)`, '\t\t# ', '\t\t#   '));
        }
        out.push(`\t\t${nft.text}`);
      }
    }
    out.push('\t}');
  }
  out.push('}');
  out.push(...stayLines(advice.stayDenied, '#', advice.warnings.length > 0));
  return `${out.join('\n')}\n`;
}

/** A Little Snitch .lsrules file (formats.md §8); what it cannot express is said in its description. */
export function renderRulesLsrules(advice: KillSwitchAdvice, meta: RulesMeta): string {
  const skipped = new Map<string, string[]>();
  const rules = new Map<string, Record<string, unknown> & { notes: string }>();
  for (const r of advice.rules) {
    if ('notWritten' in r.lsrules) {
      skipped.set(r.lsrules.notWritten, [...(skipped.get(r.lsrules.notWritten) ?? []), `${r.id} ${r.category}`]);
      continue;
    }
    // Proposals that differ only in addresses Little Snitch does not see (224.0.0.251 vs ff02::fb) are one rule.
    const { notes, ...rest } = r.lsrules;
    const key = JSON.stringify(rest);
    const existing = rules.get(key);
    if (existing === undefined) rules.set(key, { ...rest, notes: `udptrack ${r.id} ${r.category}: ${notes}` });
    else existing.notes = existing.notes.replace(/^udptrack ([^:]*):/, `udptrack $1, ${r.id}:`);
  }
  const { admitted, stay } = deniedCount(advice);
  const description = [
    `Written by udptrack rules from ${meta.deniedFile}: ${admitted + stay} denied packets, ${admitted} need a rule, ${stay} stay denied.`,
    advice.wifiBreakers?.text ?? '',
    ...advice.warnings.map((w) => `WARNING: ${w}`),
    ...[...skipped].map(([why, ids]) => `Not in this file: ${ids.join(', ')} — ${why}.`),
    advice.stayDenied.length > 0 ? `Stay denied: ${advice.stayDenied.map((s) => `${s.category} (${s.packets.length}): ${s.summary}`).join('; ')}.` : '',
    'The "protocol" value "udp" and the meaning of "ports" on incoming rules are not confirmed by Objective Development\'s documentation (incoming rules use "any"); Little Snitch\'s factory rules already allow local-network traffic unless they were turned off.',
  ].filter((s) => s !== '');
  const doc = { name: 'udptrack: kill-switch exceptions', description: description.join(' '), rules: [...rules.values()] };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The packet fields every JSON record shares. */
export function packetJson(p: LoggedPacket): Record<string, unknown> {
  const out: Record<string, unknown> = { frame: p.frame, ts: formatIsoFromUs(p.tsUs), ifname: p.ifName ?? null, dir: p.direction, proto: PROTOCOLS[p.proto] ?? p.proto, src: p.src };
  if (p.sport !== undefined) out['sport'] = p.sport;
  out['dst'] = p.dst;
  if (p.dport !== undefined) out['dport'] = p.dport;
  if (p.icmpType !== undefined) out['icmp_type'] = p.icmpType;
  if (p.service !== '') out['service'] = p.service;
  return out;
}

/** The machine document of `rules`. */
export function buildRulesJson(advice: KillSwitchAdvice, meta: RulesMeta, rendered: string): Record<string, unknown> {
  return {
    denied_file: meta.deniedFile,
    ...(meta.captureFile === undefined ? {} : { capture_file: meta.captureFile }),
    target: meta.target,
    interfaces: advice.interfaces,
    wifi_breakers:
      advice.wifiBreakers === undefined
        ? null
        : { dhcp: advice.wifiBreakers.dhcp, dhcpv6: advice.wifiBreakers.dhcpv6, neighbour_discovery: advice.wifiBreakers.neighbourDiscovery, text: advice.wifiBreakers.text },
    rules: advice.rules.map((r) => ({
      id: r.id,
      category: r.category,
      pf: r.pf,
      nft: r.nft.map((n) => ({ chain: n.chain, rule: n.text, ...(n.omitted.length > 0 ? { omitted: n.omitted } : {}) })),
      lsrules: 'notWritten' in r.lsrules ? null : r.lsrules,
      ...('notWritten' in r.lsrules ? { lsrules_not_written: r.lsrules.notWritten } : {}),
      why: r.why,
      safe: r.safe,
      notes: r.notes,
      admits: { count: r.admits.length, first: packetJson(r.admits[0]!), frames: r.admits.map((p) => p.frame) },
    })),
    stay_denied: advice.stayDenied.map((s) => ({
      category: s.category,
      cause: s.cause ?? null,
      summary: s.summary,
      remedy: s.remedy,
      count: s.packets.length,
      first: packetJson(s.packets[0]!),
      frames: s.packets.map((p) => p.frame),
    })),
    denials: advice.decisions.map((d) => ({ ...packetJson(d.packet), verdict: d.verdict, category: d.category, cause: d.cause ?? null, rule: d.ruleId ?? null })),
    warnings: advice.warnings,
    verification: {
      admitted: advice.verification.admitted,
      admitted_of: advice.verification.admittedOf,
      still_denied: advice.verification.stillDenied,
      still_denied_of: advice.verification.stillDeniedOf,
      failures: advice.verification.failures,
    },
    undecodable_records: meta.undecodable,
    damage: meta.damage,
    rendered,
  };
}

// ---- --check -------------------------------------------------------------------------------------------------------

function deciderText(check: PfCheck['denials'][number]): string {
  if (check.verdict.skipped) return 'set skip';
  if (check.verdict.rule === undefined) return 'no rule';
  return `line ${check.verdict.rule.line}${check.verdict.anchors.length > 0 ? ` (anchor ${check.verdict.anchors.join('/')})` : ''}`;
}

function findingLines(f: CheckFinding): string[] {
  const out = wrap(`${f.severity.padEnd(6)} ${f.code}: ${f.message}`, '  ', '           ');
  f.fix.forEach((fix, i) => out.push(...wrap(fix, `           ${i === 0 ? 'fix: ' : '     '}`, '                 ')));
  return out;
}

/** The check report for people. */
export function renderCheckText(result: CheckedRuleset, confFile: string, meta: RulesMeta): string {
  const { ruleset, check, advice } = result;
  const filterRules = check.rules.length;
  const out: string[] = [];
  const macros = [...ruleset.macros.keys()];
  out.push(
    `Rule set:   ${confFile} — ${plural(filterRules, 'filter rule')}${macros.length > 0 ? `; macros ${macros.join(', ')}` : ''}${ruleset.skip.length > 0 ? `; set skip on ${ruleset.skip.map((s) => s.name).join(', ')}` : ''}`,
  );
  const ifs = advice.interfaces.map((i) => i.name).join(', ');
  out.push(`Denial log: ${meta.deniedFile} — ${plural(check.denials.length, 'denied packet')}${ifs ? ` on ${ifs}` : ''}${check.liveTunnels.length > 0 ? ` (live tunnel: ${check.liveTunnels[0]})` : ''}`);
  for (const damage of meta.damage) out.push(...wrap(renderInputDamageLine(damage, 'checked'), ''));
  if (check.wifiBreakers !== undefined) out.push('', ...wrap(check.wifiBreakers, ''));
  const wrong = check.denials.filter((d) => !d.asAdvised).length;
  out.push('', ...wrap(`Each denied packet under this rule set (pf: the last matching rule decides, a quick rule at once; no state is assumed, as for every logged denial). ${wrong === 0 ? 'Every verdict is what it should be.' : `${plural(wrong, 'verdict')} ${wrong === 1 ? 'is' : 'are'} not what ${wrong === 1 ? 'it' : 'they'} should be (NO).`}`, ''));
  out.push(
    renderTable(
      ['frame', 'packet', 'verdict', 'by', 'should', 'ok'],
      check.denials.map((d) => [
        String(d.decision.packet.frame),
        packetText(d.decision.packet),
        d.verdict.action,
        deciderText(d),
        `${d.decision.verdict === 'admit' ? 'pass' : 'deny'} (${d.decision.category})`,
        d.asAdvised ? 'yes' : 'NO',
      ]),
      ['right', 'left', 'left', 'left', 'left', 'left'],
    ),
  );
  out.push('', 'Rules (which denied packets each would admit or block):');
  for (const use of check.rules) {
    const parts: string[] = [];
    if (use.admits.length > 0) {
      const byCategory = new Map<string, number>();
      for (const d of use.admits) byCategory.set(d.category, (byCategory.get(d.category) ?? 0) + 1);
      parts.push(`admits ${use.admits.length} (frame${use.admits.length === 1 ? '' : 's'} ${framesText(use.admits.map((d) => d.packet.frame))}: ${[...byCategory].map(([c, n]) => `${n} ${c}`).join(', ')})`);
    }
    if (use.blocks.length > 0) parts.push(`blocks ${use.blocks.length} (frame${use.blocks.length === 1 ? '' : 's'} ${framesText(use.blocks.map((d) => d.packet.frame))})`);
    if (parts.length === 0) parts.push('decides none of them');
    const anchor = use.anchors.length > 0 ? ` [anchor ${use.anchors.join('/')}]` : '';
    out.push(...wrap(`line ${String(use.rule.line).padEnd(4)} ${use.rule.text}${anchor} — ${parts.join('; ')}`, '  ', '            '));
  }
  out.push('', `Findings (${check.findings.length}):`);
  if (check.findings.length === 0) out.push('  none');
  for (const f of check.findings) out.push(...findingLines(f));
  if (check.assumptions.length > 0) {
    out.push('', 'Assumed (a log cannot tell):');
    for (const a of check.assumptions) out.push(...wrap(a, '  ', '    '));
  }
  return `${out.join('\n')}\n`;
}

/** The check document for machines. */
export function buildCheckJson(result: CheckedRuleset, confFile: string, meta: RulesMeta): Record<string, unknown> {
  const { ruleset, check, advice } = result;
  return {
    pf_conf: confFile,
    denied_file: meta.deniedFile,
    ruleset: {
      macros: Object.fromEntries(ruleset.macros),
      skip: ruleset.skip.map((s) => `${s.negated ? '!' : ''}${s.name}`),
      rules: check.rules.map((u) => ({
        line: u.rule.line,
        text: u.rule.text,
        action: u.rule.action,
        quick: u.rule.quick,
        log: u.rule.log,
        anchors: u.anchors,
        breadth: u.breadth,
        admits: u.admits.map((d) => d.packet.frame),
        blocks: u.blocks.map((d) => d.packet.frame),
        passes_logged: u.passesLogged.map((p) => p.frame),
      })),
      not_evaluated: ruleset.ignored,
    },
    interfaces: advice.interfaces,
    live_tunnels: check.liveTunnels,
    wifi_breakers: check.wifiBreakers ?? null,
    denials: check.denials.map((d) => ({
      ...packetJson(d.decision.packet),
      verdict: d.verdict.action,
      decided_by: d.verdict.rule === undefined ? null : { line: d.verdict.rule.line, text: d.verdict.rule.text, anchors: d.verdict.anchors },
      skipped: d.verdict.skipped,
      should: d.decision.verdict,
      category: d.decision.category,
      cause: d.decision.cause ?? null,
      as_advised: d.asAdvised,
      ...(d.verdict.assumptions.length > 0 ? { assumptions: d.verdict.assumptions } : {}),
    })),
    findings: check.findings,
    assumptions: check.assumptions,
    damage: meta.damage,
  };
}
