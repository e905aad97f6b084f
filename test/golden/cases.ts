/**
 * The golden manifest (tcpdump's tests/TESTLIST): name, arguments; expected output in expected/<name>.out.
 * Update deliberately with `npx vitest run -u test/golden` and review the diff.
 */
export interface GoldenCase {
  name: string;
  args: string[];
}

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'packets-openvpn-idle', args: ['packets', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'packets-macos-sleep', args: ['packets', 'fixtures/pflog/macos-sleep.pcap'] },
  { name: 'packets-macos-sleep-json', args: ['packets', '--format', 'json', 'fixtures/pflog/macos-sleep.pcap'] },
  { name: 'analyze-openvpn-idle', args: ['analyze', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'analyze-openvpn-idle-linux', args: ['analyze', '--profile', 'linux', '--local', '192.168.1.10', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'analyze-openvpn-idle-json', args: ['analyze', '--format', 'json', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'analyze-openvpn-idle-ndjson', args: ['analyze', '--format', 'ndjson', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'analyze-openvpn-idle-conn', args: ['analyze', '--format', 'conn', '--profile', 'zeek', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'analyze-macos-sleep', args: ['analyze', 'fixtures/pflog/macos-sleep.pcap'] },
  { name: 'simulate-openvpn-idle-all', args: ['simulate', '--all', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'simulate-openvpn-idle-sweep', args: ['simulate', '--profile', 'pf', '--sweep', 'udp.multiple=10s..120s', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'explain-macos-sleep', args: ['explain', '--denied', 'fixtures/pflog/macos-sleep.pcap'] },
  { name: 'explain-openvpn-idle', args: ['explain', '--capture', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'explain-openvpn-idle-json', args: ['explain', '--format', 'json', '--capture', 'fixtures/pcap/openvpn-idle.pcap'] },
  { name: 'explain-little-snitch-btguard', args: ['explain', '--little-snitch-file', 'fixtures/little-snitch/alert-ls4-btguard.txt'] },
  { name: 'explain-little-snitch-csv', args: ['explain', '--denied', 'fixtures/little-snitch/log-traffic.csv'] },
  { name: 'rules-macos-killswitch', args: ['rules', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-macos-killswitch-json', args: ['rules', '--format', 'json', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-macos-killswitch-nft', args: ['rules', '--target', 'nft', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-macos-killswitch-lsrules', args: ['rules', '--target', 'lsrules', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-macos-killswitch-allow-broad', args: ['rules', '--allow-broad', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-macos-sleep', args: ['rules', '--denied', 'fixtures/pflog/macos-sleep.pcap'] },
  { name: 'rules-openbsd-wg', args: ['rules', '--denied', 'fixtures/pflog/openbsd-wg.pcap'] },
  { name: 'rules-openbsd-wg-nft', args: ['rules', '--target', 'nft', '--denied', 'fixtures/pflog/openbsd-wg.pcap'] },
  { name: 'rules-check-superuser-468919', args: ['rules', '--check', 'fixtures/pf/superuser-468919.pf.conf', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-check-killswitch-0.8', args: ['rules', '--check', 'fixtures/pf/killswitch-0.8.pf.conf', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-check-killswitch-0.8-json', args: ['rules', '--format', 'json', '--check', 'fixtures/pf/killswitch-0.8.pf.conf', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-check-mullvad-anchor', args: ['rules', '--check', 'fixtures/pf/mullvad-anchor.pf.conf', '--denied', 'fixtures/pflog/macos-killswitch.pcap'] },
  { name: 'rules-check-openbsd-wg', args: ['rules', '--check', 'fixtures/pf/openbsd-wg.pf.conf', '--denied', 'fixtures/pflog/openbsd-wg.pcap'] },
];
