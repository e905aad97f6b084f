/**
 * The worker thread that reads and decodes a capture for a replay in the main thread (issue 7: both cores): it runs
 * the feed (packet-feed.ts: reading, decoding, the local-side look-ahead) and puts every packet the tables take into
 * a shared ring (packet-ring.ts) with its service guess; the main thread replays them (feed-threads.ts). Started
 * through threads.ts; never imported.
 */
import { guessService } from '../decode/app/fingerprint.js';
import { feedPackets, type PacketFeedResult } from './packet-feed.js';
import { PacketRingWriter } from './packet-ring.js';
import { captureSourceOf, postWorkerEvent, runAsWorker, type WorkerCaptureSource } from './threads.js';
import type { FeedWorkerData, LocalSideEvent } from './feed-threads.js';

export type { FeedWorkerData };

await runAsWorker<FeedWorkerData, PacketFeedResult>(async (data: FeedWorkerData) => {
  const ring = new PacketRingWriter(data.ring);
  const source: WorkerCaptureSource = data.source;
  try {
    return await feedPackets(captureSourceOf(source), {
      localNetworks: data.localNetworks,
      maxBytes: source.readBytes,
      onLocalSide: (local) => postWorkerEvent({ source: local.source, reason: local.reason, networks: local.networks } satisfies LocalSideEvent),
      onPacket: (pkt) => ring.put(pkt, guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort)),
      onProgress: (bytesRead, totalBytes, records) => ring.progress(bytesRead, totalBytes, records),
    });
  } finally {
    // Also after a failure: the reader stops waiting for packets and takes this worker's outcome.
    ring.finish();
  }
});
