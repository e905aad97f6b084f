/**
 * Hand-built capture byte vectors for the capture tests: classic pcap files (any magic, byte order, version,
 * record-header size) and pcapng blocks (formats.md §1, §2), plus helpers that collect records as plain data.
 */
import type { CaptureRecord } from '../../src/types.js';
import { createCaptureParser } from '../../src/capture/index.js';
import type { CaptureSummary } from '../../src/capture/index.js';

/** A growable little/big-endian byte writer. */
export class ByteWriter {
  private bytes: number[] = [];
  constructor(private readonly littleEndian: boolean) {}

  u8(value: number): this {
    this.bytes.push(value & 0xff);
    return this;
  }

  u16(value: number): this {
    const b = [value & 0xff, (value >>> 8) & 0xff];
    this.bytes.push(...(this.littleEndian ? b : b.reverse()));
    return this;
  }

  u32(value: number): this {
    const b = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
    this.bytes.push(...(this.littleEndian ? b : b.reverse()));
    return this;
  }

  i64(value: bigint): this {
    const unsigned = BigInt.asUintN(64, value);
    const high = Number(unsigned >> 32n);
    const low = Number(unsigned & 0xffffffffn);
    return this.littleEndian ? this.u32(low).u32(high) : this.u32(high).u32(low);
  }

  raw(data: ArrayLike<number>): this {
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]! & 0xff);
    return this;
  }

  /** Zero bytes up to a multiple of 4. */
  pad4(): this {
    while (this.bytes.length % 4 !== 0) this.bytes.push(0);
    return this;
  }

  get length(): number {
    return this.bytes.length;
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Packet bytes 0, 1, 2, … (mod 256), offset by `seed` so packets differ. */
export function packetBytes(lengthBytes: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: lengthBytes }, (_, i) => (i + seed) & 0xff);
}

// ---------------------------------------------------------------- classic pcap

export interface PcapRecordSpec {
  tsSec: number;
  tsFrac: number;
  data: Uint8Array;
  /** caplen field as written (default data.length). */
  capLenField?: number;
  /** orig_len field as written (default data.length). */
  origLenField?: number;
  /** Bytes appended to the 16-byte header (Kuznetzov variants). */
  extraHeader?: Uint8Array;
}

export interface PcapFileSpec {
  magic?: number;
  littleEndian?: boolean;
  versionMajor?: number;
  versionMinor?: number;
  snaplenBytes?: number;
  linktypeField?: number;
  records?: PcapRecordSpec[];
}

/** A classic pcap file (formats.md §1.1, §1.5). */
export function pcapFile(spec: PcapFileSpec = {}): Uint8Array {
  const w = new ByteWriter(spec.littleEndian ?? true);
  w.u32(spec.magic ?? 0xa1b2c3d4)
    .u16(spec.versionMajor ?? 2)
    .u16(spec.versionMinor ?? 4)
    .u32(0)
    .u32(0)
    .u32(spec.snaplenBytes ?? 65535)
    .u32(spec.linktypeField ?? 1);
  for (const r of spec.records ?? []) {
    w.u32(r.tsSec)
      .u32(r.tsFrac)
      .u32(r.capLenField ?? r.data.length)
      .u32(r.origLenField ?? r.data.length);
    if (r.extraHeader) w.raw(r.extraHeader);
    w.raw(r.data);
  }
  return w.toBytes();
}

// ---------------------------------------------------------------- pcapng

export interface OptionSpec {
  code: number;
  value: Uint8Array;
}

/** An option with a u32 value in the section's byte order. */
export function optU32(code: number, value: number, littleEndian: boolean): OptionSpec {
  return { code, value: new ByteWriter(littleEndian).u32(value).toBytes() };
}

/** An option with a one-byte value. */
export function optU8(code: number, value: number): OptionSpec {
  return { code, value: Uint8Array.of(value) };
}

/** An option with a UTF-8 string value. */
export function optString(code: number, text: string): OptionSpec {
  return { code, value: new TextEncoder().encode(text) };
}

/** An option with a signed 64-bit value. */
export function optI64(code: number, value: bigint, littleEndian: boolean): OptionSpec {
  return { code, value: new ByteWriter(littleEndian).i64(value).toBytes() };
}

function writeOptions(w: ByteWriter, options: OptionSpec[], endOfOpt: boolean): void {
  for (const o of options) {
    w.u16(o.code).u16(o.value.length).raw(o.value).pad4();
  }
  if (endOfOpt && options.length > 0) w.u16(0).u16(0);
}

