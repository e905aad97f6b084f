/**
 * simulate's second thread (issue 7): a worker replays the first half of the profiles while the main thread
 * replays the rest. The report must not depend on it: every fixture and corpus capture gives the same document
 * with and without the worker, standard input redirected from a file (even one already read from) gives what the
 * file gives, and a worker's failure reaches the caller as the same error. The worker runs from the build
 * (`npm test` builds first): dist/pipeline/simulate-worker.js, and dist/cli/simulate-worker.mjs beside the bundle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/index.js';
import { getProfile, parseSweep } from '../../src/flow/profiles.js';
import { simulateCapture } from '../../src/pipeline/simulate.js';
import { startWorker } from '../../src/pipeline/threads.js';
import { writeJsonDocument } from '../../src/report/json-layout.js';
import { CORPUS_DIR, REPO_ROOT } from '../helpers/cli.js';

const WORKER = join(REPO_ROOT, 'dist/pipeline/simulate-worker.js');
const BIN = join(REPO_ROOT, 'bin/udptrack.js');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-simworker-'));

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

const captures = [
  ...listFiles(join(REPO_ROOT, 'fixtures')).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)),
  ...(existsSync(CORPUS_DIR) ? listFiles(CORPUS_DIR).filter((f) => !f.endsWith('.md') && !f.endsWith('.txt')) : []),
];

/** The report as `simulate --format json` writes it, or the CaptureError that stopped it (code and message). */
async function simulateText(file: string, worker: { entry: string; minBytes: number } | false): Promise<string> {
  try {
    const report = await simulateCapture(file, {
      profiles: ['pf', 'linux', 'openwrt', 'rfc4787', 'zeek'].map((name) => getProfile(name)),
      sweep: parseSweep('udp.single=10s..120s/50s'),
      worker,
    });
    const { capture: _capture, ...doc } = report;
    let text = '';
    writeJsonDocument(doc, (piece) => {
      text += piece;
    });
    return text;
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    return `CaptureError ${error.code}: ${error.message}`;
  }
}

describe('simulate with its worker thread', () => {
  it('the build has the worker beside the library and beside the CLI bundle', () => {
    expect(existsSync(WORKER)).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'dist/cli/simulate-worker.mjs'))).toBe(true);
  });

  it('finds the built worker beside the built module', async () => {
    const threads = (await import(pathToFileURL(join(REPO_ROOT, 'dist/pipeline/threads.js')).href)) as typeof import('../../src/pipeline/threads.js');
    expect(threads.findBuiltWorker('simulate-worker')).toBe(WORKER);
    expect(threads.findBuiltWorker('no-such-worker')).toBeUndefined();
  });

  it('gives the same document on every fixture and corpus capture', { timeout: 120_000 }, async () => {
    expect(captures.length).toBeGreaterThan(10);
    let reports = 0;
    for (const file of captures) {
      const alone = await simulateText(file, false);
      const split = await simulateText(file, { entry: WORKER, minBytes: 0 });
      expect(split, relative(REPO_ROOT, file)).toBe(alone);
      if (!alone.startsWith('CaptureError')) reports++;
    }
    expect(reports).toBeGreaterThan(captures.length / 2);
  });

  it('a worker that fails rejects with its error; a CaptureError stays one', async () => {
    const notCapture = join(scratch, 'not-a-capture.pcap');
    writeFileSync(notCapture, 'this is not a capture file at all');
    const failed = startWorker(WORKER, { source: { kind: 'path', path: notCapture }, profiles: [getProfile('pf')], localNetworks: undefined });
    const error = await failed.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as CaptureError).code).toBe('not-a-capture-file');
    const missing = startWorker(join(scratch, 'no-such-worker.js'), {});
    await expect(missing.result).rejects.toThrow();
  });
});

describe('simulate through the CLI on a capture big enough for the worker', () => {
  // 9+ MiB (above WORKER_MIN_BYTES), from the benchmark's generator.
  const big = join(scratch, 'big.pcap');
  const made = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/gen-workload.mjs'), '--packets', '45000', '--flows', '3000', '--duration', '900', '--seed', '7', '--out', big], { encoding: 'utf8' });

  const run = (shell: string, file: string): { status: number | null; stdout: string; stderr: string } =>
    spawnSync('sh', ['-c', shell, 'sh', process.execPath, BIN, file], { encoding: 'utf8', maxBuffer: 1 << 30, env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NO_COLOR: '1' } });

  it('file, standard input, and standard input already advanced give one report', { timeout: 60_000 }, () => {
    expect(made.status, made.stderr).toBe(0);
    expect(statSync(big).size).toBeGreaterThan(8 * 1024 * 1024);
    const args = '--format json --profile pf --profile linux --profile zeek --profile rfc4787';
    const fromFile = run(`"$1" "$2" simulate ${args} "$3"`, big);
    expect(fromFile.status, fromFile.stderr).toBe(0);
    const report = JSON.parse(fromFile.stdout) as { packets: number; profiles: Array<{ denied_total: number }> };
    expect(report.packets).toBe(45000);
    expect(report.profiles.some((p) => p.denied_total > 0)).toBe(true);
    expect(run(`"$1" "$2" simulate ${args} - < "$3"`, big).stdout).toBe(fromFile.stdout);
    // 1000 bytes of something else first, read off standard input before udptrack starts: both threads must begin
    // where standard input stands, not at the file's start (nor where the other thread's reads moved it).
    const prefixed = join(scratch, 'prefixed.bin');
    writeFileSync(prefixed, Buffer.concat([Buffer.alloc(1000, 0x41), readFileSync(big)]));
    const advanced = run(`{ head -c 1000 >/dev/null; "$1" "$2" simulate ${args} -; } < "$3"`, prefixed);
    expect(advanced.status, advanced.stderr).toBe(0);
    expect(advanced.stdout).toBe(fromFile.stdout);
  });
});
