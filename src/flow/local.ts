/**
 * Which addresses are "this host": the side a default-deny inbound policy protects. Given by the user as
 * addresses or CIDRs, or inferred by the pipeline from what the capture says; the report always says which and why.
 */
import { formatIpv6 } from '../address.js';

/** One local network: IPv4 as a 32-bit prefix, IPv6 as four words. */
interface Cidr {
  version: 4 | 6;
  words: [number, number, number, number];
  prefixBits: number;
  /** Per-word masks of the prefix and the masked words, computed once so matching is four ANDs. */
  masks: [number, number, number, number];
  prefixWords: [number, number, number, number];
}

/**
 * Where the local addresses came from, for the report. `host-addresses`: the live tail on this host, whose own
 * addresses are the protected side when the traffic shows them.
 */
export type LocalSource = 'option' | 'capture-direction' | 'denial-log' | 'most-flows' | 'host-addresses' | 'none';

/** The local side: a set of networks, plus how they were chosen. */
export class LocalSide {
  private readonly cidrs: Cidr[] = [];
  // The networks again as int32 masks and masked prefixes, per family: roleOf asks for every packet of every table,
  // and arrays of numbers above 2^31 (0xffffffff masks) were doubles compared through a loop over objects (issue 7).
  private readonly v4Masks: Int32Array;
  private readonly v4Prefixes: Int32Array;
  /** Four words per network. */
  private readonly v6Masks: Int32Array;
  private readonly v6Prefixes: Int32Array;

  constructor(
    readonly source: LocalSource,
    readonly reason: string,
    networks: readonly string[] = [],
  ) {
    for (const text of networks) this.cidrs.push(parseCidr(text));
    const v4 = this.cidrs.filter((c) => c.version === 4);
    const v6 = this.cidrs.filter((c) => c.version === 6);
    this.v4Masks = Int32Array.from(v4, (c) => c.masks[0]);
    this.v4Prefixes = Int32Array.from(v4, (c) => c.prefixWords[0]);
    this.v6Masks = Int32Array.from(v6.flatMap((c) => c.masks));
    this.v6Prefixes = Int32Array.from(v6.flatMap((c) => c.prefixWords));
  }

  /** The networks as text (`192.168.1.10`, `10.0.0.0/8`, `fe80::1`). */
  get networks(): string[] {
    return this.cidrs.map(formatCidr);
  }

  get isEmpty(): boolean {
    return this.cidrs.length === 0;
  }

  /** Whether an IPv4 address (32-bit, signed or unsigned) is local. Called for every packet: no allocation. */
  hasIpv4(addr: number): boolean {
    const masks = this.v4Masks;
    const prefixes = this.v4Prefixes;
    for (let i = 0; i < masks.length; i++) if ((addr & masks[i]!) === prefixes[i]) return true;
    return false;
  }

  /** Whether an IPv6 address (four 32-bit words) is local. Called for every packet: no allocation. */
  hasIpv6(w0: number, w1: number, w2: number, w3: number): boolean {
    const masks = this.v6Masks;
    const prefixes = this.v6Prefixes;
    for (let w = 0; w < masks.length; w += 4) {
      if (
        (w0 & masks[w]!) === prefixes[w] &&
        (w1 & masks[w + 1]!) === prefixes[w + 1] &&
        (w2 & masks[w + 2]!) === prefixes[w + 2] &&
        (w3 & masks[w + 3]!) === prefixes[w + 3]
      ) {
        return true;
      }
    }
    return false;
  }
}

/** A local network that does not parse (`--local 300.1.1.1`): bad input, one line for the user. */
export class LocalNetworkError extends Error {
  override readonly name = 'LocalNetworkError';
}

/** Parse `ADDR` or `ADDR/BITS`; throws LocalNetworkError with a one-line message naming the bad text. */
export function parseCidr(text: string): Cidr {
  const [addrText, bitsText] = text.trim().split('/');
  const isV6 = (addrText ?? '').includes(':');
  const words = isV6 ? parseIpv6Words(addrText ?? '') : parseIpv4Word(addrText ?? '');
  if (words === undefined) throw new LocalNetworkError(`'${text}' is not an IPv4 or IPv6 address or CIDR`);
  const maxBits = isV6 ? 128 : 32;
  const prefixBits = bitsText === undefined ? maxBits : Number(bitsText);
  if (!Number.isInteger(prefixBits) || prefixBits < 0 || prefixBits > maxBits || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
    throw new LocalNetworkError(`'${text}': prefix length must be 0..${maxBits}`);
  }
  const masks = [0, 1, 2, 3].map((i) => maskWord(prefixBits - 32 * i)) as [number, number, number, number];
  if (!isV6) masks[1] = masks[2] = masks[3] = 0;
  const prefixWords = words.map((w, i) => (w & masks[i]!) >>> 0) as [number, number, number, number];
  return { version: isV6 ? 6 : 4, words, prefixBits, masks, prefixWords };
}

/** The mask of one 32-bit word holding `bits` bits of a prefix (≤ 0: none; ≥ 32: all). */
function maskWord(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return ~(0xffffffff >>> bits) >>> 0;
}

function parseIpv4Word(text: string): [number, number, number, number] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  const value = parts.reduce((acc, p) => acc * 256 + Number(p), 0);
  return [value >>> 0, 0, 0, 0];
}

function parseIpv6Words(text: string): [number, number, number, number] | undefined {
  const zone = text.indexOf('%');
  const clean = zone >= 0 ? text.slice(0, zone) : text;
  const halves = clean.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIpv4Word(g);
        if (v4 === undefined) return undefined;
        groups.push(v4[0] >>> 16, v4[0] & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) groups.push(parseInt(g, 16));
      else return undefined;
    }
    return groups;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0) as [number, number, number, number];
}

function formatCidr(c: Cidr): string {
  let addr: string;
  if (c.version === 4) {
    const v = c.words[0];
    addr = `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  } else {
    const bytes = new Uint8Array(16);
    c.words.forEach((w, i) => new DataView(bytes.buffer).setUint32(i * 4, w));
    addr = formatIpv6(bytes, 0);
  }
  return c.prefixBits === (c.version === 4 ? 32 : 128) ? addr : `${addr}/${c.prefixBits}`;
}
