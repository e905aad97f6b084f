/**
 * `udptrack tail -`: a pcap stream on stdin, as `tcpdump -U -w -` writes it. Once settled, the tail's verdicts must
 * be explain's on the same input; damage is reported and stepped over; the wall-clock tick announces an expiry
 * while nothing arrives; Ctrl-C prints the summary and exits 0; bad usage is one line and exit 2.
 * (Live interfaces, nflog and tcpdump on real traffic: test/kernel/tail.test.ts.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StringSink } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { concat, ipUdp, writePcap } from '../../fixtures/writer.js';
import { REPO_ROOT, runCliCaptured } from '../helpers/cli.js';

process.chdir(REPO_ROOT);

interface Record {
  type: string;
  id?: number;
  frame?: number;
  cause?: string;
  provisional?: boolean;
  previous_cause?: string;
  [key: string]: unknown;
}

function ndjson(text: string): Record[] {
  return text.trim().split('\n').map((line) => JSON.parse(line) as Record);
}

/** Each verdict's last cause by frame, from the tail's ndjson. */
function tailCauses(records: Record[]): Array<[number, string]> {
  const byId = new Map<number, [number, string]>();
  for (const r of records) if (r.type === 'verdict' || r.type === 'revision' || r.type === 'final') byId.set(r.id!, [r.frame!, r.cause!]);
  return [...byId.values()].sort((a, b) => a[0] - b[0]);
}

async function explainCauses(args: string[]): Promise<Array<[number, string]>> {
  const result = await runCliCaptured(['explain', '--format', 'json', ...args]);
  const verdicts = (JSON.parse(result.stdout) as { verdicts: Array<{ frame: number; cause: string }> }).verdicts;
  return verdicts.map((v) => [v.frame, v.cause] as [number, string]).sort((a, b) => a[0] - b[0]);
}

const TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /;

