/**
 * State shared by the pcap and pcapng readers: the one reused CaptureRecord, the frame counter, the callback,
 * what the file declared (interfaces, processes) and the damage that stopped it. Keeping it in one object lets
 * both readers stay free of I/O and lets the parser build the summary the same way for both formats.
 */
import { ReusableCaptureRecord, type CaptureRecord } from '../types.js';
import type { ChunkBuffer } from './chunk-buffer.js';
import type { CaptureDamage, CaptureDamageCode, CaptureInterface, CaptureProcess, CaptureResync, CaptureSummary } from './summary.js';

/** Called once per packet record with the reused record; its bytes are valid only during the call. */
export type RecordCallback = (rec: CaptureRecord) => void;

/** Called in resync mode each time damage was stepped over (or the input ended inside it). */
export type ResyncCallback = (event: CaptureResync) => void;

/** A blank record with every field present, so the object keeps one hidden class for the whole run. */
export function createBlankRecord(): ReusableCaptureRecord {
  return new ReusableCaptureRecord();
}

/** The reused record, the counters and what the file declared. */
export class RecordSink {
  /** The one record handed to the callback for every packet. */
  readonly record: CaptureRecord = createBlankRecord();
  /** Packet records delivered so far (the last `frame`). */
  frames = 0;
  /** Set once; readers stop at it. In resync mode only when the input ended inside damage. */
  damage: CaptureDamage | null = null;
  /**
   * Resync mode (the live tail, where one bad record must not end a stream that may run for days): damage starts a
   * scan for the next plausible record instead of stopping. While scanning, this is the damage being stepped over.
   */
  scanning: CaptureDamage | null = null;
  /** Resync mode: damage stepped over so far, and the bytes skipped over it. */
  resyncs = 0;
  skippedBytes = 0;
  /**
   * Asked every 256 records whether to pause (the reader's throttle: output backpressure). A promise here makes the
   * format readers stop after the current record; the parser resumes once it settles.
   */
  throttle: (() => Promise<void> | undefined) | undefined = undefined;
  pause: Promise<void> | undefined = undefined;
  /** Interfaces in file order (summary). */
  readonly interfaces: CaptureInterface[] = [];
  /** Apple process-information blocks in file order (summary). */
  readonly processes: CaptureProcess[] = [];

  /**
   * @param path - input name for CaptureError messages
   * @param onRecord - consumer callback
   */
  constructor(
    readonly path: string,
    private readonly onRecord: RecordCallback,
    readonly resync = false,
    private readonly onResync: ResyncCallback | undefined = undefined,
  ) {}

  /** Numbers the filled-in record and hands it to the consumer. */
  emit(): void {
    this.frames += 1;
    this.record.frame = this.frames;
    this.onRecord(this.record);
    if ((this.frames & 255) === 0 && this.throttle !== undefined) this.pause = this.throttle();
  }

  /**
   * Records damage. Normally it stops this input and only the first is kept (it is where reading stopped); in resync
   * mode it starts a scan (the reader looks for the next plausible record and calls `resumeAt`).
   */
  fail(code: CaptureDamageCode, offset: number, detail: string): void {
    const damage: CaptureDamage = { code, offset, frame: this.frames + 1, detail };
    if (!this.resync) {
      if (this.damage === null) this.damage = damage;
    } else if (this.scanning === null) {
      this.scanning = damage;
    }
  }

  /** Resync mode: a plausible record starts at input offset `offset`; what lay between was skipped. */
  resumeAt(offset: number): void {
    const damage = this.scanning;
    if (damage === null) return;
    this.scanning = null;
    this.report(damage, offset, offset - damage.offset);
  }

  /**
   * End of input at input offset `endOffset`. In resync mode, damage still being stepped over (or found at the end,
   * a record cut short) becomes the summary's damage: reading stopped inside it.
   */
  endOfInput(endOffset: number): void {
    const damage = this.scanning;
    if (damage === null) return;
    this.scanning = null;
    if (this.damage === null) this.damage = damage;
    this.report(damage, -1, endOffset - damage.offset);
  }

  private report(damage: CaptureDamage, resumedAtOffset: number, skippedBytes: number): void {
    this.resyncs++;
    this.skippedBytes += skippedBytes;
    this.onResync?.({ damage, resumedAtOffset, skippedBytes });
  }
}

/** The file-level facts a reader contributes to the summary. */
export type FormatDescription = Pick<
  CaptureSummary,
  'format' | 'version' | 'byteOrder' | 'nanosecond' | 'variant' | 'sections'
>;

/**
 * A format reader (pcap or pcapng) driven by the parser: it consumes whole records from the buffer window and
 * says how many bytes it needs when the window holds only part of one.
 */
export interface FormatReader {
  /** Bytes needed from `buf.start` before `parse` can make progress (drives buffer growth). */
  readonly needBytes: number;
  /** True once the file header was accepted; a failure after that is damage, not CaptureError. */
  readonly headerAccepted: boolean;
  /**
   * Consumes every complete record in `buf`. Throws CaptureError only while the file header is not accepted;
   * `eof` says no more input will come (so a short header is an error, not a wait).
   */
  parse(buf: ChunkBuffer, eof: boolean): void;
  /** Called at end of input: reports damage for bytes left over inside a record. */
  finish(buf: ChunkBuffer): void;
  /** File-level facts for the summary. */
  describe(): FormatDescription;
}
