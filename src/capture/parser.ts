/**
 * The push-style capture parser: bytes in (any chunking, down to one byte at a time), records out. It detects
 * the format from the magic (formats.md §1.2, §2.3; never from the file name) and drives the pcap or pcapng
 * reader over one reused ChunkBuffer. `readCapture` uses it for files and streams alike, so there is exactly
 * one implementation of record parsing; a live tail can push bytes as a file grows.
 */
import { ChunkBuffer, CHUNK_BYTES } from './chunk-buffer.js';
import { CaptureError, hex32 } from './errors.js';
import { PcapReader, pcapByteOrder } from './pcap.js';
import { PCAPNG_BLOCK, PcapngReader } from './pcapng.js';
import { RecordSink, type FormatReader, type RecordCallback, type ResyncCallback } from './record-sink.js';
import type { CaptureSummary } from './summary.js';

/** Bytes needed to tell the formats apart. */
const MAGIC_BYTES = 4;

/** Options for `createCaptureParser`. */
export interface CaptureParserOptions {
  /** Name used in CaptureError (`-` for stdin); default `<stream>`. */
  path?: string | undefined;
  /** Initial size of the reused buffer; default 1 MiB. It grows only for a record larger than this. */
  bufferBytes?: number | undefined;
  /**
   * Step over damage instead of stopping at it (the live tail): after a damaged pcap record, scan forward for the
   * next plausible record header (or a new file header); after a damaged pcapng block, for the next block of a
   * known type whose trailing length matches. `onResync` hears of each. Record headers are also held to what a
   * live writer produces (caplen within the snap length, orig_len ≥ caplen, sub-second field in range), so garbage
   * is noticed at its first bytes instead of being read as a huge record the stream would wait for.
   */
  resync?: boolean | undefined;
  onResync?: ResyncCallback | undefined;
}

/** An incremental capture parser: `push` chunks as they arrive, `end` when the input is complete. */
export interface CaptureParser {
  /**
   * Copies `chunk` into the reused buffer and delivers every record it completes, synchronously.
   * Throws CaptureError while the file header is unreadable; after damage further bytes are ignored.
   */
  push(chunk: Uint8Array): void;
  /** Declares the end of input; reports a record cut short as damage. Throws CaptureError if no header. */
  end(): CaptureSummary;
  /** The summary so far, or null while the format is not known yet. */
  summary(): CaptureSummary | null;
  /** True once damage stopped the parser (see `summary().damage`); never before the end in resync mode. */
  readonly stopped: boolean;
  /** Resync mode: damage stepped over so far, and the bytes skipped over it. */
  readonly resyncs: number;
  readonly skippedBytes: number;
  /** True once the file header was accepted: failures after this are damage, never CaptureError. */
  readonly headerAccepted: boolean;
  /** Bytes pushed so far. */
  readonly bytesRead: number;
  /** Packet records delivered so far. */
  readonly records: number;
}

/** Known non-capture magics, to say what the file is instead (read big-endian from the first 4 bytes). */
const FOREIGN_MAGICS: ReadonlyArray<readonly [number, number, string]> = [
  [0xffff0000, 0x1f8b0000, 'gzip-compressed; decompress it first'],
  [0xffffffff, 0x736e6f6f, 'Solaris snoop format is not supported'],
  [0xffffffff, 0xa12b3c4d, 'Navtel pcap variant is not supported'],
  [0xffffffff, 0x4d3c2ba1, 'Navtel pcap variant is not supported'],
  [0xffffffff, 0xa1b2c3cb, 'a BPF program file, not packets'],
  [0xffffffff, 0xcbc3b2a1, 'a BPF program file, not packets'],
];

/** The implementation behind `createCaptureParser`, with the extra hooks `readCapture` uses for files. */
export class StreamingCaptureParser implements CaptureParser {
  /** The reused buffer; the file fast path reads straight into its free space. */
  readonly buffer: ChunkBuffer;
  bytesRead = 0;
  private readonly sink: RecordSink;

  get records(): number {
    return this.sink.frames;
  }
  private reader: FormatReader | null = null;
  private ended = false;

  /**
   * @param onRecord - called synchronously with the one reused record per packet
   * @param options - path for messages, buffer size
   */
  constructor(onRecord: RecordCallback, options: CaptureParserOptions = {}) {
    this.sink = new RecordSink(options.path ?? '<stream>', onRecord, options.resync === true, options.onResync);
    this.buffer = new ChunkBuffer(options.bufferBytes ?? CHUNK_BYTES);
  }

  /** The input name used in CaptureError messages. */
  get path(): string {
    return this.sink.path;
  }

  get stopped(): boolean {
    return this.sink.damage !== null;
  }

  get resyncs(): number {
    return this.sink.resyncs;
  }

  get skippedBytes(): number {
    return this.sink.skippedBytes;
  }

  get headerAccepted(): boolean {
    return this.reader !== null && this.reader.headerAccepted;
  }

