/**
 * Every link decoder on seeded random input (plain noise, and noise shaped to pass each decoder's first checks so
 * the deeper branches run), at random offsets and netEnd values, with bounds-guarded bytes: no throw, no read
 * outside [0, data.length), and a result that agrees with the issue.
 */
import { describe, expect, it } from 'vitest';
import type { MutableDecodedPacket } from '../../../src/decode/decoded-packet.js';
import { decodeEthernet } from '../../../src/decode/link/ethernet.js';
import { decodeNflog } from '../../../src/decode/link/nflog.js';
import { decodeLoop, decodeNull } from '../../../src/decode/link/null.js';
import { decodeOldPflog, decodePflog } from '../../../src/decode/link/pflog.js';
import { decodePktap } from '../../../src/decode/link/pktap.js';
import { decodeIpv4Only, decodeIpv6Only, decodeRaw } from '../../../src/decode/link/raw.js';
import { decodeSll, decodeSll2 } from '../../../src/decode/link/sll.js';
import { makePacket, type LinkDecoderFn } from '../../helpers/bytes.js';

/** mulberry32: a tiny seeded PRNG so failures replay. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Shaper = (bytes: Uint8Array, next: () => number) => void;

const pick = <T,>(values: readonly T[], next: () => number): T => values[Math.floor(next() * values.length)]!;

/** Make random bytes look like each header's first fields, so the decoders get past their first check. */
const SHAPERS: Record<string, Shaper> = {
  ethernet: (b, n) => {
    for (let at = 12; at + 1 < b.length && at < 12 + 4 * 10; at += 4) {
      const t = pick([0x8100, 0x88a8, 0x9100, 0x9200, 0x0800, 0x86dd, 0x0026], n);
      b[at] = t >> 8;
      b[at + 1] = t & 0xff;
    }
  },
  null: (b, n) => b.set([pick([2, 24, 28, 30, 7], n), 0, 0, 0].slice(0, b.length)),
  loop: (b, n) => b.set([0, 0, 0, pick([2, 24, 28, 30, 7], n)].slice(0, b.length)),
  raw: (b, n) => {
    if (b.length > 0) b[0] = pick([0x45, 0x60, 0x00, 0x50], n);
    if (b.length > 3 && b[0] === 0) b.set([0, 0, pick([2, 24, 99], n)], 1);
  },
  sll: (b, n) => b.set([0, pick([0, 4, 9], n)].slice(0, b.length)),
  pflog: (b, n) => {
    if (b.length > 0) b[0] = pick([45, 61, 64, 69, 100, 10, 120], n);
    if (b.length > 1) b[1] = pick([2, 24, 28, 30, 7], n);
  },
  oldPflog: (b, n) => b.set([0, 0, 0, pick([2, 24, 30], n)].slice(0, b.length)),
  nflog: (b, n) => {
    if (b.length > 0) b[0] = pick([2, 10, 7], n);
    if (b.length > 1) b[1] = n() < 0.9 ? 0 : 1;
    const le = n() < 0.7;
    for (let at = 4; at + 3 < b.length;) {
      const type = pick([1, 2, 3, 4, 5, 9, 10, 11, 14, 0x4009, 0x8014], n);
      let len = pick([4, 8, 8, 12, 20, 0, 2, 0x100, 0xffff], n);
      if ((type & 0x3fff) === 9 && n() < 0.7) len = b.length - at - Math.floor(n() * 3);
      len = Math.max(0, Math.min(len, 0xffff));
      b.set(le ? [len & 0xff, len >> 8, type & 0xff, type >> 8] : [len >> 8, len & 0xff, type >> 8, type & 0xff], at);
      if (len < 4) break;
      at += (len + 3) & ~3;
    }
  },
  pktap: (b, n) => {
    const v2 = n() < 0.5;
    if (b.length >= 40) {
      b[38] = v2 ? b[38]! | 0x08 : b[38]! & ~0x08;
      if (v2) b.set([pick([0, 39, 40, 100, 255], n), 0, 0, pick([0, 10, 40, 60, 200], n), pick([0, 40, 90], n), pick([0, 40, 120], n)]);
      else b.set([pick([0, 32, 108, 156, 255], n), 0, 0, 0, pick([0, 1, 2], n), 0, 0, 0]);
    }
  },
};

