/**
 * The bin's guess whether an analyze or a simulate will start a worker (src/cli/prestart.ts), so it can start it
 * before the CLI loads: the same answer the CLI's options give (cli/commands/analyze.ts with pipeline/replay.ts,
 * cli/commands/simulate.ts with pipeline/simulate.ts), from the words.
 */
import { describe, expect, it } from 'vitest';
import { earlyWorkerFor } from '../../src/cli/prestart.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/worker-start.js';

const SIZES: Record<string, number> = { 'big.pcap': WORKER_MIN_BYTES, 'small.pcap': WORKER_MIN_BYTES - 1, '-': WORKER_MIN_BYTES + 5, 'pf.txt': 300 };
const sizeOf = (arg: string): number | undefined => SIZES[arg];

/** [command line after the program, the worker bundle it starts (undefined: none)]. */
const CASES: Record<string, ReadonlyArray<readonly [string, string | undefined]>> = {
  'analyze of a regular file of WORKER_MIN_BYTES or more, or of standard input redirected from one': [
    ['analyze big.pcap', 'feed-worker.cjs'],
    ['analyze --format json --profile linux big.pcap', 'feed-worker.cjs'],
    ['analyze --firewall-config pf.txt --local 10.0.0.1 -', 'feed-worker.cjs'],
    ['analyze small.pcap', undefined],
    ['analyze no-such-file.pcap', undefined],
  ],
  'as --threads says: 1 never, 2 for any input, a value the CLI rejects never': [
    ['analyze --threads 1 big.pcap', undefined],
    ['analyze --threads=1 big.pcap', undefined],
    ['analyze --threads 2 small.pcap', 'feed-worker.cjs'],
    ['analyze --threads=2 small.pcap', 'feed-worker.cjs'],
    ['analyze --threads 2 no-such-file.pcap', undefined],
    ['analyze --threads 3 big.pcap', undefined],
  ],
  'simulate of a big input with two variants or more (its default is two profiles)': [
    ['simulate big.pcap', 'simulate-worker.cjs'],
    ['simulate --profile pf --profile linux --format json big.pcap', 'simulate-worker.cjs'],
    ['simulate --all -', 'simulate-worker.cjs'],
    ['simulate --profile pf --sweep udp.single=10s..60s big.pcap', 'simulate-worker.cjs'],
    ['simulate --profile=pf --sweep=udp.single=10s..60s big.pcap', 'simulate-worker.cjs'],
    ['simulate --threads 2 small.pcap', 'simulate-worker.cjs'],
    ['simulate --profile pf big.pcap', undefined],
    ['simulate --profile=pf big.pcap', undefined],
    ['simulate small.pcap', undefined],
    ['simulate --threads 1 big.pcap', undefined],
    ['simulate --html out.html big.pcap', undefined],
  ],
  'not with --html (a timeline wants every packet in one thread), nor for other commands': [
    ['analyze --html report.html big.pcap', undefined],
    ['analyze --html=report.html big.pcap', undefined],
    ['packets big.pcap', undefined],
    ['--help', undefined],
  ],
};

describe('the bin starts the worker early when analyze or simulate will want it', () => {
  for (const [title, cases] of Object.entries(CASES)) {
    it(title, () => {
      for (const [line, expected] of cases) expect(earlyWorkerFor(line.split(' '), sizeOf)?.bundle, line).toBe(expected);
    });
  }
});
