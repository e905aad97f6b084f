/**
 * The pcapng timestamp arithmetic (formats.md §2.8) against a BigInt reference, over random 64-bit counts and
 * every resolution class: the number path (t < 2^53), the float-estimate path (µs/ns above 2^53), the limb
 * path (other resolutions below 2^32 units/s) and the BigInt path.
 */
import { describe, expect, it } from 'vitest';
import { createBlankRecord } from '../../src/capture/record-sink.js';
import { setPcapngTimestamp, TsResolution } from '../../src/capture/timestamp.js';
import { seededRandom } from './vectors.js';

function reference(t: bigint, tsresolByte: number): [number, number] {
  const exponent = BigInt(tsresolByte & 0x7f);
  const units = tsresolByte & 0x80 ? 1n << exponent : 10n ** exponent;
  return [Number(t / units), Number(((t % units) * 1_000_000_000n) / units)];
}

const RESOLUTIONS = [
  0, 1, 3, 6, 9, 10, 12, 19, // decimal
  0x80, 0x80 | 3, 0x80 | 10, 0x80 | 13, 0x80 | 20, 0x80 | 23, 0x80 | 30, 0x80 | 31, 0x80 | 32, 0x80 | 40, 0x80 | 63,
];

describe('setPcapngTimestamp', () => {
  const rec = createBlankRecord();

  it.each(RESOLUTIONS)('matches BigInt division for tsresol 0x%s', (tsresolByte) => {
    const res = TsResolution.fromOption(tsresolByte);
    expect(res).not.toBeNull();
    const random = seededRandom(tsresolByte + 1);
    const edge = [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n, 999_999_999n, 1_000_000_000n];
    const samples = [...edge];
    for (let i = 0; i < 2000; i++) {
      const high = BigInt(Math.floor(random() * 2 ** 32));
      const low = BigInt(Math.floor(random() * 2 ** 32));
      // Bias half the samples to realistic magnitudes (hi small) and half to the whole range.
      samples.push(i % 2 === 0 ? (high << 32n) | low : ((high >> BigInt(i % 32)) << 32n) | low);
    }
    // Around whole seconds, where a float quotient is most likely to floor to the wrong side.
    const exponent = BigInt(tsresolByte & 0x7f);
    const units = tsresolByte & 0x80 ? 1n << exponent : 10n ** exponent;
    for (let i = 0; i < 500; i++) {
      const k = (BigInt(Math.floor(random() * 2 ** 32)) << 32n | BigInt(Math.floor(random() * 2 ** 32))) / units;
      for (const t of [k * units - 1n, k * units, k * units + 1n]) if (t >= 0n && t < 2n ** 64n) samples.push(t);
    }
    for (const t of samples) {
      setPcapngTimestamp(rec, res!, 0, Number(t >> 32n), Number(t & 0xffffffffn));
      const [sec, nsec] = reference(t, tsresolByte);
      if (rec.tsNsec !== nsec || rec.tsSec !== sec) {
        throw new Error(`t=${t} tsresol=0x${tsresolByte.toString(16)}: got ${rec.tsSec}.${rec.tsNsec}, want ${sec}.${nsec}`);
      }
    }
  });

  it('adds the offset and keeps nanoseconds in range', () => {
    const ns = TsResolution.fromOption(9)!;
    setPcapngTimestamp(rec, ns, -5, 0, 4_000_000_001);
    expect([rec.tsSec, rec.tsNsec]).toEqual([-1, 1]);
  });

  it('refuses resolutions finer than 10^-19 and 2^-63, like libpcap', () => {
    expect(TsResolution.fromOption(20)).toBeNull();
    expect(TsResolution.fromOption(100)).toBeNull();
    expect(TsResolution.fromOption(0x80 | 64)).toBeNull();
    expect(TsResolution.fromOption(0x80 | 63)).not.toBeNull();
  });

  it('reports display digits: 10^-n → min(n, 9), binary → 9', () => {
    expect([3, 6, 9, 12].map((b) => TsResolution.fromOption(b)!.digits)).toEqual([3, 6, 9, 9]);
    expect(TsResolution.fromOption(0x80 | 10)!.digits).toBe(9);
  });
});
