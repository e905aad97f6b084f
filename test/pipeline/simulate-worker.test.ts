/**
 * simulate's second thread (issue 7): a worker replays the first profiles (half of all tables) while the main thread
 * replays the rest. The report must not depend on it: every fixture and corpus capture gives the same document
 * with and without the worker, and a worker's failure reaches the caller as the same error (the command line with
 * both threads: test/cli/threads.test.ts). The worker runs from the build
 * (`npm test` builds first): dist/pipeline/simulate-worker.js, and dist/cli/simulate-worker.cjs beside the bundle.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/index.js';
import { StringSink } from '../../src/cli/io.js';
import { getProfile, parseSweep } from '../../src/flow/profiles.js';
import { simulateCapture } from '../../src/pipeline/simulate.js';
import { startWorker } from '../../src/pipeline/threads.js';
import { claimPrestartedWorker, prestartWorker } from '../../src/pipeline/worker-start.js';
import { writeJsonDocument } from '../../src/report/json-layout.js';
import { MIN_CAPTURES, fixtureAndCorpusCaptures, textOrCaptureError } from '../helpers/captures.js';
import { REPO_ROOT } from '../helpers/cli.js';

const WORKER = join(REPO_ROOT, 'dist/pipeline/simulate-worker.js');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-simworker-'));

const captures = fixtureAndCorpusCaptures();

/** Classic little-endian pcap records (after the file header) with `seconds` added to each timestamp. */
function shiftedRecords(records: Uint8Array, seconds: number): Buffer {
  const out = Buffer.from(records);
  for (let at = 0; at + 16 <= out.length; at += 16 + out.readUInt32LE(at + 8)) out.writeUInt32LE(out.readUInt32LE(at) + seconds, at);
  return out;
}

/** The report as `simulate --format json` writes it, or the CaptureError that stopped it (code and message). */
async function simulateText(file: string, worker: { entry: string; minBytes: number } | false): Promise<string> {
  return textOrCaptureError(async () => {
    const report = await simulateCapture(file, {
      profiles: ['pf', 'linux', 'openwrt', 'rfc4787', 'zeek'].map((name) => getProfile(name)),
      sweep: parseSweep('udp.single=10s..120s/50s'),
      worker,
    });
    const { capture: _capture, ...doc } = report;
    const sink = new StringSink();
    writeJsonDocument(doc, sink);
    return sink.text;
  });
}

describe('simulate with its worker thread', () => {
  it('the build has the worker beside the library and beside the CLI bundle', () => {
    expect(existsSync(WORKER)).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'dist/cli/simulate-worker.cjs'))).toBe(true);
  });

  it('finds the built worker beside the built module', async () => {
    const threads = (await import(pathToFileURL(join(REPO_ROOT, 'dist/pipeline/threads.js')).href)) as typeof import('../../src/pipeline/threads.js');
    expect(threads.findBuiltWorker('simulate-worker')).toBe(WORKER);
    expect(threads.findBuiltWorker('no-such-worker')).toBeUndefined();
  });

  it('gives the same document on every fixture and corpus capture', { timeout: 120_000 }, async () => {
    expect(captures.length).toBeGreaterThanOrEqual(MIN_CAPTURES);
    let reports = 0;
    for (const file of captures) {
      const alone = await simulateText(file, false);
      const split = await simulateText(file, { entry: WORKER, minBytes: 0 });
      expect(split, relative(REPO_ROOT, file)).toBe(alone);
      if (!alone.startsWith('CaptureError')) reports++;
    }
    expect(reports).toBeGreaterThan(captures.length / 2);
  });

  it('a capture still being written: both threads read what was there when the run began', async () => {
    // The main thread reads the whole file before simulateCapture's first await; the worker starts ~50 ms later.
    // Bytes appended in between must not reach the worker's tables (they would count denials the report's packet
    // totals never saw).
    const original = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
    const growing = join(scratch, 'growing.pcap');
    const bytes = readFileSync(original);
    writeFileSync(growing, bytes);
    const profiles = ['pf', 'linux', 'zeek', 'rfc4787'].map((name) => getProfile(name));
    const pending = simulateCapture(growing, { profiles, worker: { entry: WORKER, minBytes: 0 } });
    // The same records again, an hour later: each one would be denied as never-seen or state-expired.
    appendFileSync(growing, shiftedRecords(bytes.subarray(24), 3600));
    const grown = await pending;
    const alone = await simulateCapture(original, { profiles, worker: false });
    const totals = (r: typeof alone): number[] => r.profiles.map((p) => p.denied_total);
    expect(totals(grown)).toEqual(totals(alone));
    expect(grown.packets).toBe(alone.packets);
    // And the appended records are really there for a later run.
    const later = await simulateCapture(growing, { profiles, worker: false });
    expect(later.packets).toBe(2 * alone.packets);
  });

  it('a worker started ahead (the bin, cli/prestart.ts) is the one simulate takes, and gives the same document', async () => {
    const file = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
    const alone = await simulateText(file, false);
    prestartWorker(WORKER, undefined);
    expect(await simulateText(file, { entry: WORKER, minBytes: 0 })).toBe(alone);
    // Taken: nothing left to claim.
    expect(claimPrestartedWorker(WORKER, undefined)).toBeUndefined();
  });

  it("writes each profile's denial list as the chunks it holds, from either thread (PROFILE_RECORD_INDENT is the layout's)", async () => {
    const profiles = ['pf', 'linux', 'zeek', 'rfc4787'].map((name) => getProfile(name));
    const report = await simulateCapture(join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap'), { profiles, worker: { entry: WORKER, minBytes: 0 } });
    const held = report.profiles.flatMap((p) => p.denied.bytes().chunks);
    expect(held.length).toBeGreaterThanOrEqual(profiles.length);
    const written = new Set<Uint8Array>();
    const { capture: _capture, ...doc } = report;
    writeJsonDocument(doc, { write: () => undefined, writeBytes: (chunk) => written.add(chunk) !== undefined });
    expect(held.filter((chunk) => !written.has(chunk))).toEqual([]);
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
