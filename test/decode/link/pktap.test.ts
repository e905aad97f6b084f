/**
 * decodePktap: v1 and v2 headers, process/interface/direction fields, inner DLT mapping, bad lengths and offsets,
 * truncation sweeps.
 */
import { describe, expect, it } from 'vitest';
import { decodePktap, linktypeFromDarwinDlt } from '../../../src/decode/link/pktap.js';
import { concat, hex, IPV4_UDP_SAMPLE, makePacket, sweepPrefixes } from '../../helpers/bytes.js';

/** A NUL-padded fixed-size string field. */
function cstr(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < text.length && i < size; i++) out[i] = text.charCodeAt(i);
  return out;
}

// Inner Ethernet frame: 66:77:88:99:aa:bb > 00:11:22:33:44:55, ethertype IPv4 (0x0800), length 46: 192.0.2.1.5000 > …
const ETH_V4 = concat(hex('001122334455 66778899aabb 0800'), IPV4_UDP_SAMPLE);

/** v1 header: length type dlt | ifname[24] | flags family pre post pid | comm[17]+pad | svc iftype unit epid | ecomm[17]+pad */
function v1(dlt: string, ifName: string, flagsEtc: string, comm: string, middle: string, ecomm: string): Uint8Array {
  return concat(hex(`6c000000 01000000 ${dlt}`), cstr(ifName, 24), hex(flagsEtc), cstr(comm, 17), hex('000000'),
    hex(middle), cstr(ecomm, 17), hex('000000'));
}

// Outbound on en0 by openvpn (pid 4242), inner DLT_EN10MB.
// tcpdump -nn -e: DLT EN10MB (1) len 108, length 154: 66:77:88:99:aa:bb > 00:11:22:33:44:55, ethertype IPv4 (0x0800),
//   length 46: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const V1_ETH_OUT = concat(
  v1('01000000', 'en0', '02000000 02000000 0e000000 00000000 92100000', 'openvpn',
    '00000000 0600 0000 92100000', 'openvpn'),
  ETH_V4);

// Inbound on utun3, no process (pid -1, epid 0), inner DLT_NULL.
// tcpdump -nn -e: DLT NULL (0) len 108, length 144: AF IPv4 (2), length 36: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const V1_UTUN_IN = concat(
  v1('00000000', 'utun3', '01000000 02000000 00000000 00000000 ffffffff', '', '00000000 0000 0000 00000000', ''),
  hex('02000000'), IPV4_UDP_SAMPLE);

// v2 (flags 0x000A0001 = DIR_IN | SOCKET | V2_HDR): pth_length 100, ifname @40, comm @64, e_comm @81, DLT_RAW (12),
// pid 777 "WireGuard", e_pid 778 "Safari". Layout per XNU bsd/net/pktap.h struct pktap_v2_hdr; tcpdump 4.99.3 and
// tshark 4.x only know v1 and misread it (tcpdump: "(pkt_len too big, 671088740 > 132) (invalid)").
const V2_RAW_IN = concat(
  hex(`64 00 00 28 40 51 | 0c00 0000 0000 0100 1100 | 02000000 00000000 00000000 | 09030000 0a030000 | 01000a00`),
  cstr('utun5', 24), cstr('WireGuard', 17), cstr('Safari', 17), hex('0000'),
  IPV4_UDP_SAMPLE);

