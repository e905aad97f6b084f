/**
 * IPv4, IPv6, UDP and ICMP decoders on byte vectors built with fixtures/writer.ts (checked against tcpdump when
 * written), each with a truncation sweep: every prefix decodes without throwing and reports `truncated`.
 */
import { describe, expect, it } from 'vitest';
import { formatIpv6, formatIpv4, isGroupAddressText } from '../../../src/address.js';
import { createCaptureRecord, createDecodedPacket, resetDecodedPacket, type MutableDecodedPacket } from '../../../src/decode/decoded-packet.js';
import { FragmentAttributor } from '../../../src/decode/fragments.js';
import { decodeIpv4 } from '../../../src/decode/net/ipv4.js';
import { decodeIpv6 } from '../../../src/decode/net/ipv6.js';
import { decodeIcmp4, decodeIcmp6 } from '../../../src/decode/transport/icmp.js';
import { decodeUdp } from '../../../src/decode/transport/udp.js';
import { addressBytes, concat, ipUdp } from '../../../fixtures/writer.js';

function packetOf(bytes: Uint8Array, capLen = bytes.length): MutableDecodedPacket {
  const record = createCaptureRecord();
  record.data = bytes.subarray(0, capLen);
  record.capLenBytes = capLen;
  record.origLenBytes = bytes.length;
  const pkt = createDecodedPacket();
  resetDecodedPacket(pkt, record);
  return pkt;
}

/** Decode an IP packet at offset 0 down to UDP/ICMP like the chain does. */
function decodeIp(bytes: Uint8Array, capLen = bytes.length): MutableDecodedPacket {
  const pkt = packetOf(bytes, capLen);
  const next = (bytes[0]! >> 4) === 6 ? decodeIpv6(pkt, 0) : decodeIpv4(pkt, 0);
  if (next < 0 || (pkt.isFragment && pkt.fragmentOffsetBytes !== 0)) return pkt;
  if (pkt.ipProto === 17) decodeUdp(pkt, next);
  else if (pkt.ipProto === 1) decodeIcmp4(pkt, next);
  else if (pkt.ipProto === 58) decodeIcmp6(pkt, next);
  return pkt;
}

// tcpdump -nn: IP 192.168.1.10.51234 > 198.51.100.7.1194: UDP, length 14
const V4_UDP = ipUdp({ src: '192.168.1.10', dst: '198.51.100.7', sport: 51234, dport: 1194, payload: new Uint8Array(14).fill(0x38) });
// tcpdump -nn: IP6 fe80::1c2b:3ff:fe4a:1.5353 > ff02::fb.5353: UDP, length 12
const V6_UDP = ipUdp({ src: 'fe80::1c2b:3ff:fe4a:1', dst: 'ff02::fb', sport: 5353, dport: 5353, payload: new Uint8Array(12) });

describe('IPv4 + UDP', () => {
  it('decodes the 5-tuple and lengths', () => {
    const pkt = decodeIp(V4_UDP);
    expect(pkt.issue).toBeNull();
    expect(pkt.ipVersion).toBe(4);
    expect(formatIpv4(pkt.data, pkt.srcAddrOffset)).toBe('192.168.1.10');
    expect(pkt.dst4).toBe(0xc6336407);
    expect([pkt.ipProto, pkt.srcPort, pkt.dstPort, pkt.udpLenBytes, pkt.payloadLenBytes]).toEqual([17, 51234, 1194, 22, 14]);
    expect(pkt.payloadOffset).toBe(28);
  });

  it('trims Ethernet padding with the total length', () => {
    const pkt = decodeIp(concat(V4_UDP, new Uint8Array(10)));
    expect(pkt.issue).toBeNull();
    expect(pkt.netEnd).toBe(V4_UDP.length);
    expect(pkt.payloadLenBytes).toBe(14);
  });

  it('skips IPv4 options (IHL 6)', () => {
    const withOptions = concat(Uint8Array.of(0x46), V4_UDP.subarray(1, 20), Uint8Array.of(1, 1, 1, 0), V4_UDP.subarray(20));
    new DataView(withOptions.buffer).setUint16(2, withOptions.length);
    const pkt = decodeIp(withOptions);
    expect(pkt.issue).toBeNull();
    expect(pkt.srcPort).toBe(51234);
  });

  it('reports IHL < 5 and a bad version as invalid', () => {
    const bad = V4_UDP.slice();
    bad[0] = 0x43;
    expect(decodeIp(bad).issue).toMatchObject({ kind: 'invalid', code: 'ipv4-ihl-lt-5', layer: 'ipv4', offset: 0 });
    bad[0] = 0x55;
    expect(decodeIp(bad).issue).toMatchObject({ kind: 'invalid', code: 'ipv4-bad-version' });
  });

  it('reports a UDP length below 8 and beyond the IP payload as invalid, keeping the ports', () => {
    const short = V4_UDP.slice();
    new DataView(short.buffer).setUint16(24, 7);
    const pkt = decodeIp(short);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'udp-length-lt-header', offset: 24 });
    expect([pkt.hasUdp, pkt.srcPort]).toEqual([true, 51234]);
    const long = V4_UDP.slice();
    new DataView(long.buffer).setUint16(24, 200);
    expect(decodeIp(long).issue).toMatchObject({ kind: 'invalid', code: 'udp-length-gt-ip-payload' });
  });

  it('keeps the ports of a datagram cut by the snap length and says it was truncated', () => {
    const pkt = decodeIp(V4_UDP, 30);
    expect(pkt.issue).toMatchObject({ kind: 'truncated', code: 'udp-payload-truncated', requiredBytes: 22, availableBytes: 10 });
    expect([pkt.hasUdp, pkt.srcPort, pkt.dstPort, pkt.payloadLenBytes]).toEqual([true, 51234, 1194, 2]);
  });

  it('truncation sweep: every prefix decodes without throwing and reports truncated', () => {
    for (let n = 0; n < V4_UDP.length; n++) {
      const pkt = decodeIp(V4_UDP.subarray(0, n));
      expect(pkt.issue?.kind, `prefix ${n}`).toBe('truncated');
      if (n >= 24) expect(pkt.srcPort).toBe(51234);
    }
  });
});

