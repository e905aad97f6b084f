/**
 * Timeouts from what the user has at hand (behaviour.md §1.1, §1.2): `pfctl -s timeouts` (or `-s all`) output,
 * `nft list ruleset` with a UDP `ct timeout` object, or `sysctl -a` lines for nf_conntrack_udp_timeout*.
 * Returns the profile to use and overrides under its own key names.
 */
import { parseDurationUs } from './duration.js';
import { ProfileError, getProfile, withOverrides, type TimeoutProfile } from './profiles.js';

/** What a configuration said. */
export interface FirewallConfig {
  profile: TimeoutProfile;
  /** What was read, for the report: `pfctl -s timeouts: udp.first=60s, …`. */
  description: string;
}

/** Parse a firewall configuration text; throws ProfileError naming the problem when nothing usable is found. */
export function parseFirewallConfig(text: string, fileName: string): FirewallConfig {
  const pf = parsePfctlTimeouts(text);
  if (pf !== undefined) return pf;
  const nft = parseNftCtTimeout(text);
  if (nft !== undefined) return nft;
  const sysctl = parseSysctl(text);
  if (sysctl !== undefined) return sysctl;
  throw new ProfileError(
    `${fileName}: no UDP timeouts found; expected \`pfctl -s timeouts\` output (udp.first 60s …), \`nft list ruleset\` with a ct timeout object for udp, or sysctl lines for net.netfilter.nf_conntrack_udp_timeout`,
  );
}

/** `pfctl -s timeouts`: `udp.first                    60s`, `adaptive.start             6000 states`. */
function parsePfctlTimeouts(text: string): FirewallConfig | undefined {
  const keys = new Set(['udp.first', 'udp.single', 'udp.multiple', 'interval', 'adaptive.start', 'adaptive.end']);
  const parts: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([a-z.]+)\s+(\d+)\s*(s|states)?\s*$/.exec(line);
    if (match === null || !keys.has(match[1]!)) continue;
    parts.push(match[3] === 'states' ? `${match[1]}=${match[2]}` : `${match[1]}=${match[2]}s`);
  }
  if (!parts.some((p) => p.startsWith('udp.'))) return undefined;
  const spec = parts.join(',');
  return { profile: withOverrides(getProfile('pf'), spec), description: `pfctl -s timeouts: ${spec.replaceAll(',', ', ')}` };
}

/**
 * nftables: `ct timeout NAME { protocol udp; l3proto ip; policy = { unreplied : 3s, replied : 5s } }`
 * (nft prints each statement on its own line; values may carry units or be bare seconds).
 */
function parseNftCtTimeout(text: string): FirewallConfig | undefined {
  const objectPattern = /ct\s+timeout\s+("?)([\w.-]+)\1\s*\{([^}]*\{[^}]*\}[^}]*|[^}]*)\}/g;
  for (const match of text.matchAll(objectPattern)) {
    const body = match[3] ?? '';
    if (!/protocol\s+udp\b/.test(body)) continue;
    const policy = /policy\s*=\s*\{([^}]*)\}/.exec(body);
    if (policy === null) continue;
    const parts: string[] = [];
    for (const entry of (policy[1] ?? '').split(',')) {
      const kv = /^\s*(unreplied|replied)\s*:\s*([\w.]+)\s*$/.exec(entry);
      if (kv === null) continue;
      if (parseDurationUs(kv[2]!) === undefined) throw new ProfileError(`ct timeout ${match[2]}: '${kv[2]}' is not a duration`);
      parts.push(`${kv[1]}=${kv[2]}`);
    }
    if (parts.length === 0) continue;
    const spec = parts.join(',');
    return { profile: withOverrides(getProfile('nft'), spec), description: `nft ct timeout "${match[2]}": ${spec.replaceAll(',', ', ')}` };
  }
  return undefined;
}

/** `net.netfilter.nf_conntrack_udp_timeout = 30` and `…_udp_timeout_stream = 120` (sysctl -a). */
function parseSysctl(text: string): FirewallConfig | undefined {
  const parts: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*net\.netfilter\.nf_conntrack_udp_timeout(_stream)?\s*[=:]\s*(\d+)\s*$/.exec(line);
    if (match === null) continue;
    parts.push(`${match[1] === undefined ? 'unreplied' : 'replied'}=${match[2]}s`);
  }
  if (parts.length === 0) return undefined;
  const spec = parts.join(',');
  return { profile: withOverrides(getProfile('linux'), spec), description: `sysctl nf_conntrack_udp_timeout: ${spec.replaceAll(',', ', ')}` };
}
