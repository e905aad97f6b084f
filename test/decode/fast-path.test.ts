/**
 * The hot path decodes each record where it lies in the reader's reused buffer (offsets between dataStart and
 * dataEnd, no copy, issue 7). The reference is the plain way: the record's bytes copied into their own array and
 * decoded from offset 0. On every fixture and corpus capture, read with buffers of several sizes (so records sit at
 * every kind of offset and straddle refills), both must give the same packet, field for field.
 */
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/address.js';
import { readCapture } from '../../src/capture/index.js';
import { PacketDecoder } from '../../src/decode/packet.js';
import { copyCaptureRecord, type DecodedPacket } from '../../src/types.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { MIN_CAPTURES, fixtureAndCorpusCaptures } from '../helpers/captures.js';

/** Everything a consumer reads of a decoded packet, with offsets made relative to the frame. */
function digest(pkt: DecodedPacket): string {
  const at = (offset: number): number => (offset < 0 ? offset : offset - pkt.dataStart);
  const addr = (offset: number, version: number): string => (offset < 0 || (version !== 4 && version !== 6) ? '' : formatAddress(pkt.data, offset, version));
  return JSON.stringify({
    frame: pkt.record.frame,
    frameBytes: Array.from(pkt.data.subarray(pkt.dataStart, pkt.dataEnd)),
    dir: pkt.direction, ifName: pkt.ifName, vlan: [pkt.vlanCount, pkt.vlanOuterId],
    pflog: pkt.pflog, nflog: pkt.nflog, pktap: pkt.pktap,
    ip: [pkt.ipVersion, at(pkt.ipOffset), addr(pkt.srcAddrOffset, pkt.ipVersion), addr(pkt.dstAddrOffset, pkt.ipVersion), pkt.src4, pkt.dst4, pkt.ipProto, pkt.ipLenBytes, pkt.ttl],
    fragment: [pkt.isFragment, pkt.fragmentOffsetBytes, pkt.moreFragments, pkt.fragmentId],
    udp: [pkt.hasUdp, pkt.portsFromFirstFragment, pkt.srcPort, pkt.dstPort, pkt.udpLenBytes, at(pkt.payloadOffset), pkt.payloadLenBytes],
    icmp: [pkt.icmpType, pkt.icmpCode, pkt.hasQuotedUdp, pkt.quotedIpVersion, addr(pkt.quotedSrcAddrOffset, pkt.quotedIpVersion), addr(pkt.quotedDstAddrOffset, pkt.quotedIpVersion), pkt.quotedSrcPort, pkt.quotedDstPort],
    issue: pkt.issue === null ? null : { ...pkt.issue },
  });
}

const captures = fixtureAndCorpusCaptures();

describe('decoding in place equals decoding a copy', () => {
  it('has the captures (the corpus when it is beside the checkout)', () => {
    expect(captures.length).toBeGreaterThanOrEqual(MIN_CAPTURES);
  });

  for (const file of captures) {
    it(relative(REPO_ROOT, file), async () => {
      for (const bufferBytes of [64 * 1024, 1024 * 1024]) {
        const inPlace = new PacketDecoder();
        const reference = new PacketDecoder();
        let packets = 0;
        const mismatches: string[] = [];
        try {
          await readCapture(
            file,
            (record) => {
              packets++;
              const fast = digest(inPlace.decode(record));
              const copy = copyCaptureRecord(record);
              expect(copy.dataOffset).toBe(0);
              const slow = digest(reference.decode(copy));
              if (fast !== slow && mismatches.length < 2) mismatches.push(`${fast}\n!=\n${slow}`);
            },
            { bufferBytes },
          );
        } catch {
          return; // not a capture (corpus.test.ts checks it fails with one line)
        }
        expect(mismatches, `${packets} packets, buffer ${bufferBytes}`).toEqual([]);
      }
    });
  }
});
