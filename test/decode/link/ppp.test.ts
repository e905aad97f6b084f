/**
 * PPP, PPPoE and MPLS shims, through the whole decode chain (linktype 9 and Ethernet), with truncation sweeps.
 */
import { describe, expect, it } from 'vitest';
import { createCaptureRecord } from '../../../src/decode/decoded-packet.js';
import { PacketDecoder } from '../../../src/decode/packet.js';
import { concat, ethernet, ipUdp } from '../../../fixtures/writer.js';
import { hex } from '../../helpers/bytes.js';

const UDP = ipUdp({ src: '12.4.4.4', dst: '12.1.1.1', sport: 42315, dport: 33435, payload: new Uint8Array(12) });

function decode(linktype: number, data: Uint8Array) {
  const record = createCaptureRecord();
  record.linktype = linktype;
  record.data = data;
  record.capLenBytes = data.length;
  record.origLenBytes = data.length;
  return new PacketDecoder().decode(record);
}

describe('PPP (LINKTYPE 9) and MPLS', () => {
  // tcpdump -nn: MPLS (label 100, tc 0, [S], ttl 255) IP 12.4.4.4.42315 > 12.1.1.1.33435: UDP, length 12
  const pppMpls = concat(hex('ff03 0281 | 00064 1ff'.replace(' ', '')), UDP);
  const pppIp = concat(hex('ff03 0021'), UDP);
  const pppCompressed = concat(hex('21'), UDP);

  it('follows address/control, the protocol field and an MPLS stack to UDP', () => {
    for (const frame of [pppIp, pppCompressed, pppMpls]) {
      const pkt = decode(9, frame);
      expect(pkt.issue).toBeNull();
      expect([pkt.srcPort, pkt.dstPort]).toEqual([42315, 33435]);
    }
  });

  it('walks a two-label stack on Ethernet (ethertype 0x8847)', () => {
    const twoLabels = concat(hex('00064 0ff 00065 1ff'.replaceAll(' ', '')), UDP);
    const eth = ethernet(twoLabels);
    eth[12] = 0x88;
    eth[13] = 0x47;
    const pkt = decode(1, eth);
    expect(pkt.issue).toBeNull();
    expect(pkt.srcPort).toBe(42315);
  });

  it('PPPoE session on Ethernet', () => {
    const session = concat(hex('11 00 1234'), Uint8Array.of(0, UDP.length + 2), hex('0021'), UDP);
    const eth = ethernet(session);
    eth[12] = 0x88;
    eth[13] = 0x64;
    const pkt = decode(1, eth);
    expect(pkt.issue).toBeNull();
    expect(pkt.dstPort).toBe(33435);
  });

  it('reports other PPP protocols as unsupported (LCP 0xc021)', () => {
    expect(decode(9, hex('ff03 c021 0101 0004')).issue).toMatchObject({ kind: 'unsupported', code: 'ppp-protocol-unsupported' });
  });

  it('truncation sweep: every prefix decodes without throwing and reports truncated', () => {
    for (const frame of [pppIp, pppMpls]) {
      for (let n = 0; n < frame.length; n++) {
        const pkt = decode(9, frame.subarray(0, n));
        expect(pkt.issue?.kind, `prefix ${n}`).toBe('truncated');
      }
    }
  });
});
