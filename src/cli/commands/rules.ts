/**
 * `udptrack rules`: the narrowest kill-switch rules that admit what the denial log shows is legitimate, or
 * (`--check`) what a pf.conf does with those denials.
 */
import { adviseRules, checkRules, resolveProfile, type ProfileChoice } from '../../pipeline/index.js';
import { buildCheckJson, buildRulesJson, renderCheckText, renderRulesLsrules, renderRulesNft, renderRulesPf, type RulesMeta } from '../../report/rules.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';

/** Options of `rules`, as commander parses them. */
export interface RulesCliOptions extends ProfileChoice {
  denied?: string;
  capture?: string;
  check?: string;
  target: 'pf' | 'nft' | 'lsrules';
  format: 'text' | 'json';
  allowBroad?: boolean;
  denyPrefix?: string;
  local?: string[];
}

/** Run `rules`. */
export async function runRules(options: RulesCliOptions, io: CliIo, targetGiven: boolean): Promise<void> {
  if (options.denied === undefined) {
    throw new UsageError('rules needs --denied FILE: a pflog capture of the blocked packets (block log all; sudo tcpdump -i pflog0 -w pflog.pcap)');
  }
  if (options.check !== undefined && targetGiven && options.target !== 'pf') throw new UsageError('--check reads a pf.conf; --target applies to proposed rules, not to a check');
  if (options.check !== undefined && options.allowBroad) throw new UsageError('--allow-broad applies to proposed rules, not to --check');
  const profileGiven = options.profile !== undefined || options.udpTimeout !== undefined || options.firewallConfig !== undefined;
  const common = {
    deniedFile: options.denied,
    captureFile: options.capture,
    profile: resolveProfile(options),
    profileGiven,
    localNetworks: options.local,
    denyPrefix: options.denyPrefix,
  };
  if (options.check !== undefined) {
    const result = await checkRules(options.check, common);
    const meta: RulesMeta = { deniedFile: options.denied, captureFile: options.capture, target: 'pf', undecodable: result.undecodable, damage: result.damage };
    const checked = { ruleset: result.ruleset, check: result.check, advice: result.advice };
    io.stdout.write(options.format === 'json' ? `${JSON.stringify(buildCheckJson(checked, options.check, meta), null, 2)}\n` : renderCheckText(checked, options.check, meta));
    return;
  }
  const result = await adviseRules({ ...common, allowBroad: options.allowBroad === true });
  const meta: RulesMeta = { deniedFile: options.denied, captureFile: options.capture, target: options.target, undecodable: result.undecodable, damage: result.damage };
  const rendered =
    options.target === 'nft' ? renderRulesNft(result.advice, meta) : options.target === 'lsrules' ? renderRulesLsrules(result.advice, meta) : renderRulesPf(result.advice, meta);
  io.stdout.write(options.format === 'json' ? `${JSON.stringify(buildRulesJson(result.advice, meta, rendered), null, 2)}\n` : rendered);
}
