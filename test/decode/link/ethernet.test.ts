/**
 * decodeEthernet: Ethernet II, 802.1Q / 802.1ad (QinQ) tags, 802.3 LLC refusal, truncation sweep.
 */
import { describe, expect, it } from 'vitest';
import { decodeEthernet, MAX_VLAN_TAGS } from '../../../src/decode/link/ethernet.js';
import { concat, hex, IPV4_UDP_SAMPLE, IPV6_UDP_SAMPLE, makePacket, sweepPrefixes } from '../../helpers/bytes.js';

// tcpdump -nn -e: 66:77:88:99:aa:bb > 00:11:22:33:44:55, ethertype IPv4 (0x0800), length 46:
//   192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const ETH_V4 = concat(hex('001122334455 66778899aabb 0800'), IPV4_UDP_SAMPLE);

// tcpdump -nn -e: 66:77:88:99:aa:bb > 00:11:22:33:44:55, ethertype 802.1Q-QinQ (0x88a8), length 74: vlan 100, p 0,
//   ethertype 802.1Q (0x8100), vlan 200, p 1, ethertype IPv6 (0x86dd), 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const ETH_QINQ_V6 = concat(hex('001122334455 66778899aabb 88a8 | 0064 8100 | 20c8 86dd'), IPV6_UDP_SAMPLE);

// tcpdump -nn -e: 66:77:88:99:aa:bb > 00:11:22:33:44:55, 802.3, length 38: LLC, dsap STP (0x42) Individual,
//   ssap STP (0x42) Command, ctrl 0x03: STP 802.1d, Config, …
const ETH_LLC = concat(hex('001122334455 66778899aabb 0026 424203 000000000000'), new Uint8Array(32));

// tcpdump -nn -e: 66:77:88:99:aa:bb > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42:
//   Request who-has 198.51.100.2 tell 192.0.2.1, length 28
const ETH_ARP = hex(`ffffffffffff 66778899aabb 0806
  0001 0800 06 04 0001 66778899aabb c0000201 000000000000 c6336402`);

describe('decodeEthernet', () => {
  it('decodes an untagged IPv4 frame', () => {
    const pkt = makePacket(ETH_V4, { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(14);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.vlanCount).toBe(0);
    expect(pkt.vlanOuterId).toBe(-1);
    expect(pkt.issue).toBeNull();
  });

  it('follows QinQ tags and records the outermost VID', () => {
    const pkt = makePacket(ETH_QINQ_V6, { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(22);
    expect(pkt.nextEtherType).toBe(0x86dd);
    expect(pkt.vlanCount).toBe(2);
    expect(pkt.vlanOuterId).toBe(100);
  });

  it('follows 0x9100 / 0x9200 tags like tcpdump', () => {
    const frame = concat(hex('001122334455 66778899aabb 9100 | 0005 9200 | 0006 0800'), IPV4_UDP_SAMPLE);
    const pkt = makePacket(frame, { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(22);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.vlanCount).toBe(2);
    expect(pkt.vlanOuterId).toBe(5);
  });

  it('decodes at a non-zero offset (inside PKTAP)', () => {
    const pkt = makePacket(concat(new Uint8Array(8), ETH_V4), { guard: true });
    expect(decodeEthernet(pkt, 8)).toBe(22);
    expect(pkt.nextEtherType).toBe(0x0800);
  });

  it('returns non-IP ethertypes for the caller to report', () => {
    const pkt = makePacket(ETH_ARP, { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(14);
    expect(pkt.nextEtherType).toBe(0x0806);
    expect(pkt.issue).toBeNull();
  });

  it('refuses 802.3 length + LLC frames as unsupported', () => {
    const pkt = makePacket(ETH_LLC, { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'ethernet-8023-llc', layer: 'ethernet', offset: 12 });
  });

  it('refuses 802.3 inside a VLAN tag', () => {
    const pkt = makePacket(concat(hex('001122334455 66778899aabb 8100 0064 0026'), new Uint8Array(38)), { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'ethernet-8023-llc', offset: 16 });
    expect(pkt.vlanCount).toBe(1);
  });

  it(`accepts ${MAX_VLAN_TAGS} tags and calls one more invalid`, () => {
    const tags = (n: number): Uint8Array =>
      concat(hex('001122334455 66778899aabb 8100'), ...Array.from({ length: n }, (_, i) =>
        hex(`00${(i + 1).toString(16).padStart(2, '0')} ${i === n - 1 ? '0800' : '8100'}`)), IPV4_UDP_SAMPLE);
    const ok = makePacket(tags(MAX_VLAN_TAGS), { guard: true });
    expect(decodeEthernet(ok, 0)).toBe(14 + 4 * MAX_VLAN_TAGS);
    expect(ok.vlanCount).toBe(MAX_VLAN_TAGS);
    expect(ok.vlanOuterId).toBe(1);
    const bad = makePacket(tags(MAX_VLAN_TAGS + 1), { guard: true });
    expect(decodeEthernet(bad, 0)).toBe(-1);
    expect(bad.issue).toMatchObject({ kind: 'invalid', code: 'vlan-too-many-tags', layer: 'vlan' });
  });

  it('stops at a frame made of 0x8100 without looping or reading past the end', () => {
    const pkt = makePacket(hex('001122334455 66778899aabb 8100 8100 8100 8100'), { guard: true });
    expect(decodeEthernet(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'truncated', code: 'vlan-truncated' });
  });

  it('respects netEnd below data.length', () => {
    const pkt = makePacket(ETH_V4, { guard: true });
    pkt.netEnd = 10;
    expect(decodeEthernet(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'truncated', code: 'ethernet-truncated', availableBytes: 10 });
  });

  describe('truncation sweep', () => {
    it.each([
      ['untagged', ETH_V4, 14],
      ['QinQ', ETH_QINQ_V6, 22],
    ])('%s: every prefix shorter than the header is truncated', (_name, good, headerBytes) => {
      for (const o of sweepPrefixes(decodeEthernet, good, headerBytes)) {
        expect(o.thrown, `prefix ${o.n}`).toBeUndefined();
        expect(o.result, `prefix ${o.n}`).toBe(-1);
        expect(o.pkt.issue?.kind, `prefix ${o.n}`).toBe('truncated');
        expect(o.pkt.issue?.code, `prefix ${o.n}`).toMatch(o.n < 14 ? /^ethernet-truncated$/ : /^vlan-truncated$/);
      }
      expect(decodeEthernet(makePacket(good.subarray(0, headerBytes), { origLen: good.length }), 0)).toBe(headerBytes);
    });
  });
});
