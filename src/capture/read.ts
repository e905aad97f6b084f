/**
 * `readCapture`: a path, `-` (stdin) or a stream in, records out, one summary back. Regular files take the
 * fast path (openSync/readSync straight into the parser's reused buffer, a synchronous inner loop); pipes,
 * devices, stdin and caller streams are consumed asynchronously chunk by chunk. Both feed the same parser.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { CHUNK_BYTES } from './chunk-buffer.js';
import { CaptureError } from './errors.js';
import { StreamingCaptureParser } from './parser.js';
import type { RecordCallback } from './record-sink.js';
import type { CaptureSummary } from './summary.js';

/** Smallest buffer for a regular file; it still grows for a record larger than the file claimed to be. */
const SMALL_FILE_BUFFER_BYTES = 64 * 1024;

/**
 * What `readCapture` reads: a file path, `-` for standard input, a readable byte stream, or an open regular file's
 * descriptor.
 */
export type CaptureSource = string | NodeJS.ReadableStream | CaptureDescriptor;

/**
 * An open regular file, read from its current offset to its end: standard input redirected from a file, read by a
 * worker thread that has no `process.stdin` of its own (pipeline/replay-worker.ts). The caller keeps it open.
 */
export interface CaptureDescriptor {
  fd: number;
  /** The input as the user named it (`-`), for messages. */
  name: string;
  /** Bytes left to read (fstat size, for progress and the buffer size). */
  sizeBytes: number;
  /** Read from this offset with positional reads, leaving the descriptor's own offset alone; default: from it. */
  startOffset?: number | undefined;
}

/** Whether a source is a descriptor (not a path, not a stream). */
export function isCaptureDescriptor(source: CaptureSource): source is CaptureDescriptor {
  return typeof source === 'object' && typeof (source as Partial<CaptureDescriptor>).name === 'string' && typeof (source as Partial<CaptureDescriptor>).sizeBytes === 'number';
}

/** Options for `readCapture`. */
export interface ReadCaptureOptions {
  /**
   * Called after each chunk is read: bytes read so far, the file size when known (undefined for streams), and the
   * packet records delivered so far. Runs synchronously between chunks, so keep it cheap.
   */
  onProgress?: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
  /** Initial size of the reused buffer (default 1 MiB); mainly for tests of chunk boundaries. */
  bufferBytes?: number | undefined;
  /**
   * Asked every 256 records whether to wait before reading on: a promise pauses the reading until it settles
   * (output backpressure: a reader slower than the replay, `analyze big.pcap | gzip`, would otherwise make the
   * output queue in memory). Undefined: read on at once.
   */
  throttle?: (() => Promise<void> | undefined) | undefined;
  /**
   * Read at most this many bytes of a regular file or descriptor (streams ignore it): the input as it was when a run
   * began, so two threads reading one file that is still being written read the same records.
   */
  maxBytes?: number | undefined;
}

/**
 * Reads a whole capture, calling `onRecord` synchronously for each packet with ONE reused record whose `data`
 * views the reader's buffer (valid only during the call).
 *
 * Rejects with CaptureError when the input cannot be opened or read before its header was accepted, has an
 * unknown magic, or a broken first header. Damage later in the input never rejects: reading stops there and
 * the summary's `damage` says why; every record before it has been delivered. Errors thrown by `onRecord`
 * propagate unchanged.
 *
 * @param source - a file path, `-` for standard input, or a readable byte stream
 */
export async function readCapture(
  source: CaptureSource,
  onRecord: RecordCallback,
  options: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  const parserFor = (path: string, bufferBytes?: number): StreamingCaptureParser => {
    const parser = new StreamingCaptureParser(onRecord, { path, bufferBytes: options.bufferBytes ?? bufferBytes });
    parser.setThrottle(options.throttle);
    return parser;
  };
  if (isCaptureDescriptor(source)) {
    return readOpenFile(source.fd, parserFor(source.name, fileBufferBytes(source.sizeBytes)), source.sizeBytes, options, source.startOffset);
  }
  // `-` is the global process.stdin, looked up per call so an embedding (or a test) can substitute it.
  if (typeof source !== 'string' || source === '-') {
    const stream = typeof source === 'string' ? process.stdin : source;
    const name = captureSourceName(source);
    // `udptrack analyze - < F`: standard input redirected from a regular file reads like the file itself (the
    // stream path's 64 KiB chunks and async steps cost ~35 % more on 1M packets; issue 7, stdin within 1.2×).
    const stdinSize = regularFileSize(stream);
    if (stdinSize !== undefined) return readOpenFile(STDIN_FD, parserFor(name, fileBufferBytes(stdinSize)), stdinSize, options);
    return readStream(stream, parserFor(name), options);
  }
  const fd = openInput(source);
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new CaptureError(source, 'is-a-directory', 'is a directory');
    // Only regular files are safe for a synchronous loop: a FIFO or device could block the event loop.
    // Awaited here: the descriptor is closed in `finally` once the reading is done, not when it starts.
    if (stats.isFile()) return await readOpenFile(fd, parserFor(source, fileBufferBytes(stats.size)), stats.size, options);
  } finally {
    closeSync(fd);
  }
  return readStream(createReadStream(source), parserFor(source), options);
}

