/**
 * --check: a pf.conf against the advice of a denial log — the deciding rule per packet, and the findings: Wi-Fi
 * breakers, legitimate traffic still blocked, leaks, broad rules, block rules without log, stale tunnel names.
 */
import { describe, expect, it } from 'vitest';
import { adviseKillSwitch, type LoggedPacket } from '../../src/classify/kill-switch.js';
import { checkPfRuleset } from '../../src/classify/pf-check.js';
import { parsePfConf } from '../../src/policy/pf-parse.js';
import { loggedPackets } from '../helpers/pf-packets.js';

const pkt = loggedPackets(() => 0);

const RECORDS = [
  pkt({ denied: false, direction: 'out', src: '192.168.1.10', dst: '198.51.100.7', sport: 51234, dport: 1194, service: 'openvpn' }),
  pkt({ direction: 'out', src: '0.0.0.0', dst: '255.255.255.255', sport: 68, dport: 67 }),
  pkt({ af: 6, proto: 58, src: 'fe80::1', dst: 'ff02::1', sport: undefined, dport: undefined, icmpType: 134, icmpCode: 0 }),
  pkt({}),
  pkt({ direction: 'out', src: '192.168.1.10', dst: '192.168.1.1', sport: 40002, dport: 53, service: 'dns' }),
  pkt({ ifName: 'utun3', direction: 'out', src: '10.8.0.2', dst: '10.8.0.1', sport: 53000, dport: 53 }),
];
const ADVICE = adviseKillSwitch(RECORDS, [], { allowBroad: false });

function check(conf: string) {
  return checkPfRuleset(parsePfConf(conf), ADVICE, RECORDS);
}

function codes(conf: string): string[] {
  return check(conf).findings.map((f) => `${f.code}@${f.line ?? '-'}`);
}

describe('the widely copied answer', () => {
  const conf = 'wifi=en0\nvpn=tun0\nblock all\nset skip on lo\npass on $wifi proto udp\npass on $vpn\n';

  it('finds every problem, most severe first', () => {
    expect(codes(conf)).toEqual([
      'wifi-breakers@3',
      'still-blocked@3',
      'admits-stay-denied@5',
      'passes-all-udp@5',
      'stale-tunnel-interface@6',
      'block-without-log@3',
    ]);
  });

  it('names the deciding rule of every denied packet', () => {
    const result = check(conf);
    expect(result.denials.map((d) => [d.decision.packet.frame, d.verdict.action, d.verdict.rule?.line, d.asAdvised])).toEqual([
      [RECORDS[1]!.frame, 'pass', 5, true],
      [RECORDS[2]!.frame, 'block', 3, false],
      [RECORDS[3]!.frame, 'pass', 5, false],
      [RECORDS[4]!.frame, 'pass', 5, false],
      [RECORDS[5]!.frame, 'block', 3, false],
    ]);
    const udpRule = result.rules.find((r) => r.rule.line === 5)!;
    expect(udpRule.admits.map((d) => d.category)).toEqual(['dhcp', 'vpn-stray', 'dns-outside-tunnel']);
    expect(udpRule.breadth).toBe('all-udp');
  });

  it('says plainly why Wi-Fi does not come back, and fixes with the user\'s own macro', () => {
    const result = check(conf);
    expect(result.wifiBreakers).toMatch(/^IPv6 neighbour discovery \(1\) is blocked by line 3 "block all": this is why Wi-Fi does not come back after sleep/);
    expect(result.findings[0]!.fix).toEqual(['pass in quick on $wifi inet6 proto icmp6 from fe80::/10 to ff02::1 icmp6-type routeradv no state']);
    expect(result.findings.find((f) => f.code === 'stale-tunnel-interface')!.fix[0]).toMatch(/vpn = "utun3"/);
  });
});

describe('a rule set that does what the log needs', () => {
  it('has no findings beyond what it chose not to log', () => {
    const conf = ['wifi = "en0"', 'vpn = "utun3"', 'set skip on lo0', 'block log all', ...ADVICE.rules.map((r) => r.pf)].join('\n');
    const result = check(`${conf}\n`);
    expect(result.findings).toEqual([]);
    expect(result.denials.every((d) => d.asAdvised)).toBe(true);
  });

  it('block-without-log puts log after the direction, where pf.conf(5) wants it', () => {
    const finding = check('block return out quick all\n').findings.find((f) => f.code === 'block-without-log')!;
    expect(finding.fix[0]).toBe('block return out log quick all');
  });
});

describe('tunnels', () => {
  it('does not call the live tunnel stale, nor any tunnel when the log shows none', () => {
    expect(codes('block log all\npass out on utun3 all\n')).not.toContain('stale-tunnel-interface@2');
    const noTunnel = adviseKillSwitch(RECORDS.slice(0, 5), [], { allowBroad: false });
    expect(checkPfRuleset(parsePfConf('block log all\npass on utun2\n'), noTunnel, RECORDS.slice(0, 5)).findings.map((f) => f.code)).not.toContain('stale-tunnel-interface');
  });

  it('an interface group covers the live unit (OpenBSD/FreeBSD) and says so', () => {
    const result = check('block log all\npass out on utun all\n');
    expect(result.denials.find((d) => d.decision.packet.ifName === 'utun3')!.verdict.action).toBe('pass');
    expect(result.assumptions).toContain('line 2: utun taken as the interface group of every utunN (OpenBSD/FreeBSD); utun3 is one');
  });
});

describe('broad rules', () => {
  it('any-port: an address-only rule, with the narrower one its traffic needs', () => {
    const finding = check('block log all\npass on en0 proto { tcp, udp } from any to 198.51.100.7\n').findings.find((f) => f.code === 'any-port')!;
    expect(finding.message).toMatch(/in this log it passes udp to 198\.51\.100\.7 port 1194 \(1 packet, frame \d+\)/);
    expect(finding.fix).toEqual(['pass out quick on en0 inet proto udp from any to 198.51.100.7 port 1194 keep state']);
  });

  it('ignores broad rules on interfaces the log never saw', () => {
    expect(codes('block log all\npass on p2p0\n').filter((c) => c.startsWith('passes-'))).toEqual([]);
  });
});
