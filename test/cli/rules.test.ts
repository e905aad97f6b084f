/**
 * `udptrack rules` on the command line: bad pf.conf syntax and bad usage are one line on stderr and exit 2, the
 * help teaches, and the built binary is wired up.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allFilterRules } from '../../src/policy/pf-model.js';
import { parsePfConf } from '../../src/policy/pf-parse.js';
import { REPO_ROOT, runCliCaptured, spawnCli } from '../helpers/cli.js';

const PFLOG = join(REPO_ROOT, 'fixtures/pflog/macos-killswitch.pcap');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-rules-'));

function expectOneLineError(result: { exitCode: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(result.exitCode).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('bad input: one line on stderr, exit 2', () => {
  it('bad pf.conf syntax: the file, the line and what was expected', async () => {
    const conf = join(scratch, 'typo.pf.conf');
    writeFileSync(conf, 'wifi = "en0"\nblock all\n\npass on $wifi proto udp form any\n');
    expectOneLineError(
      await runCliCaptured(['rules', '--check', conf, '--denied', PFLOG]),
      new RegExp(`^udptrack: ${conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: expected the end of the line or one of flags, .*found 'form'$`),
    );
  });

  it('a pf.conf pfctl itself would refuse', async () => {
    const conf = join(scratch, 'port.pf.conf');
    writeFileSync(conf, 'block all\npass out on en0 to any port 53\n');
    expectOneLineError(await runCliCaptured(['rules', '--check', conf, '--denied', PFLOG]), /port\.pf\.conf:2: port only applies to tcp\/udp/);
  });

  it('a missing pf.conf, a missing --denied, a Little Snitch log, a bad target', async () => {
    expectOneLineError(await runCliCaptured(['rules', '--check', join(scratch, 'nope.conf'), '--denied', PFLOG]), /nope\.conf: cannot read \(no such file\)$/);
    expectOneLineError(await runCliCaptured(['rules']), /^udptrack: rules needs --denied FILE/);
    expectOneLineError(await runCliCaptured(['rules', '--denied', join(REPO_ROOT, 'fixtures/little-snitch/log-traffic.csv')]), /a Little Snitch traffic log names processes/);
    expectOneLineError(await runCliCaptured(['rules', '--target', 'iptables', '--denied', PFLOG]), /--target.*iptables|Allowed choices/);
    expectOneLineError(await runCliCaptured(['rules', '--check', 'x.conf', '--target', 'nft', '--denied', PFLOG]), /--check reads a pf\.conf; --target applies to proposed rules/);
    expectOneLineError(await runCliCaptured(['rules', '--denied', join(scratch, 'none.pcap')]), /none\.pcap: .*no such file/i);
  });
});

describe('the pf output is a pf.conf fragment', () => {
  for (const fixture of ['macos-killswitch', 'openbsd-wg', 'macos-sleep']) {
    it(`${fixture}: comments, macros and rules read back as exactly the proposed rules`, async () => {
      const text = await runCliCaptured(['rules', '--format', 'json', '--denied', join(REPO_ROOT, `fixtures/pflog/${fixture}.pcap`)]);
      const doc = JSON.parse(text.stdout) as { rules: Array<{ pf: string }>; rendered: string };
      expect(allFilterRules(parsePfConf(doc.rendered).statements).map((r) => r.text)).toEqual(doc.rules.map((r) => r.pf));
    });
  }
});

describe('help', () => {
  it('teaches: categories, how to get a log, examples', async () => {
    const result = await runCliCaptured(['rules', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/--target <target>/);
    expect(result.stdout).toMatch(/neighbour-discovery\s+ICMPv6 133–137/);
    expect(result.stdout).toMatch(/sudo tcpdump -n -e -i pflog0 -w pflog\.pcap/);
    expect(result.stdout).toMatch(/udptrack rules --check \/etc\/pf\.conf --denied pflog\.pcap/);
  });
});

describe('the built binary', () => {
  it('writes the JSON document and exits 0', () => {
    const result = spawnCli(['rules', '--format', 'json', '--denied', 'fixtures/pflog/macos-killswitch.pcap']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as { rules: Array<{ pf: string }>; verification: { failures: string[] }; rendered: string };
    expect(doc.verification.failures).toEqual([]);
    expect(doc.rules.length).toBeGreaterThan(0);
    expect(doc.rendered).toContain(doc.rules[0]!.pf);
  });
});
