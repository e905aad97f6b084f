/**
 * The worker thread that reads and decodes a capture for a replay in the main thread (issue 7: both cores): it runs
 * the feed (packet-feed.ts: reading, decoding) and puts every packet the tables take into a shared ring
 * (packet-ring.ts) with its service guess, from the first packet on; the main thread replays them (feed-threads.ts),
 * having read the local side from the capture's start itself while this thread started. Started through threads.ts;
 * never imported.
 */
import { guessService } from '../decode/app/fingerprint.js';
import { feedPackets, type PacketFeedResult } from './packet-feed.js';
import { PacketRingWriter } from './packet-ring.js';
import { captureSourceOf, runAsWorker, type WorkerCaptureSource } from './threads.js';
import type { FeedWorkerData } from './feed-threads.js';

export type { FeedWorkerData };

// No top-level await: the worker's bundle is CommonJS (scripts/build-bundles.mjs).
void runAsWorker<FeedWorkerData, PacketFeedResult>(async (data: FeedWorkerData) => {
  const ring = new PacketRingWriter(data.ring);
  const source: WorkerCaptureSource = data.source;
  try {
    return await feedPackets(captureSourceOf(source), {
      maxBytes: source.readBytes,
      onLocalSide: undefined,
      onPacket: (pkt) => ring.put(pkt, guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort)),
      onProgress: (bytesRead, totalBytes, records) => ring.progress(bytesRead, totalBytes, records),
    });
  } finally {
    // Also after a failure: the reader stops waiting for packets and takes this worker's outcome.
    ring.finish();
  }
});
