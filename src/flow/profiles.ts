/**
 * Timeout profiles: models of how real systems remember a UDP flow, under their own key names
 * (../shared/docs/behaviour.md §1, summary in §1.6). A profile is a state machine family plus its numbers; users
 * override numbers with `--udp-timeout key=value,…` under the profile's key names, or take them from a firewall
 * configuration (firewall-config.ts).
 */
import { formatDurationSpec, parseDurationUs } from './duration.js';

/** The state machines the table knows (table.ts implements each). */
export type ModelFamily = 'pf' | 'conntrack' | 'two-state' | 'idle';

/** One tunable of a profile. */
export interface ProfileKey {
  name: string;
  kind: 'duration' | 'count';
  help: string;
}

/** A system's UDP state model with its numbers. Immutable; `withOverrides` makes a changed copy. */
export interface TimeoutProfile {
  /** Profile name as users type it: `pf`, `linux`, `nft`, … */
  readonly name: string;
  readonly family: ModelFamily;
  /** What it models, for reports: `pf (OpenBSD, FreeBSD, macOS)`. */
  readonly title: string;
  /** Where the numbers come from. */
  readonly source: string;
  readonly keys: readonly ProfileKey[];
  /** Durations by key, in µs. */
  readonly timeoutsUs: Readonly<Record<string, number>>;
  /** Counts by key (pf adaptive.start/end, states). */
  readonly counts: Readonly<Record<string, number>>;
  /** conntrack: a reply moves the flow to `replied` only for packets later than this after creation (Linux ≥ 5.0: 2 s). */
  readonly streamDelayUs: number;
  /** two-state: packets (both directions seen) after which the flow is established. */
  readonly establishAfterPackets: number;
  /** False for NATs that refresh a mapping on outbound traffic only (RFC 4787 REQ-6). */
  readonly inboundRefresh: boolean;
}

const S = 1_000_000;

const PF_KEYS: readonly ProfileKey[] = [
  { name: 'udp.first', kind: 'duration', help: 'state after the first packet' },
  { name: 'udp.single', kind: 'duration', help: 'one side has sent more than once, or the opener sent once and the peer streams' },
  { name: 'udp.multiple', kind: 'duration', help: 'both sides have sent (MULTIPLE:MULTIPLE)' },
  { name: 'interval', kind: 'duration', help: 'purge interval: an expired state can still match for up to this long' },
  { name: 'adaptive.start', kind: 'count', help: 'state count where adaptive scaling starts' },
  { name: 'adaptive.end', kind: 'count', help: 'state count where every timeout reaches zero' },
  { name: 'states', kind: 'count', help: 'state count to scale timeouts by (pfctl -si "current entries"); 0 = no scaling' },
];

const conntrackKeys = (what: string): readonly ProfileKey[] => [
  { name: 'unreplied', kind: 'duration', help: `no reply seen yet, or still within 2 s of creation (${what})` },
  { name: 'replied', kind: 'duration', help: `reply seen and the flow older than 2 s: "stream" (${what})` },
];

function idleProfile(name: string, title: string, source: string, key: string, help: string, timeoutSec: number, inboundRefresh = true): TimeoutProfile {
  return {
    name,
    family: 'idle',
    title,
    source,
    keys: [{ name: key, kind: 'duration', help }],
    timeoutsUs: { [key]: timeoutSec * S },
    counts: {},
    streamDelayUs: 0,
    establishAfterPackets: 0,
    inboundRefresh,
  };
}

function conntrackProfile(name: string, title: string, source: string, unrepliedSec: number, repliedSec: number, streamDelayUs: number): TimeoutProfile {
  return {
    name,
    family: 'conntrack',
    title,
    source,
    keys: conntrackKeys(name === 'linux-4' ? 'Linux ≤ 4.20 has no 2 s rule' : 'nf_conntrack_udp_timeout / _stream'),
    timeoutsUs: { unreplied: unrepliedSec * S, replied: repliedSec * S },
    counts: {},
    streamDelayUs,
    establishAfterPackets: 0,
    inboundRefresh: true,
  };
}

function twoStateProfile(name: string, title: string, source: string, newKey: string, newSec: number, estKey: string, estSec: number, establishAfterPackets: number): TimeoutProfile {
  return {
    name,
    family: 'two-state',
    title,
    source,
    keys: [
      { name: newKey, kind: 'duration', help: 'until the flow is established' },
      { name: estKey, kind: 'duration', help: `after ${establishAfterPackets} packets with both directions seen` },
    ],
    timeoutsUs: { [newKey]: newSec * S, [estKey]: estSec * S },
    counts: {},
    streamDelayUs: 0,
    establishAfterPackets,
    inboundRefresh: true,
  };
}

