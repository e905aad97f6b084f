/**
 * Durations as users type them (`30s`, `1m30s`, `500ms`, `2h`; a bare number means seconds, like pf.conf and
 * sysctl) → integer microseconds (softflowd convtime.c). Parsing happens at the edge; inside, time is µs.
 */

const UNIT_US: Readonly<Record<string, number>> = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000 };

/** Parse a duration; returns undefined when the text is not one. */
export function parseDurationUs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1_000_000);
  const pattern = /(\d+(?:\.\d+)?)(us|ms|s|m|h|d)/gy;
  let totalUs = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    totalUs += Number(match[1]) * UNIT_US[match[2]!]!;
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length) return undefined;
  return Math.round(totalUs);
}

/** `90000000` → `90s`, `1500000` → `1.5s`: the shortest exact text for a duration. */
export function formatDurationSpec(us: number): string {
  if (us % 3_600_000_000 === 0 && us >= 3_600_000_000) return `${us / 3_600_000_000}h`;
  if (us % 60_000_000 === 0 && us >= 60_000_000) return `${us / 60_000_000}m`;
  if (us % 1_000 === 0 && us < 1_000_000) return `${us / 1_000}ms`;
  return `${us / 1_000_000}s`;
}
