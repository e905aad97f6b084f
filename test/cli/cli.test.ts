/**
 * The command line end to end: exit codes and one-line errors for bad input (never a stack trace), damaged files
 * keep what came before the damage, standard input equals the file, and the built binary is wired up.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliCaptured, spawnCli } from '../helpers/cli.js';

const OPENVPN = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
const PFLOG = join(REPO_ROOT, 'fixtures/pflog/macos-sleep.pcap');
const KILLSWITCH_LOG = join(REPO_ROOT, 'fixtures/pflog/macos-killswitch.pcap');
const KILLSWITCH_PF_CONF = join(REPO_ROOT, 'fixtures/pf/killswitch-0.8.pf.conf');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-cli-'));

function expectOneLineError(result: { exitCode: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(result.exitCode).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('bad input: one line on stderr, exit 2', () => {
  it('a missing file', async () => {
    expectOneLineError(await runCliCaptured(['packets', join(scratch, 'nope.pcap')]), /^udptrack: .*nope\.pcap: .*(no such file|not found)/i);
  });

  it('a file that is not a capture', async () => {
    expectOneLineError(await runCliCaptured(['packets', join(REPO_ROOT, 'README.md')]), /^udptrack: .*README\.md: not a capture/i);
  });

  it('an empty file', async () => {
    const empty = join(scratch, 'empty.pcap');
    writeFileSync(empty, '');
    expectOneLineError(await runCliCaptured(['packets', empty]), /empty/i);
  });

  it('a broken file header', async () => {
    const broken = join(scratch, 'broken.pcap');
    writeFileSync(broken, readFileSync(OPENVPN).subarray(0, 20));
    expectOneLineError(await runCliCaptured(['analyze', broken]), /truncated file header|20 of 24/i);
  });

  it('an unknown option, format, profile, key or duration', async () => {
    expectOneLineError(await runCliCaptured(['packets', '--bogus', OPENVPN]), /unknown option '--bogus'/);
    expectOneLineError(await runCliCaptured(['packets', '--format', 'xml', OPENVPN]), /--format.*xml|Allowed choices/);
    expectOneLineError(await runCliCaptured(['analyze', '--profile', 'cisco', OPENVPN]), /unknown profile 'cisco'; known profiles: pf, linux/);
    expectOneLineError(await runCliCaptured(['analyze', '--udp-timeout', 'replied=30s', OPENVPN]), /unknown key 'replied' for profile pf; its keys: udp\.first/);
    expectOneLineError(await runCliCaptured(['analyze', '--profile', 'linux', '--udp-timeout', 'replied=soon', OPENVPN]), /'replied=soon': not a duration/);
    expectOneLineError(await runCliCaptured(['analyze', '--firewall-config', join(scratch, 'missing.conf'), OPENVPN]), /cannot read firewall config/);
    expectOneLineError(await runCliCaptured(['simulate', '--sweep', 'replied=5s', OPENVPN]), /--sweep 'replied=5s': expected KEY=FROM\.\.TO/);
  });

  it('a --local that is not an address or CIDR, in every command that takes one, before any input is read', async () => {
    expectOneLineError(await runCliCaptured(['analyze', '--local', '300.1.1.1', OPENVPN]), /--local.*'300\.1\.1\.1' is not an IPv4 or IPv6 address or CIDR/);
    expectOneLineError(await runCliCaptured(['simulate', '--local', '10.0.0.0/40', OPENVPN]), /'10\.0\.0\.0\/40': prefix length must be 0\.\.32/);
    expectOneLineError(await runCliCaptured(['explain', '--capture', OPENVPN, '--local', '192.168.1.10,fe80::zz']), /'fe80::zz' is not an IPv4 or IPv6 address/);
    expectOneLineError(await runCliCaptured(['rules', '--denied', join(scratch, 'never-read.pcap'), '--local', 'x']), /'x' is not an IPv4 or IPv6 address/);
    // Comma-separated and repeated both reach the replay, split once.
    const both = await runCliCaptured(['analyze', '--format', 'json', '--local', '192.168.1.10,10.0.0.0/8', '--local', 'fe80::1', OPENVPN]);
    expect(both.exitCode).toBe(0);
    expect(JSON.parse(both.stdout).local.addresses).toEqual(['192.168.1.10', '10.0.0.0/8', 'fe80::1']);
  });

  it('an unreadable firewall config says what is accepted', async () => {
    const conf = join(scratch, 'nothing.conf');
    writeFileSync(conf, 'hello\n');
    expectOneLineError(await runCliCaptured(['analyze', '--firewall-config', conf, OPENVPN]), /no UDP timeouts found; expected `pfctl -s timeouts` output/);
  });
});

describe('damaged captures keep what came before the damage', () => {
  /** A copy of `file` in the scratch folder as `name`, its last `dropBytes` bytes cut off (the last record cut short). */
  const cutCopy = (file: string, name: string, dropBytes: number): string => {
    const bytes = readFileSync(file);
    const cut = join(scratch, name);
    writeFileSync(cut, bytes.subarray(0, bytes.length - dropBytes));
    return cut;
  };

  it('a record cut part-way: earlier packets are reported, exit 0', async () => {
    const cut = cutCopy(OPENVPN, 'cut.pcap', 30);
    const result = await runCliCaptured(['packets', '--format', 'json', cut]);
    expect(result.exitCode).toBe(0);
    const frames = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { frame: number });
    expect(frames).toHaveLength(33);
    expect(result.stderr).toMatch(/pcap-record-past-eof/);
    const text = await runCliCaptured(['packets', cut]);
    expect(text.stdout).toMatch(/capture damaged at byte \d+: pcap-record-past-eof/);
  });

  it('analyze and simulate say where the capture was damaged, and report everything before it', async () => {
    const cut = cutCopy(OPENVPN, 'cut-replay.pcap', 30);
    const analyzed = await runCliCaptured(['analyze', '--format', 'json', cut]);
    expect(analyzed.exitCode).toBe(0);
    const damage = (JSON.parse(analyzed.stdout) as { stats: { damage: unknown } }).stats.damage;
    expect(damage).toEqual({ code: 'pcap-record-past-eof', offset: expect.any(Number), detail: expect.any(String) });
    const simulated = await runCliCaptured(['simulate', '--format', 'json', cut]);
    expect(simulated.exitCode).toBe(0);
    const doc = JSON.parse(simulated.stdout) as { damage: unknown; packets: number };
    expect(doc.damage).toEqual(damage);
    expect(doc.packets).toBe(33);
    const whole = JSON.parse((await runCliCaptured(['simulate', '--format', 'json', OPENVPN])).stdout) as { damage: unknown };
    expect(whole.damage).toBeNull();
    for (const [command, done] of [['analyze', 'analyzed'], ['simulate', 'replayed']] as const) {
      const text = await runCliCaptured([command, cut]);
      expect(text.stdout).toMatch(new RegExp(`Capture damaged at byte \\d+: pcap-record-past-eof \\(.+\\); everything before it was ${done}\\.`));
    }
  });

  it('explain and rules name each damaged input, and use everything before the damage', async () => {
    const cutLog = cutCopy(KILLSWITCH_LOG, 'cut-denied.pcap', 10);
    const cutCapture = cutCopy(OPENVPN, 'cut-capture.pcap', 30);
    const damageOf = (input: string, file: string) => ({ input, file, code: 'pcap-record-past-eof', offset: expect.any(Number), detail: expect.any(String) });

    const explained = await runCliCaptured(['explain', '--format', 'json', '--denied', cutLog, '--capture', cutCapture]);
    expect(explained.exitCode).toBe(0);
    const doc = JSON.parse(explained.stdout) as { damage: unknown; verdicts: unknown[] };
    expect(doc.damage).toEqual([damageOf('denied', cutLog), damageOf('capture', cutCapture)]);
    // The denials before the cut are still explained: the whole log's verdicts, at most the last record's missing.
    const whole = JSON.parse((await runCliCaptured(['explain', '--format', 'json', '--denied', KILLSWITCH_LOG])).stdout) as { damage: unknown; verdicts: Array<{ frame: number }> };
    expect(whole.damage).toEqual([]);
    const fromCut = JSON.parse((await runCliCaptured(['explain', '--format', 'json', '--denied', cutLog])).stdout) as { verdicts: Array<{ frame: number }> };
    const frames = (doc: { verdicts: Array<{ frame: number }> }): number[] => doc.verdicts.map((v) => v.frame);
    expect(fromCut.verdicts.length).toBeGreaterThanOrEqual(Math.max(1, whole.verdicts.length - 1));
    expect(frames(fromCut)).toEqual(frames(whole).slice(0, fromCut.verdicts.length));
    const text = await runCliCaptured(['explain', '--capture', cutCapture]);
    expect(text.stdout).toContain(`${cutCapture}: Capture damaged at byte `);
    expect(text.stdout).toMatch(/; everything before it was explained\.\n$/);

    const rules = await runCliCaptured(['rules', '--format', 'json', '--denied', cutLog]);
    expect(rules.exitCode).toBe(0);
    expect((JSON.parse(rules.stdout) as { damage: unknown }).damage).toEqual([damageOf('denied', cutLog)]);
    expect((await runCliCaptured(['rules', '--denied', cutLog])).stdout).toMatch(/^# .*cut-denied\.pcap: Capture damaged at byte \d+: pcap-record-past-eof/m);
    const check = await runCliCaptured(['rules', '--format', 'json', '--check', KILLSWITCH_PF_CONF, '--denied', cutLog]);
    expect((JSON.parse(check.stdout) as { damage: unknown }).damage).toEqual([damageOf('denied', cutLog)]);
    expect((await runCliCaptured(['rules', '--check', KILLSWITCH_PF_CONF, '--denied', cutLog])).stdout).toMatch(/everything before it was checked\./);
  });
});