describe('tail - agrees with explain once its verdicts settle', () => {
  const cases: Array<{ name: string; file: string; explain: string[]; tail?: string[] }> = [
    { name: 'a capture (the model predicts the denials)', file: 'fixtures/pcap/openvpn-idle.pcap', explain: ['--capture', 'fixtures/pcap/openvpn-idle.pcap'] },
    { name: 'a pflog log (block records are the denials)', file: 'fixtures/pflog/macos-sleep.pcap', explain: ['--denied', 'fixtures/pflog/macos-sleep.pcap'] },
    {
      name: 'ICMP errors about UDP flows',
      file: 'fixtures/pcap/icmp-errors.pcap',
      explain: ['--capture', 'fixtures/pcap/icmp-errors.pcap', '--local', '192.168.1.10', '--local', '2001:db8:1::10'],
      tail: ['--local', '192.168.1.10', '--local', '2001:db8:1::10'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await runCliCaptured(['tail', '-', '--format', 'ndjson', ...(c.tail ?? [])], readFileSync(c.file));
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe('');
      const records = ndjson(result.stdout);
      expect(records[0]!.type).toBe('start');
      expect(records.at(-1)!.type).toBe('summary');
      expect(tailCauses(records)).toEqual(await explainCauses(c.explain));
    });
  }

  it('marks provisional verdicts and revises them when later packets change the cause (text)', async () => {
    const result = await runCliCaptured(['tail', '-'], readFileSync('fixtures/pcap/openvpn-idle.pcap'));
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n');
    const events = lines.filter((l) => TIME.test(l));
    expect(events.length).toBeGreaterThan(0);
    expect(lines).toContainEqual(expect.stringMatching(/^2026-11-20 08:01:19\.000000 deny #4 \[provisional\] 198\.51\.100\.7:1194 → 192\.168\.1\.10:51234 \(openvpn\): client-killed\./));
    expect(lines).toContainEqual(expect.stringMatching(/^2026-11-20 08:01:39\.000000 revised #4 \[provisional\] client-killed → client-restart \(frame 21, 2026-11-20 08:01:19\.000000\): .*new flow to the same server from port 52001/));
    expect(lines).toContainEqual(expect.stringMatching(/^2026-11-20 08:00:00\.012000 deny #1 \[final\] .*: dhcp\./));
    expect(result.stdout).toMatch(/\nSummary: {4}34 records, 34 UDP.*\nFlows: .*\nDenied: {5}7 \(4 client-restart, 2 link-local-multicast, 1 dhcp\); 2 revisions; 4 still provisional at the end\n/);
  });

  it('-v adds flows gaining state and expiring, and verdicts becoming final', async () => {
    const result = await runCliCaptured(['tail', '-', '-v'], readFileSync('fixtures/pflog/macos-sleep.pcap'));
    expect(result.stdout).toMatch(/^2026-11-20 08:00:00\.000000 flow #1 new 192\.168\.1\.10:51234 → 198\.51\.100\.7:1194 \(openvpn\): state on udp\.first 60 s$/m);
    expect(result.stdout).toMatch(/^2026-11-20 08:01:00\.000000 flow #1 expired 192\.168\.1\.10:51234 → 198\.51\.100\.7:1194 \(openvpn\): udp\.single 30 s after its last packet at 2026-11-20 08:00:30\.000000, 2 packets$/m);
    const short = await runCliCaptured(['tail', '-', '-v', '--final-after', '5s'], readFileSync('fixtures/pflog/macos-sleep.pcap'));
    // With a 5 s window the stray of 08:10:40.2 is final before the client's new flow at 08:10:55 would revise it.
    expect(short.stdout).toMatch(/^2026-11-20 08:10:45\.200000 final #1 client-killed \(confidence 0\.55, frame 3, 2026-11-20 08:10:40\.200000\)$/m);
    expect(short.stdout).not.toMatch(/revised #1 /);
    const quiet = await runCliCaptured(['tail', '-'], readFileSync('fixtures/pflog/macos-sleep.pcap'));
    expect(quiet.stdout).not.toMatch(/ flow #| final #/);
  });
});

describe('damage on stdin is reported and stepped over', () => {
  const clean = readFileSync('fixtures/pcap/openvpn-idle.pcap');
  /** The fixture with `junk` inserted before record `before` (1-based). */
  function withJunk(before: number, junk: Uint8Array): Uint8Array {
    let offset = 24;
    for (let i = 1; i < before; i++) offset += 16 + clean.readUInt32LE(offset + 8);
    return concat(clean.subarray(0, offset), junk, clean.subarray(offset));
  }
  const junk = Uint8Array.from({ length: 41 }, (_, i) => 0xf0 | (i & 0x0f));

  it('text: one line on stderr, the same verdicts as without the garbage, the summary counts it', async () => {
    const result = await runCliCaptured(['tail', '-'], withJunk(20, junk));
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/^udptrack: -: damaged input at byte \d+ \(pcap-(caplen-impossible|record-implausible): .*\); skipped 41 bytes, reading went on at byte \d+\n$/);
    expect(result.stdout).toMatch(/\nDamage: {5}1 place in the input, 41 bytes skipped\n/);
    const records = ndjson((await runCliCaptured(['tail', '-', '--format', 'ndjson'], withJunk(20, junk))).stdout);
    expect(tailCauses(records)).toEqual(await explainCauses(['--capture', 'fixtures/pcap/openvpn-idle.pcap']));
    const damage = records.filter((r) => r.type === 'damage');
    expect(damage).toHaveLength(1);
    expect(damage[0]).toMatchObject({ frame: 20, skipped_bytes: 41 });
    expect(records.at(-1)).toMatchObject({ type: 'summary', damaged_places: 1, skipped_bytes: 41, records: 34 });
  });

  it('a stream cut short in a record: reported, exit 0 with the summary', async () => {
    const result = await runCliCaptured(['tail', '-', '--format', 'ndjson'], clean.subarray(0, clean.length - 7));
    expect(result.exitCode).toBe(0);
    const records = ndjson(result.stdout);
    expect(records.filter((r) => r.type === 'damage')).toEqual([expect.objectContaining({ code: 'pcap-record-past-eof', resumed_at: null })]);
    expect(records.at(-1)).toMatchObject({ type: 'summary', end: 'end-of-input', records: 33 });
  });

  it('a read error on stdin: one line, exit 2, no stack trace', async () => {
    const stdin = new PassThrough();
    const stdout = new StringSink();
    const stderr = new StringSink();
    const run = runCli(['tail', '-'], { stdout, stderr, stderrIsTty: false, stdin });
    stdin.write(clean.subarray(0, 200));
    await new Promise((r) => setTimeout(r, 50));
    stdin.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
    expect(await run).toBe(2);
    expect(stderr.text).toBe('udptrack: -: cannot read: EIO: i/o error, read\n');
  });

  it('input that is not a capture: one line, exit 2', async () => {
    const result = await runCliCaptured(['tail', '-'], new TextEncoder().encode('<!DOCTYPE html><html>'));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^udptrack: -: not a capture file \(magic 0x3c21444f\)\n$/);
  });
});

describe('usage', () => {
  for (const [args, message] of [
    [['tail'], /tail reads - .* or --interface IF, one of them/],
    [['tail', '-', '--interface', 'eth0'], /one of them/],
    [['tail', '-', '--filter', 'udp'], /--filter and --wait belong to --interface/],
    [['tail', '-', '--wait'], /--filter and --wait belong to --interface/],
    [['tail', '-', '--final-after', '500ms'], /--final-after must be a duration of at least 1s/],
    [['tail', '-', '--format', 'json'], /argument 'json' is invalid/],
  ] as const) {
    it(args.join(' '), async () => {
      const result = await runCliCaptured(args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    });
  }

  it('help lists the command and its exit codes', async () => {
    const result = await runCliCaptured(['tail', '--help']);
    expect(result.stdout).toMatch(/--interface <name>/);
    expect(result.stdout).toMatch(/sudo tcpdump -i pflog0 -U -w - \| udptrack tail -/);
    expect((await runCliCaptured(['--help'])).stdout).toMatch(/tail: no way to capture .*\n.*went away without --wait/);
  });
});

// --- as it happens: real time ----------------------------------------------------------------------------------------

const HOST = '10.77.0.1';
const PEER = '10.77.0.2';
const header = writePcap({ linktype: 101 }, []);

/** One raw-IP pcap record (no file header) stamped with the wall clock now. */
function recordNow(src: string, sport: number, dst: string, dport: number): Uint8Array {
  return writePcap({ linktype: 101 }, [{ tsUs: Date.now() * 1000, data: ipUdp({ src, dst, sport, dport, payload: new Uint8Array(24) }) }]).subarray(24);
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('as it happens', () => {
  it('the wall-clock tick announces an expiry while nothing arrives, and a verdict becoming final', async () => {
    const stdin = new PassThrough();
    const stdout = new StringSink();
    const stderr = new StringSink();
    const run = runCli(['tail', '-', '-v', '--local', HOST, '--profile', 'linux', '--udp-timeout', 'unreplied=1s,replied=1s', '--final-after', '1s'], {
      stdout,
      stderr,
      stderrIsTty: false,
      stdin,
    });
    stdin.write(concat(header, recordNow(HOST, 5000, PEER, 6000), recordNow(PEER, 7000, HOST, 5001)));
    await waitFor('the flow and the denial', () => /flow #1 new/.test(stdout.text) && /deny #1 \[provisional\]/.test(stdout.text), 2000);
    // Nothing more arrives: the state expires 1 s after its packet, announced by the tick (1 s lag, 1 s wheel slots).
    const waitedMs = await waitFor('the expiry', () => /flow #1 expired 10\.77\.0\.1:5000 → 10\.77\.0\.2:6000: unreplied 1 s after its last packet/.test(stdout.text), 6000);
    expect(waitedMs).toBeGreaterThan(500);
    await waitFor('the verdict becoming final', () => /final #1 unsolicited/.test(stdout.text), 4000);
    stdin.end();
    expect(await run).toBe(0);
    expect(stdout.text).toMatch(/\nSummary: {4}2 records/);
  });

  it('Ctrl-C (SIGINT) prints the summary and exits 0; each verdict is on stdout at once', async () => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin/udptrack.cjs'), 'tail', '-', '--local', HOST], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    child.stdin.write(header);
    for (let i = 1; i <= 3; i++) {
      const sentMs = Date.now();
      child.stdin.write(recordNow(PEER, 40000 + i, HOST, 9000));
      await waitFor(`verdict ${i}`, () => new RegExp(`deny #${i} `).test(out), 5000);
      expect(Date.now() - sentMs).toBeLessThan(1000);
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/\nDenied: {5}3 \(3 unsolicited\)/);
  });
});

describe('without the cap module', () => {
  it('udptrack still runs; --interface says what is missing and the alternative, exit 2', () => {
    // A copy of the build whose node_modules has commander and nothing else: as installed where cap did not build.
    const dir = mkdtempSync(join(tmpdir(), 'udptrack-nocap-'));
    try {
      cpSync(resolve(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
      cpSync(resolve(REPO_ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
      cpSync(resolve(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(resolve(REPO_ROOT, 'node_modules/commander'), join(dir, 'node_modules/commander'));
      const cli = (args: string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } =>
        spawnSync(process.execPath, [join(dir, 'bin/udptrack.cjs'), ...args], { encoding: 'utf8', input, env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC' } });
      const live = cli(['tail', '--interface', 'eth0']);
      expect(live.status).toBe(2);
      expect(live.stdout).toBe('');
      expect(live.stderr).toBe(
        "udptrack: live capture needs the optional 'cap' module, which is not built here (it needs libpcap's headers: apt-get install libpcap-dev or brew install libpcap, then npm rebuild cap); or without it: sudo tcpdump -i eth0 -U -w - | udptrack tail -\n",
      );
      const piped = cli(['tail', '-', '--format', 'ndjson'], readFileSync('fixtures/pflog/macos-sleep.pcap'));
      expect(piped.status).toBe(0);
      expect(ndjson(piped.stdout).at(-1)).toMatchObject({ type: 'summary', verdicts: 7 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
