/**
 * The kill-switch advisor: which denials get a rule and which stay denied, how far addresses are generalised, that
 * no proposal is broad, that every proposal — written out as pf.conf text and read back — admits exactly what it
 * says on top of `block all`, and what --allow-broad leaks.
 */
import { describe, expect, it } from 'vitest';
import { adviseKillSwitch, type LoggedPacket } from '../../src/classify/kill-switch.js';
import { adviseRules } from '../../src/pipeline/rules.js';
import { resolveProfile } from '../../src/pipeline/profiles.js';
import { ruleBreadth } from '../../src/policy/breadth.js';
import { evaluatePacket } from '../../src/policy/evaluate.js';
import { parsePfConf } from '../../src/policy/pf-parse.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { loggedPackets } from '../helpers/pf-packets.js';

// Frame n at n + 1 seconds.
const pkt = loggedPackets((frame) => 1_000_000 * (frame + 1));

function icmp6(direction: 'in' | 'out', src: string, dst: string, type: number): LoggedPacket {
  return pkt({ direction, af: 6, proto: 58, src, dst, sport: undefined, dport: undefined, icmpType: type, icmpCode: 0 });
}

const HOST_OUT = pkt({ denied: false, direction: 'out', src: '192.168.1.10', dst: '198.51.100.7', sport: 51234, dport: 1194, service: 'openvpn' });

describe('what gets a rule and what stays denied', () => {
  const records = [
    HOST_OUT,
    pkt({ direction: 'out', src: '0.0.0.0', dst: '255.255.255.255', sport: 68, dport: 67 }),
    pkt({ src: '192.168.1.1', dst: '255.255.255.255', sport: 67, dport: 68 }),
    icmp6('in', 'fe80::1', 'ff02::1', 134),
    icmp6('in', 'fe80::1', 'ff02::1', 128),
    pkt({ src: '192.168.1.20', dst: '224.0.0.251', sport: 5353, dport: 5353 }),
    pkt({ src: '192.168.1.30', dst: '239.255.255.250', sport: 40000, dport: 1900, service: 'ssdp' }),
    pkt({ direction: 'out', src: '192.168.1.10', dst: '198.51.100.9', sport: 40001, dport: 1194, service: 'openvpn' }),
    pkt({ direction: 'out', src: '192.168.1.10', dst: '192.168.1.1', sport: 40002, dport: 53, service: 'dns' }),
    pkt({ direction: 'out', src: '192.168.1.10', dst: '203.0.113.80', sport: 40003, dport: 443, service: 'quic' }),
    pkt({}),
    pkt({ src: '203.0.113.50', sport: 40000, dport: 5060 }),
    pkt({ ifName: 'utun3', direction: 'out', src: '10.8.0.2', dst: '10.8.0.1', sport: 53000, dport: 53 }),
    pkt({ ifName: 'utun3', direction: 'in', src: '203.0.113.66', dst: '10.8.0.2', sport: 4444, dport: 22, proto: 6, tcpFlags: 0x02 }),
    pkt({ direction: 'in', src: '203.0.113.67', sport: 443, dport: 50000, proto: 6, tcpFlags: 0x10 }),
  ];
  const advice = adviseKillSwitch(records, [], { allowBroad: false });
  const category = (frame: number): string | undefined => advice.decisions.find((d) => d.packet.frame === frame)?.category;
  const verdict = (frame: number): string | undefined => advice.decisions.find((d) => d.packet.frame === frame)?.verdict;

  it('admits DHCP, router advertisements, mDNS, the VPN server and the tunnel', () => {
    for (const [i, c] of [[1, 'dhcp'], [2, 'dhcp'], [3, 'neighbour-discovery'], [5, 'mdns'], [7, 'vpn-endpoint'], [12, 'tunnel']] as const) {
      expect([category(records[i]!.frame), verdict(records[i]!.frame)]).toEqual([c, 'admit']);
    }
  });

  it('keeps ping, SSDP, DNS and QUIC outside the tunnel, VPN strays, probes and inbound TCP denied', () => {
    for (const [i, c] of [[4, 'icmp'], [6, 'lan-multicast'], [8, 'dns-outside-tunnel'], [9, 'outside-tunnel'], [10, 'vpn-stray'], [11, 'unsolicited'], [13, 'tunnel-inbound'], [14, 'not-udp']] as const) {
      expect([category(records[i]!.frame), verdict(records[i]!.frame)]).toEqual([c, 'stay-denied']);
    }
    expect(advice.stayDenied.find((s) => s.category === 'dns-outside-tunnel')!.remedy[1]).toContain('pass out quick on $wifi proto udp to 192.168.1.1 port 53 keep state');
  });

  it('names the interfaces: the busiest physical one wifi, the live tunnel vpn', () => {
    expect(advice.interfaces.map((i) => [i.name, i.macro, i.live])).toEqual([
      ['en0', 'wifi', false],
      ['utun3', 'vpn', true],
    ]);
    expect(advice.rules.find((r) => r.category === 'tunnel')!.pf).toBe('pass out quick on $vpn all keep state');
  });

  it('says DHCP is why Wi-Fi does not come back', () => {
    expect(advice.wifiBreakers).toMatchObject({ dhcp: 2, dhcpv6: 0, neighbourDiscovery: 1 });
    expect(advice.wifiBreakers!.text).toMatch(/this is why Wi-Fi does not come back after sleep/);
    expect(adviseKillSwitch([HOST_OUT, pkt({})], [], { allowBroad: false }).wifiBreakers).toBeUndefined();
  });

  it('pins the VPN server and its port, not the client port; keeps state there and not for multicast', () => {
    expect(advice.rules.find((r) => r.category === 'vpn-endpoint')!.pf).toBe('pass out quick on $wifi inet proto udp from any to 198.51.100.9 port 1194 keep state');
    expect(advice.rules.find((r) => r.category === 'mdns')!.pf).toBe('pass in quick on $wifi inet proto udp from any port 5353 to 224.0.0.251 port 5353 no state');
  });
});

