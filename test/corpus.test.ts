/**
 * Every file of ../shared/corpus (captures from other projects' test suites, fuzzer finds included) goes through
 * `packets` and `analyze` without a crash: exit 0 (damage counted), or exit 2 with one line on stderr. The 5 s
 * per-file limit is a hang guard (vitest timeout), not a speed measurement.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, runCliCaptured } from './helpers/cli.js';
import { listFiles } from './helpers/captures.js';

const files = existsSync(CORPUS_DIR) ? listFiles(CORPUS_DIR).filter((f) => !f.endsWith('.md') && !f.endsWith('.txt')) : [];

describe.skipIf(files.length === 0)('the whole corpus', () => {
  for (const file of files) {
    it(relative(CORPUS_DIR, file), { timeout: 5000 }, async () => {
      for (const args of [['packets', '--format', 'json', file], ['analyze', '--format', 'json', file], ['analyze', file]]) {
        const result = await runCliCaptured(args);
        expect([0, 2]).toContain(result.exitCode);
        if (result.exitCode === 2) {
          expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
          expect(result.stdout).toBe('');
        } else if (args[2] === 'json' && args[0] === 'analyze') {
          const report = JSON.parse(result.stdout) as { stats: { packets: { internal: number } } };
          expect(report.stats.packets.internal, 'a decoder threw').toBe(0);
        }
      }
    });
  }
  it('walks all the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(130);
  });
});

describe.skipIf(files.length > 0)('corpus unavailable', () => {
  it('says why it skipped', () => {
    console.warn(`corpus test skipped: no corpus at ${CORPUS_DIR}`);
  });
});
