/**
 * Timeouts from what users paste: `pfctl -s timeouts`, `nft list ruleset` with a ct timeout object, `sysctl -a`.
 */
import { describe, expect, it } from 'vitest';
import { parseFirewallConfig } from '../../src/flow/firewall-config.js';
import { parseDurationUs } from '../../src/flow/duration.js';

describe('parseFirewallConfig', () => {
  it('reads pfctl -s timeouts (macOS output, with the adaptive state counts)', () => {
    const text = [
      'tcp.first                   120s',
      'udp.first                    90s',
      'udp.single                   45s',
      'udp.multiple                120s',
      'icmp.first                   20s',
      'interval                     10s',
      'adaptive.start             6000 states',
      'adaptive.end              12000 states',
    ].join('\n');
    const config = parseFirewallConfig(text, 'pf.txt');
    expect(config.profile.name).toBe('pf');
    expect(config.profile.timeoutsUs).toMatchObject({ 'udp.first': 90e6, 'udp.single': 45e6, 'udp.multiple': 120e6, interval: 10e6 });
    expect(config.profile.counts).toMatchObject({ 'adaptive.start': 6000, 'adaptive.end': 12000 });
  });

  it('reads a UDP ct timeout object from nft list ruleset (bare seconds, as nft 1.0 prints them)', () => {
    const text = `table ip filter {
\tct timeout udp_short {
\t\tprotocol udp
\t\tl3proto ip
\t\tpolicy = { unreplied : 3, replied : 5 }
\t}
\tchain input { type filter hook input priority filter; policy accept; }
}`;
    const config = parseFirewallConfig(text, 'ruleset.nft');
    expect(config.profile.name).toBe('nft');
    expect(config.profile.timeoutsUs).toMatchObject({ unreplied: 3e6, replied: 5e6 });
    expect(config.description).toMatch(/udp_short/);
  });

  it('reads sysctl -a lines for nf_conntrack_udp_timeout*', () => {
    const text = 'net.netfilter.nf_conntrack_tcp_timeout_close = 10\nnet.netfilter.nf_conntrack_udp_timeout = 60\nnet.netfilter.nf_conntrack_udp_timeout_stream = 180\n';
    const config = parseFirewallConfig(text, 'sysctl.txt');
    expect(config.profile.name).toBe('linux');
    expect(config.profile.timeoutsUs).toMatchObject({ unreplied: 60e6, replied: 180e6 });
  });

  it('refuses text with no UDP timeouts, naming what it accepts', () => {
    expect(() => parseFirewallConfig('tcp.first 120s\n', 'x')).toThrow(/no UDP timeouts found; expected `pfctl -s timeouts`/);
  });
});

describe('durations', () => {
  it.each([
    ['30', 30e6],
    ['30s', 30e6],
    ['1m30s', 90e6],
    ['500ms', 500e3],
    ['2h', 7200e6],
    ['1.5s', 1.5e6],
  ])('%s', (text, us) => {
    expect(parseDurationUs(text)).toBe(us);
  });
  it.each(['', 'soon', '30x', '1m30', '-5s'])('rejects %s', (text) => {
    expect(parseDurationUs(text)).toBeUndefined();
  });
});