describe('neighbour discovery: generalised to the protocol\'s own scopes', () => {
  it('merges solicitations from :: and from link-local into one rule to the solicited-node range', () => {
    const advice = adviseKillSwitch(
      [
        icmp6('out', 'fe80::3e22:fbff:fe10:a', 'ff02::2', 133),
        icmp6('out', '::', 'ff02::1:ff10:a', 135),
        icmp6('out', 'fe80::3e22:fbff:fe10:a', 'ff02::1:ff00:1', 135),
      ],
      [],
      { allowBroad: false },
    );
    expect(advice.rules.map((r) => r.pf)).toEqual([
      'pass out quick on $wifi inet6 proto icmp6 from fe80::/10 to ff02::2 icmp6-type routersol no state',
      'pass out quick on $wifi inet6 proto icmp6 from { ::, fe80::/10 } to ff02::1:ff00:0/104 icmp6-type neighbrsol no state',
    ]);
    expect(advice.rules[1]!.admits).toHaveLength(2);
  });

  it('writes global addresses as the interface\'s own ($wifi) and its on-link prefix ($wifi:network)', () => {
    const advice = adviseKillSwitch(
      [icmp6('out', '2001:db8:1::23', '2001:db8:1::1', 135), icmp6('in', '2001:db8:1::1', '2001:db8:1::23', 136)],
      [],
      { allowBroad: false },
    );
    expect(advice.rules.map((r) => r.pf)).toEqual([
      'pass out quick on $wifi inet6 proto icmp6 from ($wifi) to ($wifi:network) icmp6-type neighbrsol no state',
      'pass in quick on $wifi inet6 proto icmp6 from ($wifi:network) to ($wifi) icmp6-type neighbradv no state',
    ]);
    expect(advice.verification.failures).toEqual([]);
    expect(advice.verification.admitted).toBe(2);
  });
});

