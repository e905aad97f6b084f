/**
 * decodeNflog: TLV walk in either TLV byte order, metadata TLVs, payload bounds, malformed TLVs, truncation sweeps.
 */
import { describe, expect, it } from 'vitest';
import { decodeNflog, nflogTlvIsLittleEndian } from '../../../src/decode/link/nflog.js';
import { concat, hex, IPV4_UDP_SAMPLE, IPV6_UDP_SAMPLE, makePacket, sweepPrefixes } from '../../helpers/bytes.js';

// Written by a little-endian host (TLV length/type LE, values BE): iptables/nft `log group 5 prefix "VPN-DROP "`
// on OUTPUT, socket owner uid 1000 gid 100, out interface 2.
// tcpdump -nn -e: version 0, resource ID 5, family IPv4 (2), length 88: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
// tshark nflog.res_id/prefix/hook/uid/gid/ifindex_outdev: 5, "VPN-DROP ", 3, 1000, 100, 2
const NFLOG_LE_OUT_V4 = concat(hex(`
  02 00 0005
  0800 0100 | 0800 03 00
  0800 0500 | 00000002
  0800 0b00 | 000003e8
  0800 0e00 | 00000064
  0e00 0a00 | 56504e2d44524f502000 0000
  2400 0900`), IPV4_UDP_SAMPLE);
/** Offset of the payload value in NFLOG_LE_OUT_V4. */
const LE_PAYLOAD_AT = 56;

// The same from a big-endian host (TLV length/type BE), IPv6, group 7; written to a big-endian pcap.
// tcpdump -nn -e: version 0, resource ID 7, family IPv6 (10), length 108: 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
// tshark: 7, "VPN-DROP ", 3, 1000, 100, 2
const NFLOG_BE_OUT_V6 = concat(hex(`
  0a 00 0007
  0008 0001 | 86dd 03 00
  0008 0005 | 00000002
  0008 000b | 000003e8
  0008 000e | 00000064
  000e 000a | 56504e2d44524f502000 0000
  0038 0009`), IPV6_UDP_SAMPLE);

// Inbound on PREROUTING with a timestamp, indev 3 and a mark; no prefix TLV.
const NFLOG_LE_IN_V4 = concat(hex(`
  02 00 0000
  0800 0100 | 0800 00 00
  0800 0200 | 0000002a
  1400 0300 | 000000006553f100 000000000001e240
  0800 0400 | 00000003
  2400 0900`), IPV4_UDP_SAMPLE);

