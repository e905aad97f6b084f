/**
 * Where commands write. The CLI's entry point binds these to the process; tests bind them to strings.
 * Output is buffered into large writes (one write per ~64 KiB, not per line) and a closed pipe
 * (`udptrack packets big.pcap | head`) ends output quietly.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ByteSink } from '../report/json-bytes.js';

/** The output could not be written (a full disk, an I/O error): one line on stderr and exit 2, like bad input. */
export class OutputError extends Error {}

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
  /**
   * A promise to wait on when the reader is far behind (more than a few MiB queued), else undefined: commands that
   * stream while they read pass it on as the reading's throttle, so a slow pipe bounds memory instead of filling it.
   */
  backpressure(): Promise<void> | undefined;
}

const BACKPRESSURE_AT_BYTES = 4 * 1024 * 1024;

const FLUSH_AT_CHARS = 64 * 1024;
/** Something to Atomics.wait on: a synchronous 1 ms sleep while a pipe is full. */
const WAIT_CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * A buffered sink over a Node writable stream. Over the process's own stdout/stderr (a stream with an `fd`) it
 * writes to the descriptor synchronously and waits out a full pipe, as tcpdump's output does: Node queues a pipe's
 * writes in memory without limit while JavaScript runs, and one replay step can end a hundred thousand flows
 * (`analyze big.pcap | gzip` held ~200 MB of queued JSON before, issue 7).
 */
export class StreamSink implements TextSink {
  private buffer = '';
  private isClosed = false;
  private readonly fd: number | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {
    const fd = (stream as { fd?: unknown }).fd;
    this.fd = typeof fd === 'number' ? fd : undefined;
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
    if (this.buffer.length >= FLUSH_AT_CHARS) this.writeText();
  }

  writeBytes(chunk: Uint8Array): boolean {
    if (this.isClosed) return true;
    if (this.buffer.length > 0) this.writeText();
    if (this.fd !== undefined) {
      this.writeToFd(chunk);
      return true;
    }
    this.stream.write(chunk);
    // When nothing is left queued in the stream, the chunk was written out and its memory may be filled again.
    return (this.stream as { writableLength?: number }).writableLength === 0;
  }

  private writeText(): void {
    const text = this.buffer;
    this.buffer = '';
    if (this.fd !== undefined) this.writeToFd(Buffer.from(text, 'utf8'));
    else this.stream.write(text);
  }

  /** All of `bytes` to the descriptor; a full non-blocking pipe (EAGAIN) is waited out 1 ms at a time. */
  private writeToFd(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length && !this.isClosed) {
      try {
        offset += writeSync(this.fd!, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') Atomics.wait(WAIT_CELL, 0, 0, 1);
        else if (code === 'EPIPE') this.isClosed = true;
        else {
          // Nothing more can be written: stop writing, and say so once (cli/program.ts runCli).
          this.isClosed = true;
          throw new OutputError(`cannot write ${this.fd === 1 ? 'standard output' : this.fd === 2 ? 'standard error' : 'output'}: ${(error as Error).message}`);
        }
      }
    }
  }

  backpressure(): Promise<void> | undefined {
    const stream = this.stream as NodeJS.WritableStream & { writableLength?: number };
    if (this.isClosed || (stream.writableLength ?? 0) < BACKPRESSURE_AT_BYTES) return undefined;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0 && !this.isClosed && this.fd !== undefined) {
      this.writeText();
    } else if (this.buffer.length > 0 && !this.isClosed) {
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
  writeBytes(chunk: Uint8Array): boolean {
    this.text += this.decoder.decode(chunk, { stream: true });
    return true;
  }
  backpressure(): undefined {
    return undefined;
  }
  async flush(): Promise<void> {}
}

const DEFER_IN_MEMORY_BYTES = 1024 * 1024;
const READ_BACK_BYTES = 1024 * 1024;

/**
 * Bytes a document must write after others it streams first (analyze --format json puts its denials after its
 * flows): held in memory up to 1 MiB, then in a temporary file, so memory stays flat whatever the capture's
 * size (issue 7: peak RSS on 10M packets within 1.2× of 1M). A ByteSink: the JSON writer fills it.
 */
export class DeferredBytes implements ByteSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private fd: number | undefined;
  private path: string | undefined;

  writeBytes(chunk: Uint8Array): boolean {
    if (this.fd !== undefined) {
      // Spilling already: straight to the file, and the writer may fill the chunk again (no dead chunks waiting for
      // a garbage collection: 10M packets wrote ~60 MB of denials).
      writeSync(this.fd, chunk);
      return true;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= DEFER_IN_MEMORY_BYTES) this.spill();
    return false;
  }

  /**
   * Hand everything taken to `sink`, in order, waiting whenever the sink's reader is behind (the denials of a big
   * capture are hundreds of MiB); then forget it (and the temporary file).
   */
  async drainTo(sink: ByteSink & { backpressure?(): Promise<void> | undefined }): Promise<void> {
    if (this.fd !== undefined) {
      this.spill();
      let position = 0;
      let buffer = Buffer.allocUnsafe(READ_BACK_BYTES);
      for (;;) {
        const n = readSync(this.fd, buffer, 0, buffer.length, position);
        if (n === 0) break;
        position += n;
        // A new buffer only when the sink kept the last one.
        if (!sink.writeBytes(buffer.subarray(0, n))) buffer = Buffer.allocUnsafe(READ_BACK_BYTES);
        const wait = sink.backpressure?.();
        if (wait !== undefined) await wait;
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
