/**
 * A replay's feed in two threads (issue 7: both cores): a worker reads and decodes the capture (feed-worker.ts) while
 * this thread replays the packets it hands over through a shared ring (packet-ring.ts). The same callbacks as
 * `feedPackets`, the same packets in the same order, the same result: only the thread that decodes changes.
 */
import type { ServiceGuess } from '../decode/app/fingerprint.js';
import { LocalSide, type LocalSource } from '../flow/local.js';
import type { DecodedPacket } from '../types.js';
import type { PacketFeedCallbacks, PacketFeedResult } from './packet-feed.js';
import { PacketRingReader, createPacketRingBuffer } from './packet-ring.js';
import { startWorker, type WorkerCaptureSource } from './threads.js';

/** Packets replayed between two looks at the output's backpressure and the progress. */
const TAKE_PACKETS = 4096;
/**
 * The feed worker's young generation, MiB: it allocates next to nothing per packet (the packet goes into the
 * shared ring), yet left to itself V8 grew it to 8 MiB. 2 MiB: 10M packets (issue 7 workload) ~5 MiB less peak RSS
 * (99.4 → 94.2 MiB), no slower.
 */
const FEED_WORKER_YOUNG_MB = 2;

/** The worker's `workerData`. */
export interface FeedWorkerData {
  source: WorkerCaptureSource;
  localNetworks: string[] | undefined;
  ring: SharedArrayBuffer;
}

/** The local side as the worker found it (its one event, before any packet). */
export interface LocalSideEvent {
  source: LocalSource;
  reason: string;
  networks: string[];
}

/**
 * `feedPackets` with the reading and decoding in the worker at `entry`: `onPacket` gets each packet with the service
 * guess the worker made of it (fingerprint.ts guessService over its payload, which stays in the worker). `ringUnits`
 * sizes the ring (packet-ring.ts; tests make it small, so it wraps and both sides wait).
 */
export async function feedPacketsInWorker(
  entry: string,
  source: WorkerCaptureSource,
  callbacks: Omit<PacketFeedCallbacks, 'onPacket' | 'maxBytes'> & { onPacket: (pkt: DecodedPacket, guess: ServiceGuess) => void },
  ringUnits?: number,
): Promise<PacketFeedResult> {
  const ring = createPacketRingBuffer(ringUnits);
  const reader = new PacketRingReader(ring);
  let onLocal: (event: LocalSideEvent) => void = () => undefined;
  const localSide = new Promise<LocalSideEvent>((resolve) => {
    onLocal = resolve;
  });
  const data: FeedWorkerData = { source, localNetworks: callbacks.localNetworks?.slice(), ring };
  const worker = startWorker<PacketFeedResult>(entry, data, (event) => onLocal(event as LocalSideEvent), { youngGenerationMb: FEED_WORKER_YOUNG_MB });
  try {
    // The worker names the local side before its first packet, or fails (not a capture) without naming it.
    const finished = worker.result.then(() => undefined);
    finished.catch(() => undefined); // awaited below through worker.result
    const local = await Promise.race([localSide, finished]);
    if (local === undefined) throw new Error('feed worker: finished without naming the local side');
    callbacks.onLocalSide(new LocalSide(local.source, local.reason, local.networks));
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
