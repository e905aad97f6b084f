/**
 * The numbers that decide whether a replay takes a second thread, and a worker started before its work is known.
 * No imports beyond Node's: the bin loads this (through cli/prestart.ts) before the CLI's bundle, to start the feed
 * or simulate worker while the rest of the CLI loads (issue 7).
 *
 * Why start early: a worker thread takes ~60 ms to start here (a Node environment of its own, then its bundle) and
 * ~130 ms beside the main thread's own start, and the replay waits for its first packets. Started from the bin, it
 * starts while the main thread loads the CLI (~40 ms) and parses the command line, instead of after.
 */
import { fstatSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Inputs smaller than this stay in one thread unless a caller asks: a worker costs ~60 ms to start and its own
 * warm-up, ~13 MiB, and for simulate a second decode. Alternating runs of two threads against one (issue 7
 * workloads). simulate with ten profiles: 10 MB 0.97 vs 0.76 s, 34 MB 1.22 vs 1.10 s, 95 MB 1.71 vs 1.78 s, 235 MB
 * 2.94 vs 3.45 s. analyze --format json (feed worker, the local side read while it starts): 4 MB 0.45 vs 0.38 s,
 * 136 MB 0.65 vs 0.63 s, 235 MB 0.74 vs 0.75 s, 448 MB 0.91 vs 1.01 s, 908 MB 1.37 vs 1.60 s, 2.4 GB 2.8 vs 3.5 s.
 */
export const WORKER_MIN_BYTES = 128 * 1024 * 1024;

/**
 * The feed worker's young generation, MiB: it allocates next to nothing per packet (the packet goes into the
 * shared ring), yet left to itself V8 grew it to 8 MiB. 2 MiB: 10M packets (issue 7 workload) ~5 MiB less peak RSS
 * (99.4 → 94.2 MiB), no slower.
 */
export const FEED_WORKER_YOUNG_MB = 2;

/** The size of the regular file at `path` (or open as descriptor `fd`), else undefined (not one, or unreadable). */
export function regularFileBytes(pathOrFd: string | number): number | undefined {
  try {
    const stats = typeof pathOrFd === 'number' ? fstatSync(pathOrFd) : statSync(pathOrFd);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

/** The `workerData` of a worker started ahead: its work comes as its first message (threads.ts runAsWorker). */
export const PRESTARTED_WORKER_DATA = 'udptrack:prestarted-worker';

/** A worker started ahead and not yet claimed. */
interface SpareWorker {
  entry: string;
  youngGenerationMb: number | undefined;
  worker: Worker;
  /** It failed to start or exited: not handed out (the claimer starts its own and meets the error itself). */
  dead: boolean;
}

/**
 * Where the spare waits: a global, because the bin's early start (cli/prestart.ts) and the CLI that claims it are
 * two separate bundles, each with its own copy of this module.
 */
const SPARE = Symbol.for('udptrack.prestarted-worker');

function holder(): { [SPARE]?: SpareWorker | undefined } {
  return globalThis as { [SPARE]?: SpareWorker | undefined };
}

/** The resource limits a worker gets for `youngGenerationMb` (worker_threads ResourceLimits). */
export function workerResourceLimits(youngGenerationMb: number | undefined): { maxYoungGenerationSizeMb: number } | undefined {
  return youngGenerationMb === undefined ? undefined : { maxYoungGenerationSizeMb: youngGenerationMb };
}

/**
 * Start the worker at `entry` now, for a later `claimPrestartedWorker` (one at a time). Unclaimed, it keeps nothing
 * alive: the process exits when its own work is done, and the idle worker with it.
 */
export function prestartWorker(entry: string, youngGenerationMb: number | undefined): void {
  if (holder()[SPARE] !== undefined) return;
  const worker = new Worker(entry, { workerData: PRESTARTED_WORKER_DATA, resourceLimits: workerResourceLimits(youngGenerationMb) });
  const spare: SpareWorker = { entry, youngGenerationMb, worker, dead: false };
  worker.unref();
  // A listener, so an error before the claim is not an unhandled 'error' event that ends the process.
  worker.on('error', () => (spare.dead = true));
  worker.on('exit', () => (spare.dead = true));
  holder()[SPARE] = spare;
}

/**
 * The worker `prestartWorker` started for `entry` with the same young generation, now the caller's (it keeps the
 * process alive again); undefined when there is none, or it died. The caller posts it its work as one message.
 */
export function claimPrestartedWorker(entry: string, youngGenerationMb: number | undefined): Worker | undefined {
  const spare = holder()[SPARE];
  if (spare === undefined || spare.dead || spare.entry !== entry || spare.youngGenerationMb !== youngGenerationMb) return undefined;
  holder()[SPARE] = undefined;
  spare.worker.ref();
  return spare.worker;
}