describe('standard input', () => {
  it('`-` reads the same packets as the file', async () => {
    const fromFile = await runCliCaptured(['packets', '--format', 'json', PFLOG]);
    const fromStdin = await runCliCaptured(['packets', '--format', 'json', '-'], readFileSync(PFLOG));
    expect(fromStdin.exitCode).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });
});

describe('packets --format json fields', () => {
  it('has frame, ts at capture precision, linktype, addresses, proto, ports, len and pflog metadata', async () => {
    const result = await runCliCaptured(['packets', '--format', 'json', PFLOG]);
    const first = JSON.parse(result.stdout.split('\n')[2]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      frame: 3,
      ts: '2026-11-20T08:10:40.200000Z',
      linktype: 117,
      src: '198.51.100.7',
      dst: '192.168.1.10',
      proto: 17,
      sport: 1194,
      dport: 51234,
      len: 152,
      ifname: 'en0',
      dir: 'in',
      pflog: { action: 'block', reason: 'match', rule: 0, ifname: 'en0', dir: 1 },
    });
    const v6 = JSON.parse(result.stdout.split('\n')[6]!) as Record<string, unknown>;
    expect(v6).toMatchObject({ src: 'fe80::1c2b:3ff:fe4a:1', dst: 'ff02::fb', sport: 5353, dport: 5353 });
  });
});

