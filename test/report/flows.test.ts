/**
 * analyze writes flow and denial records with a byte writer (writeFlowJson, writeDenialJson) for speed; the object
 * builders (buildFlowJson, buildDenialJson) are the readable reference and what the library returns. They must never
 * drift: every flow and denial of every fixture and corpus capture, under profiles with different state machines,
 * serializes to the same text both ways.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../src/flow/profiles.js';
import { replayCapture } from '../../src/pipeline/replay.js';
import { snapshotFlow } from '../../src/flow/table.js';
import { buildDenialJson, buildFlowJson, flowJsonText, writeDenialJson } from '../../src/report/flows.js';
import { CollectedBytes, JsonBytes, RECORD_ROOM_BYTES, jsonPiece } from '../../src/report/json-bytes.js';
import { buildSimulatedDenialJson, writeSimulatedDenialJson } from '../../src/report/simulate.js';
import { formatIsoFromUs, formatIsoTimestamp } from '../../src/report/time.js';
import { formatIpv6 } from '../../src/address.js';
import { CORPUS_DIR, REPO_ROOT } from '../helpers/cli.js';
import { listFiles } from '../helpers/captures.js';

/** 16 bytes of an IPv6 address written out in full or with '::' (test vectors only). */
function ipv6Bytes(text: string): Uint8Array {
  const mapped = /^::ffff:(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (mapped !== null) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...mapped.slice(1).map(Number)]);
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const before = groups(head);
  const after = groups(tail);
  const all = tail === undefined ? before : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  return Uint8Array.from(all.flatMap((g) => [g >>> 8, g & 0xff]));
}

const captures = [
  ...listFiles(join(REPO_ROOT, 'fixtures')).filter((f) => /\.(pcap|pcapng)$/.test(f)),
  ...(existsSync(CORPUS_DIR) ? listFiles(CORPUS_DIR).filter((f) => /\.(pcap|pcapng|cap|ntar)$/.test(f)) : []),
];

describe('the byte writers match JSON.stringify of the object builders', () => {
  it('has captures to check', () => {
    expect(captures.length).toBeGreaterThan(3);
  });

  for (const file of captures) {
    it(relative(REPO_ROOT, file), async () => {
      const mismatches: string[] = [];
      let flows = 0;
      const sink = new CollectedBytes();
      const out = new JsonBytes(sink, 1024);
      const check = (actual: string, expected: string): void => {
        if (actual !== expected && mismatches.length < 3) mismatches.push(`${actual}\n!=\n${expected}`);
      };
      try {
        await replayCapture(file, {
          profiles: [getProfile('pf'), getProfile('linux'), getProfile('rfc4787')],
          events: {
            onFlowEnd: (_index, flow) => {
              flows++;
              const expected = JSON.stringify(buildFlowJson(flow));
              check(flowJsonText(flow), expected);
              // A snapshot is not a handle over the table's arrays: the writer's readable path.
              check(flowJsonText(snapshotFlow(flow)), expected);
            },
            onDenial: (_index, denial) => {
              writeDenialJson(out, denial);
              out.flush();
              check(sink.take(), JSON.stringify(buildDenialJson(denial)));
              writeSimulatedDenialJson(out, denial);
              out.flush();
              check(sink.take(), JSON.stringify(buildSimulatedDenialJson(denial)));
            },
          },
        });
      } catch {
        return; // not a capture udptrack reads (corpus.test.ts checks that it fails cleanly)
      }
      expect(mismatches).toEqual([]);
      expect(flows).toBeGreaterThanOrEqual(0);
    });
  }
});

