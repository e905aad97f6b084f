/**
 * Oracle: the nftables files `rules --target nft` writes are accepted by nft itself (`nft -c -f`: parse and
 * validate, never load). Skips, saying why, where nft is missing or may not validate (it needs CAP_NET_ADMIN).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, hasCommand, runCliCaptured } from '../helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'udptrack-nft-'));

function nftCheck(text: string, name: string): { ok: boolean; stderr: string } {
  const path = join(scratch, name);
  writeFileSync(path, text);
  const result = spawnSync('nft', ['-c', '-f', path], { encoding: 'utf8' });
  return { ok: result.status === 0, stderr: result.stderr };
}

/** Whether `nft -c` works here: it must accept a known-good table and refuse a broken one. */
function nftUsable(): string | undefined {
  if (!hasCommand('nft')) return 'nft is not installed (apt-get install nftables)';
  if (!nftCheck('table inet t {\n\tchain c {\n\t\tudp dport 53 accept\n\t}\n}\n', 'good.nft').ok) return 'nft -c cannot validate here (it needs CAP_NET_ADMIN)';
  if (nftCheck('table inet t {\n\tchain c {\n\t\tudp dport 53 accep\n\t}\n}\n', 'bad.nft').ok) return 'nft -c accepts a broken file here';
  return undefined;
}

const skip = nftUsable();

describe.skipIf(skip !== undefined)(`nft -c accepts what rules --target nft writes${skip ? ` (skipped: ${skip})` : ''}`, () => {
  for (const [fixture, extra] of [
    ['pflog/macos-killswitch.pcap', []],
    ['pflog/macos-killswitch.pcap', ['--allow-broad']],
    ['pflog/openbsd-wg.pcap', []],
    ['pflog/macos-sleep.pcap', []],
  ] as const) {
    it(`${fixture} ${extra.join(' ')}`, async () => {
      const result = await runCliCaptured(['rules', '--target', 'nft', ...extra, '--denied', join(REPO_ROOT, 'fixtures', fixture)]);
      expect(result.exitCode).toBe(0);
      const check = nftCheck(result.stdout, 'rules.nft');
      expect(check.stderr).toBe('');
      expect(check.ok).toBe(true);
    });
  }
});
