/**
 * Exact pcapng timestamps (formats.md §2.8): a 64-bit count `t = hi·2^32 + lo` of units of 10^-n or 2^-n
 * seconds becomes whole seconds plus nanoseconds, as libpcap `sf-pcapng.c` does with uint64 arithmetic
 * (`sec = t / tsresol + tsoffset; frac = t % tsresol`). JavaScript numbers are exact only below 2^53, so:
 * - t < 2^53 (every µs timestamp until year 2255): one division on numbers;
 * - larger t (ns timestamps) with 2^13..2^32/3 units per second: a float estimate of the quotient corrected
 *   with an exact 32-bit remainder, no allocation;
 * - other resolutions below 2^32 units per second: long division in 16-bit limbs, every intermediate below
 *   2^48, still no allocation;
 * - units of 2^32 per second or more (10^-10 … 10^-19, 2^-32 … 2^-63, rare): BigInt.
 */
import type { CaptureRecord } from '../types.js';

const TWO_POW_32 = 4_294_967_296;
/** hi below this means t < 2^53. */
const SAFE_HI_LIMIT = 0x20_0000;
/** 10^9 = 1953125 · 2^9: multiplying by the odd part keeps products below 2^53 for units up to 2^31. */
const NSEC_ODD_FACTOR = 1_953_125;
const NSEC_PER_SEC = 1_000_000_000;
const NSEC_PER_SEC_BIG = 1_000_000_000n;

/** libpcap rejects resolutions whose units per second do not fit a uint64 (`process_idb_options`). */
const MAX_DECIMAL_EXPONENT = 19;
const MAX_BINARY_EXPONENT = 63;

/** How one interface's timestamp units convert to seconds and nanoseconds; built once per IDB. */
export class TsResolution {
  /** Units per second as a number (exact when `limbExact`). */
  readonly unitsPerSec: number;
  /** Units per second as a BigInt, for resolutions of 2^32 units per second or more. */
  readonly unitsPerSecBig: bigint;
  /** True when unitsPerSec < 2^32, so the number/limb paths are exact. */
  readonly limbExact: boolean;
  /** True when 2^13 ≤ unitsPerSec ≤ 2^32/3 (µs, ns, …): the float-estimate path for t ≥ 2^53 is exact. */
  readonly quotientEstimateExact: boolean;
  /** nsec = floor(rem · fracMul / fracDiv), with the product below 2^53 and fracDiv a power of two. */
  readonly fracMul: number;
  readonly fracDiv: number;
  /** Sub-second digits for display: n for 10^-n (at most 9), 9 for binary resolutions. */
  readonly digits: number;

  private constructor(binary: boolean, exponent: number) {
    this.unitsPerSecBig = binary ? 1n << BigInt(exponent) : 10n ** BigInt(exponent);
    this.unitsPerSec = Number(this.unitsPerSecBig);
    this.limbExact = this.unitsPerSec < TWO_POW_32;
    this.quotientEstimateExact = this.unitsPerSec >= 2 ** 13 && this.unitsPerSec <= TWO_POW_32 / 3;
    this.digits = binary ? 9 : Math.min(exponent, 9);
    if (!binary) {
      this.fracMul = exponent <= 9 ? 10 ** (9 - exponent) : 1;
      this.fracDiv = 1;
    } else if (exponent < 9) {
      this.fracMul = NSEC_PER_SEC;
      this.fracDiv = 2 ** exponent;
    } else {
      this.fracMul = NSEC_ODD_FACTOR;
      this.fracDiv = 2 ** (exponent - 9);
    }
  }

  /** The pcapng default when an IDB has no if_tsresol: microseconds. */
  static readonly MICROSECONDS = new TsResolution(false, 6);

  /**
   * Decodes an if_tsresol byte: MSB 0 ⇒ 10^-n s, MSB 1 ⇒ 2^-(n & 0x7F) s (formats.md §2.4).
   * Returns null for resolutions libpcap refuses (finer than 10^-19 or 2^-63).
   */
  static fromOption(tsresolByte: number): TsResolution | null {
    const binary = (tsresolByte & 0x80) !== 0;
    const exponent = tsresolByte & 0x7f;
    if (binary ? exponent > MAX_BINARY_EXPONENT : exponent > MAX_DECIMAL_EXPONENT) return null;
    if (!binary && exponent === 6) return TsResolution.MICROSECONDS;
    return new TsResolution(binary, exponent);
  }
}

/**
 * Sets `rec.tsSec` / `rec.tsNsec` from a pcapng timestamp. No allocation unless the resolution needs BigInt.
 * @param tsOffsetSec - the interface's if_tsoffset
 */
export function setPcapngTimestamp(
  rec: CaptureRecord,
  res: TsResolution,
  tsOffsetSec: number,
  tsHigh: number,
  tsLow: number,
): void {
  if (!res.limbExact) {
    setTimestampBig(rec, res, tsOffsetSec, tsHigh, tsLow);
    return;
  }
  const units = res.unitsPerSec;
  let sec: number;
  let rem: number;
  if (tsHigh < SAFE_HI_LIMIT) {
    // t < 2^53 is exact, and so is t - q·units; the check guards the floor against rounding up.
    const t = tsHigh * TWO_POW_32 + tsLow;
    sec = Math.floor(t / units);
    rem = t - sec * units;
    if (rem < 0) {
      sec -= 1;
      rem += units;
    }
  } else if (res.quotientEstimateExact) {
    // The float quotient is within ±1 of the truth: t rounds by at most 2^10 and units ≥ 2^13 keeps the
    // quotient below 2^51. The remainder is exact modulo 2^32 (Math.imul keeps the low 32 bits of q·units),
    // and with units ≤ 2^32/3 the three cases land in disjoint ranges of that 32-bit value:
    // q right → [0, units), q one too small → [units, 2·units), q one too big → [2^32 − units, 2^32).
    sec = Math.floor((tsHigh * TWO_POW_32 + tsLow) / units);
    rem = (tsLow - Math.imul(sec >>> 0, units)) >>> 0;
    if (rem >= TWO_POW_32 - units) {
      sec -= 1;
      rem = rem + units - TWO_POW_32;
    } else if (rem >= units) {
      sec += 1;
      rem -= units;
    }
  } else {
    // Schoolbook division by `units` (< 2^32) over limbs hi:32 | lo_hi:16 | lo_lo:16; each partial
    // dividend is below units·2^16 < 2^48, so `%` and the exact division of (x - r) stay exact.
    const r1 = tsHigh % units;
    const q1 = (tsHigh - r1) / units;
    const x = r1 * 65_536 + (tsLow >>> 16);
    const r2 = x % units;
    const q2 = (x - r2) / units;
    const y = r2 * 65_536 + (tsLow & 0xffff);
    rem = y % units;
    const q3 = (y - rem) / units;
    sec = q1 * TWO_POW_32 + q2 * 65_536 + q3;
  }
  rec.tsSec = sec + tsOffsetSec;
  rec.tsNsec = Math.floor((rem * res.fracMul) / res.fracDiv);
}

/** The exact but allocating path for resolutions of 2^32 or more units per second. */
function setTimestampBig(
  rec: CaptureRecord,
  res: TsResolution,
  tsOffsetSec: number,
  tsHigh: number,
  tsLow: number,
): void {
  const t = (BigInt(tsHigh) << 32n) | BigInt(tsLow);
  const units = res.unitsPerSecBig;
  rec.tsSec = Number(t / units) + tsOffsetSec;
  rec.tsNsec = Number(((t % units) * NSEC_PER_SEC_BIG) / units);
}
