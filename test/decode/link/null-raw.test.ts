/**
 * decodeNull / decodeLoop (BSD loopback) and decodeRaw / decodeIpv4Only / decodeIpv6Only (no link header),
 * including the OpenBSD DLT 12 = LOOP heuristic, with truncation sweeps.
 */
import { describe, expect, it } from 'vitest';
import { decodeLoop, decodeNull } from '../../../src/decode/link/null.js';
import { decodeIpv4Only, decodeIpv6Only, decodeRaw } from '../../../src/decode/link/raw.js';
import { concat, hex, IPV4_UDP_SAMPLE, IPV6_UDP_SAMPLE, makePacket, sweepPrefixes } from '../../helpers/bytes.js';

// LINKTYPE_NULL written by a little-endian host.
// tcpdump -nn -e: AF IPv4 (2), length 36: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const NULL_LE_V4 = concat(hex('02000000'), IPV4_UDP_SAMPLE);

// LINKTYPE_NULL written by a big-endian macOS host (AF_INET6 = 30).
// tcpdump -nn -e: AF IPv6 (30), length 56: 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const NULL_BE_V6 = concat(hex('0000001e'), IPV6_UDP_SAMPLE);

// LINKTYPE_LOOP (OpenBSD, AF_INET6 = 24, always big-endian).
// tcpdump -nn -e: AF IPv6 (24), length 56: 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const LOOP_V6 = concat(hex('00000018'), IPV6_UDP_SAMPLE);

