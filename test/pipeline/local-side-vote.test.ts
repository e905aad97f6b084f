/**
 * The local side a capture without directions gets (pipeline/packet-feed.ts LocalSideVote): per family, the unicast
 * address with the most UDP peers (address and port) in the look-ahead, IPv6 only with two peers or more, ties by
 * code-unit order of the address text. IPv6 is counted by its groups, never as text (issue 7), and written as RFC
 * 5952 text in the result.
 */
import { describe, expect, it } from 'vitest';
import { LocalSideVote } from '../../src/pipeline/packet-feed.js';
import { udpPacket, type ScriptedPacket } from '../helpers/packets.js';

function vote(packets: readonly ScriptedPacket[]): { source: string; addresses: readonly string[] } {
  const v = new LocalSideVote();
  for (const p of packets) v.add(udpPacket(p).pkt);
  const side = v.result();
  return { source: side.source, addresses: side.networks };
}

const exchange = (local: string, remote: string, sport: number, dport: number, t: number): ScriptedPacket[] => [
  { t, src: local, sport, dst: remote, dport },
  { t: t + 0.01, src: remote, sport: dport, dst: local, dport: sport },
];

describe('LocalSideVote', () => {
  it('picks the IPv6 address with the most peers and writes it as RFC 5952 text', () => {
    const packets = [
      ...exchange('2001:db8:0:0:0:0:0:53', '2001:db8::a', 5353, 53, 0),
      ...exchange('2001:db8::53', '2001:db8::b', 5353, 53, 1),
      ...exchange('2001:db8::53', '2001:db8::b', 5354, 123, 2),
      ...exchange('2001:db8::c', '2001:db8::d', 4000, 4001, 3),
    ];
    expect(vote(packets)).toEqual({ source: 'most-flows', addresses: ['2001:db8::53'] });
  });

  it('counts a peer by address and port: two ports of one host are two peers', () => {
    const packets = [...exchange('fd00::1', 'fd00::2', 1000, 53, 0), ...exchange('fd00::1', 'fd00::2', 1000, 123, 1)];
    expect(vote(packets).addresses).toEqual(['fd00::1']);
    // One peer only: not enough for IPv6.
    expect(vote(exchange('fd00::1', 'fd00::2', 1000, 53, 0)).source).toBe('none');
  });

  it('ignores multicast (ff00::/8) and the unspecified address as either end', () => {
    const packets = [
      { t: 0, src: 'fe80::1', sport: 5353, dst: 'ff02::fb', dport: 5353 },
      { t: 1, src: 'fe80::2', sport: 5353, dst: 'ff02::fb', dport: 5353 },
      { t: 2, src: '::', sport: 546, dst: 'fe80::9', dport: 547 },
      { t: 3, src: '::', sport: 546, dst: 'fe80::9', dport: 548 },
    ];
    expect(vote(packets).source).toBe('none');
  });

  it('breaks ties by the address text and chooses one address per family', () => {
    const packets = [
      ...exchange('fd00::b', 'fd00::1', 1, 10, 0),
      ...exchange('fd00::b', 'fd00::2', 1, 10, 1),
      ...exchange('fd00::a', 'fd00::3', 1, 10, 2),
      ...exchange('fd00::a', 'fd00::4', 1, 10, 3),
      ...exchange('10.0.0.9', '192.0.2.1', 1, 10, 4),
      ...exchange('10.0.0.9', '192.0.2.2', 1, 10, 5),
    ];
    // fd00::a and fd00::b have two peers each, as do the IPv4 ends; text order decides.
    expect(vote(packets).addresses).toEqual(['10.0.0.9', 'fd00::a']);
  });
});