const CASES: Array<[string, LinkDecoderFn, string]> = [
  ['decodeEthernet', decodeEthernet, 'ethernet'],
  ['decodeNull', decodeNull, 'null'],
  ['decodeLoop', decodeLoop, 'loop'],
  ['decodeRaw', decodeRaw, 'raw'],
  ['decodeIpv4Only', decodeIpv4Only, 'raw'],
  ['decodeIpv6Only', decodeIpv6Only, 'raw'],
  ['decodeSll', decodeSll, 'sll'],
  ['decodeSll2', decodeSll2, 'sll'],
  ['decodePflog', decodePflog, 'pflog'],
  ['decodeOldPflog', decodeOldPflog, 'oldPflog'],
  ['decodeNflog', decodeNflog, 'nflog'],
  ['decodePktap', decodePktap, 'pktap'],
];

/** The contract every decoder result must satisfy (cheap test first; expect() only to explain a failure). */
function check(pkt: MutableDecodedPacket, offset: number, result: number, where: string): void {
  const issue = pkt.issue;
  const ok = result < 0
    ? result === -1 && issue !== null && issue.kind !== 'internal' && /^[a-z0-9]+(-[a-z0-9]+)+$/.test(issue.code)
    : issue === null && result >= offset && result <= pkt.netEnd && pkt.netEnd <= pkt.data.length &&
      (pkt.nextEtherType >= 0 || pkt.nextLinktype >= 0);
  if (ok) return;
  if (result < 0) {
    expect(result, where).toBe(-1);
    expect(issue, where).not.toBeNull();
    expect(['truncated', 'invalid', 'unsupported'], where).toContain(issue!.kind);
    expect(issue!.code, where).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
  } else {
    expect(issue, where).toBeNull();
    expect(result, where).toBeGreaterThanOrEqual(offset);
    expect(result, where).toBeLessThanOrEqual(pkt.netEnd);
    expect(pkt.netEnd, where).toBeLessThanOrEqual(pkt.data.length);
    expect(pkt.nextEtherType >= 0 || pkt.nextLinktype >= 0, where).toBe(true);
  }
}

describe('link decoders on random input', () => {
  it('runs on bytes whose guard really throws on an out-of-range read', () => {
    const pkt = makePacket(Uint8Array.of(1, 2), { guard: true });
    expect(pkt.data[1]).toBe(2);
    expect(pkt.data.length).toBe(2);
    expect(() => pkt.data[2]).toThrow(RangeError);
    expect(() => pkt.data[-1]).toThrow(RangeError);
    expect(() => pkt.data[Number.NaN]).toThrow(RangeError);
  });

  it.each(CASES)('%s never throws and never reads out of bounds', (name, decode, shape) => {
    const next = rng(0x5eed ^ name.length * 7919);
    for (let i = 0; i < 10000; i++) {
      const length = Math.floor(next() * (i % 3 === 0 ? 24 : 260));
      const bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) bytes[j] = Math.floor(next() * 256);
      const offset = i % 5 === 0 && length > 0 ? Math.floor(next() * (length + 1)) : 0;
      if (i % 2 === 0) SHAPERS[shape]!(bytes.subarray(offset), next);
      const origLen = i % 4 === 0 ? length + Math.floor(next() * 100) : length;
      const pkt = makePacket(bytes, { origLen, guard: true });
      if (i % 7 === 0) pkt.netEnd = offset + Math.floor(next() * (length - offset + 1));
      const where = (): string => `${name} iteration ${i}: ${Buffer.from(bytes).toString('hex')} @${offset} netEnd ${pkt.netEnd}`;
      let result: number;
      try {
        result = decode(pkt, offset);
      } catch (error) {
        throw new Error(`${where()}: threw ${String(error)}`);
      }
      check(pkt, offset, result, where());
    }
  });
});
