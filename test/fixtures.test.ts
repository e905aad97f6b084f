/**
 * The synthetic fixtures cannot drift: each committed file is byte-for-byte what fixtures/build.ts makes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../fixtures/build.js';
import { REPO_ROOT } from './helpers/cli.js';

describe('fixtures/build.ts reproduces the committed fixtures', () => {
  for (const [path, build] of Object.entries(FIXTURES)) {
    it(path, () => {
      const committed = new Uint8Array(readFileSync(join(REPO_ROOT, 'fixtures', path)));
      expect(Buffer.from(build()).equals(Buffer.from(committed)), `${path} differs from its builder; run npm run fixtures and review`).toBe(true);
    });
  }
});