describe('the built binary', () => {
  it('--help teaches and exits 0; a bad file exits 2 with one line', () => {
    const help = spawnCli(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
    const analyzeHelp = spawnCli(['analyze', '--help']);
    expect(analyzeHelp.stdout).toMatch(/Profiles \(--profile NAME/);
    const bad = spawnCli(['packets', join(REPO_ROOT, 'package.json')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('loads as CommonJS bundles in ASCII, the CLI, both workers and the early start (scripts/build-bundles.mjs: start-up)', () => {
    for (const name of ['udptrack', 'feed-worker', 'simulate-worker', 'prestart']) {
      const text = readFileSync(join(REPO_ROOT, `dist/cli/${name}.cjs`), 'latin1');
      expect(text, name).toMatch(/^const __bundleUrl = require\('node:url'\)/);
      expect(text, name).not.toMatch(/^(import|export) /m);
      expect(/[^\0-\x7f]/.exec(text)?.[0], name).toBeUndefined();
    }
    // The bin runs the CLI's bundle with the code cache the build made, and this Node accepts that cache.
    // First, the early start of the feed worker (cli/prestart.ts), from its own small bundle.
    const bin = readFileSync(join(REPO_ROOT, 'bin/udptrack.cjs'), 'utf8');
    expect(bin).toMatch(/join\(__dirname, '\.\.', 'dist', 'cli'\)/);
    expect(bin.indexOf("join(bundles, 'prestart.cjs')")).toBeGreaterThan(0);
    expect(bin.indexOf("join(bundles, 'prestart.cjs')")).toBeLessThan(bin.indexOf("loadBundle(join(bundles, 'udptrack.cjs'))"));
    const { compileBundle } = createRequire(import.meta.url)('../../bin/load-bundle.cjs') as { compileBundle(file: string, cachedData?: Buffer): Script };
    const bundle = join(REPO_ROOT, 'dist/cli/udptrack.cjs');
    expect(compileBundle(bundle, readFileSync(`${bundle}.v8cache`)).cachedDataRejected).toBe(false);
    // The escaped regular expressions still mean their characters: curly quotes around the names are taken off.
    const alert = spawnCli(['explain', '--format', 'json', '--little-snitch', '“vpn.example.com” tried to establish an incoming connection to “openvpn”.']);
    expect(alert.exitCode).toBe(0);
    expect(JSON.parse(alert.stdout).alert).toMatchObject({ remote: 'vpn.example.com', process: 'openvpn' });
  });

  it('analyzes a file without loading what only other commands need (start-up: build-bundles.mjs, issue 7)', () => {
    // Every run pays for what the CLI loads before it starts: commander comes inside the bundle, and child_process
    // (with net and dgram), perf_hooks and standard input's stream wait until a live capture, an alert or `-` needs them.
    const probe = [
      'const before = new Set(process.moduleLoadList);',
      "const loaded = () => process.moduleLoadList.filter((m) => !before.has(m)).join(',');",
      "const packages = () => Object.keys(require.cache).filter((f) => f.includes('node_modules')).join(' ');",
      "process.on('exit', () => process.stderr.write(`modules: ${loaded()}\\npackages: ${packages()}\\n`));",
      `process.argv = [process.execPath, ${JSON.stringify(join(REPO_ROOT, 'bin/udptrack.cjs'))}, 'analyze', '--format', 'json', ${JSON.stringify(OPENVPN)}];`,
      'require(process.argv[1]);',
    ].join('\n');
    // Standard input from a file (a stream built on it would load readline and fs/promises); stdout is a pipe here,
    // which loads node:net for its socket — as it does for anyone piping the output on.
    const stdin = openSync(OPENVPN, 'r');
    const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', stdio: [stdin, 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NO_COLOR: '1' } });
    closeSync(stdin);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).flows.length).toBeGreaterThan(0);
    const modules = /^modules: (.*)$/m.exec(result.stderr)![1]!.split(',');
    for (const name of ['child_process', 'dgram', 'perf_hooks', 'readline', 'internal/fs/promises']) expect(modules, name).not.toContain(`NativeModule ${name}`);
    expect(/^packages: (.*)$/m.exec(result.stderr)![1]).toBe('');
  });

  it('reads a capture from a pipe', () => {
    const result = spawnCli(['packets', '-'], readFileSync(PFLOG));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/en0 in rule 0\/match: block 198\.51\.100\.7\.1194 > 192\.168\.1\.10\.51234: UDP, length 60/);
  });

  it('reads standard input redirected from a file like the file (the fast path), from where stdin stands', () => {
    const file = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
    const bin = join(REPO_ROOT, 'bin/udptrack.cjs');
    const run = (shell: string): string => {
      const result = spawnSync('sh', ['-c', shell, 'sh', process.execPath, bin, file], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NO_COLOR: '1' } });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout;
    };
    const fromFile = run('"$1" "$2" analyze --format json "$3"').replace(/"file": ".*"/, '"file": "-"');
    expect(run('"$1" "$2" analyze --format json - < "$3"')).toBe(fromFile);
    expect(run('cat "$3" | "$1" "$2" analyze --format json -')).toBe(fromFile);
    // Standard input already advanced past 10 bytes: reading goes on from there, so the magic is not found.
    const skipped = spawnSync('sh', ['-c', '{ head -c 10 >/dev/null; "$1" "$2" analyze -; } < "$3"', 'sh', process.execPath, bin, file], { encoding: 'utf8' });
    expect(skipped.status).toBe(2);
    expect(skipped.stderr).toMatch(/not a capture file/);
    // Messages name standard input as the user typed it, '-' (it said '<stream>').
    const empty = spawnSync('sh', ['-c', '"$1" "$2" analyze - < /dev/null', 'sh', process.execPath, bin], { encoding: 'utf8' });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toBe('udptrack: -: empty file\n');
  });
});
