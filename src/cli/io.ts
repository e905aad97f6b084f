/**
 * Where commands write. The CLI's entry point binds these to the process; tests bind them to strings.
 * Output is buffered into large writes (one write per ~64 KiB, not per line) and a closed pipe
 * (`udptrack packets big.pcap | head`) ends output quietly.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ByteSink } from '../report/json-bytes.js';

/** A text sink with the little the commands need. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Whether stderr is a terminal (progress lines are drawn only then). */
  stderrIsTty: boolean;
  /** Standard input, for `-`. */
  stdin: NodeJS.ReadableStream;
}

/** Something that takes text, and bytes from report/json-bytes.ts's writers (in order with the text). */
export interface TextSink extends ByteSink {
  write(text: string): void;
  /** Push buffered text out; resolves when the underlying stream accepted it. */
  flush(): Promise<void>;
  /** True once the reader went away (EPIPE): commands may stop early. */
  readonly closed: boolean;
}

const FLUSH_AT_CHARS = 64 * 1024;

/** A buffered sink over a Node writable stream. */
export class StreamSink implements TextSink {
  private buffer = '';
  private isClosed = false;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.isClosed = true;
      else throw error;
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(text: string): void {
    if (this.isClosed) return;
    this.buffer += text;
    if (this.buffer.length >= FLUSH_AT_CHARS) {
      this.stream.write(this.buffer);
      this.buffer = '';
    }
  }

  writeBytes(chunk: Uint8Array): void {
    if (this.isClosed) return;
    if (this.buffer.length > 0) {
      this.stream.write(this.buffer);
      this.buffer = '';
    }
    this.stream.write(chunk);
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0 && !this.isClosed) {
      const chunk = this.buffer;
      this.buffer = '';
      await new Promise<void>((resolve) => {
        if (this.stream.write(chunk)) resolve();
        else this.stream.once('drain', () => resolve());
      });
    }
  }
}

/** A sink that collects text (tests and library callers). */
export class StringSink implements TextSink {
  text = '';
  readonly closed = false;
  write(text: string): void {
    this.text += text;
  }
  // Streaming: a chunk read back from a file may end inside a UTF-8 sequence.
  private readonly decoder = new TextDecoder();
  writeBytes(chunk: Uint8Array): void {
    this.text += this.decoder.decode(chunk, { stream: true });
  }
  async flush(): Promise<void> {}
}

const DEFER_IN_MEMORY_BYTES = 4 * 1024 * 1024;
const READ_BACK_BYTES = 1024 * 1024;

/**
 * Bytes a document must write after others it streams first (analyze --format json puts its denials after its
 * flows): held in memory up to a few MiB, then in a temporary file, so memory stays flat whatever the capture's
 * size (issue 7: peak RSS on 10M packets within 1.2× of 1M). A ByteSink: the JSON writer fills it.
 */
export class DeferredBytes implements ByteSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private fd: number | undefined;
  private path: string | undefined;
  /** Bytes taken. */
  totalBytes = 0;

  writeBytes(chunk: Uint8Array): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    this.totalBytes += chunk.byteLength;
    if (this.pendingBytes >= DEFER_IN_MEMORY_BYTES) this.spill();
  }

  /** Hand everything taken to `sink`, in order; then forget it (and the temporary file). */
  drainTo(sink: ByteSink): void {
    if (this.fd !== undefined) {
      this.spill();
      let position = 0;
      for (;;) {
        // A new buffer per read: the sink may keep what it is given.
        const buffer = Buffer.allocUnsafe(READ_BACK_BYTES);
        const n = readSync(this.fd, buffer, 0, buffer.length, position);
        if (n === 0) break;
        position += n;
        sink.writeBytes(buffer.subarray(0, n));
      }
      this.close();
    }
    for (const chunk of this.pending) sink.writeBytes(chunk);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Remove the temporary file, if any (also on error paths). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    // The whole private directory mkdtemp made, not only the file in it.
    if (this.path !== undefined) rmSync(dirname(this.path), { recursive: true, force: true });
    this.fd = undefined;
    this.path = undefined;
  }

  private spill(): void {
    if (this.pending.length === 0) return;
    if (this.fd === undefined) {
      this.path = join(mkdtempSync(join(tmpdir(), 'udptrack-')), 'deferred.json');
      this.fd = openSync(this.path, 'w+');
    }
    for (const chunk of this.pending) writeSync(this.fd, chunk);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
