/**
 * The command line's second thread (issue 7; the default for inputs of 128 MiB or more): `simulate --threads 2`
 * replays half of its profiles in a worker; `analyze --threads 2` reads and decodes in a worker while the main thread
 * replays. Output must be byte for byte what `--threads 1` gives, from a file, from standard input redirected from
 * it, and from standard input already advanced past other bytes (each thread reads it from where it stood).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const BIN = join(REPO_ROOT, 'bin/udptrack.cjs');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-threads-'));
const big = join(scratch, 'big.pcap');
const prefixed = join(scratch, 'prefixed.bin');
const ENV = { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NO_COLOR: '1' };

function sh(shell: string, file: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('sh', ['-c', shell, 'sh', process.execPath, BIN, file], { encoding: 'utf8', maxBuffer: 1 << 30, env: ENV });
}

beforeAll(() => {
  // 9+ MiB from the benchmark's generator, and the same capture after 1000 bytes of something else.
  const made = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/gen-workload.mjs'), '--packets', '45000', '--flows', '3000', '--duration', '900', '--seed', '7', '--out', big], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
  expect(statSync(big).size).toBeGreaterThan(8 * 1024 * 1024);
  writeFileSync(prefixed, Buffer.concat([Buffer.alloc(1000, 0x41), readFileSync(big)]));
}, 60_000);

// The generator's clients as the local side: replies after their idle gaps are denied differently under each profile,
// so a profile's result in the wrong place shows.
const LOCAL = '--local 10.1.0.0/16,2001:db8:a::/48';

describe.each([
  ['simulate --format json', `simulate --format json ${LOCAL} --profile pf --profile linux --profile zeek --profile rfc4787 --sweep udp.single=10s..60s/25s`],
  ['simulate (text)', `simulate ${LOCAL} --profile pf --profile linux --profile openwrt`],
  ['analyze --format json', `analyze --format json ${LOCAL}`],
  ['analyze --format ndjson', `analyze --format ndjson ${LOCAL} --profile linux`],
  // The local side inferred: with two threads the main thread reads it from the input's start while the worker starts.
  ['analyze --format ndjson, local side inferred', 'analyze --format ndjson'],
])('%s with two threads', (_name, args) => {
  it('gives what one thread gives, from the file, standard input, and standard input already advanced', { timeout: 60_000 }, () => {
    const one = sh(`"$1" "$2" ${args} --threads 1 "$3"`, big);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout.length).toBeGreaterThan(1000);
    if (args.startsWith('simulate --format json')) {
      const totals = (JSON.parse(one.stdout) as { profiles: Array<{ denied_total: number }> }).profiles.map((p) => p.denied_total);
      expect(new Set(totals).size).toBe(totals.length);
    }
    const two = sh(`"$1" "$2" ${args} --threads 2 "$3"`, big);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    // Standard input: the document names the file '-'.
    const fromStdin = one.stdout.replace(`"file": ${JSON.stringify(big)}`, '"file": "-"');
    expect(sh(`"$1" "$2" ${args} --threads 2 - < "$3"`, big).stdout).toBe(fromStdin);
    // Both threads begin where standard input stands, not at the file's start (nor where the other's reads moved it).
    const advanced = sh(`{ head -c 1000 >/dev/null; "$1" "$2" ${args} --threads 2 -; } < "$3"`, prefixed);
    expect(advanced.status, advanced.stderr).toBe(0);
    expect(advanced.stdout).toBe(fromStdin);
  });
});

describe('--threads', () => {
  it('by default a second thread only for inputs of 128 MiB or more (where it pays on two vCPUs)', async () => {
    const { WORKER_MIN_BYTES, workerCaptureSource } = await import('../../src/pipeline/threads.js');
    expect(WORKER_MIN_BYTES).toBe(128 * 1024 * 1024);
    expect(workerCaptureSource(big)).toBeUndefined();
    expect(workerCaptureSource(big, 0)).toEqual({ kind: 'path', path: big, readBytes: statSync(big).size });
    expect(workerCaptureSource(join(scratch, 'no-such.pcap'), 0)).toBeUndefined();
  });

  it('takes two threads by default for an input of 128 MiB or more, with the same output', { timeout: 120_000 }, () => {
    // The 9 MiB capture's records over and over past 128 MiB (packet time jumps back at each repeat; the tables take
    // that as they take any capture's).
    const bytes = readFileSync(big);
    const records = bytes.subarray(24);
    const copies = Math.ceil((128 * 1024 * 1024) / records.length) + 1;
    const huge = join(scratch, 'huge.pcap');
    writeFileSync(huge, Buffer.concat([bytes.subarray(0, 24), ...Array.from({ length: copies }, () => records)]));
    const one = sh(`"$1" "$2" analyze --format ndjson --threads 1 "$3"`, huge);
    expect(one.status, one.stderr).toBe(0);
    const byDefault = sh(`"$1" "$2" analyze --format ndjson "$3"`, huge);
    expect(byDefault.status, byDefault.stderr).toBe(0);
    expect(byDefault.stdout).toBe(one.stdout);
    rmSync(huge);
  });

  it('maps 1 to one thread, 2 to a second one at any size, and no option to the size rule', async () => {
    const { workerChoiceOf } = await import('../../src/cli/input.js');
    expect(workerChoiceOf('1')).toBe(false);
    expect(workerChoiceOf('2')).toEqual({ minBytes: 0 });
    expect(workerChoiceOf(undefined)).toBeUndefined();
    expect(() => workerChoiceOf('0')).toThrow(/--threads must be 1 or 2, not '0'/);
  });

  it('takes 1 or 2', () => {
    for (const command of ['simulate', 'analyze']) {
      const result = sh(`"$1" "$2" ${command} --threads 3 "$3"`, big);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/--threads must be 1 or 2/);
    }
  });
});
