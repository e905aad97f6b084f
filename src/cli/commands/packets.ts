/**
 * `udptrack packets FILE|-`: every packet on one line, decoded to its UDP 5-tuple, like `tcpdump -nn -e`.
 */
import { walkPackets } from '../../pipeline/index.js';
import { buildPacketJson, renderPacketLine } from '../../report/packets.js';
import { renderIgnoredLine } from '../../report/stats.js';
import type { CliIo } from '../io.js';
import { openInput, progressReporter } from '../input.js';
import { UsageError } from '../errors.js';

/** Options of `packets`, as commander parses them. */
export interface PacketsOptions {
  format: string;
  udpOnly?: boolean;
  progress?: boolean;
}

/** Run `packets`. */
export async function runPackets(file: string, options: PacketsOptions, io: CliIo): Promise<void> {
  if (options.format !== 'text' && options.format !== 'json') {
    throw new UsageError(`--format must be text or json, not '${options.format}'`);
  }
  const asJson = options.format === 'json';
  const source = openInput(file, io);
  const progress = progressReporter(file, io, options.progress);
  const { stats, capture } = await walkPackets(
    source,
    (pkt) => {
      if (options.udpOnly && !(pkt.hasUdp && pkt.ipProto === 17)) return;
      io.stdout.write(asJson ? `${JSON.stringify(buildPacketJson(pkt))}\n` : `${renderPacketLine(pkt)}\n`);
    },
    { onProgress: progress.update },
  );
  progress.done();
  if (!asJson) {
    io.stdout.write(`${renderIgnoredLine(stats)}\n`);
    if (capture.damage !== null) {
      io.stdout.write(`capture damaged at byte ${capture.damage.offset}: ${capture.damage.code} (${capture.damage.detail}); ${capture.records} records before it were read\n`);
    }
  } else if (capture.damage !== null) {
    io.stderr.write(`udptrack: ${file}: ${capture.damage.code} at byte ${capture.damage.offset}: ${capture.damage.detail}\n`);
  }
}
