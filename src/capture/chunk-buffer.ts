/**
 * One reused byte buffer for the whole input: chunks are read (or copied) in at `end`, readers consume from
 * `start`, and the unconsumed tail (at most one record that straddles two chunks) is moved to the front before
 * the next read. Memory is therefore constant in the file size; it grows only when a single record or block
 * is larger than the buffer.
 */

/** Default buffer size: large enough that a read syscall moves ~1 MiB, small enough to stay in cache. */
export const CHUNK_BYTES = 1 << 20;

/** Growth granularity, so a sequence of slightly larger records does not reallocate each time. */
const GROW_STEP_BYTES = 1 << 16;

/** A window `[start, end)` of unconsumed input bytes inside one reused `Uint8Array`. */
export class ChunkBuffer {
  /** The backing store; replaced only by `reserve` when a record does not fit. */
  bytes: Uint8Array;
  /** DataView over `bytes`, recreated only when `bytes` is replaced. */
  view: DataView;
  /** `bytes.buffer` (byteOffset 0): `new Uint8Array(arrayBuffer, at, n)` is about twice as fast as subarray. */
  arrayBuffer: ArrayBuffer;
  /** First unconsumed byte. */
  start = 0;
  /** One past the last byte received. */
  end = 0;
  /** Input offset of `bytes[0]`, so readers can report absolute file offsets. */
  baseOffset = 0;

  /** @param capacityBytes - initial size of the reused buffer */
  constructor(capacityBytes: number = CHUNK_BYTES) {
    this.arrayBuffer = new ArrayBuffer(capacityBytes);
    this.bytes = new Uint8Array(this.arrayBuffer);
    this.view = new DataView(this.arrayBuffer);
  }

  /** Bytes received but not yet consumed. */
  get availableBytes(): number {
    return this.end - this.start;
  }

  /** Input offset of the first unconsumed byte. */
  get startOffset(): number {
    return this.baseOffset + this.start;
  }

  /** Room left after `end` for the next read. */
  get freeBytes(): number {
    return this.bytes.length - this.end;
  }

  /** Moves the unconsumed tail to the front (copyWithin, no allocation) so the next read has room. */
  compact(): void {
    if (this.start === 0) return;
    this.bytes.copyWithin(0, this.start, this.end);
    this.baseOffset += this.start;
    this.end -= this.start;
    this.start = 0;
  }

  /**
   * Makes room to receive more input when the reader is waiting for `neededBytes` from `start`: compacts, and
   * grows the buffer only if those bytes cannot fit in it at all (one record larger than the buffer).
   */
  prepareWrite(neededBytes: number): void {
    this.compact();
    if (neededBytes <= this.bytes.length && this.freeBytes > 0) return;
    const target = Math.max(neededBytes, this.bytes.length + 1);
    const grownBytes = Math.ceil(target / GROW_STEP_BYTES) * GROW_STEP_BYTES;
    const grown = new ArrayBuffer(grownBytes);
    const grownBytesView = new Uint8Array(grown);
    grownBytesView.set(this.bytes.subarray(0, this.end));
    this.arrayBuffer = grown;
    this.bytes = grownBytesView;
    this.view = new DataView(grown);
  }

  /**
   * Copies as much of `chunk[from..]` as fits after `end`; returns the number of bytes copied.
   * Callers call `prepareWrite` first so at least one byte fits.
   */
  append(chunk: Uint8Array, from: number): number {
    const copyBytes = Math.min(this.freeBytes, chunk.length - from);
    this.bytes.set(chunk.subarray(from, from + copyBytes), this.end);
    this.end += copyBytes;
    return copyBytes;
  }
}