describe('IPv6 + UDP', () => {
  it('decodes the 5-tuple', () => {
    const pkt = decodeIp(V6_UDP);
    expect(pkt.issue).toBeNull();
    expect(formatIpv6(pkt.data, pkt.srcAddrOffset)).toBe('fe80::1c2b:3ff:fe4a:1');
    expect(formatIpv6(pkt.data, pkt.dstAddrOffset)).toBe('ff02::fb');
    expect([pkt.ipProto, pkt.srcPort, pkt.dstPort, pkt.payloadLenBytes]).toEqual([17, 5353, 5353, 12]);
  });

  it('walks hop-by-hop, routing and destination-options headers to UDP', () => {
    const udp = V6_UDP.subarray(40);
    const hbh = Uint8Array.of(43, 0, 1, 4, 0, 0, 0, 0); // next: routing, 8 bytes, PadN
    const routing = Uint8Array.of(60, 2, 0, 0, 0, 0, 0, 0, ...addressBytes('2001:db8::1')); // next: dstopts, 24 bytes
    const dstopts = Uint8Array.of(17, 0, 1, 4, 0, 0, 0, 0);
    const header = V6_UDP.slice(0, 40);
    header[6] = 0;
    const payload = concat(hbh, routing, dstopts, udp);
    new DataView(header.buffer).setUint16(4, payload.length);
    const pkt = decodeIp(concat(header, payload));
    expect(pkt.issue).toBeNull();
    expect([pkt.ipProto, pkt.srcPort, pkt.payloadOffset]).toEqual([17, 5353, 40 + 8 + 24 + 8 + 8]);
  });

  it('reads the fragment header: first fragment has ports, a later one does not', () => {
    const header = V6_UDP.slice(0, 40);
    header[6] = 44;
    const first = concat(header, Uint8Array.of(17, 0, 0x00, 0x01, 0, 0, 0x12, 0x34), V6_UDP.subarray(40));
    new DataView(first.buffer).setUint16(4, first.length - 40);
    const pkt = decodeIp(first);
    expect([pkt.isFragment, pkt.fragmentOffsetBytes, pkt.moreFragments, pkt.fragmentId, pkt.srcPort]).toEqual([true, 0, true, 0x1234, 5353]);
    // udp length 20 > the 20 bytes present? equal: valid first fragment (length describes the whole datagram)
    const later = concat(header, Uint8Array.of(17, 0, 0x00, 0xb0, 0, 0, 0x12, 0x34), new Uint8Array(16));
    new DataView(later.buffer).setUint16(4, later.length - 40);
    const pkt2 = decodeIp(later);
    expect([pkt2.isFragment, pkt2.fragmentOffsetBytes, pkt2.moreFragments, pkt2.hasUdp, pkt2.issue]).toEqual([true, 176, false, false, null]);
  });

  it('truncation sweep', () => {
    for (let n = 0; n < V6_UDP.length; n++) {
      expect(decodeIp(V6_UDP.subarray(0, n)).issue?.kind, `prefix ${n}`).toBe('truncated');
    }
  });
});