/** Every built-in profile, in the order `--all` runs them. */
export const PROFILES: readonly TimeoutProfile[] = [
  {
    name: 'pf',
    family: 'pf',
    title: 'pf (OpenBSD, FreeBSD, macOS)',
    source: 'pfvar.h PFTM_UDP_*_VAL; pf.c UDP state update; macOS adaptive 6000/12000 (behaviour.md §1.1)',
    keys: PF_KEYS,
    timeoutsUs: { 'udp.first': 60 * S, 'udp.single': 30 * S, 'udp.multiple': 60 * S, interval: 10 * S },
    counts: { 'adaptive.start': 6000, 'adaptive.end': 12000, states: 0 },
    streamDelayUs: 0,
    establishAfterPackets: 0,
    inboundRefresh: true,
  },
  conntrackProfile('linux', 'Linux conntrack ≥ 5.0 (iptables, nftables, firewalld, ufw)', 'nf_conntrack_proto_udp.c: 30/120 s, stream after 2 s (behaviour.md §1.2)', 30, 120, 2 * S),
  conntrackProfile('linux-4', 'Linux conntrack ≤ 4.20', 'kernel ≤ 4.20: 30/180 s, no 2 s rule (behaviour.md §1.2)', 30, 180, 0),
  conntrackProfile('openwrt', 'OpenWrt (conntrack with its sysctl defaults)', 'openwrt sysctl-nf-conntrack.conf: 60/180 s (behaviour.md §1.2)', 60, 180, 2 * S),
  conntrackProfile('nft', 'nftables ct timeout object', 'nft "ct timeout" policy unreplied/replied; defaults as Linux (behaviour.md §1.2)', 30, 120, 2 * S),
  idleProfile('windows', 'Windows Defender Firewall (WFP ALE flow)', 'ALE stateful filtering: 60 s idle (behaviour.md §1.3)', 'idle', 'idle lifetime of a unicast UDP flow', 60),
  idleProfile('asa', 'Cisco ASA', 'timeout udp 0:02:00 (behaviour.md §1.5)', 'udp', 'timeout udp', 120),
  idleProfile('srx', 'Juniper SRX', 'UDP inactivity-timeout 60 s (behaviour.md §1.5)', 'udp', 'inactivity-timeout', 60),
  idleProfile('rfc4787', 'NAT per RFC 4787 (outbound refresh only)', 'RFC 4787 REQ-5: ≥ 120 s, 300 s recommended; REQ-6 outbound refresh (behaviour.md §1.4)', 'mapping', 'mapping timer; 120s is the minimum RFC 4787 allows', 300, false),
  idleProfile('zeek', 'Zeek flow analysis', 'udp_inactivity_timeout = 1 min (behaviour.md §1.5)', 'inactivity', 'udp_inactivity_timeout', 60),
  twoStateProfile('suricata', 'Suricata flow engine', 'flow-timeouts.udp new 30, established 300 (behaviour.md §1.5)', 'new', 30, 'established', 300, 2),
  twoStateProfile('aws', 'AWS EC2 security-group conntrack', 'udpTimeout 30, udpStreamTimeout 180 (behaviour.md §1.4)', 'udp', 30, 'stream', 180, 3),
  idleProfile('gcp', 'GCP Cloud NAT', 'udpIdleTimeoutSec 30 (behaviour.md §1.4)', 'udp', 'udpIdleTimeoutSec', 30, false),
];

/** Error raised for a bad profile name, key or value; its message is one line naming the bad part and what is accepted. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** Look a profile up by name. */
export function getProfile(name: string): TimeoutProfile {
  const profile = PROFILES.find((p) => p.name === name);
  if (profile === undefined) {
    throw new ProfileError(`unknown profile '${name}'; known profiles: ${PROFILES.map((p) => p.name).join(', ')}`);
  }
  return profile;
}

/**
 * Apply `key=value,key=value` overrides under the profile's own key names (`udp.first=60s,udp.single=30s`;
 * `unreplied=3s,replied=5s`). Durations take ms, s, m, h (a bare number is seconds); counts are integers.
 */
export function withOverrides(profile: TimeoutProfile, spec: string): TimeoutProfile {
  const timeoutsUs = { ...profile.timeoutsUs };
  const counts = { ...profile.counts };
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ProfileError(`'${part}' in --udp-timeout is not key=value (e.g. ${exampleSpec(profile)})`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const keySpec = profile.keys.find((k) => k.name === key);
    if (keySpec === undefined) {
      throw new ProfileError(`unknown key '${key}' for profile ${profile.name}; its keys: ${profile.keys.map((k) => k.name).join(', ')}`);
    }
    if (keySpec.kind === 'count') {
      if (!/^\d+$/.test(value)) throw new ProfileError(`'${key}=${value}': ${key} takes a whole number of states`);
      counts[key] = Number(value);
      continue;
    }
    const us = parseDurationUs(value);
    if (us === undefined) {
      throw new ProfileError(`'${key}=${value}': not a duration; use a number with ms, s, m or h (e.g. 30s, 1m30s, 500ms)`);
    }
    timeoutsUs[key] = us;
  }
  return { ...profile, timeoutsUs, counts };
}

