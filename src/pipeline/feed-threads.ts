/**
 * A replay's feed in two threads (issue 7: both cores): a worker reads and decodes the capture (feed-worker.ts) while
 * this thread replays the packets it hands over through a shared ring (packet-ring.ts). The same callbacks as
 * `feedPackets`, the same packets in the same order, the same result: only the thread that decodes changes.
 */
import type { ServiceGuess } from '../decode/app/fingerprint.js';
import type { LocalSide } from '../flow/local.js';
import type { DecodedPacket } from '../types.js';
import { lookAheadLocalSide, type PacketFeedCallbacks, type PacketFeedResult } from './packet-feed.js';
import { PacketRingReader, createPacketRingBuffer } from './packet-ring.js';
import { captureSourceOf, startWorker, type WorkerCaptureSource } from './threads.js';
import { FEED_WORKER_YOUNG_MB } from './worker-start.js';

/** Packets replayed between two looks at the output's backpressure and the progress. */
const TAKE_PACKETS = 4096;

/** The worker's `workerData`. */
export interface FeedWorkerData {
  source: WorkerCaptureSource;
  ring: SharedArrayBuffer;
}

/**
 * `feedPackets` with the reading and decoding in the worker at `entry`: `onPacket` gets each packet with the service
 * guess the worker made of it (fingerprint.ts guessService over its payload, which stays in the worker) and the hash
 * of its flow key (flow/table.ts packetFlowHash; undefined for an ICMP error). `ringUnits`
 * sizes the ring (packet-ring.ts; tests make it small, so it wraps and both sides wait).
 */
export async function feedPacketsInWorker(
  entry: string,
  source: WorkerCaptureSource,
  callbacks: Omit<PacketFeedCallbacks, 'onPacket' | 'onLocalSide' | 'maxBytes'> & {
    onLocalSide: (local: LocalSide) => void;
    onPacket: (pkt: DecodedPacket, guess: ServiceGuess, flowHash: number | undefined) => void;
  },
  ringUnits?: number,
): Promise<PacketFeedResult> {
  const ring = createPacketRingBuffer(ringUnits);
  const reader = new PacketRingReader(ring);
  const data: FeedWorkerData = { source, ring };
  const worker = startWorker<PacketFeedResult>(entry, data, { youngGenerationMb: FEED_WORKER_YOUNG_MB });
  try {
    // While the worker starts (~60 ms alone here, ~100 ms beside this thread's work: a thread, a Node environment,
    // its bundle), this thread reads the local side from the capture's start (the same input: a path, or the
    // descriptor from its starting offset), as a one-thread feed would; the worker needs none and feeds from the
    // first packet. A capture this thread cannot read fails here, as it would in one thread. (Feeding the first 100k
    // records here as well did not pay: the worker must decode them all the same, for the state a decoder carries
    // between records, IP fragments; 1M packets 0.78 s against 0.74 s.)
    callbacks.onLocalSide(await lookAheadLocalSide(captureSourceOf(source), callbacks.localNetworks, source.readBytes));
    const onPacket = callbacks.onPacket;
    for (;;) {
      const taken = reader.take(onPacket, TAKE_PACKETS);
      if (taken > 0) {
        if (callbacks.onProgress !== undefined) callbacks.onProgress(...reader.progress());
        const wait = callbacks.throttle?.();
        if (wait !== undefined) await wait;
        continue;
      }
      if (reader.ended) break;
      await reader.waitForPackets();
    }
    const result = await worker.result;
    callbacks.onProgress?.(...reader.progress());
    return result;
  } catch (error) {
    reader.cancel();
    worker.stop();
    throw error;
  }
}
