/**
 * Choosing the timeout profiles a command runs with: `--profile NAME` (repeatable in simulate), `--udp-timeout
 * SPEC` (overrides under the profile's key names), `--firewall-config FILE` (timeouts from pfctl, nft or sysctl
 * output). Bad names, keys, values or files raise ProfileError with one line naming the bad part.
 */
import { readFileSync } from 'node:fs';
import { parseFirewallConfig } from '../flow/firewall-config.js';
import { PROFILES, ProfileError, getProfile, withOverrides, type TimeoutProfile } from '../flow/profiles.js';

export { PROFILES, ProfileError, describeTimeouts, timeoutsInSeconds, type TimeoutProfile } from '../flow/profiles.js';

/** Profile options as the CLI collects them. */
export interface ProfileChoice {
  profile?: string | undefined;
  udpTimeout?: string | undefined;
  firewallConfig?: string | undefined;
}

/** The one profile of analyze/explain. Default: pf, the firewall under macOS, Little Snitch's host and the BSDs. */
export function resolveProfile(choice: ProfileChoice, defaultName = 'pf'): TimeoutProfile {
  let profile: TimeoutProfile;
  if (choice.firewallConfig !== undefined) {
    let text: string;
    try {
      text = readFileSync(choice.firewallConfig, 'utf8');
    } catch (error) {
      throw new ProfileError(`${choice.firewallConfig}: cannot read firewall config (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    profile = parseFirewallConfig(text, choice.firewallConfig).profile;
    if (choice.profile !== undefined && choice.profile !== profile.name) {
      throw new ProfileError(`--firewall-config ${choice.firewallConfig} describes profile ${profile.name}, not ${choice.profile}`);
    }
  } else {
    profile = getProfile(choice.profile ?? defaultName);
  }
  return choice.udpTimeout === undefined ? profile : withOverrides(profile, choice.udpTimeout);
}

/**
 * simulate's profiles: `--profile a --profile b` or `--all`; a `NAME:SPEC` form gives one profile its own
 * overrides (`linux:replied=60s`), and `--udp-timeout` applies to every profile that has those keys.
 */
export function resolveProfiles(names: readonly string[], all: boolean, udpTimeout?: string): TimeoutProfile[] {
  const entries = all ? PROFILES.map((p) => p.name) : names.length > 0 ? names : ['pf', 'linux'];
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? entry : entry.slice(0, colon);
    let profile = getProfile(name);
    if (colon >= 0) profile = withOverrides(profile, entry.slice(colon + 1));
    if (udpTimeout !== undefined) {
      const applicable = udpTimeout
        .split(',')
        .filter((part) => profile.keys.some((k) => k.name === part.split('=')[0]?.trim()))
        .join(',');
      if (!all && names.length === 1) return withOverrides(profile, udpTimeout);
      if (applicable !== '') profile = withOverrides(profile, applicable);
    }
    return profile;
  });
}
