/**
 * Byte-vector helpers for decoder unit tests: hex literals in, ready-to-decode packets out.
 */
import {
  createCaptureRecord,
  createDecodedPacket,
  resetDecodedPacket,
  type MutableDecodedPacket,
} from '../../src/decode/decoded-packet.js';

/**
 * Bytes from a hex string; whitespace, newlines and `|` separators are ignored so vectors can be laid out by field
 * (`hex('0800 | 45 00')`). Throws on an odd digit count or a non-hex character — a typo in a vector is a test bug.
 */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/[\s|]+/g, '');
  if (digits.length % 2 !== 0) throw new Error(`hex(): odd number of digits (${digits.length})`);
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new Error(`hex(): non-hex character in ${JSON.stringify(text)}`);
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Options for {@link makePacket}. */
export interface MakePacketOptions {
  /**
   * Length of the packet on the wire (record.origLenBytes). Defaults to `bytes.length`; pass the full length when
   * `bytes` is a prefix, so the packet looks cut by a snaplen (truncated) rather than malformed.
   */
  origLen?: number;
  /** record.linktype (default 0). */
  linktype?: number;
  /** record.frame (default 1). */
  frame?: number;
  /** Wrap the bytes with {@link guardBytes} so any read outside [0, length) throws (default false). */
  guard?: boolean;
}

/** A MutableDecodedPacket over `bytes`, reset as the pipeline does before decoding a record. */
export function makePacket(bytes: Uint8Array, options: MakePacketOptions = {}): MutableDecodedPacket {
  const record = createCaptureRecord();
  record.frame = options.frame ?? 1;
  record.linktype = options.linktype ?? 0;
  record.data = options.guard === true ? guardBytes(bytes) : bytes;
  record.capLenBytes = bytes.length;
  record.origLenBytes = options.origLen ?? bytes.length;
  const pkt = createDecodedPacket();
  resetDecodedPacket(pkt, record);
  return pkt;
}

/** Concatenate byte vectors (a link header + an inner packet, …). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A view of `bytes` that throws on any index read outside [0, length) — or at a non-integer index such as NaN —
 * instead of silently yielding undefined as typed arrays do. Decoders read `data[i]` and `data.length` only, so
 * they run unchanged on it; tests use it to prove every read was bounds-checked first.
 */
export function guardBytes(bytes: Uint8Array): Uint8Array {
  return new Proxy(bytes, {
    get(target, prop) {
      if (typeof prop === 'string') {
        const index = Number(prop);
        if (prop === 'NaN' || (prop !== '' && !Number.isNaN(index) && prop.trim() === prop)) {
          if (!Number.isInteger(index) || index < 0 || index >= target.length) {
            throw new RangeError(`read at index ${prop} outside [0, ${target.length})`);
          }
          return target[index];
        }
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A link decoder's shape (src/decode/link/*). */
export type LinkDecoderFn = (pkt: MutableDecodedPacket, offset: number) => number;

/** Outcome of decoding one prefix in {@link sweepPrefixes}. */
export interface PrefixOutcome {
  /** Prefix length. */
  n: number;
  /** Decoder result, or undefined when it threw. */
  result: number | undefined;
  /** What it threw, if anything. */
  thrown: unknown;
  pkt: MutableDecodedPacket;
}

/**
 * Decode every prefix `good.subarray(0, n)` for n in [0, upTo) with bounds-guarded bytes and the full length as
 * the wire length (a snaplen cut), catching throws so the test can assert on them.
 */
export function sweepPrefixes(decode: LinkDecoderFn, good: Uint8Array, upTo: number): PrefixOutcome[] {
  const outcomes: PrefixOutcome[] = [];
  for (let n = 0; n < upTo; n++) {
    const pkt = makePacket(good.subarray(0, n), { origLen: good.length, guard: true });
    let result: number | undefined;
    let thrown: unknown;
    try {
      result = decode(pkt, 0);
    } catch (error) {
      thrown = error;
    }
    outcomes.push({ n, result, thrown, pkt });
  }
  return outcomes;
}

/** IPv4/UDP sample for wrapping in link headers: `192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4` (32 bytes). */
export const IPV4_UDP_SAMPLE = hex(`
  4500 0020 1234 0000 4011 7c62 c000 0201 c633 6402
  1388 04aa 000c 36a6 6162 6364`);

/** IPv6/UDP sample: `2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4` (52 bytes). */
export const IPV6_UDP_SAMPLE = hex(`
  6000 0000 000c 1140 2001 0db8 0000 0000 0000 0000 0000 0001
  2001 0db8 0000 0000 0000 0000 0000 0002
  1388 04aa 000c c768 6162 6364`);
