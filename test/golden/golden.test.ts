/**
 * Golden outputs for the fixtures, run in-process with TZ=UTC (vitest.config.ts) and paths relative to the repo.
 */
import { describe, it } from 'vitest';
import { runCliCaptured } from '../helpers/cli.js';
import { GOLDEN_CASES } from './cases.js';

process.chdir(new URL('../..', import.meta.url).pathname);

describe('golden outputs', () => {
  for (const c of GOLDEN_CASES) {
    it(c.name, async ({ expect }) => {
      const result = await runCliCaptured(c.args);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      await expect(result.stdout).toMatchFileSnapshot(`./expected/${c.name}.out`);
    });
  }
});
