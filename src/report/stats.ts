/**
 * The closing lines of the reports over a capture: where the capture stopped being readable, if it did, and the packets
 * ignored (softflowd's statistics(): "Ignored packets: N (x non-IP, y too short)").
 */
import type { PacketStats } from '../types.js';

/** Where a capture stopped being readable (capture/errors.ts CaptureDamage), as reports list it. */
export interface DamageJson {
  code: string;
  offset: number;
  detail: string;
}

/** A capture's damage as reports list it: its code, offset and detail only; null when it was read to its end. */
export function damageJson(damage: DamageJson | null): DamageJson | null {
  return damage === null ? null : { code: damage.code, offset: damage.offset, detail: damage.detail };
}

/** One input's damage, for reports that read more than one (explain, rules: a denial log and a capture). */
export interface InputDamageJson extends DamageJson {
  /** Which input: `denied` (--denied) or `capture` (--capture). */
  input: 'denied' | 'capture';
  file: string;
}

/** `FILE: Capture damaged at byte N: code (detail); everything before it was <done>.` */
export function renderInputDamageLine(damage: InputDamageJson, done: string): string {
  return `${damage.file}: ${renderDamageLine(damage, done)}`;
}

/** `Capture damaged at byte N: code (detail); everything before it was <done>.` */
export function renderDamageLine(damage: DamageJson, done: string): string {
  return `Capture damaged at byte ${damage.offset}: ${damage.code} (${damage.detail}); everything before it was ${done}.`;
}

/** `Packets: 120 (98 UDP); issues: 3 truncated (udp-payload-truncated 3), 19 unsupported (ip-proto-not-udp 19)`. */
export function renderIgnoredLine(stats: PacketStats): string {
  const parts: string[] = [];
  for (const kind of ['truncated', 'invalid', 'unsupported', 'internal'] as const) {
    if (stats[kind] === 0) continue;
    const codes = Object.entries(stats.issuesByCode)
      .filter(([code]) => stats.issueKindByCode[code] === kind)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    parts.push(`${stats[kind]} ${kind} (${codes})`);
  }
  return `Packets: ${stats.total} (${stats.udp} UDP); issues: ${parts.length === 0 ? 'none' : parts.join(', ')}`;
}