describe('fragment attribution', () => {
  it('gives a later IPv4 fragment the ports of its first fragment', () => {
    const first = V4_UDP.slice();
    const view = new DataView(first.buffer);
    view.setUint16(4, 0x4242);
    view.setUint16(6, 0x2000); // MF, offset 0
    const later = concat(V4_UDP.subarray(0, 20), new Uint8Array(8)).slice();
    const lview = new DataView(later.buffer);
    lview.setUint16(2, 28);
    lview.setUint16(4, 0x4242);
    lview.setUint16(6, 0x0003); // offset 24 bytes, last fragment
    const attributor = new FragmentAttributor();
    const a = decodeIp(first);
    expect(attributor.observe(a)).toBe(true);
    const b = decodeIp(later);
    expect([b.isFragment, b.fragmentOffsetBytes, b.hasUdp]).toEqual([true, 24, false]);
    expect(attributor.observe(b)).toBe(true);
    expect([b.hasUdp, b.portsFromFirstFragment, b.srcPort, b.dstPort]).toEqual([true, true, 51234, 1194]);
    // Unknown id: unattributed.
    lview.setUint16(4, 0x9999);
    expect(attributor.observe(decodeIp(later))).toBe(false);
  });
});

describe('ICMP errors quoting UDP', () => {
  // tcpdump -nn: IP 198.51.100.7 > 192.168.1.10: ICMP 198.51.100.7 udp port 1194 unreachable
  const quoted = V4_UDP.subarray(0, 28);
  const icmpV4 = (() => {
    const ip = V4_UDP.slice(0, 20);
    ip[9] = 1;
    new DataView(ip.buffer).setUint16(2, 20 + 8 + quoted.length);
    return concat(ip, Uint8Array.of(3, 3, 0, 0, 0, 0, 0, 0), quoted);
  })();

  it('keeps the quoted 5-tuple in its forward direction', () => {
    const pkt = decodeIp(icmpV4);
    expect(pkt.issue).toBeNull();
    expect([pkt.icmpType, pkt.icmpCode, pkt.hasQuotedUdp, pkt.quotedSrcPort, pkt.quotedDstPort]).toEqual([3, 3, true, 51234, 1194]);
    expect(formatIpv4(pkt.data, pkt.quotedDstAddrOffset)).toBe('198.51.100.7');
    expect(pkt.hasUdp).toBe(false);
  });

  it('ICMPv6 port unreachable quoting UDP', () => {
    const ip = V6_UDP.slice(0, 40);
    ip[6] = 58;
    const body = concat(Uint8Array.of(1, 4, 0, 0, 0, 0, 0, 0), V6_UDP);
    new DataView(ip.buffer).setUint16(4, body.length);
    const pkt = decodeIp(concat(ip, body));
    expect(pkt.issue).toBeNull();
    expect([pkt.icmpType, pkt.icmpCode, pkt.hasQuotedUdp, pkt.quotedIpVersion, pkt.quotedSrcPort]).toEqual([1, 4, true, 6, 5353]);
  });

  it('truncation sweep over the ICMP error', () => {
    for (let n = 0; n < icmpV4.length; n++) {
      expect(decodeIp(icmpV4.subarray(0, n)).issue?.kind, `prefix ${n}`).toBe('truncated');
    }
  });
});

describe('RFC 5952 address text', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
  ])('%s → %s', (input, expected) => {
    expect(formatIpv6(addressBytes(input), 0)).toBe(expected);
  });
});

describe('group addresses in text', () => {
  it('IPv6 multicast is ff00::/8: a first group of four digits starting ff, not a shorter one', () => {
    for (const addr of ['ff02::fb', 'ff02::1:2', 'ff05::c', 'ffff::1']) expect(isGroupAddressText(addr), addr).toBe(true);
    // 00ff::1, 0ff0::1, 0fff::: RFC 5952 drops leading zeros, so their text starts "ff" too.
    for (const addr of ['ff::1', 'ff0::1', 'fff::', 'fe80::1', '2001:db8::ff', '::ffff:224.0.0.1']) expect(isGroupAddressText(addr), addr).toBe(false);
  });

  it('IPv4: 224.0.0.0/4 and the limited broadcast', () => {
    for (const addr of ['224.0.0.251', '239.255.255.250', '255.255.255.255']) expect(isGroupAddressText(addr), addr).toBe(true);
    for (const addr of ['223.255.255.255', '240.0.0.1', '192.168.1.255']) expect(isGroupAddressText(addr), addr).toBe(false);
  });
});