describe('decodeNull', () => {
  it('reads a little-endian family', () => {
    const pkt = makePacket(NULL_LE_V4, { guard: true });
    expect(decodeNull(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x0800);
  });

  it('byte-swaps when the upper 16 bits are set (tcpdump print-null.c)', () => {
    const pkt = makePacket(NULL_BE_V6, { guard: true });
    expect(decodeNull(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x86dd);
  });

  it.each([24, 28, 30])('maps AF %i to IPv6', (family) => {
    const pkt = makePacket(concat(Uint8Array.of(family, 0, 0, 0), IPV6_UDP_SAMPLE), { guard: true });
    expect(decodeNull(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x86dd);
  });

  it('reports other families as unsupported', () => {
    // tcpdump -nn -e: AF OSI (7), length …
    const pkt = makePacket(concat(hex('07000000'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'null-unknown-family', layer: 'null', detail: 'address family 7' });
  });

  // The next three are "AF Unknown" to tcpdump; tshark decodes them (Wireshark packet-null.c), and so do we.
  it('takes 00 00 08 00 (old Linux libpcap loopback) as ethertype IPv4', () => {
    const pkt = makePacket(concat(hex('00000800'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x0800);
  });

  it('takes a value above 1500 by its low 16 bits (pcapplusplus null_loopback.pcap frame 3: 0f 00 08 00)', () => {
    // tcpdump -nn -e: AF Unknown (251660288), length 397:   · tshark: Null/Loopback Type: IPv4 (0x0800)
    const pkt = makePacket(concat(hex('0f000800'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x0800);
  });

  it('reads IRIX / UNICOS/mp headers (2-byte big-endian family, 2 zero bytes)', () => {
    const pkt = makePacket(concat(hex('00020000'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x0800);
    // Read in the other order (Wireshark only recognises families < 6 in this form).
    const swapped = makePacket(concat(hex('00000200'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(swapped, 0)).toBe(4);
    expect(swapped.nextEtherType).toBe(0x0800);
  });

  it('refuses PPP-in-HDLC (ff 03) and small non-ethertype values', () => {
    const ppp = makePacket(concat(hex('ff030021'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(ppp, 0)).toBe(-1);
    expect(ppp.issue).toMatchObject({ kind: 'unsupported', code: 'null-unknown-family' });
    const small = makePacket(concat(hex('00000001'), IPV4_UDP_SAMPLE), { guard: true });
    expect(decodeNull(small, 0)).toBe(-1);
    expect(small.issue).toMatchObject({ kind: 'unsupported', code: 'null-unknown-family' });
  });

  it('truncation sweep', () => {
    for (const o of sweepPrefixes(decodeNull, NULL_LE_V4, 4)) {
      expect(o.thrown).toBeUndefined();
      expect(o.result).toBe(-1);
      expect(o.pkt.issue).toMatchObject({ kind: 'truncated', code: 'null-truncated', requiredBytes: 4, availableBytes: o.n });
    }
  });
});

describe('decodeLoop', () => {
  it('reads a big-endian family', () => {
    const pkt = makePacket(LOOP_V6, { guard: true });
    expect(decodeLoop(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x86dd);
  });

  it('does not byte-swap: a little-endian family is unknown', () => {
    const pkt = makePacket(NULL_LE_V4, { guard: true });
    expect(decodeLoop(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'null-unknown-family' });
  });

  it('truncation sweep', () => {
    for (const o of sweepPrefixes(decodeLoop, LOOP_V6, 4)) {
      expect(o.thrown).toBeUndefined();
      expect(o.result).toBe(-1);
      expect(o.pkt.issue?.kind).toBe('truncated');
    }
  });
});

describe('decodeRaw', () => {
  // tcpdump -nn -e (LINKTYPE_RAW): ip: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
  it('picks IPv4 by the version nibble', () => {
    const pkt = makePacket(IPV4_UDP_SAMPLE, { guard: true });
    expect(decodeRaw(pkt, 0)).toBe(0);
    expect(pkt.nextEtherType).toBe(0x0800);
  });

  // tcpdump -nn -e (LINKTYPE_RAW): ip: 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
  it('picks IPv6 by the version nibble', () => {
    const pkt = makePacket(IPV6_UDP_SAMPLE, { guard: true });
    expect(decodeRaw(pkt, 0)).toBe(0);
    expect(pkt.nextEtherType).toBe(0x86dd);
  });

  it('rejects other versions as invalid', () => {
    const pkt = makePacket(hex('5500 0000'), { guard: true });
    expect(decodeRaw(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'raw-unknown-ip-version', layer: 'link' });
  });

  it('decodes an OpenBSD DLT_LOOP header written as linktype 12', () => {
    // tcpdump on OpenBSD (DLT 12 = DLT_LOOP): AF IPv6 (24), length 56: 2001:db8::1.5000 > 2001:db8::2.1194: …
    const pkt = makePacket(LOOP_V6, { guard: true, linktype: 12 });
    expect(decodeRaw(pkt, 0)).toBe(4);
    expect(pkt.nextEtherType).toBe(0x86dd);
    const v4 = makePacket(concat(hex('00000002'), IPV4_UDP_SAMPLE), { guard: true, linktype: 12 });
    expect(decodeRaw(v4, 0)).toBe(4);
    expect(v4.nextEtherType).toBe(0x0800);
  });

  it('does not take 00 00 00 07 for a loopback header', () => {
    const pkt = makePacket(hex('0000 0007 4500'), { guard: true, linktype: 12 });
    expect(decodeRaw(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'raw-unknown-ip-version' });
  });

  it('truncation sweep: empty input, and a loopback header cut short', () => {
    for (const o of [...sweepPrefixes(decodeRaw, IPV4_UDP_SAMPLE, 1), ...sweepPrefixes(decodeRaw, LOOP_V6, 4)]) {
      expect(o.thrown).toBeUndefined();
      expect(o.result).toBe(-1);
      expect(o.pkt.issue).toMatchObject({ kind: 'truncated', code: 'raw-truncated' });
    }
  });
});

describe('decodeIpv4Only / decodeIpv6Only', () => {
  it('accept their own version', () => {
    const v4 = makePacket(IPV4_UDP_SAMPLE, { guard: true });
    expect(decodeIpv4Only(v4, 0)).toBe(0);
    expect(v4.nextEtherType).toBe(0x0800);
    const v6 = makePacket(IPV6_UDP_SAMPLE, { guard: true });
    expect(decodeIpv6Only(v6, 0)).toBe(0);
    expect(v6.nextEtherType).toBe(0x86dd);
  });

  it('refuse the other version', () => {
    const v4 = makePacket(IPV6_UDP_SAMPLE, { guard: true });
    expect(decodeIpv4Only(v4, 0)).toBe(-1);
    expect(v4.issue).toMatchObject({ kind: 'invalid', code: 'raw-ip-version-mismatch' });
    const v6 = makePacket(IPV4_UDP_SAMPLE, { guard: true });
    expect(decodeIpv6Only(v6, 0)).toBe(-1);
    expect(v6.issue).toMatchObject({ kind: 'invalid', code: 'raw-ip-version-mismatch' });
  });

  it('truncation sweep', () => {
    for (const o of [...sweepPrefixes(decodeIpv4Only, IPV4_UDP_SAMPLE, 1), ...sweepPrefixes(decodeIpv6Only, IPV6_UDP_SAMPLE, 1)]) {
      expect(o.thrown).toBeUndefined();
      expect(o.result).toBe(-1);
      expect(o.pkt.issue).toMatchObject({ kind: 'truncated', code: 'raw-truncated' });
    }
  });
});
