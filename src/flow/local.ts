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
}

/** Where the local addresses came from, for the report. */
export type LocalSource = 'option' | 'capture-direction' | 'denial-log' | 'most-flows' | 'none';

/** The local side: a set of networks, plus how they were chosen. */
export class LocalSide {
  private readonly cidrs: Cidr[] = [];

  constructor(
    readonly source: LocalSource,
    readonly reason: string,
    networks: readonly string[] = [],
  ) {
    for (const text of networks) this.cidrs.push(parseCidr(text));
  }

  /** The networks as text (`192.168.1.10`, `10.0.0.0/8`, `fe80::1`). */
  get networks(): string[] {
    return this.cidrs.map(formatCidr);
  }

  get isEmpty(): boolean {
    return this.cidrs.length === 0;
  }

  /** Whether an IPv4 address (unsigned 32-bit) is local. */
  hasIpv4(addr: number): boolean {
    for (const c of this.cidrs) {
      if (c.version !== 4) continue;
      if (c.prefixBits === 0) return true;
      const mask = c.prefixBits === 32 ? 0xffffffff : ~(0xffffffff >>> c.prefixBits) >>> 0;
      if (((addr & mask) >>> 0) === ((c.words[0] & mask) >>> 0)) return true;
    }
    return false;
  }

  /** Whether an IPv6 address (four 32-bit words) is local. */
  hasIpv6(w0: number, w1: number, w2: number, w3: number): boolean {
    const words = [w0, w1, w2, w3];
    for (const c of this.cidrs) {
      if (c.version !== 6) continue;
      let bits = c.prefixBits;
      let match = true;
      for (let i = 0; i < 4 && bits > 0; i++, bits -= 32) {
        const take = Math.min(bits, 32);
        const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
        if ((((words[i] ?? 0) & mask) >>> 0) !== (((c.words[i] ?? 0) & mask) >>> 0)) {
          match = false;
          break;
        }
      }
      if (match) return true;
    }
    return false;
  }
}

/** Parse `ADDR` or `ADDR/BITS`; throws with a one-line message naming the bad text. */
export function parseCidr(text: string): Cidr {
  const [addrText, bitsText] = text.trim().split('/');
  const isV6 = (addrText ?? '').includes(':');
  const words = isV6 ? parseIpv6Words(addrText ?? '') : parseIpv4Word(addrText ?? '');
  if (words === undefined) throw new Error(`'${text}' is not an IPv4 or IPv6 address or CIDR`);
  const maxBits = isV6 ? 128 : 32;
  const prefixBits = bitsText === undefined ? maxBits : Number(bitsText);
  if (!Number.isInteger(prefixBits) || prefixBits < 0 || prefixBits > maxBits || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
    throw new Error(`'${text}': prefix length must be 0..${maxBits}`);
  }
  return { version: isV6 ? 6 : 4, words, prefixBits };
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
