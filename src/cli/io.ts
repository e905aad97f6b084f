/**
 * Where commands write. The CLI's entry point binds these to the process; tests bind them to strings.
 * Output is buffered into large writes (one write per ~64 KiB, not per line) and a closed pipe
 * (`udptrack packets big.pcap | head`) ends output quietly.
 */

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