describe('decodePktap', () => {
  it('decodes a v1 header with process info', () => {
    const pkt = makePacket(V1_ETH_OUT, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(108);
    expect(pkt.nextLinktype).toBe(1);
    expect(pkt.direction).toBe('out');
    expect(pkt.ifName).toBe('en0');
    expect(pkt.pktap).toEqual({
      version: 1,
      headerLenBytes: 108,
      ifName: 'en0',
      innerDlt: 1,
      flags: 2,
      pid: 4242,
      processName: 'openvpn',
      effectivePid: 4242,
      effectiveProcessName: 'openvpn',
    });
  });

  it('decodes a v1 utun header without a process', () => {
    const pkt = makePacket(V1_UTUN_IN, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(108);
    expect(pkt.nextLinktype).toBe(0);
    expect(pkt.direction).toBe('in');
    expect(pkt.pktap).toMatchObject({ ifName: 'utun3', pid: undefined, processName: '', effectivePid: undefined });
  });

  it('decodes a v2 header (flags checked first)', () => {
    const pkt = makePacket(V2_RAW_IN, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(100);
    expect(pkt.nextLinktype).toBe(101); // macOS DLT_RAW 12 → LINKTYPE_RAW
    expect(pkt.direction).toBe('in');
    expect(pkt.ifName).toBe('utun5');
    expect(pkt.pktap).toEqual({
      version: 2,
      headerLenBytes: 100,
      ifName: 'utun5',
      innerDlt: 12,
      flags: 0x000a0001,
      pid: 777,
      processName: 'WireGuard',
      effectivePid: 778,
      effectiveProcessName: 'Safari',
    });
  });

  it('reads a v2 header whose strings are absent (offset 0)', () => {
    const bytes = V2_RAW_IN.slice();
    bytes.set([0, 0, 0], 3);
    const pkt = makePacket(bytes, { guard: true, linktype: 258 });
    expect(decodePktap(pkt, 0)).toBe(100);
    expect(pkt.pktap).toMatchObject({ ifName: '', processName: '', effectiveProcessName: '' });
    expect(pkt.ifName).toBeUndefined();
  });

  it('bounds a v2 string by the header length', () => {
    const bytes = V2_RAW_IN.slice();
    bytes.fill(0x41, 81, 100); // e_comm without NUL up to the header end
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(100);
    expect(pkt.pktap?.effectiveProcessName).toBe('A'.repeat(17));
  });

  it.each([[10], [39], [100]])('refuses a v2 string offset of %i', (offset) => {
    const bytes = V2_RAW_IN.slice();
    bytes[4] = offset;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'pktap-v2-offset-out-of-range', layer: 'pktap' });
  });

  it('refuses a v1 header length below 108 (tcpdump pktap-heap-overflow.pcap frame 1)', () => {
    // tcpdump -nn -e: (pkt_len too small, 0 < 108) (invalid)
    const bytes = V1_ETH_OUT.slice();
    bytes[0] = 32;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'pktap-hdrlen-lt-min', offset: 0 });
  });

  it('refuses a v2 header length below 40', () => {
    const bytes = V2_RAW_IN.slice();
    bytes[0] = 39;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'pktap-hdrlen-lt-min' });
  });

  it('calls a header length beyond the packet invalid', () => {
    const bytes = V1_ETH_OUT.slice();
    bytes.set([0xff, 0xff, 0xff, 0xff], 0);
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'pktap-hdrlen-past-packet' });
  });

  it('reports a record that is not a packet as unsupported, keeping the header', () => {
    const bytes = V1_ETH_OUT.slice();
    bytes[4] = 2; // drop record
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePktap(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'pktap-not-a-packet', offset: 4 });
    expect(pkt.pktap?.processName).toBe('openvpn');
  });

  it('maps macOS DLT values to LINKTYPE values', () => {
    expect(linktypeFromDarwinDlt(0)).toBe(0);
    expect(linktypeFromDarwinDlt(1)).toBe(1);
    expect(linktypeFromDarwinDlt(12)).toBe(101);
    expect(linktypeFromDarwinDlt(149)).toBe(258);
    expect(linktypeFromDarwinDlt(108)).toBe(108);
  });

  describe('truncation sweep', () => {
    it.each([
      ['v1', V1_ETH_OUT, 108],
      ['v2', V2_RAW_IN, 100],
    ])('%s: every prefix shorter than the header is truncated', (_name, good, headerBytes) => {
      for (const o of sweepPrefixes(decodePktap, good, headerBytes)) {
        expect(o.thrown, `prefix ${o.n}`).toBeUndefined();
        expect(o.result, `prefix ${o.n}`).toBe(-1);
        expect(o.pkt.issue, `prefix ${o.n}`).toMatchObject({ kind: 'truncated', code: 'pktap-truncated' });
      }
      expect(decodePktap(makePacket(good.subarray(0, headerBytes), { origLen: good.length }), 0)).toBe(headerBytes);
    });
  });
});