function exampleSpec(profile: TimeoutProfile): string {
  const key = profile.keys.find((k) => k.kind === 'duration');
  return key === undefined ? 'key=30s' : `${key.name}=${formatDurationSpec(profile.timeoutsUs[key.name] ?? 30 * S)}`;
}

/** `udp.first=60s, udp.single=30s, …` — the effective numbers, echoed in every report (softflowd print_timeouts). */
export function describeTimeouts(profile: TimeoutProfile): string {
  return profile.keys
    .map((k) => (k.kind === 'duration' ? `${k.name}=${formatDurationSpec(profile.timeoutsUs[k.name] ?? 0)}` : `${k.name}=${profile.counts[k.name] ?? 0}`))
    .join(', ');
}

/** The timeouts as plain seconds, for JSON reports. */
export function timeoutsInSeconds(profile: TimeoutProfile): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of profile.keys) {
    out[key.name] = key.kind === 'duration' ? (profile.timeoutsUs[key.name] ?? 0) / S : (profile.counts[key.name] ?? 0);
  }
  return out;
}

/**
 * pf's adaptive scaling (pf_state_expires; pf.conf(5) "adaptive.start"): with more than `adaptive.start` states every
 * timeout is multiplied by (end − states) / (end − start); at `adaptive.end` states everything expires at once.
 */
export function pfAdaptiveFactor(profile: TimeoutProfile): number {
  const states = profile.counts['states'] ?? 0;
  const start = profile.counts['adaptive.start'] ?? 0;
  const end = profile.counts['adaptive.end'] ?? 0;
  if (states <= 0 || start <= 0 || end <= start || states <= start) return 1;
  if (states >= end) return 0;
  return (end - states) / (end - start);
}

/**
 * The timeout a flow sits on once the local side sends keepalives and the peer answers: what a keepalive interval
 * must stay below. pf: udp.multiple (both peers MULTIPLE); conntrack: replied (stream); two-state: established;
 * idle models: their one timer. Scaled by pf's adaptive factor.
 */
export function steadyStateTimeoutUs(profile: TimeoutProfile): number {
  switch (profile.family) {
    case 'pf':
      return Math.round((profile.timeoutsUs['udp.multiple'] ?? 0) * pfAdaptiveFactor(profile));
    case 'conntrack':
      return profile.timeoutsUs['replied'] ?? 0;
    case 'two-state':
      return profile.timeoutsUs[profile.keys[1]!.name] ?? 0;
    case 'idle':
      return profile.timeoutsUs[profile.keys[0]!.name] ?? 0;
  }
}

/** A parsed `--sweep KEY=FROM..TO[/STEP]`. */
export interface SweepSpec {
  key: string;
  valuesUs: number[];
}

/** The default grid between FROM and TO: the values people actually configure. */
const SWEEP_GRID_SEC = [1, 2, 3, 5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 120, 150, 180, 240, 300, 420, 600, 900, 1200, 1800, 3600];

/** Parse `replied=2s..300s` (grid of common values, plus both ends) or `replied=10s..60s/5s` (fixed step). */
export function parseSweep(text: string): SweepSpec {
  const match = /^\s*([\w.-]+)\s*=\s*([\w.]+)\s*\.\.\s*([\w.]+)\s*(?:\/\s*([\w.]+))?\s*$/.exec(text);
  if (match === null) throw new ProfileError(`--sweep '${text}': expected KEY=FROM..TO or KEY=FROM..TO/STEP, e.g. replied=2s..300s`);
  const [, key, fromText, toText, stepText] = match;
  const fromUs = parseDurationUs(fromText!);
  const toUs = parseDurationUs(toText!);
  if (fromUs === undefined || toUs === undefined || fromUs > toUs || fromUs <= 0) {
    throw new ProfileError(`--sweep '${text}': FROM and TO must be durations with 0 < FROM ≤ TO (units ms, s, m, h)`);
  }
  const values = new Set<number>([fromUs, toUs]);
  if (stepText !== undefined) {
    const stepUs = parseDurationUs(stepText);
    if (stepUs === undefined || stepUs <= 0) throw new ProfileError(`--sweep '${text}': STEP must be a positive duration`);
    if ((toUs - fromUs) / stepUs > 1000) throw new ProfileError(`--sweep '${text}': more than 1000 values; use a larger STEP`);
    for (let v = fromUs; v <= toUs; v += stepUs) values.add(v);
  } else {
    for (const sec of SWEEP_GRID_SEC) if (sec * S > fromUs && sec * S < toUs) values.add(sec * S);
  }
  return { key: key!, valuesUs: [...values].sort((a, b) => a - b) };
}
