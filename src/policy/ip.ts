/**
 * Address arithmetic for rule sets: an address or network as a family and a 128-bit-wide integer, so that a rule's
 * `fe80::/10` and a logged packet's `fe80::1c2b:3ff:fe4a:1` compare with one shift. Rule sets are small, so BigInt
 * is plenty; the packet hot path never comes here.
 */
import { formatIpv4Number, formatIpv6 } from '../address.js';

/** An IPv4 or IPv6 network (a host is a network with a full-length prefix). */
export interface IpNet {
  af: 4 | 6;
  /** The address as an unsigned integer (32 or 128 bits wide), host bits as written. */
  value: bigint;
  prefixBits: number;
}

const V4_BITS = 32;
const V6_BITS = 128;

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(text: string): bigint | undefined {
  // A zone (`fe80::1%en0`) names the link, not the address: pf compares the address.
  const zone = text.indexOf('%');
  const clean = zone >= 0 ? text.slice(0, zone) : text;
  const halves = clean.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string, last: boolean): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const g = parts[i]!;
      if (g.includes('.') && last && i === parts.length - 1) {
        const v4 = parseV4(g); // RFC 4291 §2.2 item 3: dotted quad in the last 32 bits
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groupsOf(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0 || (halves.length === 2 && fill < 1)) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail].reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parse an address (`192.0.2.1`, `fe80::1`) to a full-length network; undefined when it is not one. */
export function parseIp(text: string): IpNet | undefined {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { af: 6, value, prefixBits: V6_BITS };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { af: 4, value, prefixBits: V4_BITS };
}

/** Parse `ADDR` or `ADDR/BITS`; undefined when the text is neither. */
export function parseNet(text: string): IpNet | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) return undefined;
  if (slash < 0) return addr;
  const bitsText = text.slice(slash + 1);
  const maxBits = addr.af === 4 ? V4_BITS : V6_BITS;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > maxBits) return undefined;
  return { ...addr, prefixBits: Number(bitsText) };
}

/** Whether `net` contains the address `addr` (same family, same leading prefix bits). */
export function netContains(net: IpNet, addr: IpNet): boolean {
  if (net.af !== addr.af) return false;
  const width = BigInt(net.af === 4 ? V4_BITS : V6_BITS);
  const hostBits = width - BigInt(net.prefixBits);
  return net.value >> hostBits === addr.value >> hostBits;
}

/** Whether every address of `inner` lies in `outer`. */
export function netCovers(outer: IpNet, inner: IpNet): boolean {
  return outer.af === inner.af && outer.prefixBits <= inner.prefixBits && netContains(outer, inner);
}

/** Text of a network: the address in RFC 5952 / dotted form (address.ts, as every report), `/bits` unless a host. */
export function formatNet(net: IpNet): string {
  const full = net.af === 4 ? V4_BITS : V6_BITS;
  let text: string;
  if (net.af === 4) {
    text = formatIpv4Number(Number(net.value));
  } else {
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = Number((net.value >> BigInt((15 - i) * 8)) & 0xffn);
    text = formatIpv6(bytes, 0);
  }
  return net.prefixBits === full ? text : `${text}/${net.prefixBits}`;
}

/** The network of `addr` with `prefixBits` (host bits cleared). */
export function networkOf(addr: IpNet, prefixBits: number): IpNet {
  const width = BigInt(addr.af === 4 ? V4_BITS : V6_BITS);
  const hostBits = width - BigInt(prefixBits);
  return { af: addr.af, value: (addr.value >> hostBits) << hostBits, prefixBits };
}

/** The broadcast address of `addr`'s IPv4 network of `prefixBits` (all host bits set). */
export function broadcastOf(addr: IpNet, prefixBits: number): IpNet {
  const hostBits = BigInt(V4_BITS - prefixBits);
  return { af: 4, value: ((addr.value >> hostBits) << hostBits) | ((1n << hostBits) - 1n), prefixBits: V4_BITS };
}

/** Well-known scopes of the addresses that matter to a kill switch (RFC 4291 §2.4–2.7, RFC 5771, RFC 919). */
export const NETS = {
  v4Broadcast: parseNet('255.255.255.255')!,
  v4Unspecified: parseNet('0.0.0.0')!,
  v4LinkLocalMulticast: parseNet('224.0.0.0/24')!,
  v4Multicast: parseNet('224.0.0.0/4')!,
  v6Unspecified: parseNet('::')!,
  v6LinkLocal: parseNet('fe80::/10')!,
  v6Multicast: parseNet('ff00::/8')!,
  v6LinkScopeMulticast: parseNet('ff02::/16')!,
  v6SolicitedNode: parseNet('ff02::1:ff00:0/104')!,
} as const;
