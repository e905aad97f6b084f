/**
 * explain's causes on the fixtures, record by record, and on scripted timelines for the causes the fixtures do not
 * show (state flush, endpoint change, local address change, late reply, graceful exit, same-port restart).
 */
import { describe, expect, it } from 'vitest';
import { Timeline, explainDenials, type ObservedPacket } from '../../src/classify/explain.js';
import { runCliCaptured } from '../helpers/cli.js';

process.chdir(new URL('../..', import.meta.url).pathname);

interface VerdictJson {
  frame: number;
  cause: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  evidence: string[];
  ruled_out: Array<{ cause: string; why: string }>;
  remedy: string[];
}

async function verdicts(args: string[]): Promise<VerdictJson[]> {
  const result = await runCliCaptured(['explain', '--format', 'json', ...args]);
  expect(result.stderr).toBe('');
  return (JSON.parse(result.stdout) as { verdicts: VerdictJson[] }).verdicts;
}

describe('macOS pflog fixture (61-byte headers), record by record', () => {
  it('explains every block record with the right cause', async () => {
    const v = await verdicts(['--denied', 'fixtures/pflog/macos-sleep.pcap']);
    expect(v.map((x) => [x.frame, x.cause])).toEqual([
      [3, 'client-restart'],
      [4, 'dhcp'],
      [5, 'dhcp'],
      [6, 'link-local-multicast'],
      [7, 'link-local-multicast'],
      [8, 'client-restart'],
      [10, 'client-restart'],
    ]);
    const stray = v[0]!;
    expect(stray.evidence.join(' ')).toMatch(/new flow to the same server from port 52001 at frame 9 with a fresh P_CONTROL_HARD_RESET_CLIENT_V2/);
    expect(stray.ruled_out.map((r) => r.cause)).toEqual(expect.arrayContaining(['dhcp', 'link-local-multicast', 'state-flush', 'same-port-restart', 'graceful-exit-inflight']));
    expect(stray.remedy[0]).toMatch(/explicit-exit-notify 1/);
    expect(v[1]!.evidence[0]).toMatch(/host's own DHCP request .* blocked on its way out/);
    expect(v[1]!.remedy[0]).toMatch(/allow DHCP/);
  });
});

describe('capture alone: the model predicts the denials', () => {
  it('explains the openvpn-idle fixture', async () => {
    const v = await verdicts(['--capture', 'fixtures/pcap/openvpn-idle.pcap']);
    expect(v.map((x) => [x.frame, x.cause])).toEqual([
      [2, 'dhcp'],
      [19, 'link-local-multicast'],
      [20, 'link-local-multicast'],
      [21, 'client-restart'],
      [22, 'client-restart'],
      [27, 'client-restart'],
      [30, 'client-restart'],
    ]);
  });
});

// --- scripted timelines -----------------------------------------------------------------------------------------

const HOST = '192.168.1.10';
const SERVER = '198.51.100.7';
let index = 0;
function p(t: number, fromLocal: boolean, options: Partial<ObservedPacket> = {}): ObservedPacket {
  return {
    index: index++,
    frame: index,
    source: 'capture',
    tsUs: Math.round(t * 1e6),
    localAddr: HOST,
    localPort: 51234,
    remoteAddr: SERVER,
    remotePort: 1194,
    fromLocal,
    service: 'openvpn',
    openvpnOpcode: 9,
    openvpnOpcodeName: 'P_DATA_V2',
    openvpnSession: '',
    payloadBytes: 60,
    multicast: false,
    denied: false,
    denial: undefined,
    ...options,
  };
}

function causes(packets: ObservedPacket[]): string[] {
  index = 0;
  return explainDenials(new Timeline(packets.map((q, i) => ({ ...q, index: i }))), {
    profileName: 'pf',
    steadyTimeoutUs: 60e6,
    estimate: undefined,
  }).map((e) => e.cause);
}

describe('ICMP errors about UDP flows (fixtures/pcap/icmp-errors.pcap)', () => {
  it('explains late errors as icmp-error and uses the host\'s own port unreachable as evidence of a killed client', async () => {
    const v = await verdicts(['--capture', 'fixtures/pcap/icmp-errors.pcap', '--local', '192.168.1.10', '--local', '2001:db8:1::10']);
    expect(v.map((x) => [x.frame, x.cause, x.src, x.sport, x.dst, x.dport])).toEqual([
      [11, 'client-killed', '198.51.100.7', 1194, '192.168.1.10', 51234],
      [14, 'client-killed', '198.51.100.7', 1194, '192.168.1.10', 51234],
      [15, 'icmp-error', '192.168.1.1', 53, '192.168.1.10', 53111],
      [16, 'icmp-error', '2001:db8:2::443', 443, '2001:db8:1::10', 60000],
    ]);
    expect(v[0]!.evidence.join(' ')).toMatch(/answered 1 of the server's packets with ICMP port unreachable \(first at frame 10\)/);
    const dns = v[2]! as VerdictJson & { icmp?: unknown };
    expect(dns.icmp).toEqual({ type: 3, code: 3, sender: '192.168.1.1' });
    expect(dns.evidence.join(' ')).toMatch(/port unreachable from the remote itself .* state \(udp.first, 60 s\) expired 10 s before/);
    const v6 = v[3]! as VerdictJson & { icmp?: unknown };
    expect(v6.icmp).toEqual({ type: 3, code: 0, sender: '2001:db8:ffff::1' });
    expect(v6.evidence.join(' ')).toMatch(/ICMP time exceeded from 2001:db8:ffff::1 \(a router on the path\)/);
    expect(v[0]!.ruled_out.map((r) => r.cause)).toContain('icmp-error');
  });

  it('analyze reports the denied errors with their ICMP type and the quoted flow\'s expired state', async () => {
    const result = await runCliCaptured(['analyze', '--format', 'json', '--local', '192.168.1.10', 'fixtures/pcap/icmp-errors.pcap']);
    const denials = (JSON.parse(result.stdout) as { denials: Array<{ frame: number; reason: string; icmp?: unknown; previous?: { timeout_key: string } }> }).denials;
    expect(denials.map((d) => [d.frame, d.reason, d.icmp])).toEqual([
      [11, 'state-expired', undefined],
      [14, 'state-expired', undefined],
      [15, 'state-expired', { type: 3, code: 3 }],
    ]);
  });
});

describe('scripted causes', () => {
  it('idle-expiry: the host sends on the same flow again after the denial', () => {
    expect(causes([p(0, true), p(1, false), p(80, false, { denied: true }), p(85, true), p(86, false)])).toEqual(['idle-expiry']);
  });

  it('client-killed: the host never speaks again and no new session appears', () => {
    expect(causes([p(0, true), p(1, false), p(80, false, { denied: true }), p(90, false, { denied: true })])).toEqual(['client-killed', 'client-killed']);
  });

  it('graceful-exit-inflight: within a round trip of the host\'s last packet, then silence', () => {
    expect(causes([p(0, true), p(10, true, { openvpnOpcode: 4 }), p(10.2, false, { denied: true })])).toEqual(['graceful-exit-inflight']);
  });

  it('same-port-restart: a fresh hard reset on the same 5-tuple, the denied packet carries the old session', () => {
    expect(
      causes([
        p(0, true, { openvpnOpcode: 7, openvpnSession: 'aaaa' }),
        p(1, false, { openvpnOpcode: 4, openvpnSession: 'bbbb' }),
        p(50, true, { openvpnOpcode: 7, openvpnSession: 'cccc' }),
        p(50.5, false, { openvpnOpcode: 4, openvpnSession: 'bbbb', denied: true }),
        p(52, true),
      ]),
    ).toEqual(['same-port-restart']);
  });

  it('state-flush: several flows denied in one second although they were busy', () => {
    const flows = [40001, 40002, 40003];
    const packets = flows.flatMap((port) => [p(0, true, { localPort: port }), p(5, false, { localPort: port }), p(10.1 + port / 1e6, false, { localPort: port, denied: true })]);
    expect(causes(packets.sort((a, b) => a.tsUs - b.tsUs))).toEqual(['state-flush', 'state-flush', 'state-flush']);
  });

  it('endpoint-change: the server answers from another address', () => {
    expect(causes([p(0, true), p(1, false), p(2, false, { remoteAddr: '198.51.100.8', denied: true })])).toEqual(['endpoint-change']);
  });

  it('local-address-change: the same server and port, the host\'s previous address', () => {
    expect(causes([p(0, true, { localAddr: '192.168.1.11' }), p(30, false, { denied: true })])).toEqual(['local-address-change']);
  });

  it('unsolicited: nothing from the host on that flow', () => {
    expect(causes([p(0, false, { remoteAddr: '203.0.113.9', remotePort: 40000, service: '', denied: true })])).toEqual(['unsolicited']);
  });

  it('late-reply: a DNS answer after the state expired', () => {
    const dns = { remotePort: 53, localPort: 53001, service: 'dns', openvpnOpcode: -1 };
    expect(causes([p(0, true, dns), p(45, false, { ...dns, denied: true })])).toEqual(['late-reply']);
  });
});

describe('Little Snitch', () => {
  it('the BTGuard alert parses and ranks idle-expiry and client-restart first', async () => {
    const text =
      'On 29 May 2019, vpn.btguard.com tried to establish an incoming connection to openvpn. The request was denied automatically because this kind of connection cannot be delayed.';
    const result = await runCliCaptured(['explain', '--format', 'json', '--little-snitch', text]);
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as { alert: Record<string, string>; causes: Array<{ cause: string; confirm: string[]; remedy: string[] }> };
    expect(doc.alert).toEqual({ date: '2019-05-29', remote: 'vpn.btguard.com', process: 'openvpn', direction: 'incoming', protocol: 'udp' });
    expect(doc.causes.slice(0, 2).map((c) => c.cause).sort()).toEqual(['client-restart', 'idle-expiry']);
    expect(doc.causes[0]!.confirm.join('\n')).toMatch(/tcpdump .*vpn\.btguard\.com/);
    expect(doc.causes.flatMap((c) => c.remedy).join('\n')).toMatch(/"remote-hosts"/);
  });

  it('text that is not an alert: one clear line, exit 2', async () => {
    const result = await runCliCaptured(['explain', '--little-snitch', 'my printer is on fire']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/not a Little Snitch alert/);
  });

  it('a log-traffic CSV: one ranked verdict per denied incoming UDP row', async () => {
    const v = await verdicts(['--denied', 'fixtures/little-snitch/log-traffic.csv']);
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]).toMatchObject({ src: '198.51.100.7', dport: 51234, cause: 'idle-expiry' });
  });
});
