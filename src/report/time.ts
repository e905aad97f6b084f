/**
 * All timestamp and duration text. Packet time only, always UTC, at the capture's own precision, so output is
 * identical on every machine (tcpdump's tests pin TZ=GMT0; Zeek's TZ=UTC). The only importer of date-fns.
 */
import { createRequire } from 'node:module';
import type { formatDuration as FormatDuration } from 'date-fns/formatDuration';
import type { intervalToDuration as IntervalToDuration } from 'date-fns/intervalToDuration';

// Loaded on first use, per function: the package index loads every date-fns module (~200 ms of start-up), and
// only durations for people need it (issue 7).
const require = createRequire(import.meta.url);
let dateFns: { formatDuration: typeof FormatDuration; intervalToDuration: typeof IntervalToDuration } | undefined;

function loadDateFns(): NonNullable<typeof dateFns> {
  return (dateFns ??= {
    formatDuration: (require('date-fns/formatDuration') as { formatDuration: typeof FormatDuration }).formatDuration,
    intervalToDuration: (require('date-fns/intervalToDuration') as { intervalToDuration: typeof IntervalToDuration }).intervalToDuration,
  });
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const SEC_PER_DAY = 86_400;
/** Year 10000: beyond it toISOString() writes six-digit years; such times take the slow path. */
const FAST_LIMIT_SEC = 253_402_300_800;

let cachedDay = Number.NaN;
let cachedDayPrefix = '';

/**
 * `2019-05-29T10:11:12` for whole seconds since the epoch. Reports write hundreds of thousands of timestamps (every
 * flow has five or more): the date part is kept per day and the time of day built from a table of two-digit
 * strings, instead of a Date and toISOString() per timestamp.
 */
function isoSecond(tsSec: number): string {
  if (!(tsSec >= 0 && tsSec < FAST_LIMIT_SEC)) {
    // Before 1970 or after 9999 (pcapng allows 64-bit seconds): ISO's expanded years, or the raw count past the
    // range a Date holds (±8.64e15 ms, ECMA-262 §21.4.1.1), never an exception.
    const date = new Date(tsSec * 1000);
    return Number.isNaN(date.getTime()) ? `${tsSec}s-after-epoch` : date.toISOString().replace(/\.\d{3}Z$/, '');
  }
  const day = Math.floor(tsSec / SEC_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayPrefix = new Date(day * SEC_PER_DAY * 1000).toISOString().slice(0, 11);
  }
  const ofDay = tsSec - day * SEC_PER_DAY;
  const hour = Math.floor(ofDay / 3600);
  const minute = Math.floor((ofDay - hour * 3600) / 60);
  return `${cachedDayPrefix}${TWO_DIGITS[hour]!}:${TWO_DIGITS[minute]!}:${TWO_DIGITS[ofDay - hour * 3600 - minute * 60]!}`;
}

/** ISO-8601 UTC with as many fraction digits as the capture recorded: `2019-05-29T10:11:12.123456Z`. */
export function formatIsoTimestamp(tsSec: number, tsNsec: number, digits: number): string {
  const base = isoSecond(tsSec);
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
  const micro = tsUs - sec * 1e6;
  if (!Number.isInteger(micro)) return formatIsoTimestamp(sec, micro * 1000, 6);
  const digits = `${micro}`;
  return `${isoSecond(sec)}.${'000000'.slice(digits.length)}${digits}Z`;
}

const ZERO = 0x30;
/**
 * `YYYY-MM-DDT` of the last day written, as little-endian words: `YYYY`, `-MM-`, and `DDT` in the low three bytes
 * of the third (the hour's first digit completes it). Typed arrays, not `let`s: a module-level `let` holding a double
 * is a new heap number and a write barrier each time it changes.
 */
const dayWords = new Int32Array(3);
const dayOfDayWords = new Float64Array([Number.NaN]);

/**
 * `formatIsoFromUs(tsUs)` written as ASCII bytes through `out` at `pos`; returns the position after it (27 bytes on
 * the fast path; rare times — before 1970, after 9999, sub-microsecond — take the string path, at most 48). The
 * JSON writer (json-bytes.ts) puts eight timestamps in every flow record: the date is kept per day, the time of day
 * and the fraction are digits assembled into seven word stores. Words, through a DataView, because a byte loop
 * between two typed arrays compiled to ~35 instructions a byte (issue 7). Stores one byte past the timestamp on the
 * fast path (the writer's chunks have slack).
 */
export function writeIsoFromUs(out: DataView, pos: number, tsUs: number): number {
  const sec = Math.floor(tsUs / 1e6);
  const micro = tsUs - sec * 1e6;
  if (!(sec >= 0 && sec < FAST_LIMIT_SEC) || !Number.isInteger(micro)) {
    const text = formatIsoFromUs(tsUs);
    for (let i = 0; i < text.length; i++) out.setUint8(pos++, text.charCodeAt(i));
    return pos;
  }
  const day = Math.floor(sec / SEC_PER_DAY);
  if (day !== dayOfDayWords[0]) cacheDay(day);
  const ofDay = sec - day * SEC_PER_DAY; // int32 from here on
  const hour = (ofDay / 3600) | 0;
  const minute = ((ofDay - hour * 3600) / 60) | 0;
  const second = ofDay - hour * 3600 - minute * 60;
  const hourTens = (hour / 10) | 0;
  const minuteTens = (minute / 10) | 0;
  const secondTens = (second / 10) | 0;
  out.setInt32(pos, dayWords[0]!, true);
  out.setInt32(pos + 4, dayWords[1]!, true);
  out.setInt32(pos + 8, dayWords[2]! | ((ZERO + hourTens) << 24), true);
  // `H:MM`, then `:SS.`
  out.setInt32(pos + 12, (ZERO + hour - hourTens * 10) | (0x3a << 8) | ((ZERO + minuteTens) << 16) | ((ZERO + minute - minuteTens * 10) << 24), true);
  out.setInt32(pos + 16, 0x3a | ((ZERO + secondTens) << 8) | ((ZERO + second - secondTens * 10) << 16) | (0x2e << 24), true);
  // Six fraction digits of an integer below 1e6, then 'Z'.
  let rest = micro | 0;
  const d5 = rest % 10;
  rest = (rest / 10) | 0;
  const d4 = rest % 10;
  rest = (rest / 10) | 0;
  const d3 = rest % 10;
  rest = (rest / 10) | 0;
  const d2 = rest % 10;
  rest = (rest / 10) | 0;
  const d1 = rest % 10;
  const d0 = (rest / 10) | 0;
  out.setInt32(pos + 20, (ZERO + d0) | ((ZERO + d1) << 8) | ((ZERO + d2) << 16) | ((ZERO + d3) << 24), true);
  out.setInt32(pos + 24, (ZERO + d4) | ((ZERO + d5) << 8) | (0x5a << 16), true); // 'Z', and a byte of slack
  return pos + 27;
}

/** Make `day` (days since the epoch) the cached day: `YYYY-MM-DDT` as words. */
function cacheDay(day: number): void {
  const text = isoSecond(day * SEC_PER_DAY); // YYYY-MM-DDT00:00:00
  const word = (at: number, count: number): number => {
    let value = 0;
    for (let i = count - 1; i >= 0; i--) value = (value << 8) | text.charCodeAt(at + i);
    return value;
  };
  dayWords[0] = word(0, 4);
  dayWords[1] = word(4, 4);
  dayWords[2] = word(8, 3);
  dayOfDayWords[0] = day;
}

/** A duration for people: `1 minute 30 seconds`, `450 ms`. */
export function formatDurationUs(durationUs: number): string {
  if (durationUs < 1_000_000) return `${Math.round(durationUs / 1000)} ms`;
  const totalSec = durationUs / 1e6;
  if (totalSec < 60) return `${Number(totalSec.toFixed(totalSec < 10 ? 3 : 1))} s`;
  const { formatDuration, intervalToDuration } = loadDateFns();
  const duration = intervalToDuration({ start: 0, end: Math.round(totalSec) * 1000 });
  return formatDuration(duration, { format: ['days', 'hours', 'minutes', 'seconds'] });
}

/** Seconds with up to three decimals, for tables and evidence: `30.5 s`. */
export function formatSecondsUs(durationUs: number): string {
  return `${Number((durationUs / 1e6).toFixed(3))} s`;
}
