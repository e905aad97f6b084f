/**
 * Capture stage: bytes and timestamps in, `CaptureRecord`s out. Knows file formats (classic pcap and its
 * variants, pcapng with Apple's process blocks), never protocols. Streaming and constant-memory: one reused
 * buffer and one reused record for the whole input.
 *
 * - `readCapture(pathOrStream, onRecord)` reads a whole input and resolves to a `CaptureSummary`.
 * - `createCaptureParser(onRecord)` is the same parser, push-style, for live input.
 * - `CaptureError` is the one input error that ends a run; damage part-way is `CaptureSummary.damage`.
 */
export { CaptureError, type CaptureErrorCode } from './errors.js';
export { createCaptureParser, type CaptureParser, type CaptureParserOptions } from './parser.js';
export { STDIN_FD, captureSourceName, isCaptureDescriptor, readCapture, regularFileSize, type CaptureDescriptor, type CaptureSource, type ReadCaptureOptions } from './read.js';
export type { RecordCallback, ResyncCallback } from './record-sink.js';
export {
  CAPTURE_DAMAGE_CODES,
  type CaptureDamage,
  type CaptureDamageCode,
  type CaptureInterface,
  type CaptureProcess,
  type CaptureResync,
  type CaptureSummary,
} from './summary.js';
