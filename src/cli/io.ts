/**
 * Where commands write. The CLI's entry point binds these to the process; tests bind them to strings.
 * Output is buffered into large writes (one write per ~64 KiB, not per line) and a closed pipe
 * (`udptrack packets big.pcap | head`) ends output quietly.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** A text sink with the little the commands need. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Whether stderr is a terminal (progress lines are drawn only then). */
  stderrIsTty: boolean;
  /** Standard input, for `-`. */
  stdin: NodeJS.ReadableStream;
}

/** Something that takes text. */
export interface TextSink {
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
  async flush(): Promise<void> {}
}

const DEFER_IN_MEMORY_CHARS = 4 * 1024 * 1024;
const READ_BACK_BYTES = 1024 * 1024;

/**
 * Lines a document must write after others it streams first (analyze --format json puts its denials after its
 * flows): held in memory up to a few MiB, then in a temporary file, so memory stays flat whatever the capture's
 * size (issue 7: peak RSS on 10M packets within 1.2× of 1M).
 */
export class DeferredLines {
  private pending: string[] = [];
  private pendingChars = 0;
  private fd: number | undefined;
  private path: string | undefined;
  /** Lines added. */
  count = 0;

  add(line: string): void {
    this.pending.push(line);
    this.pendingChars += line.length + 2;
    this.count++;
    if (this.pendingChars >= DEFER_IN_MEMORY_CHARS) this.spill();
  }

  /** Write the lines to `sink`, `separator` between them; then forget them (and the temporary file). */
  drainTo(sink: TextSink, separator: string): void {
    let first = true;
    if (this.fd !== undefined) {
      this.spill();
      const buffer = Buffer.alloc(READ_BACK_BYTES);
      const decoder = new StringDecoder('utf8');
      let position = 0;
      for (;;) {
        const n = readSync(this.fd, buffer, 0, buffer.length, position);
        if (n === 0) break;
        position += n;
        // The file holds the lines joined by "\n"; the separator goes in their place.
        const text = decoder.write(buffer.subarray(0, n));
        sink.write(separator === '\n' ? text : text.replaceAll('\n', separator));
      }
      first = false;
      this.close();
    }
    for (const line of this.pending) {
      sink.write(first ? line : `${separator}${line}`);
      first = false;
    }
    this.pending = [];
    this.pendingChars = 0;
  }

  /** Remove the temporary file, if any (also on error paths). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.path !== undefined) rmSync(this.path, { force: true });
    this.fd = undefined;
    this.path = undefined;
  }

  private spill(): void {
    if (this.pending.length === 0) return;
    if (this.fd === undefined) {
      this.path = join(mkdtempSync(join(tmpdir(), 'udptrack-')), 'deferred.txt');
      this.fd = openSync(this.path, 'w+');
    } else {
      writeSync(this.fd, '\n');
    }
    writeSync(this.fd, this.pending.join('\n'));
    this.pending = [];
    this.pendingChars = 0;
  }
}