/** Standard input's descriptor. */
export const STDIN_FD = 0;

/**
 * How messages name a source: its path; `-` for standard input, also when given as the process's stdin stream (as
 * the CLI does, so a test can substitute it); `<stream>` for any other stream.
 */
export function captureSourceName(source: string | NodeJS.ReadableStream): string {
  if (typeof source === 'string') return source;
  return (source as { fd?: unknown }).fd === STDIN_FD ? '-' : '<stream>';
}

/**
 * The size of the file behind `stream` when it is this process's real standard input (fd 0) redirected from a
 * regular file — the whole file's, wherever the descriptor's offset stands; undefined otherwise (a pipe, a terminal,
 * or a substitute stream).
 */
export function regularFileSize(stream: NodeJS.ReadableStream): number | undefined {
  if ((stream as { fd?: unknown }).fd !== STDIN_FD) return undefined;
  try {
    const stats = fstatSync(STDIN_FD);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

/** A small file needs no 1 MiB buffer (test corpora are mostly tiny files); a big one gets 1 MiB reads. */
function fileBufferBytes(sizeBytes: number): number {
  return Math.min(CHUNK_BYTES, Math.max(SMALL_FILE_BUFFER_BYTES, sizeBytes));
}

function openInput(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    throw toCaptureError(path, err);
  }
}

/**
 * The fast path: the inner loop reads ~1 MiB at a time into the parser's buffer and parses in place, synchronously
 * unless the throttle asks it to wait.
 */
async function readOpenFile(
  fd: number,
  parser: StreamingCaptureParser,
  sizeBytes: number,
  options: ReadCaptureOptions,
  startOffset?: number,
): Promise<CaptureSummary> {
  const buf = parser.buffer;
  let position = startOffset ?? null;
  let leftBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  for (;;) {
    parser.prepareWrite();
    let readBytes: number;
    if (leftBytes <= 0) break;
    try {
      readBytes = readSync(fd, buf.bytes, buf.end, Math.min(buf.freeBytes, leftBytes), position);
      leftBytes -= readBytes;
      if (position !== null) position += readBytes;
    } catch (err) {
      if (!parser.headerAccepted) throw toCaptureError(parser.path, err);
      parser.failRead(errorText(err));
      break;
    }
    if (readBytes === 0) break;
    parser.commitWrite(readBytes);
    while (parser.pause !== undefined) {
      await parser.pause;
      parser.resume();
    }
    options.onProgress?.(parser.bytesRead, sizeBytes, parser.records);
    if (parser.stopped) break;
  }
  return parser.end();
}

/** The stream path: each chunk is copied into the reused buffer; stops (and releases the stream) at damage. */
async function readStream(
  stream: NodeJS.ReadableStream,
  parser: StreamingCaptureParser,
  options: ReadCaptureOptions,
): Promise<CaptureSummary> {
  const iterator = stream[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let step: IteratorResult<string | Buffer>;
      try {
        step = await iterator.next();
      } catch (err) {
        finished = true;
        if (!parser.headerAccepted) throw toCaptureError(parser.path, err);
        parser.failRead(errorText(err));
        break;
      }
      if (step.done === true) {
        finished = true;
        break;
      }
      if (typeof step.value === 'string') {
        throw new CaptureError(parser.path, 'read-failed', 'stream delivers text, not bytes (remove its encoding)');
      }
      parser.push(step.value);
      while (parser.pause !== undefined) {
        await parser.pause;
        parser.resume();
      }
      options.onProgress?.(parser.bytesRead, undefined, parser.records);
      if (parser.stopped) break;
    }
  } finally {
    // Stopping early (damage, or a throw from onRecord) must release the stream; a finished one needs nothing.
    if (!finished) await iterator.return?.();
  }
  return parser.end();
}

/** Maps an OS error to the one-line CaptureError the CLI prints. */
function toCaptureError(path: string, err: unknown): CaptureError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new CaptureError(path, 'no-such-file', 'no such file');
    case 'EACCES':
    case 'EPERM':
      return new CaptureError(path, 'permission-denied', 'permission denied');
    case 'EISDIR':
      return new CaptureError(path, 'is-a-directory', 'is a directory');
    default:
      return new CaptureError(path, 'read-failed', `cannot read: ${errorText(err)}`);
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}
