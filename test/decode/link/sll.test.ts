/**
 * decodeSll / decodeSll2 (Linux cooked v1/v2): direction from the packet type, protocol field, VLAN after the
 * header, truncation sweeps.
 */
import { describe, expect, it } from 'vitest';
import { decodeSll, decodeSll2 } from '../../../src/decode/link/sll.js';
import { concat, hex, IPV4_UDP_SAMPLE, IPV6_UDP_SAMPLE, makePacket, sweepPrefixes } from '../../helpers/bytes.js';

// tcpdump -nn -e: Out 66:77:88:99:aa:bb ethertype IPv4 (0x0800), length 48: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const SLL_OUT_V4 = concat(hex('0004 0001 0006 66778899aabb0000 0800'), IPV4_UDP_SAMPLE);

// tcpdump -nn -e:  In 66:77:88:99:aa:bb ethertype 802.1Q (0x8100), length 72: vlan 100, p 0, ethertype IPv6,
//   2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const SLL_IN_VLAN_V6 = concat(hex('0000 0001 0006 66778899aabb0000 8100 | 0064 86dd'), IPV6_UDP_SAMPLE);

// tcpdump -nn -e: ifb1  In  ifindex 3 66:77:88:99:aa:bb ethertype IPv6 (0x86dd), length 72:
//   2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const SLL2_IN_V6 = concat(hex('86dd 0000 00000003 0001 00 06 66778899aabb0000'), IPV6_UDP_SAMPLE);

// tcpdump -nn -e: ifb1  Out ifindex 3 66:77:88:99:aa:bb ethertype IPv4 (0x0800), length 52:
//   192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const SLL2_OUT_V4 = concat(hex('0800 0000 00000003 0001 04 06 66778899aabb0000'), IPV4_UDP_SAMPLE);

describe('decodeSll', () => {
  it('decodes an outgoing IPv4 packet', () => {
    const pkt = makePacket(SLL_OUT_V4, { guard: true });
    expect(decodeSll(pkt, 0)).toBe(16);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.direction).toBe('out');
  });

  it('decodes an incoming packet with a VLAN tag after the header', () => {
    const pkt = makePacket(SLL_IN_VLAN_V6, { guard: true });
    expect(decodeSll(pkt, 0)).toBe(20);
    expect(pkt.nextEtherType).toBe(0x86dd);
    expect(pkt.direction).toBe('in');
    expect(pkt.vlanCount).toBe(1);
    expect(pkt.vlanOuterId).toBe(100);
  });

  it.each([
    [0, 'in'], [1, 'in'], [2, 'in'], [3, 'in'], [4, 'out'], [5, 'unknown'],
  ] as const)('packet type %i → direction %s', (type, direction) => {
    const bytes = SLL_OUT_V4.slice();
    bytes[1] = type;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeSll(pkt, 0)).toBe(16);
    expect(pkt.direction).toBe(direction);
  });

  it('reports non-ethertype protocols (802.2 LLC = 4) as unsupported', () => {
    const bytes = SLL_OUT_V4.slice();
    bytes[14] = 0x00;
    bytes[15] = 0x04;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeSll(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'sll-protocol-not-ethertype', layer: 'sll', offset: 14 });
  });

  it('truncation sweep', () => {
    for (const [good, headerBytes] of [[SLL_OUT_V4, 16], [SLL_IN_VLAN_V6, 20]] as const) {
      for (const o of sweepPrefixes(decodeSll, good, headerBytes)) {
        expect(o.thrown).toBeUndefined();
        expect(o.result).toBe(-1);
        expect(o.pkt.issue?.kind).toBe('truncated');
        expect(o.pkt.issue?.code).toBe(o.n < 16 ? 'sll-truncated' : 'vlan-truncated');
      }
    }
  });
});

describe('decodeSll2', () => {
  it('decodes an incoming IPv6 packet', () => {
    const pkt = makePacket(SLL2_IN_V6, { guard: true });
    expect(decodeSll2(pkt, 0)).toBe(20);
    expect(pkt.nextEtherType).toBe(0x86dd);
    expect(pkt.direction).toBe('in');
  });

  it('decodes an outgoing IPv4 packet', () => {
    const pkt = makePacket(SLL2_OUT_V4, { guard: true });
    expect(decodeSll2(pkt, 0)).toBe(20);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.direction).toBe('out');
  });

  it('ignores a non-zero reserved field, as tcpdump does', () => {
    const bytes = SLL2_OUT_V4.slice();
    bytes[2] = 0xab;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeSll2(pkt, 0)).toBe(20);
    expect(pkt.issue).toBeNull();
  });

  it('reports non-ethertype protocols as unsupported', () => {
    const bytes = SLL2_OUT_V4.slice();
    bytes[0] = 0x00;
    bytes[1] = 0x0c; // ETH_P_CAN
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeSll2(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'sll2-protocol-not-ethertype', layer: 'sll2', offset: 0 });
  });

  it('truncation sweep', () => {
    for (const o of sweepPrefixes(decodeSll2, SLL2_IN_V6, 20)) {
      expect(o.thrown).toBeUndefined();
      expect(o.result).toBe(-1);
      expect(o.pkt.issue).toMatchObject({ kind: 'truncated', code: 'sll2-truncated', requiredBytes: 20, availableBytes: o.n });
    }
  });
});
