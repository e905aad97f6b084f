/**
 * `packets`: capture → decode, one callback per packet. Returns the run's counters; prints nothing.
 */
import { readCapture, type CaptureSource, type CaptureSummary } from '../capture/index.js';
import { PacketDecoder } from '../decode/packet.js';
import { countPacket, createPacketStats } from '../decode/stats.js';
import type { DecodedPacket, PacketStats } from '../types.js';

/** What a packet walk returns. */
export interface PacketWalkResult {
  capture: CaptureSummary;
  stats: PacketStats;
}

/** Options of a packet walk. */
export interface PacketWalkOptions {
  onProgress?: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
}

/**
 * Read every record of `source` (a path, or '-' for standard input, or a stream), decode it, count it and hand
 * the reused packet to `onPacket`. Throws CaptureError only when the input is not a readable capture.
 */
export async function walkPackets(
  source: CaptureSource,
  onPacket: (pkt: DecodedPacket) => void,
  options: PacketWalkOptions = {},
): Promise<PacketWalkResult> {
  const decoder = new PacketDecoder();
  const stats = createPacketStats();
  const capture = await readCapture(
    source,
    (record) => {
      const pkt = decoder.decode(record);
      countPacket(stats, pkt);
      onPacket(pkt);
    },
    { onProgress: options.onProgress },
  );
  return { capture, stats };
}
