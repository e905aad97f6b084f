/**
 * Walks a pcapng option list (formats.md §2.2): `[code u16][len u16][value, padded to 4]`. One reused cursor
 * per reader, so the per-packet EPB option scan allocates nothing. An option whose length runs past the block
 * ends the walk: the draft lets readers ignore a malformed option, and nothing after it can be framed.
 */

/** Option code 0: end of options (readers must not require it). */
const OPT_ENDOFOPT = 0;

/** A zero-allocation iterator over one block's options. */
export class OptionCursor {
  /** Code of the current option. */
  code = 0;
  /** Unpadded value length of the current option. */
  lengthBytes = 0;
  /** Buffer offset of the current option's value. */
  valueAt = 0;
  private pos = 0;
  private end = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private littleEndian = true;

  /** Starts a walk over `[pos, end)` of `view`. */
  reset(view: DataView, pos: number, end: number, littleEndian: boolean): void {
    this.view = view;
    this.pos = pos;
    this.end = end;
    this.littleEndian = littleEndian;
  }

  /** Advances to the next option; false at opt_endofopt, at the end of the block, or at a bad length. */
  next(): boolean {
    const pos = this.pos;
    if (pos + 4 > this.end) return false;
    const code = this.view.getUint16(pos, this.littleEndian);
    const lengthBytes = this.view.getUint16(pos + 2, this.littleEndian);
    const valueAt = pos + 4;
    if (code === OPT_ENDOFOPT || valueAt + lengthBytes > this.end) return false;
    this.code = code;
    this.lengthBytes = lengthBytes;
    this.valueAt = valueAt;
    this.pos = valueAt + ((lengthBytes + 3) & ~3);
    return true;
  }
}

const utf8 = new TextDecoder('utf-8');

/** Decodes an option string: UTF-8, not guaranteed NUL-terminated, 0x00 ends it (formats.md §2.2). */
export function decodeOptionString(bytes: Uint8Array, at: number, lengthBytes: number): string {
  let stop = at;
  const end = at + lengthBytes;
  while (stop < end && bytes[stop] !== 0) stop++;
  return utf8.decode(bytes.subarray(at, stop));
}

/** Reads a signed 64-bit option value (if_tsoffset) as a number; exact for |value| < 2^53. */
export function readInt64(view: DataView, at: number, littleEndian: boolean): number {
  const high = view.getInt32(littleEndian ? at + 4 : at, littleEndian);
  const low = view.getUint32(littleEndian ? at : at + 4, littleEndian);
  return high * 4_294_967_296 + low;
}
