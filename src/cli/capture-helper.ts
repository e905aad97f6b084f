/**
 * Entry point of the capture helper process that `udptrack tail --interface` starts (see capture/live.ts for why the
 * capture runs in a process of its own): binds the helper to this process — the pcap stream on stdout, status lines
 * on stderr — and ends it when the tail that started it goes away (its stdin closes).
 */
import { writeSync } from 'node:fs';
import { runCaptureHelper, type CaptureHelperSpec } from '../pipeline/capture-helper.js';

/** Write all of `bytes` to a file descriptor, waiting out a full pipe (EAGAIN on a non-blocking descriptor). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

runCaptureHelper(JSON.parse(process.argv[2] ?? '{}') as CaptureHelperSpec, {
  write: (bytes) => writeAll(1, bytes),
  status: (line) => writeAll(2, Buffer.from(`${line}\n`)),
  exit: (code) => process.exit(code),
});
