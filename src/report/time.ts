/**
 * All timestamp and duration text. Packet time only, always UTC, at the capture's own precision, so output is
 * identical on every machine (tcpdump's tests pin TZ=GMT0; Zeek's TZ=UTC). The only importer of date-fns.
 */
// Per-function entry points: the package index loads every date-fns module (~200 ms of start-up, issue 7).
import { formatDuration } from 'date-fns/formatDuration';
import { intervalToDuration } from 'date-fns/intervalToDuration';

let cachedSec = Number.NaN;
let cachedBase = '';

/** ISO-8601 UTC with as many fraction digits as the capture recorded: `2019-05-29T10:11:12.123456Z`. */
export function formatIsoTimestamp(tsSec: number, tsNsec: number, digits: number): string {
  // Reports format the same few seconds over and over (every timestamp of a flow record): remember the last one.
  if (tsSec !== cachedSec) {
    cachedSec = tsSec;
    cachedBase = new Date(tsSec * 1000).toISOString().slice(0, 19);
  }
  const base = cachedBase;
  if (digits <= 0) return `${base}Z`;
  const fraction = String(tsNsec).padStart(9, '0').slice(0, Math.min(digits, 9));
  return `${base}.${fraction}Z`;
}

/** `tcpdump -tttt` style in UTC: `2019-05-29 10:11:12.123456`. */
export function formatWallTimestamp(tsSec: number, tsNsec: number, digits: number): string {
  return formatIsoTimestamp(tsSec, tsNsec, digits).replace('T', ' ').replace(/Z$/, '');
}

/** Microseconds since the epoch → ISO-8601 UTC with µs precision. */
export function formatIsoFromUs(tsUs: number): string {
  const sec = Math.floor(tsUs / 1e6);
  return formatIsoTimestamp(sec, (tsUs - sec * 1e6) * 1000, 6);
}

/** A duration for people: `1 minute 30 seconds`, `450 ms`. */
export function formatDurationUs(durationUs: number): string {
  if (durationUs < 1_000_000) return `${Math.round(durationUs / 1000)} ms`;
  const totalSec = durationUs / 1e6;
  if (totalSec < 60) return `${Number(totalSec.toFixed(totalSec < 10 ? 3 : 1))} s`;
  const duration = intervalToDuration({ start: 0, end: Math.round(totalSec) * 1000 });
  return formatDuration(duration, { format: ['days', 'hours', 'minutes', 'seconds'] });
}

/** Seconds with up to three decimals, for tables and evidence: `30.5 s`. */
export function formatSecondsUs(durationUs: number): string {
  return `${Number((durationUs / 1e6).toFixed(3))} s`;
}
