/**
 * The bin's first step (bin/udptrack.cjs), before the CLI's bundle loads: when the command line is an `analyze` that
 * will read its input in two threads, start the feed worker now, so it starts while the CLI loads and parses
 * (pipeline/worker-start.ts says why). The CLI claims it when it starts its feed worker (threads.ts startWorker).
 *
 * A guess from the words of the command line, without the CLI's parser: a wrong guess either way costs only time
 * (an idle worker on the other core until the process exits, or a worker started at the usual moment).
 */
import { fileURLToPath } from 'node:url';
import { FEED_WORKER_YOUNG_MB, WORKER_MIN_BYTES, prestartWorker, regularFileBytes } from '../pipeline/worker-start.js';
import { workerChoiceOf } from './input.js';

/** Standard input's descriptor (capture/read.ts STDIN_FD; the CLI imports nothing from capture). */
const STDIN_FD = 0;

/**
 * Whether `analyze` with these arguments (argv after the program) starts a feed worker, as cli/commands/analyze.ts
 * and pipeline/replay.ts decide: not with `--html` (a timeline wants every packet in one thread) nor `--threads 1`;
 * with `--threads 2` for any input, by default for a regular file of WORKER_MIN_BYTES or more. `sizeOf(arg)` is the
 * size of the regular file an argument names (`-`: standard input's), else undefined.
 */
export function analyzeStartsFeedWorker(args: readonly string[], sizeOf: (arg: string) => number | undefined): boolean {
  if (args.find((arg) => !arg.startsWith('-')) !== 'analyze') return false;
  let threads: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--html' || arg.startsWith('--html=')) return false;
    if (arg === '--threads') threads = args[i + 1];
    else if (arg.startsWith('--threads=')) threads = arg.slice('--threads='.length);
  }
  // --threads as the CLI reads it (a value it rejects starts nothing: the CLI stops at it).
  let choice: ReturnType<typeof workerChoiceOf>;
  try {
    choice = workerChoiceOf(threads);
  } catch {
    return false;
  }
  if (choice === false) return false;
  const minBytes = choice?.minBytes ?? WORKER_MIN_BYTES;
  return args.some((arg) => arg !== 'analyze' && (arg === '-' || !arg.startsWith('-')) && (sizeOf(arg) ?? -1) >= minBytes);
}

/** Start the feed worker beside this bundle if the command line `args` will want one. */
export function prestartForCommandLine(args: readonly string[]): void {
  // `-` is standard input: a regular file when redirected from one.
  if (!analyzeStartsFeedWorker(args, (arg) => regularFileBytes(arg === '-' ? STDIN_FD : arg))) return;
  prestartWorker(fileURLToPath(new URL('./feed-worker.cjs', import.meta.url)), FEED_WORKER_YOUNG_MB);
}
