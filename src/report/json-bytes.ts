/**
 * JSON written as bytes into a reused chunk, for the records analyze streams by the ten thousand (flows, denials).
 * Building each record as a JS string and encoding it again on write cost more than the flow table (issue 7:
 * 44 MB of flow JSON spent ~300 ms in template strings and ~250 ms in Buffer.from). Here digits, timestamps and
 * constant pieces go straight into a Buffer; full chunks are handed to a `ByteSink` and never touched again.
 *
 * The writers of records (report/flows.ts) keep their output identical to `JSON.stringify` of the readable object
 * builders; test/report/flows.test.ts checks it on every fixture and corpus capture.
 */
import { writeIsoFromUs } from './time.js';

/** Where a writer's full chunks go. */
export interface ByteSink {
  /**
   * Take `chunk`. Returns true when the sink is done with it once this returns (written out, copied), so the writer
   * may fill the same memory again; false when the sink keeps it (the writer then starts a new chunk).
   */
  writeBytes(chunk: Uint8Array): boolean;
}

/**
 * An ASCII constant for `JsonBytes.piece`, kept as little-endian 32-bit words: a piece is copied four bytes a store.
 * A byte loop over two typed arrays compiled to ~35 instructions a byte (each access re-checks both arrays), and
 * TypedArray.prototype.set() is a builtin call of ~250; records are mostly such constants (issue 7).
 */
export class JsonPiece {
  /** The piece's length in bytes. */
  readonly length: number;
  /** The bytes in little-endian words, the last one padded with zeros. */
  readonly words: Int32Array;

  constructor(readonly text: string) {
    const bytes = asciiBytes(text);
    this.length = bytes.length;
    const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
    padded.set(bytes);
    const view = new DataView(padded.buffer);
    this.words = new Int32Array(padded.length / 4);
    for (let k = 0; k < this.words.length; k++) this.words[k] = view.getInt32(k * 4, true);
  }
}

/** A constant piece of JSON (ASCII only; checked). */
export function jsonPiece(text: string): JsonPiece {
  return new JsonPiece(text);
}

/** The bytes of an ASCII constant. */
function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new Error(`not ASCII: ${JSON.stringify(text)}`);
    bytes[i] = code;
  }
  return bytes;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
/**
 * The most a record writer writes unchecked (between `reserve` calls): a flow record is under 1.6 KB even with a
 * full state history. `reserve(RECORD_ROOM_BYTES)` starts a record; `text` keeps that much room after itself, so a
 * string in the middle of a record (a service name, an IPv6 address) never leaves the rest short.
 */
export const RECORD_ROOM_BYTES = 2048;
const ZERO = 0x30;
const HEX_DIGITS = asciiBytes('0123456789abcdef');
const MAPPED_PREFIX = jsonPiece('::ffff:');
/** Below 1e15 µs (31 years) every `Math.round(us) / 1e6` prints as its six-decimal fraction, trailing zeros cut. */
const SECONDS_FAST_LIMIT_US = 1e15;

/** Bytes a chunk has past its nominal size: piece() stores whole words, up to three bytes past a piece's end. */
const CHUNK_SLACK_BYTES = 8;

/**
 * A JSON byte writer over a sink. Methods write one JSON token or a constant piece; `flush` hands over the rest.
 *
 * Room: `piece`, `uint`, `seconds`, `isoString`, `ipv4String` and `boolean` do not check for it — a record writer
 * calls `reserve(RECORD_ROOM_BYTES)` first (one check per record instead of thirty). `text` and `string` check for
 * themselves, their length being the caller's data, and leave RECORD_ROOM_BYTES after them.
 */
