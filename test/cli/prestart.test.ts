/**
 * The bin's guess whether an analyze will start a feed worker (src/cli/prestart.ts), so it can start it before the
 * CLI loads: the same answer the CLI's options give (cli/commands/analyze.ts, pipeline/replay.ts), from the words.
 */
import { describe, expect, it } from 'vitest';
import { analyzeStartsFeedWorker } from '../../src/cli/prestart.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/worker-start.js';

const SIZES: Record<string, number> = { 'big.pcap': WORKER_MIN_BYTES, 'small.pcap': WORKER_MIN_BYTES - 1, '-': WORKER_MIN_BYTES + 5, 'pf.txt': 300 };
const sizeOf = (arg: string): number | undefined => SIZES[arg];

/** [command line after the program, whether analyze starts a feed worker]. */
const CASES: Record<string, ReadonlyArray<readonly [string, boolean]>> = {
  'analyze of a regular file of WORKER_MIN_BYTES or more, or of standard input redirected from one': [
    ['analyze big.pcap', true],
    ['analyze --format json --profile linux big.pcap', true],
    ['analyze --firewall-config pf.txt --local 10.0.0.1 -', true],
    ['analyze small.pcap', false],
    ['analyze no-such-file.pcap', false],
  ],
  'as --threads says: 1 never, 2 for any input, a value the CLI rejects never': [
    ['analyze --threads 1 big.pcap', false],
    ['analyze --threads=1 big.pcap', false],
    ['analyze --threads 2 small.pcap', true],
    ['analyze --threads=2 small.pcap', true],
    ['analyze --threads 2 no-such-file.pcap', false],
    ['analyze --threads 3 big.pcap', false],
  ],
  'not with --html (a timeline wants every packet in one thread), nor for other commands': [
    ['analyze --html report.html big.pcap', false],
    ['analyze --html=report.html big.pcap', false],
    ['simulate big.pcap', false],
    ['packets big.pcap', false],
    ['--help', false],
  ],
};

describe('the bin starts the feed worker early when analyze will want it', () => {
  for (const [title, cases] of Object.entries(CASES)) {
    it(title, () => {
      for (const [line, expected] of cases) expect(analyzeStartsFeedWorker(line.split(' '), sizeOf), line).toBe(expected);
    });
  }
});
