/**
 * The bin's first step (bin/udptrack.cjs), before the CLI's bundle loads: when the command line is an `analyze` or
 * a `simulate` that will read its input in two threads, start that command's worker now, so it starts while the CLI
 * loads and parses (pipeline/worker-start.ts says why). The CLI claims it when it starts its worker (threads.ts
 * startWorker).
 *
 * A guess from the words of the command line, without the CLI's parser: a wrong guess either way costs only time
 * (an idle worker on the other core until the process exits, or a worker started at the usual moment).
 */
import { fileURLToPath } from 'node:url';
import { FEED_WORKER_YOUNG_MB, WORKER_MIN_BYTES, prestartWorker, regularFileBytes } from '../pipeline/worker-start.js';
import { workerChoiceOf } from './input.js';

/** Standard input's descriptor (capture/read.ts STDIN_FD; the CLI imports nothing from capture). */
const STDIN_FD = 0;

/** A worker the bin can start ahead: its bundle beside this one, its young generation (threads.ts WorkerHeapLimits). */
export interface EarlyWorker {
  bundle: 'feed-worker.cjs' | 'simulate-worker.cjs';
  youngGenerationMb: number | undefined;
}

/** What each command that takes a second thread starts: analyze's feed worker, simulate's (startWorker's defaults). */
const WORKER_OF_COMMAND: Readonly<Record<string, EarlyWorker>> = {
  analyze: { bundle: 'feed-worker.cjs', youngGenerationMb: FEED_WORKER_YOUNG_MB },
  simulate: { bundle: 'simulate-worker.cjs', youngGenerationMb: undefined },
};

/**
 * The worker the command line `args` (argv after the program) will start, as the commands decide
 * (cli/commands/analyze.ts with pipeline/replay.ts, cli/commands/simulate.ts with pipeline/simulate.ts): none with
 * `--html` (a timeline wants every packet in one thread) or `--threads 1`; with `--threads 2` for any input, by
 * default for a regular file of WORKER_MIN_BYTES or more; for simulate, only with two variants or more (default
 * two profiles; `--all`; a `--sweep`; not one `--profile` alone). `sizeOf(arg)` is the size of the regular file an
 * argument names (`-`: standard input's), else undefined.
 */
export function earlyWorkerFor(args: readonly string[], sizeOf: (arg: string) => number | undefined): EarlyWorker | undefined {
  const command = args.find((arg) => !arg.startsWith('-'));
  const early = command === undefined ? undefined : WORKER_OF_COMMAND[command];
  if (early === undefined) return undefined;
  let threads: string | undefined;
  let profiles = 0;
  let moreVariants = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--html' || arg.startsWith('--html=')) return undefined;
    if (arg === '--threads') threads = args[i + 1];
    else if (arg.startsWith('--threads=')) threads = arg.slice('--threads='.length);
    else if (arg === '--profile' || arg.startsWith('--profile=')) profiles++;
    else if (arg === '--all' || arg === '--sweep' || arg.startsWith('--sweep=')) moreVariants = true;
  }
  if (command === 'simulate' && profiles === 1 && !moreVariants) return undefined;
  // --threads as the CLI reads it (a value it rejects starts nothing: the CLI stops at it).
  let choice: ReturnType<typeof workerChoiceOf>;
  try {
    choice = workerChoiceOf(threads);
  } catch {
    return undefined;
  }
  if (choice === false) return undefined;
  const minBytes = choice?.minBytes ?? WORKER_MIN_BYTES;
  const bigInput = args.some((arg) => arg !== command && (arg === '-' || !arg.startsWith('-')) && (sizeOf(arg) ?? -1) >= minBytes);
  return bigInput ? early : undefined;
}

/** Start the worker beside this bundle that the command line `args` will want, if any. */
export function prestartForCommandLine(args: readonly string[]): void {
  // `-` is standard input: a regular file when redirected from one.
  const early = earlyWorkerFor(args, (arg) => regularFileBytes(arg === '-' ? STDIN_FD : arg));
  if (early === undefined) return;
  prestartWorker(fileURLToPath(new URL(`./${early.bundle}`, import.meta.url)), early.youngGenerationMb);
}
