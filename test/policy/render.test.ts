/**
 * What the advisor writes must be what the parser reads: pf text round-trips, nft text says the same thing in
 * nftables' words, and the breadth of a rule is judged the way a kill switch needs.
 */
import { describe, expect, it } from 'vitest';
import { ruleBreadth } from '../../src/policy/breadth.js';
import { evaluatePacket, type HostContext, type PacketFacts } from '../../src/policy/evaluate.js';
import { renderNftRule } from '../../src/policy/nft-render.js';
import { allFilterRules } from '../../src/policy/pf-model.js';
import { parsePfConf } from '../../src/policy/pf-parse.js';
import { renderPfRule } from '../../src/policy/pf-render.js';

const CONTEXT: HostContext = { addressesByInterface: new Map([['en0', ['192.168.1.10', '2001:db8:1::23']]]), egress: ['en0'] };

function rule(text: string) {
  return allFilterRules(parsePfConf(`${text}\n`).statements)[0]!;
}

const LINES = [
  'pass out quick on en0 inet proto udp from any port 68 to any port 67 keep state',
  'pass in quick on en0 inet6 proto icmp6 from (en0:network) to (en0) icmp6-type neighbradv no state',
  'pass out quick on en0 inet6 proto icmp6 from { ::, fe80::/10 } to ff02::1:ff00:0/104 icmp6-type neighbrsol no state',
  'pass out quick on utun3 all keep state',
  'block drop in log quick on ! en0 inet proto { tcp, udp } from ! 10.0.0.0/8 to any port { 53, 1000:2000, != 80 }',
  'pass on en0 inet proto icmp all icmp-type echoreq code 0 keep state',
  'pass out quick proto udp from any to 198.51.100.7 port 1194 user root keep state',
];

describe('pf text round-trips', () => {
  for (const line of LINES) {
    it(line, () => {
      expect(renderPfRule(rule(line))).toBe(line);
    });
  }

  it('writes interfaces through macros', () => {
    expect(renderPfRule(rule('pass in quick on en0 inet6 proto icmp6 from (en0:network) to (en0) icmp6-type neighbradv no state'), (n) => (n === 'en0' ? '$wifi' : n))).toBe(
      'pass in quick on $wifi inet6 proto icmp6 from ($wifi:network) to ($wifi) icmp6-type neighbradv no state',
    );
  });

  it('a re-read rule decides packets as the original', () => {
    const facts: PacketFacts = { ifName: 'en0', direction: 'in', af: 4, proto: 17, src: '10.1.2.3', dst: '192.168.1.10', sport: 5000, dport: 1500, icmpType: undefined, icmpCode: undefined, tcpFlags: undefined };
    const original = parsePfConf(`pass all\n${LINES[4]}\n`);
    const reread = parsePfConf(`pass all\n${renderPfRule(allFilterRules(original.statements)[1]!)}\n`);
    for (const over of [{}, { ifName: 'en1' }, { src: '10.9.9.9' }, { dport: 80 }, { dport: 53 }, { direction: 'out' as const }]) {
      expect(evaluatePacket(reread, { ...facts, ...over }, CONTEXT).action).toBe(evaluatePacket(original, { ...facts, ...over }, CONTEXT).action);
    }
  });
});

describe('nftables text', () => {
  const iface = (n: string): string => (n === 'en0' ? '$wifi' : n === 'utun3' ? '$vpn' : n);

  it('ports and family', () => {
    expect(renderNftRule(rule('pass in quick on en0 inet proto udp from any port 67 to any port 68 no state'), iface, 'r2 dhcp')).toEqual([
      { chain: 'input', text: 'iifname $wifi meta nfproto ipv4 udp sport 67 udp dport 68 accept comment "r2 dhcp"', omitted: [] },
    ]);
  });

  it('ICMPv6 types by nft name and address lists', () => {
    expect(renderNftRule(rule('pass out quick on en0 inet6 proto icmp6 from { ::, fe80::/10 } to ff02::1:ff00:0/104 icmp6-type { routersol, neighbrsol }'), iface)[0]!.text).toBe(
      'oifname $wifi ip6 saddr { ::, fe80::/10 } ip6 daddr ff02::1:ff00:0/104 icmpv6 type { nd-router-solicit, nd-neighbor-solicit } accept',
    );
  });

  it('says what it cannot write', () => {
    const [out] = renderNftRule(rule('pass in quick on en0 inet6 proto icmp6 from (en0:network) to (en0) icmp6-type neighbradv no state'), iface);
    expect(out!.text).toBe('iifname $wifi icmpv6 type nd-neighbor-advert accept');
    expect(out!.omitted).toEqual(['from the addresses of en0:network', 'to the addresses of en0']);
  });

  it('a rule without direction goes to both chains; negations and ranges', () => {
    const out = renderNftRule(rule('block on ! utun3 inet proto tcp from ! 10.0.0.0/8 to any port 1000:2000'), iface);
    expect(out.map((o) => o.chain)).toEqual(['input', 'output']);
    expect(out[1]!.text).toBe('oifname != $vpn ip saddr != 10.0.0.0/8 tcp dport 1000-2000 drop');
  });
});

describe('breadth on the physical interface', () => {
  const known = ['en0', 'utun3'];
  const cases: Array<[string, string]> = [
    ['pass on en0', 'all-traffic'],
    ['pass all', 'all-traffic'],
    ['pass on en0 proto udp', 'all-udp'],
    ['pass on en0 proto { tcp, udp }', 'all-udp'],
    ['pass on ! utun3 proto udp', 'all-udp'],
    ['pass on egress proto udp', 'all-udp'],
    ['pass on en0 proto tcp', 'all-protocol'],
    ['pass on en0 proto { tcp, udp } from any to 198.51.100.7', 'any-port'],
    ['pass from any to 255.255.255.255 keep state', 'any-port'],
    ['pass on en0 proto udp to port 53', 'narrow'],
    ['pass on en0 inet6 proto icmp6 icmp6-type routeradv', 'narrow'],
    ['pass on utun3 all', 'narrow'],
    ['pass on utun', 'narrow'],
    ['pass on lo0', 'narrow'],
    ['block on en0', 'narrow'],
  ];
  for (const [line, breadth] of cases) {
    it(`${line} → ${breadth}`, () => {
      expect(ruleBreadth(rule(line), known, CONTEXT)).toBe(breadth);
    });
  }
});
