/**
 * pf's decision for a packet without state: last match wins, quick decides at once, skipped interfaces are not
 * filtered, anchors are evaluated in place, lists expand pfctl's way, and what a log cannot answer is assumed and
 * said.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePacket, type HostContext, type PacketFacts } from '../../src/policy/evaluate.js';
import { parsePfConf } from '../../src/policy/pf-parse.js';
import { packetFacts } from '../helpers/pf-packets.js';

const CONTEXT: HostContext = {
  addressesByInterface: new Map([
    ['en0', ['192.168.1.10', 'fe80::3e22:fbff:fe10:a']],
    ['utun3', ['10.8.0.2']],
  ]),
  egress: ['en0'],
};

const udp = packetFacts;

function decide(conf: string, facts: PacketFacts): { action: string; line: number | undefined; skipped: boolean; assumptions: string[]; anchors: string[] } {
  const v = evaluatePacket(parsePfConf(conf), facts, CONTEXT);
  return { action: v.action, line: v.rule?.line, skipped: v.skipped, assumptions: v.assumptions, anchors: v.anchors };
}

describe('rule order', () => {
  it('passes when nothing matches (pf default)', () => {
    expect(decide('block in on en1\n', udp())).toMatchObject({ action: 'pass', line: undefined });
  });

  it('lets the last matching rule decide', () => {
    const conf = 'block all\npass on en0 proto udp\n';
    expect(decide(conf, udp())).toMatchObject({ action: 'pass', line: 2 });
    expect(decide(conf, udp({ proto: 6 }))).toMatchObject({ action: 'block', line: 1 });
  });

  it('stops at the first matching quick rule', () => {
    const conf = 'block quick on en0 proto udp from 198.51.100.7\npass on en0 proto udp\n';
    expect(decide(conf, udp())).toMatchObject({ action: 'block', line: 1 });
    expect(decide(conf, udp({ src: '198.51.100.8' }))).toMatchObject({ action: 'pass', line: 2 });
  });

  it('does not filter interfaces in set skip on, by name or by group', () => {
    expect(decide('set skip on lo\nblock all\n', udp({ ifName: 'lo0' }))).toMatchObject({ action: 'pass', skipped: true });
    expect(decide('set skip on lo\nblock all\n', udp())).toMatchObject({ action: 'block', skipped: false });
  });
});

describe('criteria', () => {
  it('direction, family, protocol and interface', () => {
    const conf = 'block all\npass out on en0 inet proto udp\n';
    expect(decide(conf, udp({ direction: 'out' })).action).toBe('pass');
    expect(decide(conf, udp()).action).toBe('block');
    expect(decide(conf, udp({ direction: 'out', af: 6, src: 'fe80::1', dst: 'ff02::fb' })).action).toBe('block');
    expect(decide(conf, udp({ direction: 'out', ifName: 'en1' })).action).toBe('block');
  });

  it('addresses and networks, negated, in lists expanded pfctl\'s way', () => {
    const conf = 'block all\npass proto udp from { ! 198.51.100.0/24, 203.0.113.9 }\n';
    expect(decide(conf, udp()).action).toBe('block');
    expect(decide(conf, udp({ src: '203.0.113.9' })).action).toBe('pass');
    expect(decide(conf, udp({ src: '192.0.2.1' })).action).toBe('pass');
    // `{ ! a, ! b }` expands to two rules, so every address matches one of them (pf.conf(5)'s warning).
    expect(decide('block all\npass proto udp from { ! 198.51.100.7, ! 203.0.113.9 }\n', udp()).action).toBe('pass');
  });

  it('ports with every operator', () => {
    const at = (spec: string, port: number): string => decide(`block all\npass proto udp to port ${spec}\n`, udp({ dport: port })).action;
    expect(at('51234', 51234)).toBe('pass');
    expect(at('!= 51234', 51234)).toBe('block');
    expect(at('< 1024', 1023)).toBe('pass');
    expect(at('<= 1023', 1024)).toBe('block');
    expect(at('> 1023', 1024)).toBe('pass');
    expect(at('>= 1024', 1023)).toBe('block');
    expect(at('1000:2000', 2000)).toBe('pass');
    expect(at('1000 >< 2000', 2000)).toBe('block');
    expect(at('1000 <> 2000', 2001)).toBe('pass');
    expect(at('{ 53 67:68 }', 68)).toBe('pass');
  });

  it('ICMPv6 types and codes', () => {
    const ra = udp({ af: 6, proto: 58, src: 'fe80::1', dst: 'ff02::1', sport: undefined, dport: undefined, icmpType: 134, icmpCode: 0 });
    const conf = 'block all\npass in inet6 proto icmp6 from fe80::/10 icmp6-type { routeradv neighbradv }\n';
    expect(decide(conf, ra).action).toBe('pass');
    expect(decide(conf, { ...ra, icmpType: 128 }).action).toBe('block');
    expect(decide(conf, { ...ra, src: '2001:db8::1' }).action).toBe('block');
    expect(decide('block all\npass inet6 proto icmp6 icmp6-type routeradv code 1\n', ra).action).toBe('block');
  });

  it('tables take the longest matching prefix; a negated entry excludes', () => {
    const conf = 'table <lan> { 192.168.0.0/16 !192.168.1.0/24 192.168.1.1 }\nblock all\npass proto udp from <lan>\n';
    expect(decide(conf, udp({ src: '192.168.7.1' })).action).toBe('pass');
    expect(decide(conf, udp({ src: '192.168.1.20' })).action).toBe('block');
    expect(decide(conf, udp({ src: '192.168.1.1' })).action).toBe('pass');
  });

  it('interface addresses, :network (assumed /24) and self come from the log', () => {
    const mdns = udp({ src: '192.168.1.20', dst: '224.0.0.251', sport: 5353, dport: 5353 });
    const network = decide('block all\npass from en0:network to any\n', mdns);
    expect(network.action).toBe('pass');
    expect(network.assumptions).toEqual(['line 2: en0:network assumed to be /24 around the host\'s address (the log does not record prefixes)']);
    expect(decide('block all\npass from en0:network to any\n', udp()).action).toBe('block');
    expect(decide('block all\npass to (en0)\n', udp()).action).toBe('pass');
    expect(decide('block all\npass to self\n', udp({ dst: '10.8.0.2', ifName: 'utun3' })).action).toBe('pass');
  });

  it('interface groups: the driver name and egress', () => {
    expect(decide('block all\npass on utun\n', udp({ ifName: 'utun3' })).action).toBe('pass');
    expect(decide('block all\npass on utun\n', udp({ ifName: 'utun' })).action).toBe('pass');
    expect(decide('block all\npass on tun\n', udp({ ifName: 'utun3' })).action).toBe('block');
    expect(decide('block all\npass on egress\n', udp()).action).toBe('pass');
  });

  it('TCP: stateful pass rules take flags S/SA by default, so a mid-stream ACK without state is blocked', () => {
    const ack = udp({ proto: 6, tcpFlags: 0x10 });
    const syn = udp({ proto: 6, tcpFlags: 0x02 });
    expect(decide('block all\npass on en0 all\n', ack).action).toBe('block');
    expect(decide('block all\npass on en0 all\n', syn).action).toBe('pass');
    expect(decide('block all\npass on en0 all flags any\n', ack).action).toBe('pass');
    expect(decide('block all\npass on en0 all no state\n', ack).action).toBe('pass');
  });

  it('says what it assumed: user, host names, missing ports', () => {
    const relay = decide('block all\npass out proto udp to 198.51.100.7 port 1194 user root\n', udp({ direction: 'out', src: '192.168.1.10', dst: '198.51.100.7', sport: 51234, dport: 1194 }));
    expect(relay.action).toBe('pass');
    expect(relay.assumptions).toEqual(['line 2: "user root" cannot be checked against a log; assumed to hold']);
    const named = decide('block all\npass in from vpn.example.net\n', udp());
    expect(named.action).toBe('block');
    expect(named.assumptions[0]).toMatch(/vpn\.example\.net is resolved through DNS/);
  });
});

describe('anchors', () => {
  it('evaluates inline anchor rules in place; a quick rule inside ends everything', () => {
    const conf = 'block all\nanchor "ks" on en0 {\n  pass quick proto udp from any port 67 to any port 68\n}\nblock in quick proto udp to port 68\n';
    const offer = udp({ src: '192.168.1.1', dst: '255.255.255.255', sport: 67, dport: 68 });
    expect(decide(conf, offer)).toMatchObject({ action: 'pass', line: 3, anchors: ['ks'] });
    expect(decide(conf, { ...offer, ifName: 'en1' })).toMatchObject({ action: 'block', line: 5 });
  });

  it('an anchor marked quick ends the evaluation after it when a rule inside matched', () => {
    const conf = 'anchor "a" quick {\n  pass proto udp\n}\nblock all\n';
    expect(decide(conf, udp())).toMatchObject({ action: 'pass', line: 2 });
    expect(decide(conf, udp({ proto: 6 }))).toMatchObject({ action: 'block', line: 4 });
    expect(decide('anchor "a" {\n  pass proto udp\n}\nblock all\n', udp())).toMatchObject({ action: 'block', line: 4 });
  });

  it('treats an anchor whose rules are loaded elsewhere as empty', () => {
    expect(decide('block all\nanchor "com.apple/*"\n', udp())).toMatchObject({ action: 'block', line: 1 });
  });
});
