/**
 * The worker thread of `simulate` (issue 7: both cores): replays the capture under the first profiles (half of all
 * the tables, simulate.ts) while the main thread replays the rest, and hands their denials back (simulate-denials.ts). Started by
 * simulate.ts through threads.ts; never imported.
 */
import type { TimeoutProfile } from '../flow/profiles.js';
import { replayVariantDenials, type VariantDenialsData } from './simulate-denials.js';
import { captureSourceOf, runAsWorker, type WorkerCaptureSource } from './threads.js';

/** The worker's `workerData`. */
export interface SimulateWorkerData {
  source: WorkerCaptureSource;
  profiles: TimeoutProfile[];
  localNetworks: string[] | undefined;
}

// No top-level await: the worker's bundle is CommonJS (scripts/build-bundles.mjs).
void runAsWorker<SimulateWorkerData, VariantDenialsData[]>(
  (data) => replayVariantDenials(captureSourceOf(data.source), data.profiles, data.localNetworks, data.source.readBytes),
  // The records' bytes move instead of being copied (tens of MiB on a big capture).
  (variants) => [...new Set(variants.flatMap((v) => [...v.denied.chunks, ...v.window.chunks].map((c) => c.buffer as ArrayBuffer)))],
);
