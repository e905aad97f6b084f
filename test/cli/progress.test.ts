/**
 * The progress line on a terminal: percent, size, time left and the packet rate from the records the reader
 * counted (capture/read.ts onProgress), redrawn in place; nothing when it is off; cleared at the end.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/cli/input.js';
import { StringSink } from '../../src/cli/io.js';

function io(): { stdout: StringSink; stderr: StringSink; stderrIsTty: boolean; stdin: Readable } {
  return { stdout: new StringSink(), stderr: new StringSink(), stderrIsTty: true, stdin: Readable.from([]) };
}

describe('the progress line', () => {
  it('draws percent, size, time left and packets per second, and clears itself', () => {
    const cli = io();
    const progress = progressReporter('big.pcap', cli);
    progress.update!(45 * 1048576, 100 * 1048576, 450_000);
    expect(cli.stderr.text).toMatch(/^\r\x1b\[K45% 45\.0 MiB of 100\.0 MiB, \d+\.\d s left, \d+k packets\/s$/);
    progress.done();
    expect(cli.stderr.text.endsWith('\r\x1b[K')).toBe(true);
  });

  it('is off for standard input, off when not a terminal, on when forced', () => {
    expect(progressReporter('-', io()).update).toBeUndefined();
    expect(progressReporter('big.pcap', { ...io(), stderrIsTty: false }).update).toBeUndefined();
    expect(progressReporter('big.pcap', { ...io(), stderrIsTty: false }, true).update).toBeDefined();
    expect(progressReporter('big.pcap', io(), false).update).toBeUndefined();
  });
});