describe('decodeNflog', () => {
  it('decodes little-endian TLVs up to the payload', () => {
    const pkt = makePacket(NFLOG_LE_OUT_V4, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(LE_PAYLOAD_AT);
    expect(pkt.issue).toBeNull();
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.netEnd).toBe(NFLOG_LE_OUT_V4.length);
    expect(pkt.direction).toBe('out');
    expect(pkt.nflog).toEqual({
      addressFamily: 2,
      group: 5,
      prefix: 'VPN-DROP ',
      hook: 3,
      inIfIndex: undefined,
      outIfIndex: 2,
      uid: 1000,
      gid: 100,
      mark: undefined,
      tsSec: undefined,
      tsUsec: undefined,
    });
  });

  it('decodes big-endian TLVs (a big-endian capture host)', () => {
    const pkt = makePacket(NFLOG_BE_OUT_V6, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(LE_PAYLOAD_AT);
    expect(pkt.nextEtherType).toBe(0x86dd);
    expect(pkt.netEnd).toBe(NFLOG_BE_OUT_V6.length);
    expect(pkt.nflog).toMatchObject({ addressFamily: 10, group: 7, prefix: 'VPN-DROP ', hook: 3, uid: 1000, gid: 100, outIfIndex: 2 });
  });

  it('reads timestamp, mark and in-interface; hook 0 means inbound', () => {
    const pkt = makePacket(NFLOG_LE_IN_V4, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(52);
    expect(pkt.direction).toBe('in');
    expect(pkt.nflog).toMatchObject({ hook: 0, mark: 42, tsSec: 1700000000, tsUsec: 123456, inIfIndex: 3, prefix: '' });
  });

  it('leaves the direction alone on FORWARD (hook 2)', () => {
    const bytes = NFLOG_LE_IN_V4.slice();
    bytes[10] = 2;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(52);
    expect(pkt.nflog?.hook).toBe(2);
    expect(pkt.direction).toBe('unknown');
  });

  it('lowers netEnd to the payload value end when TLVs follow it', () => {
    const bytes = concat(NFLOG_LE_OUT_V4, hex('0800 0c00 00000001'));
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(LE_PAYLOAD_AT);
    expect(pkt.netEnd).toBe(LE_PAYLOAD_AT + IPV4_UDP_SAMPLE.length);
  });

  it('masks NLA_F_NESTED / NLA_F_NET_BYTEORDER off the type', () => {
    const bytes = NFLOG_LE_OUT_V4.slice();
    bytes[LE_PAYLOAD_AT - 1] = 0x40; // payload type 0x4009
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(LE_PAYLOAD_AT);
  });

  it('keeps a payload cut by the snaplen for the IP layer (netEnd clamped)', () => {
    const cut = NFLOG_LE_OUT_V4.subarray(0, LE_PAYLOAD_AT + 10);
    const pkt = makePacket(cut, { origLen: NFLOG_LE_OUT_V4.length, guard: true });
    expect(decodeNflog(pkt, 0)).toBe(LE_PAYLOAD_AT);
    expect(pkt.netEnd).toBe(LE_PAYLOAD_AT + 10);
    expect(pkt.issue).toBeNull();
  });

  it('refuses version != 0', () => {
    const bytes = NFLOG_LE_OUT_V4.slice();
    bytes[1] = 1;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'nflog-bad-version', layer: 'nflog', offset: 1 });
  });

  it.each([0, 2, 3])('refuses TLV length %i (< 4) without looping', (length) => {
    const bytes = NFLOG_LE_OUT_V4.slice();
    bytes[12] = length; // the OUTDEV TLV
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'nflog-tlv-len-lt-header', offset: 12 });
    expect(pkt.nflog?.hook).toBe(3); // TLVs before the bad one were kept
  });

  it('calls a TLV longer than the packet on the wire invalid (zeek nflog-bad-tlv-len.pcap)', () => {
    // tcpdump -nn -e: version 0, resource ID 0, family IPv4 (2), length 12:  [|nflog]
    // (tcpdump does not tell snaplen cuts from bad lengths; here caplen = len = 12 and the TLV claims 256.)
    const pkt = makePacket(hex('02 00 0000 | 0001 0100 | 00000000'), { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'nflog-tlv-past-packet', offset: 4 });
  });

  it('calls a payload TLV longer than the packet invalid', () => {
    const bytes = NFLOG_LE_OUT_V4.slice();
    bytes[LE_PAYLOAD_AT - 4] = 0x40; // payload length 64 > 36 left
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'nflog-tlv-past-packet', offset: LE_PAYLOAD_AT - 4 });
  });

  it('reports a packet without a payload TLV as unsupported, keeping the metadata', () => {
    const pkt = makePacket(NFLOG_LE_OUT_V4.subarray(0, LE_PAYLOAD_AT - 4), { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'nflog-no-payload' });
    expect(pkt.nflog?.prefix).toBe('VPN-DROP ');
    expect(pkt.direction).toBe('out');
  });

  it('reports a non-IP family as unsupported, keeping the metadata', () => {
    const bytes = NFLOG_LE_OUT_V4.slice();
    bytes[0] = 7; // NFPROTO_BRIDGE
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeNflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'nflog-unknown-family', offset: 0 });
    expect(pkt.nflog?.group).toBe(5);
  });

  it('picks the TLV byte order from the first TLV', () => {
    expect(nflogTlvIsLittleEndian(NFLOG_LE_OUT_V4, 4, NFLOG_LE_OUT_V4.length, NFLOG_LE_OUT_V4.length)).toBe(true);
    expect(nflogTlvIsLittleEndian(NFLOG_BE_OUT_V6, 4, NFLOG_BE_OUT_V6.length, NFLOG_BE_OUT_V6.length)).toBe(false);
    // Neither reading sane: little-endian, so errors are reported as a little-endian host would write them.
    expect(nflogTlvIsLittleEndian(hex('02000000 0001 0100 00000000'), 4, 12, 12)).toBe(true);
    // A big-endian length that would fit in a large packet still loses on the type (0x0100 is no NFULA type).
    const big = new Uint8Array(4096);
    big.set(hex('02000000 0008 0001'));
    expect(nflogTlvIsLittleEndian(big, 4, big.length, big.length)).toBe(false);
  });

  describe('truncation sweep', () => {
    it.each([
      ['little-endian', NFLOG_LE_OUT_V4],
      ['big-endian', NFLOG_BE_OUT_V6],
    ])('%s: every prefix before the payload value is truncated', (_name, good) => {
      for (const o of sweepPrefixes(decodeNflog, good, LE_PAYLOAD_AT)) {
        expect(o.thrown, `prefix ${o.n}`).toBeUndefined();
        expect(o.result, `prefix ${o.n}`).toBe(-1);
        expect(o.pkt.issue, `prefix ${o.n}`).toMatchObject({ kind: 'truncated', code: 'nflog-truncated' });
      }
      const atPayload = makePacket(good.subarray(0, LE_PAYLOAD_AT), { origLen: good.length, guard: true });
      expect(decodeNflog(atPayload, 0)).toBe(LE_PAYLOAD_AT);
      expect(atPayload.netEnd).toBe(LE_PAYLOAD_AT);
    });
  });
});