/** A generic block `[type][len][body pad4][len]`; `trailerOverride` writes a wrong trailing length. */
export function block(type: number, body: Uint8Array, littleEndian: boolean, trailerOverride?: number): Uint8Array {
  const padded = new ByteWriter(littleEndian).raw(body).pad4().toBytes();
  const totalBytes = 12 + padded.length;
  return new ByteWriter(littleEndian)
    .u32(type)
    .u32(totalBytes)
    .raw(padded)
    .u32(trailerOverride ?? totalBytes)
    .toBytes();
}

export function shb(
  littleEndian: boolean,
  opts: { major?: number; minor?: number; options?: OptionSpec[] } = {},
): Uint8Array {
  const w = new ByteWriter(littleEndian)
    .u32(0x1a2b3c4d)
    .u16(opts.major ?? 1)
    .u16(opts.minor ?? 0)
    .i64(-1n);
  writeOptions(w, opts.options ?? [], true);
  return block(0x0a0d0d0a, w.toBytes(), littleEndian);
}

export function idb(littleEndian: boolean, linktype: number, snaplenBytes: number, options: OptionSpec[] = []): Uint8Array {
  const w = new ByteWriter(littleEndian).u16(linktype).u16(0).u32(snaplenBytes);
  writeOptions(w, options, true);
  return block(1, w.toBytes(), littleEndian);
}

export interface EpbSpec {
  interfaceId?: number;
  /** 64-bit timestamp in the interface's units. */
  ts: bigint;
  data: Uint8Array;
  origLenBytes?: number;
  capLenField?: number;
  options?: OptionSpec[];
}

export function epb(littleEndian: boolean, spec: EpbSpec): Uint8Array {
  const w = new ByteWriter(littleEndian)
    .u32(spec.interfaceId ?? 0)
    .u32(Number(spec.ts >> 32n))
    .u32(Number(spec.ts & 0xffffffffn))
    .u32(spec.capLenField ?? spec.data.length)
    .u32(spec.origLenBytes ?? spec.data.length)
    .raw(spec.data)
    .pad4();
  writeOptions(w, spec.options ?? [], true);
  return block(6, w.toBytes(), littleEndian);
}

/** Obsolete Packet Block (formats.md §2.6). */
export function pb(littleEndian: boolean, spec: EpbSpec): Uint8Array {
  const w = new ByteWriter(littleEndian)
    .u16(spec.interfaceId ?? 0)
    .u16(0xffff)
    .u32(Number(spec.ts >> 32n))
    .u32(Number(spec.ts & 0xffffffffn))
    .u32(spec.data.length)
    .u32(spec.origLenBytes ?? spec.data.length)
    .raw(spec.data)
    .pad4();
  writeOptions(w, spec.options ?? [], true);
  return block(2, w.toBytes(), littleEndian);
}

export function spb(littleEndian: boolean, origLenBytes: number, data: Uint8Array): Uint8Array {
  return block(3, new ByteWriter(littleEndian).u32(origLenBytes).raw(data).toBytes(), littleEndian);
}

/** Apple process-information block 0x80000001 (formats.md §3.6). */
export function pib(littleEndian: boolean, pid: number, name?: string, path?: string): Uint8Array {
  const w = new ByteWriter(littleEndian).u32(pid);
  const options: OptionSpec[] = [];
  if (name !== undefined) options.push(optString(2, name));
  if (path !== undefined) options.push(optString(3, path));
  options.push({ code: 4, value: new Uint8Array(16).fill(0xab) });
  writeOptions(w, options, true);
  return block(0x80000001, w.toBytes(), littleEndian);
}

// ---------------------------------------------------------------- reading

/** A record copied out of the reused object (data copied too; where it sat in the reader's buffer left out). */
export type RecordCopy = Omit<CaptureRecord, 'data' | 'buffer' | 'dataOffset'> & { data: number[] };

export function copyRecord(rec: CaptureRecord): RecordCopy {
  const { buffer: _buffer, dataOffset: _dataOffset, ...fields } = rec;
  return { ...fields, data: Array.from(rec.data) };
}

/** Parses `bytes` in one push and returns the copied records and the summary. */
export function parseAll(bytes: Uint8Array, chunkSizes?: () => number): { records: RecordCopy[]; summary: CaptureSummary } {
  const records: RecordCopy[] = [];
  const parser = createCaptureParser((rec) => records.push(copyRecord(rec)));
  if (chunkSizes === undefined) {
    parser.push(bytes);
  } else {
    for (let at = 0; at < bytes.length; ) {
      const n = Math.max(1, chunkSizes());
      parser.push(bytes.subarray(at, at + n));
      at += n;
    }
  }
  return { records, summary: parser.end() };
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
