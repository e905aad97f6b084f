/**
 * analyze writes flow records with a direct serializer (flowJsonText) for speed; the object builder (buildFlowJson)
 * is the readable reference and what the library returns. They must never drift: every flow of every fixture and
 * corpus capture, under profiles with different state machines, serializes to the same text both ways.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../src/flow/profiles.js';
import { replayCapture } from '../../src/pipeline/replay.js';
import { buildFlowJson, flowJsonText } from '../../src/report/flows.js';
import { formatIsoFromUs, formatIsoTimestamp } from '../../src/report/time.js';
import { CORPUS_DIR, REPO_ROOT } from '../helpers/cli.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

const captures = [
  ...listFiles(join(REPO_ROOT, 'fixtures')).filter((f) => /\.(pcap|pcapng)$/.test(f)),
  ...(existsSync(CORPUS_DIR) ? listFiles(CORPUS_DIR).filter((f) => /\.(pcap|pcapng|cap|ntar)$/.test(f)) : []),
];

describe('flowJsonText matches JSON.stringify(buildFlowJson(flow))', () => {
  it('has captures to check', () => {
    expect(captures.length).toBeGreaterThan(3);
  });

  for (const file of captures) {
    it(relative(REPO_ROOT, file), async () => {
      const mismatches: string[] = [];
      let flows = 0;
      try {
        await replayCapture(file, {
          profiles: [getProfile('pf'), getProfile('linux'), getProfile('rfc4787')],
          events: {
            onFlowEnd: (_index, flow) => {
              flows++;
              const expected = JSON.stringify(buildFlowJson(flow));
              const actual = flowJsonText(flow);
              if (actual !== expected && mismatches.length < 3) mismatches.push(`${actual}\n!=\n${expected}`);
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
