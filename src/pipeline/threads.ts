/**
 * Work handed to a second thread (issue 7: a replay keeps one core busy and leaves the other idle on a small
 * machine). Where the built worker entry points are, which inputs a worker can read by itself, and a worker's life:
 * start with plain data, one outcome message back, stop early when the caller fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { CaptureError, STDIN_FD, captureSourceName, isCaptureDescriptor, regularFileSize, type CaptureErrorCode, type CaptureSource } from '../capture/index.js';
import { PRESTARTED_WORKER_DATA, WORKER_MIN_BYTES, claimPrestartedWorker, regularFileBytes, workerResourceLimits } from './worker-start.js';

export { WORKER_MIN_BYTES };

/** How a caller picks a worker: its entry point (default: the built one beside this module) and the smallest input. */
export interface WorkerChoice {
  entry?: string | undefined;
  minBytes?: number | undefined;
}

/**
 * The built entry point `name` beside this module: `name.cjs` beside the CLI bundle (dist/cli/udptrack.cjs, built
 * by `npm run build`), or `name.js` beside dist/pipeline/threads.js; none when running from the TypeScript sources.
 */
export function findBuiltWorker(name: string): string | undefined {
  for (const file of [`./${name}.cjs`, `./${name}.js`]) {
    const url = new URL(file, import.meta.url);
    if (url.protocol === 'file:' && existsSync(url)) return fileURLToPath(url);
  }
  return undefined;
}

/**
 * An input a worker reads by itself: a path, or standard input redirected from a regular file, read by descriptor
 * from the offset it had when the run started (positional reads: the main thread's reads move the shared offset).
 * `readBytes` is how much there was to read then: both threads read that much and no more, so a capture still being
 * written (tcpdump -w running) gives them the same records.
 */
export type WorkerCaptureSource =
  | { kind: 'path'; path: string; readBytes: number }
  | { kind: 'descriptor'; fd: number; name: string; sizeBytes: number; startOffset: number; readBytes: number };

/**
 * The worker's view of `source`, or undefined when a worker cannot read it too (a pipe, a caller's stream, a FIFO,
 * an unreadable path: those are reported by the main thread), or it is smaller than `minBytes`. Call before the
 * main thread reads anything (the descriptor's offset).
 */
export function workerCaptureSource(source: CaptureSource, minBytes = WORKER_MIN_BYTES): WorkerCaptureSource | undefined {
  if (typeof source === 'string' && source !== '-') {
    const size = regularFileBytes(source);
    return size !== undefined && size >= minBytes ? { kind: 'path', path: source, readBytes: size } : undefined;
  }
  if (isCaptureDescriptor(source)) return undefined;
  const stream = typeof source === 'string' ? process.stdin : source;
  const size = regularFileSize(stream);
  if (size === undefined || size < minBytes) return undefined;
  const offset = descriptorOffset(STDIN_FD);
  if (offset === undefined) return undefined;
  return { kind: 'descriptor', fd: STDIN_FD, name: captureSourceName(stream), sizeBytes: size, startOffset: offset, readBytes: Math.max(0, size - offset) };
}

/** What the worker passes to readCapture. */
export function captureSourceOf(source: WorkerCaptureSource): CaptureSource {
  return source.kind === 'path' ? source.path : { fd: source.fd, name: source.name, sizeBytes: source.sizeBytes, startOffset: source.startOffset };
}

/** A descriptor's file offset: Linux's /proc/self/fdinfo (`pos:`); undefined elsewhere. */
function descriptorOffset(fd: number): number | undefined {
  try {
    const match = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** The one message a worker posts: its result or what stopped it. */
type WorkerOutcome<T> =
  | { type: 'result'; result: T }
  | { type: 'capture-error'; path: string; code: CaptureErrorCode; message: string }
  | { type: 'error'; message: string; stack: string | undefined };

/** A started worker. */
export interface RunningWorker<T> {
  /** Its result; rejects with its CaptureError or error, or when it exits without a result. */
  result: Promise<T>;
  /** Stop it (the caller failed and will not wait for the result). */
  stop(): void;
}

/** How a worker's heap is bounded (worker_threads ResourceLimits). */
export interface WorkerHeapLimits {
  /**
   * Its young generation, MiB. V8 grows a young generation up to 16 MiB a semi-space as objects survive
   * scavenges; a worker whose data lives in typed arrays and shared memory gains nothing from that, and each MiB
   * is resident.
   */
  youngGenerationMb?: number;
}

/**
 * Start the worker at `entry` with `data` (structured clone), or hand `data` to the one the bin started ahead for it
 * (worker-start.ts prestartWorker).
 */
export function startWorker<T>(entry: string, data: unknown, limits: WorkerHeapLimits = {}): RunningWorker<T> {
  const spare = claimPrestartedWorker(entry, limits.youngGenerationMb);
  const worker = spare ?? new Worker(entry, { workerData: data, resourceLimits: workerResourceLimits(limits.youngGenerationMb) });
  if (spare !== undefined) spare.postMessage(data);
  const result = new Promise<T>((resolve, reject) => {
    worker.once('message', (outcome: WorkerOutcome<T>) => {
      if (outcome.type === 'result') resolve(outcome.result);
      else if (outcome.type === 'capture-error') reject(new CaptureError(outcome.path, outcome.code, outcome.message));
      else reject(Object.assign(new Error(outcome.message), { stack: outcome.stack }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker ${entry} exited with code ${code} before its result`)));
  });
  // Rejections nobody awaits (a stopped worker) are not unhandled.
  result.catch(() => undefined);
  return {
    result,
    stop: () => {
      void worker.terminate();
    },
  };
}

/**
 * The worker's side: run `work` on the workerData and post its outcome (one message). `transfer` lists buffers of
 * the result to move rather than copy.
 */
export async function runAsWorker<D, T>(work: (data: D) => Promise<T>, transfer?: (result: T) => ArrayBuffer[]): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('runAsWorker outside a worker thread');
  let outcome: WorkerOutcome<T>;
  let transferList: ArrayBuffer[] = [];
  try {
    // Started ahead of its work (worker-start.ts): the work is the first message.
    const data = workerData === PRESTARTED_WORKER_DATA ? await new Promise<D>((resolve) => port.once('message', resolve)) : (workerData as D);
    const result = await work(data);
    outcome = { type: 'result', result };
    transferList = transfer?.(result) ?? [];
  } catch (error) {
    outcome =
      error instanceof CaptureError
        ? { type: 'capture-error', path: error.path, code: error.code, message: error.message }
        : { type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined };
  }
  try {
    port.postMessage(outcome, transferList);
  } catch {
    // A buffer that cannot move (one of Node's pooled ones): copy everything instead.
    port.postMessage(outcome);
  }
}
