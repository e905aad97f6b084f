/**
 * The bin's guess whether an analyze will start a feed worker (src/cli/prestart.ts), so it can start it before the
 * CLI loads: the same answer the CLI's options give (cli/commands/analyze.ts, pipeline/replay.ts), from the words.
 */
import { describe, expect, it } from 'vitest';
import { analyzeStartsFeedWorker } from '../../src/cli/prestart.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/worker-start.js';

const SIZES: Record<string, number> = { 'big.pcap': WORKER_MIN_BYTES, 'small.pcap': WORKER_MIN_BYTES - 1, '-': WORKER_MIN_BYTES + 5, 'pf.txt': 300 };
const sizeOf = (arg: string): number | undefined => SIZES[arg];
const guess = (line: string): boolean => analyzeStartsFeedWorker(line.split(' '), sizeOf);

describe('the bin starts the feed worker early when analyze will want it', () => {
  it('analyze of a regular file of WORKER_MIN_BYTES or more, or of standard input redirected from one', () => {
    expect(guess('analyze big.pcap')).toBe(true);
    expect(guess('analyze --format json --profile linux big.pcap')).toBe(true);
    expect(guess('analyze --firewall-config pf.txt --local 10.0.0.1 - ')).toBe(true);
    expect(guess('analyze small.pcap')).toBe(false);
    expect(guess('analyze no-such-file.pcap')).toBe(false);
  });

  it('as --threads says: 1 never, 2 for any input', () => {
    expect(guess('analyze --threads 1 big.pcap')).toBe(false);
    expect(guess('analyze --threads=1 big.pcap')).toBe(false);
    expect(guess('analyze --threads 2 small.pcap')).toBe(true);
    expect(guess('analyze --threads=2 small.pcap')).toBe(true);
    expect(guess('analyze --threads 2 no-such-file.pcap')).toBe(false);
  });

  it('not with --html (a timeline wants every packet in one thread), nor for other commands', () => {
    expect(guess('analyze --html report.html big.pcap')).toBe(false);
    expect(guess('analyze --html=report.html big.pcap')).toBe(false);
    expect(guess('simulate big.pcap')).toBe(false);
    expect(guess('packets big.pcap')).toBe(false);
    expect(guess('--help')).toBe(false);
  });
});