export class JsonBytes {
  private buf: Buffer;
  /** The same memory as `buf`, for word stores. */
  private view: DataView;
  /** Where the chunk's nominal size ends (the buffer is CHUNK_SLACK_BYTES longer). */
  private limit: number;
  private pos = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(0);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, 0);
    this.limit = 0;
    this.newChunk(chunkBytes);
  }

  /**
   * Hand what was written to the sink. The chunk is reused when the sink is done with it: a new one per flush left
   * hundreds of MiB of dead chunks for the garbage collector, which runs on JS heap pressure, not on theirs
   * (500k flows of JSON raised peak RSS by ~40 MiB).
   */
  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf.subarray(0, this.pos);
    this.pos = 0;
    if (!this.sink.writeBytes(full)) this.newChunk(this.chunkBytes);
  }

  /** Room for `n` more bytes: hand the chunk over when it is short of it, grow it for a piece larger than a chunk. */
  reserve(n: number): void {
    if (this.pos + n <= this.limit) return;
    this.flush();
    if (n > this.limit) this.newChunk(n);
  }

  private newChunk(bytes: number): void {
    // Not from Buffer's shared pool: the view must not reach into memory another Buffer was handed.
    this.buf = Buffer.allocUnsafeSlow(bytes + CHUNK_SLACK_BYTES);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.limit = bytes;
  }

  /** A constant piece (from `jsonPiece`). Unchecked: reserve first. */
  piece(piece: JsonPiece): void {
    const view = this.view;
    const words = piece.words;
    const pos = this.pos;
    for (let k = 0; k < words.length; k++) view.setInt32(pos + 4 * k, words[k]!, true);
    this.pos = pos + piece.length;
  }

  /** Text as it is (already JSON: a quoted string, a number, a whole record), UTF-8. Checks its own room. */
  text(text: string): void {
    const n = text.length;
    this.reserve(3 * n + RECORD_ROOM_BYTES);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) {
        // Not ASCII: let Buffer encode it (UTF-8 takes up to three bytes per UTF-16 unit).
        this.pos = this.pos + this.buf.write(text, this.pos, 'utf8');
        return;
      }
      buf[pos++] = code;
    }
    this.pos = pos;
  }

  /** `text` as a JSON string (quoted and escaped like JSON.stringify; short strings from small sets are cached). */
  string(text: string): void {
    const piece = quotedPiece(text);
    if (piece === undefined) {
      this.text(quoted(text));
      return;
    }
    this.reserve(piece.length + RECORD_ROOM_BYTES);
    this.piece(piece);
  }

  /** A whole number ≥ 0 below 2^53; anything else as JSON.stringify writes it (NaN and infinities as null). Unchecked. */
  uint(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value))) {
      this.text(JSON.stringify(value));
      return;
    }
    const buf = this.buf;
    if (value < 10) {
      buf[this.pos++] = ZERO + value;
      return;
    }
    let digits = 2;
    for (let limit = 100; value >= limit && digits < 16; limit *= 10) digits++;
    let p = this.pos + digits;
    this.pos = p;
    let rest = value;
    if (rest > 0x7fffffff) {
      while (rest > 0x7fffffff) {
        const q = Math.floor(rest / 10);
        buf[--p] = ZERO + (rest - q * 10);
        rest = q;
      }
    }
    // int32 arithmetic for the rest.
    rest |= 0;
    while (rest >= 10) {
      const q = (rest / 10) | 0;
      buf[--p] = ZERO + (rest - q * 10);
      rest = q;
    }
    buf[--p] = ZERO + rest;
  }

  /** A duration in µs as seconds: exactly what `Math.round(us) / 1e6` prints (report/flows.ts `seconds`). Unchecked. */
  seconds(us: number): void {
    const rounded = Math.round(us);
    if (!(rounded >= 0 && rounded < SECONDS_FAST_LIMIT_US)) {
      this.text(JSON.stringify(rounded / 1e6));
      return;
    }
    const whole = Math.floor(rounded / 1e6);
    let fraction = (rounded - whole * 1e6) | 0;
    this.uint(whole);
    if (fraction === 0) return;
    let digits = 6;
    while (fraction % 10 === 0) {
      fraction = (fraction / 10) | 0;
      digits--;
    }
    const buf = this.buf;
    buf[this.pos++] = 0x2e; // '.'
    let p = this.pos + digits;
    this.pos = p;
    for (let i = 0; i < digits; i++) {
      const q = (fraction / 10) | 0;
      buf[--p] = ZERO + (fraction - q * 10);
      fraction = q;
    }
  }

  /** A quoted ISO-8601 UTC timestamp (report/time.ts formatIsoFromUs). Unchecked (29 bytes, 50 on the rare paths). */
  isoString(tsUs: number): void {
    const buf = this.buf;
    buf[this.pos] = 0x22;
    const end = writeIsoFromUs(this.view, this.pos + 1, tsUs);
    buf[end] = 0x22;
    this.pos = end + 1;
  }

  /** A quoted dotted quad of an unsigned 32-bit address. Unchecked (17 bytes). */
  ipv4String(address: number): void {
    this.buf[this.pos++] = 0x22;
    this.dottedQuad(address);
    this.buf[this.pos++] = 0x22;
  }

  /**
   * An IPv6 address from its four 32-bit words (network order), quoted, as RFC 5952 text — what address.ts
   * formatIpv6 returns, without the strings and arrays it builds (flow records write two addresses each). Unchecked.
   */
  ipv6String(w0: number, w1: number, w2: number, w3: number): void {
    const buf = this.buf;
    buf[this.pos++] = 0x22;
    // RFC 5952 §5: ::ffff:0:0/96 (IPv4-mapped) ends in the dotted IPv4 address.
    if (w0 === 0 && w1 === 0 && w2 >>> 0 === 0xffff) {
      this.piece(MAPPED_PREFIX);
      this.dottedQuad(w3);
      buf[this.pos++] = 0x22;
      return;
    }
    // The longest run of two or more zero groups, the first of equals (RFC 5952 §4.2.2, §4.2.3), becomes '::'.
    let bestStart = -1;
    let bestLen = 1;
    let runStart = -1;
    for (let i = 0; i <= 8; i++) {
      if (i < 8 && group(w0, w1, w2, w3, i) === 0) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        if (i - runStart > bestLen) {
          bestStart = runStart;
          bestLen = i - runStart;
        }
        runStart = -1;
      }
    }
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) {
        buf[this.pos++] = 0x3a;
        buf[this.pos++] = 0x3a;
        i += bestLen - 1;
        continue;
      }
      if (i > 0 && i !== bestStart + bestLen) buf[this.pos++] = 0x3a;
      this.hexGroup(group(w0, w1, w2, w3, i));
    }
    buf[this.pos++] = 0x22;
  }

  /** `true` / `false`. Unchecked. */
  boolean(value: boolean): void {
    this.piece(value ? TRUE : FALSE);
  }

  private dottedQuad(address: number): void {
    const buf = this.buf;
    this.octet(address >>> 24);
    buf[this.pos++] = 0x2e;
    this.octet((address >>> 16) & 0xff);
    buf[this.pos++] = 0x2e;
    this.octet((address >>> 8) & 0xff);
    buf[this.pos++] = 0x2e;
    this.octet(address & 0xff);
  }

  /** A 16-bit group in lowercase hex without leading zeros (RFC 5952 §4.1, §4.3). */
  private hexGroup(value: number): void {
    const buf = this.buf;
    let shift = 12;
    while (shift > 0 && (value >>> shift) === 0) shift -= 4;
    for (; shift >= 0; shift -= 4) buf[this.pos++] = HEX_DIGITS[(value >>> shift) & 0xf]!;
  }

  private octet(value: number): void {
    const buf = this.buf;
    if (value >= 100) {
      const hundreds = (value / 100) | 0;
      buf[this.pos++] = ZERO + hundreds;
      value -= hundreds * 100;
      buf[this.pos++] = ZERO + ((value / 10) | 0);
    } else if (value >= 10) {
      buf[this.pos++] = ZERO + ((value / 10) | 0);
    }
    buf[this.pos++] = ZERO + (value % 10);
  }
}

