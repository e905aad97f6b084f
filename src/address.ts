/**
 * Address text, made only when something is reported (the hot path keeps offsets into the frame).
 * IPv6 follows RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups
 * compressed (the first one on a tie), and IPv4-mapped addresses in mixed notation (§5).
 */

/** Dotted quad of 4 bytes at `offset`. */
export function formatIpv4(data: Uint8Array, offset: number): string {
  return `${data[offset] ?? 0}.${data[offset + 1] ?? 0}.${data[offset + 2] ?? 0}.${data[offset + 3] ?? 0}`;
}

/** Dotted quad of an unsigned 32-bit number. */
export function formatIpv4Number(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** RFC 5952 text of 16 bytes at `offset`. */
export function formatIpv6(data: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((data[offset + 2 * i] ?? 0) << 8) | (data[offset + 2 * i + 1] ?? 0));
  // RFC 5952 §5: ::ffff:0:0/96 (IPv4-mapped) is written with the IPv4 part dotted.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(data, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Text of a 4- or 16-byte address at `offset`, by IP version. */
export function formatAddress(data: Uint8Array, offset: number, ipVersion: 4 | 6): string {
  return ipVersion === 4 ? formatIpv4(data, offset) : formatIpv6(data, offset);
}

/** `198.51.100.7:1194` / `[2001:db8::1]:53`: an endpoint as every report writes it. */
export function formatEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

const IPV6_MULTICAST_TEXT = /^ff[0-9a-f]{2}:/;

/**
 * Whether an address in text form is a group destination: IPv4 multicast (224.0.0.0/4), the limited broadcast, or
 * IPv6 multicast (ff00::/8). Such packets reach a host without being addressed to it.
 */
export function isGroupAddressText(addr: string): boolean {
  // RFC 5952 text has no leading zeros, so ff00::/8 is a first group of four digits starting "ff": "ff::1" is
  // 00ff::1 and "ff0::1" 0ff0::1, neither of them multicast.
  if (addr.includes(':')) return IPV6_MULTICAST_TEXT.test(addr);
  const first = Number(addr.split('.')[0]);
  return (first >= 224 && first <= 239) || addr === '255.255.255.255';
}