describe('JsonBytes', () => {
  const written = (write: (out: JsonBytes) => void, chunkBytes = 64): string => {
    const sink = new CollectedBytes();
    const out = new JsonBytes(sink, chunkBytes);
    write(out);
    out.flush();
    return sink.take();
  };

  it('writes seconds exactly as Math.round(us) / 1e6 prints', () => {
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const values = [0, 1, 9, 10, 999_999, 1_000_000, 1_000_001, 30_000_000, 60_500_000, 0.4, 0.5, 2.5, -1, -0.4, -1_500_000, 1e15 - 1, 1e15, 1e18, Number.NaN];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(random() * 10 ** Math.floor(random() * 16)));
    for (const us of values) expect(written((out) => (out.reserve(RECORD_ROOM_BYTES), out.seconds(us)))).toBe(JSON.stringify(Math.round(us) / 1e6));
  });

  it('writes whole numbers, and anything else as JSON.stringify does', () => {
    for (const n of [0, 7, 10, 99, 100, 65_535, 4_294_967_295, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, 2 ** 60, -3, 1.5, Number.POSITIVE_INFINITY]) {
      expect(written((out) => (out.reserve(RECORD_ROOM_BYTES), out.uint(n)))).toBe(JSON.stringify(n));
    }
  });

  it('writes timestamps exactly as formatIsoFromUs, whatever the order they come in (the cached second and day)', () => {
    let seed = 5;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const times: number[] = [];
    let t = 1_717_200_000_000_000;
    for (let i = 0; i < 30_000; i++) {
      // Mostly small steps either way (same second, same minute, same day), sometimes days or years away.
      const r = random();
      t += r < 0.6 ? Math.floor((random() - 0.4) * 120e6) : r < 0.9 ? Math.floor((random() - 0.5) * 86_400e6) : Math.floor((random() - 0.5) * 4e14);
      if (t < 0) t = Math.floor(random() * 2e15);
      times.push(t);
    }
    expect(written((out) => times.forEach((us) => (out.reserve(RECORD_ROOM_BYTES), out.isoString(us))), 4096)).toBe(times.map((us) => `"${formatIsoFromUs(us)}"`).join(''));
  });

  it('writes IPv6 addresses as formatIpv6 does (RFC 5952), special cases and random ones', () => {
    const special = [
      '::', '::1', '1::', 'fe80::1', '2001:db8::', 'ff02::fb', 'fd00::53', '::ffff:192.0.2.1', '::ffff:0.0.0.0',
      '1:0:0:2:0:0:0:3', '1:0:1:0:1:0:1:0', '0:0:1:0:0:1:0:0', '1:2:3:4:5:6:7:8', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789',
      '::ffff:0:1', '0:0:0:0:0:fffe:c000:201', '1:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1',
    ];
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const addresses: Uint8Array[] = special.map((text) => ipv6Bytes(text));
    for (let i = 0; i < 5000; i++) {
      // Random groups, many of them zero, so runs of zeros of every length and place occur.
      const bytes = new Uint8Array(16);
      for (let g = 0; g < 8; g++) {
        const value = random() < 0.5 ? 0 : Math.floor(random() * 65536) >> (random() < 0.5 ? 12 : 0);
        bytes[2 * g] = value >>> 8;
        bytes[2 * g + 1] = value & 0xff;
      }
      addresses.push(bytes);
    }
    const word = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    const text = written((out) => addresses.forEach((b) => (out.reserve(RECORD_ROOM_BYTES), out.ipv6String(word(b, 0), word(b, 4), word(b, 8), word(b, 12)))), 256);
    expect(text).toBe(addresses.map((b) => `"${formatIpv6(b, 0)}"`).join(''));
    // And the special cases read as they should.
    expect(special.map((t) => formatIpv6(ipv6Bytes(t), 0))).toEqual(special.map((t) => (t === '0:0:0:0:0:fffe:c000:201' ? '::fffe:c000:201' : t === '::ffff:0:1' ? '::ffff:0.0.0.1' : t === '1:0:0:0:0:0:0:0' ? '1::' : t === '0:0:0:0:0:0:0:1' ? '::1' : t === '0:0:1:0:0:1:0:0' ? '::1:0:0:1:0:0' : t === '1:0:0:2:0:0:0:3' ? '1:0:0:2::3' : t)));
  });

  it('writes constant pieces of every length whole (word stores past their end never show)', () => {
    const texts = Array.from({ length: 41 }, (_, n) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x21 + ((n * 7 + i) % 90))).join(''));
    const pieces = texts.map((t) => jsonPiece(t));
    // Each piece followed by a one-byte one: the bytes a word store wrote past a piece are overwritten in order.
    const dot = jsonPiece('.');
    for (const chunkBytes of [64, 4096]) {
      expect(written((out) => pieces.forEach((p) => (out.reserve(RECORD_ROOM_BYTES), out.piece(p), out.piece(dot))), chunkBytes)).toBe(texts.map((t) => `${t}.`).join(''));
    }
    expect(() => jsonPiece('é')).toThrow(/not ASCII/);
  });

  it('writes timestamps, addresses and strings across chunk edges', () => {
    const us = [0, 1, 999_999, 1_717_200_000_123_456, 951_782_400_000_000, 253_402_300_800_000_000, -1_500_000, 1.5];
    expect(written((out) => us.forEach((t) => (out.reserve(RECORD_ROOM_BYTES), out.isoString(t))), 40)).toBe(us.map((t) => `"${formatIsoFromUs(t)}"`).join(''));
    const addresses = [0, 0x0a000036, 0xc0a80101, 0xffffffff, 0x01020304];
    expect(written((out) => addresses.forEach((a) => (out.reserve(RECORD_ROOM_BYTES), out.ipv4String(a))), 16)).toBe(
      addresses.map((a) => `"${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}"`).join(''),
    );
    const strings = ['dns', 'quote " and \\ backslash', 'tab\there', 'é€ and 😀', 'x'.repeat(200)];
    expect(written((out) => strings.forEach((t) => out.string(t)), 32)).toBe(strings.map((t) => JSON.stringify(t)).join(''));
  });
});

describe('timestamp text', () => {
  const reference = (sec: number, nsec: number, digits: number): string => {
    const base = new Date(sec * 1000).toISOString().slice(0, 19);
    return digits <= 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0').slice(0, Math.min(digits, 9))}Z`;
  };

  it('formats like Date.toISOString across days, leap years and precisions', () => {
    let seed = 11;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const seconds = [0, 59, 60, 3599, 3600, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_399, 4_107_542_400, 8_999_999_999];
    for (let i = 0; i < 20_000; i++) seconds.push(Math.floor(random() * 9e9));
    for (const sec of seconds) {
      const usec = Math.floor(random() * 1e6);
      expect(formatIsoFromUs(sec * 1e6 + usec)).toBe(reference(sec, usec * 1000, 6));
      const nsec = Math.floor(random() * 1e9);
      const digits = sec % 10;
      expect(formatIsoTimestamp(sec, nsec, digits)).toBe(reference(sec, nsec, digits));
    }
  });

  it('keeps the slow path for years past 9999', () => {
    expect(formatIsoTimestamp(253_402_300_800, 0, 0)).toBe('+010000-01-01T00:00:00Z');
    expect(formatIsoTimestamp(-1, 500_000_000, 3)).toBe('1969-12-31T23:59:59.500Z');
    expect(formatIsoTimestamp(2 ** 60, 0, 6)).toBe(`${2 ** 60}s-after-epoch.000000Z`);
  });
});