const TRUE = jsonPiece('true');
const FALSE = jsonPiece('false');

const QUOTED = new Map<string, string>();
const QUOTED_PIECES = new Map<string, JsonPiece>();
const QUOTED_CACHE_LIMIT = 1024;

/**
 * `JSON.stringify(text)`, remembered: the strings written this way (services, timeout keys, end reasons, verdicts)
 * come from small fixed sets.
 */
export function quoted(text: string): string {
  let result = QUOTED.get(text);
  if (result === undefined) {
    result = JSON.stringify(text);
    if (QUOTED.size < QUOTED_CACHE_LIMIT) QUOTED.set(text, result);
  }
  return result;
}

/** `quoted(text)` as a piece, remembered like it; undefined past the cache's size or for text beyond ASCII. */
function quotedPiece(text: string): JsonPiece | undefined {
  let piece = QUOTED_PIECES.get(text);
  if (piece === undefined) {
    if (QUOTED_PIECES.size >= QUOTED_CACHE_LIMIT) return undefined;
    const json = quoted(text);
    for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) > 0x7f) return undefined;
    piece = new JsonPiece(json);
    QUOTED_PIECES.set(text, piece);
  }
  return piece;
}

/** A sink that keeps the chunks (tests; small documents). */
export class CollectedBytes implements ByteSink {
  readonly chunks: Uint8Array[] = [];

  writeBytes(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    return false;
  }

  /** Everything written, as text (and forget it). */
  take(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks.length = 0;
    return text;
  }
}

/** Group `i` (0-7) of an IPv6 address given as four 32-bit words. */
function group(w0: number, w1: number, w2: number, w3: number, i: number): number {
  const word = i < 2 ? w0 : i < 4 ? w1 : i < 6 ? w2 : w3;
  return (i & 1) === 0 ? word >>> 16 : word & 0xffff;
}
