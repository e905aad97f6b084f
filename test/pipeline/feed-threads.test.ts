/**
 * The two-thread feed (issue 7): a worker reads and decodes, the main thread replays the packets it hands over
 * through a shared ring (pipeline/packet-ring.ts). Nothing may depend on which thread decoded: every fixture and
 * corpus capture gives the same packets (every field the tables read, and the service guess) and the same analyze
 * report with and without the worker. The worker runs from the build (`npm test` builds first).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/index.js';
import { guessService, type ServiceGuess } from '../../src/decode/app/fingerprint.js';
import { getProfile } from '../../src/flow/profiles.js';
import { analyzeCapture } from '../../src/pipeline/analyze.js';
import { feedPacketsInWorker } from '../../src/pipeline/feed-threads.js';
import { feedPackets } from '../../src/pipeline/packet-feed.js';
import { workerCaptureSource, type WorkerChoice } from '../../src/pipeline/threads.js';
import { FEED_WORKER_YOUNG_MB, claimPrestartedWorker, prestartWorker } from '../../src/pipeline/worker-start.js';
import type { DecodedPacket } from '../../src/types.js';
import { MIN_CAPTURES, fixtureAndCorpusCaptures, textOrCaptureError } from '../helpers/captures.js';
import { REPO_ROOT } from '../helpers/cli.js';

const WORKER = join(REPO_ROOT, 'dist/pipeline/feed-worker.js');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-feedworker-'));

const captures = fixtureAndCorpusCaptures();

/**
 * Every field of a packet the flow tables and the replay read, as text, with its service guess (the worker's, or
 * made here for a packet the main thread fed).
 */
function describePacket(pkt: DecodedPacket, preset?: ServiceGuess): string {
  const guess = preset ?? guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort);
  const bytes = (offset: number, version: number): string => Buffer.from(pkt.data.subarray(offset, offset + (version === 6 ? 16 : 4))).toString('hex');
  const r = pkt.record;
  const quoted = pkt.hasQuotedUdp
    ? ` quoted v${pkt.quotedIpVersion} ${bytes(pkt.quotedSrcAddrOffset, pkt.quotedIpVersion)}.${pkt.quotedSrcPort} > ${bytes(pkt.quotedDstAddrOffset, pkt.quotedIpVersion)}.${pkt.quotedDstPort}`
    : '';
  return (
    `#${r.frame} ${r.tsSec}.${r.tsNsec} wire ${r.origLenBytes} v${pkt.ipVersion} ${bytes(pkt.srcAddrOffset, pkt.ipVersion)}.${pkt.srcPort} > ` +
    `${bytes(pkt.dstAddrOffset, pkt.ipVersion)}.${pkt.dstPort} src4 ${pkt.src4} dst4 ${pkt.dst4} ip ${pkt.ipLenBytes} proto ${pkt.ipProto} ` +
    `udp ${pkt.hasUdp ? pkt.udpLenBytes : 'none'} icmp ${pkt.icmpType}/${pkt.icmpCode} ${pkt.direction}${quoted} ${guess.service}/${guess.by}`
  );
}

/** The local side, every packet, and the result of a feed; or the CaptureError that stopped it. */
async function feedText(file: string, threads: 1 | 2): Promise<string> {
  const lines: string[] = [];
  const callbacks = {
    onLocalSide: (local: { source: string; reason: string; networks: string[] }) => lines.push(`local ${local.source} ${local.networks.join(',')} ${local.reason}`),
  };
  const result = await textOrCaptureError(async () =>
    JSON.stringify(
      threads === 1
        ? await feedPackets(file, { ...callbacks, onPacket: (pkt) => lines.push(describePacket(pkt)) })
        : // 64 units, one stage: the ring wraps every few packets and both sides wait for each other.
          await feedPacketsInWorker(WORKER, workerCaptureSource(file, 0)!, { ...callbacks, onPacket: (pkt, guess) => lines.push(describePacket(pkt, guess)) }, 64),
    ),
  );
  lines.push(result);
  return lines.join('\n');
}

/** analyze's report (flows and denials by the thousand), or the CaptureError that stopped it. */
async function analyzeText(file: string, worker: WorkerChoice | false): Promise<string> {
  return textOrCaptureError(async () => JSON.stringify(await analyzeCapture(file, { file, profile: getProfile('pf'), keep: 100_000, worker })));
}

describe('the feed in a worker thread', () => {
  it('the build has the worker beside the library and beside the CLI bundle', () => {
    expect(existsSync(WORKER)).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'dist/cli/feed-worker.cjs'))).toBe(true);
  });

  it('hands over the same packets, guesses and result on every fixture and corpus capture', { timeout: 180_000 }, async () => {
    expect(captures.length).toBeGreaterThanOrEqual(MIN_CAPTURES);
    let fed = 0;
    for (const file of captures) {
      const alone = await feedText(file, 1);
      const split = await feedText(file, 2);
      expect(split, relative(REPO_ROOT, file)).toBe(alone);
      if (!alone.includes('CaptureError')) fed++;
    }
    expect(fed).toBeGreaterThan(captures.length / 2);
  });

  it('gives the same analyze report on every fixture and corpus capture', { timeout: 180_000 }, async () => {
    let reports = 0;
    let icmpErrors = 0;
    for (const file of captures) {
      const alone = await analyzeText(file, false);
      const split = await analyzeText(file, { entry: WORKER, minBytes: 0 });
      expect(split, relative(REPO_ROOT, file)).toBe(alone);
      if (!alone.startsWith('CaptureError')) reports++;
      if (alone.includes('"icmp":{"type":')) icmpErrors++;
    }
    expect(reports).toBeGreaterThan(captures.length / 2);
    // The corpus has denied ICMP errors quoting UDP (the ring's three-unit packets) in it.
    expect(icmpErrors).toBeGreaterThan(0);
  });

  it('a worker started ahead (the bin, cli/prestart.ts) is the one the feed takes, and feeds the same', async () => {
    const file = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
    const alone = await feedText(file, 1);
    // One for another heap size is not taken; the feed's own is taken once, then there is none.
    prestartWorker(WORKER, FEED_WORKER_YOUNG_MB + 1);
    expect(claimPrestartedWorker(WORKER, FEED_WORKER_YOUNG_MB)).toBeUndefined();
    const other = claimPrestartedWorker(WORKER, FEED_WORKER_YOUNG_MB + 1)!;
    expect(other).toBeDefined();
    await other.terminate();
    prestartWorker(WORKER, FEED_WORKER_YOUNG_MB);
    expect(await feedText(file, 2)).toBe(alone);
    expect(claimPrestartedWorker(WORKER, FEED_WORKER_YOUNG_MB)).toBeUndefined();
    // A spare that died before it was claimed is not handed out: the feed starts its own.
    prestartWorker(join(scratch, 'no-such-worker.js'), FEED_WORKER_YOUNG_MB);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(claimPrestartedWorker(join(scratch, 'no-such-worker.js'), FEED_WORKER_YOUNG_MB)).toBeUndefined();
    expect(await feedText(file, 2)).toBe(alone);
  });

  it('not a capture: the worker\'s CaptureError reaches the caller as it is', async () => {
    const notCapture = join(scratch, 'not-a-capture.pcap');
    writeFileSync(notCapture, 'this is not a capture file at all');
    const error = await analyzeCapture(notCapture, { file: notCapture, profile: getProfile('pf'), keep: 10, worker: { entry: WORKER, minBytes: 0 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureError);
    expect((error as CaptureError).code).toBe('not-a-capture-file');
  });
});