describe('never broad', () => {
  it('no proposal passes all UDP or all traffic on a physical interface, whatever the log', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const addresses = ['192.168.1.10', '192.168.1.1', '0.0.0.0', '255.255.255.255', '224.0.0.251', '239.255.255.250', '198.51.100.7', '203.0.113.9'];
    const ports = [53, 67, 68, 123, 443, 1194, 1900, 5353, 51820, 40000];
    for (let round = 0; round < 50; round++) {
      const records: LoggedPacket[] = [];
      for (let i = 0; i < 30; i++) {
        records.push(
          pkt({
            ifName: ['en0', 'en1', 'utun3', undefined][random(4)],
            direction: random(2) === 0 ? 'in' : 'out',
            src: addresses[random(addresses.length)]!,
            dst: addresses[random(addresses.length)]!,
            sport: ports[random(ports.length)]!,
            dport: ports[random(ports.length)]!,
            service: ['', 'openvpn', 'wireguard', 'dns'][random(4)]!,
          }),
        );
      }
      const advice = adviseKillSwitch(records, [], { allowBroad: false });
      for (const rule of advice.rules) expect(ruleBreadth(rule.rule, ['en0', 'en1', 'utun3'], advice.context), rule.pf).not.toMatch(/^all-/);
      expect(advice.verification.failures).toEqual([]);
    }
  });

  it('--allow-broad writes the usual rule and lists, from the log, what it would let through', () => {
    const records = [
      pkt({ direction: 'out', src: '0.0.0.0', dst: '255.255.255.255', sport: 68, dport: 67 }),
      pkt({ direction: 'out', src: '192.168.1.10', dst: '192.168.1.1', sport: 40002, dport: 53, service: 'dns' }),
      pkt({ src: '203.0.113.50', sport: 40000, dport: 5060 }),
    ];
    const advice = adviseKillSwitch(records, [], { allowBroad: true });
    expect(advice.rules.map((r) => r.pf)).toEqual(['pass quick on $wifi proto udp all keep state']);
    expect(advice.rules[0]!.admits.map((p) => p.frame)).toEqual([records[0]!.frame]);
    expect(advice.warnings).toHaveLength(1);
    expect(advice.warnings[0]).toMatch(/passes every UDP port to and from every address on en0 \(\$wifi\), outside the tunnel/);
    expect(advice.warnings[0]).toMatch(/1 dns-outside-tunnel \(first: frame \d+, out on en0 udp 192\.168\.1\.10:40002 → 192\.168\.1\.1:53\); 1 unsolicited/);
    expect(advice.verification.stillDenied).toBe(0);
  });
});

describe('the fixtures, end to end', () => {
  for (const file of ['fixtures/pflog/macos-killswitch.pcap', 'fixtures/pflog/openbsd-wg.pcap', 'fixtures/pflog/macos-sleep.pcap']) {
    it(`${file}: the rules as pf.conf text, read back, admit exactly what they claim on top of block all`, async () => {
      const { advice } = await adviseRules({ deniedFile: `${REPO_ROOT}/${file}`, profile: resolveProfile({}), profileGiven: false, allowBroad: false });
      expect(advice.verification.failures).toEqual([]);
      const macros = advice.interfaces.map((i) => `${i.macro} = "${i.name}"`).join('\n');
      const conf = parsePfConf(`${macros}\nblock all\n${advice.rules.map((r) => r.pf).join('\n')}\n`);
      for (const decision of advice.decisions) {
        const verdict = evaluatePacket(conf, decision.packet, advice.context);
        expect(verdict.action, `frame ${decision.packet.frame} (${decision.category})`).toBe(decision.verdict === 'admit' ? 'pass' : 'block');
        if (decision.verdict === 'admit') {
          const claimed = advice.rules.find((r) => r.id === decision.ruleId)!;
          expect(verdict.rule!.text).toBe(claimed.pf);
        }
      }
    });
  }
});