  push(chunk: Uint8Array): void {
    this.assertOpen();
    this.bytesRead += chunk.length;
    this.pending = chunk;
    this.pendingFrom = 0;
    this.pushPending();
  }

  /** Append and parse what is left of the last pushed chunk, until it is all parsed or a pause comes. */
  private pushPending(): void {
    const chunk = this.pending;
    if (chunk === undefined) return;
    while (this.pendingFrom < chunk.length && !this.stopped) {
      if (this.sink.pause !== undefined) return;
      this.prepareWrite();
      this.pendingFrom += this.buffer.append(chunk, this.pendingFrom);
      this.parse(false);
    }
    this.pending = undefined;
  }

  private pending: Uint8Array | undefined;
  private pendingFrom = 0;

  /** Set by the throttle: wait for it, then call `resume` (readCapture does). */
  get pause(): Promise<void> | undefined {
    return this.sink.pause;
  }

  /** Go on after a pause: parse the records still buffered, then the rest of the last pushed chunk. */
  resume(): void {
    this.sink.pause = undefined;
    this.parse(false);
    this.pushPending();
  }

  /** The reader's throttle (ReadCaptureOptions.throttle), asked every 256 records. */
  setThrottle(throttle: (() => Promise<void> | undefined) | undefined): void {
    this.sink.throttle = throttle;
  }

  /** File fast path, step 1: make room after `buffer.end` (compacting, growing only for a huge record). */
  prepareWrite(): void {
    this.assertOpen();
    this.buffer.prepareWrite(this.reader === null ? MAGIC_BYTES : this.reader.needBytes);
  }

  /** File fast path, step 2: `readBytes` were read into the buffer at its old `end`; parse them. */
  commitWrite(readBytes: number): void {
    this.buffer.end += readBytes;
    this.bytesRead += readBytes;
    this.parse(false);
  }

  /** An I/O error after the header: stop as damage so the records read so far still count. */
  failRead(message: string): void {
    this.sink.fail('read-error', this.buffer.startOffset, message);
  }

  end(): CaptureSummary {
    if (!this.ended) {
      this.ended = true;
      // No pausing at the end: what is buffered is parsed now.
      this.sink.throttle = undefined;
      this.sink.pause = undefined;
      this.pushPending();
      this.parse(true);
      this.reader?.finish(this.buffer);
    }
    const summary = this.summary();
    if (summary === null) throw new CaptureError(this.sink.path, 'empty-file', 'empty file');
    return summary;
  }

  summary(): CaptureSummary | null {
    if (this.reader === null) return null;
    return {
      ...this.reader.describe(),
      records: this.sink.frames,
      bytesRead: this.bytesRead,
      damage: this.sink.damage,
      interfaces: this.sink.interfaces.slice(),
      processes: this.sink.processes.slice(),
    };
  }

  private parse(eof: boolean): void {
    if (this.stopped) return;
    if (this.reader === null) this.reader = this.detect(eof);
    this.reader?.parse(this.buffer, eof);
  }

  /** formats.md §1.2 / §2.3: pcap magic in either byte order, or the pcapng SHB block type. */
  private detect(eof: boolean): FormatReader | null {
    const buf = this.buffer;
    const haveBytes = buf.availableBytes;
    if (haveBytes < MAGIC_BYTES) {
      if (!eof) return null;
      if (haveBytes === 0) throw new CaptureError(this.sink.path, 'empty-file', 'empty file');
      throw new CaptureError(
        this.sink.path,
        'truncated-file-header',
        `truncated file header (${haveBytes} of ${MAGIC_BYTES} bytes)`,
      );
    }
    const magicLe = buf.view.getUint32(buf.start, true);
    if (pcapByteOrder(magicLe) !== null) return new PcapReader(this.sink);
    if (magicLe === PCAPNG_BLOCK.SHB) return new PcapngReader(this.sink);
    const magicBe = buf.view.getUint32(buf.start, false);
    throw new CaptureError(this.sink.path, 'not-a-capture-file', describeForeignMagic(magicBe));
  }

  private assertOpen(): void {
    // A programming error, not bad input: the caller pushed after declaring the end.
    if (this.ended) throw new Error('capture parser: push after end()');
  }
}

function describeForeignMagic(magicBigEndian: number): string {
  const known = FOREIGN_MAGICS.find(([mask, value]) => ((magicBigEndian & mask) >>> 0) === value);
  const hint = known === undefined ? '' : `: ${known[2]}`;
  return `not a capture file (magic 0x${hex32(magicBigEndian)}${hint})`;
}

/**
 * Creates an incremental parser (for stdin, sockets, or a growing file in a live tail).
 * @param onRecord - called synchronously per packet with one reused record; copy what you keep
 * @param options - path for messages, initial buffer size
 */
export function createCaptureParser(onRecord: RecordCallback, options?: CaptureParserOptions): CaptureParser {
  return new StreamingCaptureParser(onRecord, options);
}
