/**
 * The closing line every report ends with (softflowd's statistics(): "Ignored packets: N (x non-IP, y too short)").
 */
import type { PacketStats } from '../types.js';

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
