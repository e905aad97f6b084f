/**
 * Little Snitch alert texts, their ranked causes, the .lsrules remedy and `littlesnitch log-traffic` CSV
 * (formats.md §8, behaviour.md §4, §7(a)). The alert wordings are in fixtures/little-snitch/ (fixtures/README.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isLittleSnitchTrafficLog,
  LittleSnitchParseError,
  lsrulesForAlert,
  NOT_STRAY_INBOUND,
  parseLittleSnitchAlert,
  parseLittleSnitchAlertDetails,
  parseLittleSnitchTrafficLog,
  rankAlertCauses,
  type LittleSnitchAlert,
  type LittleSnitchAlertDetails,
} from '../../src/classify/little-snitch.js';
import { buildLsrules, LsrulesError } from '../../src/classify/lsrules.js';
import { REPO_ROOT } from '../helpers/cli.js';

const fixture = (name: string): string => readFileSync(join(REPO_ROOT, 'fixtures/little-snitch', name), 'utf8');

const BTGUARD =
  'On 29 May 2019, vpn.btguard.com tried to establish an incoming connection to openvpn. The request was denied ' +
  'automatically because this kind of connection cannot be delayed.';

const ONE_LINE_ERROR =
  'not a Little Snitch alert: expected "<remote> tried to establish an incoming connection to <process>" (Little Snitch 4–6 wording)';

/** Parse, and return the error instead of throwing, for the rejection tests. */
function parseError(text: string): LittleSnitchParseError {
  try {
    parseLittleSnitchAlert(text);
  } catch (error) {
    if (error instanceof LittleSnitchParseError) return error;
    throw error;
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseLittleSnitchAlert', () => {
  it('reads the BTGuard alert (Super User 1442637, behaviour.md §4)', () => {
    expect(parseLittleSnitchAlert(BTGUARD)).toEqual({
      date: '2019-05-29',
      remote: 'vpn.btguard.com',
      process: 'openvpn',
      direction: 'incoming',
      protocol: 'udp',
      cannotBeDelayed: true,
    });
    expect(parseLittleSnitchAlert(fixture('alert-ls4-btguard.txt'))).toEqual(parseLittleSnitchAlert(BTGUARD));
  });

  const incoming = { remote: 'vpn.btguard.com', process: 'openvpn', direction: 'incoming', protocol: 'udp', cannotBeDelayed: true } as const;
  const fixtures: Record<string, Omit<LittleSnitchAlertDetails, 'wording'> & { wording: LittleSnitchAlertDetails['wording'] }> = {
    'alert-ls4-btguard.txt': { ...incoming, date: '2019-05-29', port: null, remoteAddress: null, via: null, wording: 'ls4-sentence' },
    'alert-ls4-no-date.txt': { ...incoming, date: null, port: null, remoteAddress: null, via: null, wording: 'ls4-sentence' },
    'alert-ls4-us-date-curly-quotes.txt': { ...incoming, date: '2019-05-29', port: null, remoteAddress: null, via: null, wording: 'ls4-sentence' },
    'alert-ls4-dotted-date-wrapped.txt': { ...incoming, date: '2019-05-29', port: null, remoteAddress: null, via: null, wording: 'ls4-sentence' },
    'alert-ls4-iso-date-via-port.txt': { ...incoming, date: '2019-05-29', port: 1194, remoteAddress: null, via: null, wording: 'ls4-sentence' },
    'alert-ls4-weekday-ipv6-via-app.txt': {
      ...incoming,
      remote: '2001:db8::7',
      date: '2019-05-29',
      port: 1194,
      remoteAddress: '2001:db8::7',
      via: 'Tunnelblick',
      wording: 'ls4-sentence',
    },
    'alert-ls5-notification.txt': { ...incoming, date: null, port: null, remoteAddress: null, via: null, wording: 'notification' },
    'alert-ls6-notification-dash.txt': { ...incoming, date: null, port: null, remoteAddress: null, via: null, wording: 'notification' },
    'alert-incoming-from-to.txt': {
      ...incoming,
      remote: '198.51.100.7',
      protocol: 'unknown',
      cannotBeDelayed: false,
      date: null,
      port: null,
      remoteAddress: '198.51.100.7',
      via: null,
      wording: 'incoming-from-to',
    },
    'alert-ls4-outgoing.txt': {
      ...incoming,
      direction: 'outgoing',
      cannotBeDelayed: false,
      date: null,
      port: 1194,
      remoteAddress: null,
      via: null,
      wording: 'outgoing-sentence',
    },
  };
  for (const [name, expected] of Object.entries(fixtures)) {
    it(`reads fixtures/little-snitch/${name}`, () => {
      expect(parseLittleSnitchAlertDetails(fixture(name))).toEqual(expected);
    });
  }

  const variants: [string, Partial<LittleSnitchAlert>][] = [
    [BTGUARD.replace('On 29 May 2019, ', ''), { date: null, remote: 'vpn.btguard.com', process: 'openvpn' }],
    [BTGUARD.replace('29 May 2019', 'May 29, 2019'), { date: '2019-05-29' }],
    [BTGUARD.replace('29 May 2019', '29.05.2019'), { date: '2019-05-29' }],
    [BTGUARD.replace('29 May 2019', '2019-05-29'), { date: '2019-05-29' }],
    [BTGUARD.replace('29 May 2019', '29th of May 2019'), { date: '2019-05-29' }],
    [BTGUARD.replace('29 May 2019', '29/05/2019'), { date: '2019-05-29' }],
    [BTGUARD.replace('29 May 2019', '05/29/2019'), { date: '2019-05-29' }],
    [BTGUARD.replace('29 May 2019', '05/06/2019'), { date: null, remote: 'vpn.btguard.com' }], // ambiguous: not guessed
    [BTGUARD.replace('29 May 2019', '31.02.2019'), { date: null, remote: 'vpn.btguard.com' }], // no such day
    [BTGUARD.replace('openvpn', '“openvpn”'), { process: 'openvpn' }],
    [BTGUARD.replace('openvpn', '"openvpn"'), { process: 'openvpn' }],
    [BTGUARD.replace('openvpn', "'openvpn'"), { process: 'openvpn' }],
    [BTGUARD.replace('openvpn', '«openvpn»'), { process: 'openvpn' }],
    [BTGUARD.toUpperCase(), { date: '2019-05-29', remote: 'vpn.btguard.com', process: 'OPENVPN', protocol: 'udp', cannotBeDelayed: true }],
    [BTGUARD.toLowerCase(), { date: '2019-05-29', process: 'openvpn', cannotBeDelayed: true }],
    [BTGUARD.replaceAll(' ', '\n  '), { date: '2019-05-29', remote: 'vpn.btguard.com', process: 'openvpn', cannotBeDelayed: true }],
    [BTGUARD.replaceAll(' ', '\u00a0'), { date: '2019-05-29', remote: 'vpn.btguard.com', process: 'openvpn' }],
    [
      'vpn.btguard.com tried to establish an incoming connection to “openvpn” via UDP port 1194',
      { date: null, remote: 'vpn.btguard.com', process: 'openvpn', direction: 'incoming', protocol: 'udp', cannotBeDelayed: false },
    ],
    ['Incoming connection from 1.2.3.4 to openvpn was denied', { remote: '1.2.3.4', process: 'openvpn', direction: 'incoming', protocol: 'unknown' }],
    [
      'Connection denied — openvpn: incoming UDP connection from vpn.btguard.com was denied automatically because this kind of connection cannot be delayed',
      { remote: 'vpn.btguard.com', process: 'openvpn', direction: 'incoming', protocol: 'udp', cannotBeDelayed: true },
    ],
    ['Connection Denied: openvpn: incoming UDP connection from vpn.btguard.com was denied.', { process: 'openvpn', remote: 'vpn.btguard.com' }],
    ['Little Snitch\nGoogle Chrome Helper: incoming UDP connection from [2001:db8::7]:443 was denied', { process: 'Google Chrome Helper', remote: '2001:db8::7' }],
    ['Little Snitch denied an incoming UDP connection from 198.51.100.7:1194 to /usr/local/sbin/openvpn.', { process: '/usr/local/sbin/openvpn', remote: '198.51.100.7' }],
    ['vpn.btguard.com (198.51.100.7) tried to open an inbound connection to openvpn.', { remote: 'vpn.btguard.com', process: 'openvpn', direction: 'incoming' }],
    ['gateway.example.net tried to establish an incoming connection to ping. It was denied automatically because this kind of connection cannot be delayed.', { process: 'ping', protocol: 'icmp' }],
    ['Incoming Connection Denied\nopenvpn\nincoming UDP connection from vpn.btguard.com', { process: 'openvpn', remote: 'vpn.btguard.com', protocol: 'udp' }],
    ['Network Alert — openvpn — incoming UDP connection from vpn.btguard.com was denied', { process: 'openvpn', remote: 'vpn.btguard.com' }],
    ['Incoming UDP connection to "Tunnelblick Helper" from 198.51.100.7:1194 was denied', { process: 'Tunnelblick Helper', remote: '198.51.100.7' }],
    ['vpn.btguard.com attempted an incoming connection to openvpn.', { process: 'openvpn', remote: 'vpn.btguard.com', direction: 'incoming' }],
    ['Udp.Example.com tried to establish an incoming connection to openvpn.', { remote: 'udp.example.com', protocol: 'unknown' }],
    ['Outgoing connection from openvpn to vpn.btguard.com was denied.', { process: 'openvpn', remote: 'vpn.btguard.com', direction: 'outgoing' }],
    ['Google Chrome wants to connect to www.example.com on TCP port 443', { process: 'Google Chrome', remote: 'www.example.com', direction: 'outgoing', protocol: 'tcp' }],
  ];
  for (const [text, expected] of variants) {
    it(`reads ${JSON.stringify(text.slice(0, 70))}…`, () => {
      expect(parseLittleSnitchAlert(text)).toMatchObject(expected);
    });
  }

  it('keeps the address given in parentheses after the name', () => {
    expect(parseLittleSnitchAlertDetails('vpn.btguard.com (198.51.100.7) tried to open an inbound connection to openvpn.').remoteAddress).toBe('198.51.100.7');
  });

  it.each([
    ['', 'not a Little Snitch alert: the text is empty; expected'],
    ['   \n\t ', 'not a Little Snitch alert: the text is empty; expected'],
    ['hello world', ONE_LINE_ERROR],
    ['The quick brown fox tried to establish a connection to the lazy dog.', ONE_LINE_ERROR],
    ['Incoming connection from 1.2.3.4 was denied.', ONE_LINE_ERROR], // no process
    ['tried to establish an incoming connection to openvpn.', ONE_LINE_ERROR], // no remote
    ['x'.repeat(20_000), 'not a Little Snitch alert: 20000 characters is too long for one; expected'],
  ])('rejects text %# with a one-line message', (text, message) => {
    const error = parseError(text);
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.name).toBe('LittleSnitchParseError');
  });

  it('stays fast on long text without an alert in it', () => {
    const text = 'word '.repeat(1900) + 'tried to establish an incoming connection to ' + 'name '.repeat(100);
    const start = performance.now();
    expect(() => parseLittleSnitchAlert(text)).toThrow(LittleSnitchParseError);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe('rankAlertCauses', () => {
  const ranked = rankAlertCauses(parseLittleSnitchAlert(BTGUARD));

  it('ranks idle-expiry and client-restart first for the BTGuard alert, then the rest in order', () => {
    expect(new Set(ranked.slice(0, 2).map((c) => c.cause))).toEqual(new Set(['idle-expiry', 'client-restart']));
    expect(ranked.slice(0, 2).every((c) => c.likelihood === 'high')).toBe(true);
    expect(ranked.slice(2).map((c) => c.cause)).toEqual([
      'same-port-restart',
      'client-killed',
      'endpoint-change',
      'state-flush',
      'local-address-change',
      'unsolicited',
    ]);
    expect(ranked.at(-1)?.likelihood).toBe('low');
    expect(ranked.slice(2).every((c) => c.likelihood !== 'high')).toBe(true);
  });

  it('explains each cause in one or two sentences citing the fact sheets', () => {
    for (const cause of ranked) {
      const sentences = cause.why.split(/[.!?](?:\s+(?=[A-Z])|$)/).filter((s) => s.trim() !== '');
      expect(sentences.length, cause.cause).toBeLessThanOrEqual(2);
      expect(cause.why, cause.cause).toMatch(/(behaviour|formats)\.md §/);
      expect(cause.confirm.length, cause.cause).toBeGreaterThan(0);
      expect(cause.remedy.length, cause.cause).toBeGreaterThan(0);
    }
    expect(ranked.find((c) => c.cause === 'idle-expiry')?.why).toMatch(/cannot hold back connectionless data/);
    expect(ranked.find((c) => c.cause === 'client-restart')?.why).toMatch(/ping-restart/);
  });

  it('gives exact commands whose output udptrack explains', () => {
    const all = ranked.flatMap((c) => c.confirm);
    expect(all).toContain('sudo tcpdump -i en0 -w vpn.pcap udp and host vpn.btguard.com');
    expect(all).toContain('udptrack explain --capture vpn.pcap --little-snitch-file alert.txt');
    expect(all).toContain('sudo ifconfig pflog0 create && sudo tcpdump -i pflog0 -w pflog.pcap');
    expect(all).toContain('sudo littlesnitch log-traffic -b "2019-05-29 00:00:00" -e "2019-05-29 23:59:59" > ls.csv');
    expect(all).toContain('udptrack explain --denied ls.csv');
    expect(all.some((c) => c.startsWith('sudo pfctl -vss | grep -A2'))).toBe(true);
  });

  it('remedies with OpenVPN settings and a narrow .lsrules file', () => {
    const all = ranked.flatMap((c) => c.remedy).join('\n');
    for (const setting of ['keepalive 10 60', 'explicit-exit-notify 1', 'persist-remote-ip', 'nobind']) expect(all).toContain(setting);
    const rule = ranked[0]!.remedy.find((r) => r.includes('.lsrules'));
    const json = JSON.parse(rule!.slice(rule!.indexOf('{'))) as { rules: Record<string, unknown>[] };
    expect(json.rules[0]).toMatchObject({ direction: 'incoming', action: 'allow', protocol: 'udp', 'remote-hosts': ['vpn.btguard.com'] });
    expect(ranked.find((c) => c.cause === 'unsolicited')?.remedy.join()).not.toContain('.lsrules');
  });

  it('uses a relative range for log-traffic when the alert has no date', () => {
    const confirm = rankAlertCauses(parseLittleSnitchAlert(fixture('alert-ls4-no-date.txt'))).flatMap((c) => c.confirm);
    expect(confirm).toContain(`sudo littlesnitch log-traffic -b "$(date -v-1d '+%Y-%m-%d %H:%M:%S')" -e "$(date '+%Y-%m-%d %H:%M:%S')" > ls.csv`);
  });

  it('says an outgoing alert is not about stray inbound UDP', () => {
    const causes = rankAlertCauses(parseLittleSnitchAlert(fixture('alert-ls4-outgoing.txt')));
    expect(causes.map((c) => c.cause)).toEqual([NOT_STRAY_INBOUND]);
    expect(causes[0]!.why).toMatch(/not a stray inbound datagram/);
    expect(lsrulesForAlert(parseLittleSnitchAlert(fixture('alert-ls4-outgoing.txt')))).toBeUndefined();
  });

  it('treats incoming TCP as a real connection attempt and multicast as LAN chatter', () => {
    const tcp = rankAlertCauses({ date: null, remote: '203.0.113.9', process: 'sshd', direction: 'incoming', protocol: 'tcp', cannotBeDelayed: false });
    expect(tcp.map((c) => c.cause)).toEqual(['unsolicited']);
    const mdns = rankAlertCauses({ date: null, remote: '224.0.0.251', process: 'mDNSResponder', direction: 'incoming', protocol: 'udp', cannotBeDelayed: true });
    expect(mdns[0]!.cause).toBe('link-local-multicast');
    const icmp = rankAlertCauses(parseLittleSnitchAlert('gateway.example.net tried to establish an incoming connection to ping. It cannot be delayed.'));
    expect(icmp[0]!.cause).toBe('icmp-error');
  });

  it('ranks an address-only remote with unsolicited above the low tail', () => {
    const causes = rankAlertCauses(parseLittleSnitchAlert(fixture('alert-incoming-from-to.txt')));
    expect(causes.slice(0, 2).map((c) => c.cause).sort()).toEqual(['client-restart', 'idle-expiry']);
    expect(causes.findIndex((c) => c.cause === 'unsolicited')).toBeLessThan(causes.findIndex((c) => c.cause === 'state-flush'));
    expect(causes[0]!.confirm).toContain('sudo tcpdump -i en0 -w vpn.pcap udp and host 198.51.100.7');
  });

  it('keeps stable cause names', () => {
    const stable = new Set([
      'idle-expiry', 'client-killed', 'client-restart', 'same-port-restart', 'graceful-exit-inflight', 'state-flush', 'endpoint-change',
      'local-address-change', 'unsolicited', 'link-local-multicast', 'dhcp', 'late-reply', 'icmp-error',
    ]);
    const generic = rankAlertCauses({ date: null, remote: 'stun.example.org', process: 'Zoom', direction: 'incoming', protocol: 'udp', cannotBeDelayed: true });
    for (const c of [...ranked, ...generic]) expect(stable.has(c.cause), c.cause).toBe(true);
    expect(generic.map((c) => c.cause)).toContain('late-reply');
  });
});

describe('buildLsrules', () => {
  const options = {
    process: 'openvpn',
    remoteHosts: ['vpn.btguard.com'],
    protocol: 'udp',
    direction: 'incoming',
    notes: 'OpenVPN server pings after idle.',
  } as const;

  it('writes valid JSON naming the process and the server, never a remote of any', () => {
    const text = buildLsrules({ ...options, remoteHosts: [...options.remoteHosts] });
    const file = JSON.parse(text) as { name: string; description: string; rules: Record<string, unknown>[] };
    expect(text.endsWith('}\n')).toBe(true);
    expect(file.name).toContain('vpn.btguard.com');
    expect(file.description).toContain('/usr/local/sbin/openvpn');
    expect(file.rules).toHaveLength(1);
    expect(file.rules[0]).toEqual({
      process: '/usr/local/sbin/openvpn',
      direction: 'incoming',
      action: 'allow',
      protocol: 'udp',
      'remote-hosts': ['vpn.btguard.com'],
      ports: 'any',
      notes: expect.stringContaining('Assumed path /usr/local/sbin/openvpn') as unknown,
    });
    expect(text).not.toMatch(/"remote"\s*:/);
    expect(text).not.toMatch(/"remote-(hosts|addresses)"\s*:\s*\[?\s*"any"/);
  });

  it('keeps a full path, splits hosts and addresses into two rules, and keeps ports', () => {
    const file = JSON.parse(
      buildLsrules({ ...options, process: '/opt/homebrew/sbin/openvpn', remoteHosts: ['vpn.btguard.com'], remoteAddresses: ['198.51.100.7', '2001:db8::7'], ports: '51234' }),
    ) as { rules: Record<string, unknown>[] };
    expect(file.rules.map((r) => r.process)).toEqual(['/opt/homebrew/sbin/openvpn', '/opt/homebrew/sbin/openvpn']);
    expect(file.rules[1]).toMatchObject({ 'remote-addresses': '198.51.100.7, 2001:db8::7', ports: '51234' });
    expect(String(file.rules[0]!.notes)).not.toContain('Assumed path');
  });

  it.each([
    [{ remoteHosts: [] }, 'name the server'],
    [{ remoteHosts: ['any'] }, "remote host 'any' would allow any sender"],
    [{ remoteAddresses: ['0.0.0.0/0'] }, 'would allow any sender'],
    [{ process: 'any' }, 'process must name one executable'],
    [{ ports: '70000' }, 'outside 1-65535'],
    [{ ports: '1194,1195' }, 'is not "any", a port or a range'],
  ])('refuses %j', (override, message) => {
    expect(() => buildLsrules({ ...options, remoteHosts: [...options.remoteHosts], ...override })).toThrow(LsrulesError);
    expect(() => buildLsrules({ ...options, remoteHosts: [...options.remoteHosts], ...override })).toThrow(message);
  });

  it('is what lsrulesForAlert gives for the BTGuard alert', () => {
    const rule = lsrulesForAlert(parseLittleSnitchAlert(BTGUARD))!;
    expect(JSON.parse(rule).rules[0]).toMatchObject({ process: '/usr/local/sbin/openvpn', 'remote-hosts': ['vpn.btguard.com'] });
  });
});

describe('parseLittleSnitchTrafficLog', () => {
  const csv = fixture('log-traffic.csv');

  it('sniffs log-traffic output', () => {
    expect(isLittleSnitchTrafficLog(csv)).toBe(true);
    expect(isLittleSnitchTrafficLog(`\ufeff\n${csv}`)).toBe(true);
    expect(isLittleSnitchTrafficLog(BTGUARD)).toBe(false);
    expect(isLittleSnitchTrafficLog('')).toBe(false);
    expect(isLittleSnitchTrafficLog('a,b,c\n1,2,3\n')).toBe(false);
  });

  it('reads the fixture, including the denied incoming UDP row and quoted commas', () => {
    const rows = parseLittleSnitchTrafficLog(csv);
    expect(rows).toHaveLength(6);
    const denied = rows.filter((r) => r.denyCount > 0);
    expect(denied).toEqual([
      {
        line: 4,
        date: '2019-05-29T14:03:12Z',
        tsUs: Date.UTC(2019, 4, 29, 14, 3, 12) * 1000,
        direction: 'in',
        uid: 0,
        ipAddress: '198.51.100.7',
        remoteHostname: 'vpn.btguard.com',
        protocol: 17,
        port: 51234,
        connectCount: 0,
        denyCount: 3,
        byteCountIn: 0,
        byteCountOut: 0,
        executable: '/usr/local/sbin/openvpn',
        parentApp: '/Applications/Tunnelblick.app',
      },
    ]);
    expect(rows[4]).toMatchObject({
      protocol: 6,
      uid: 501,
      remoteHostname: 'cdn.example.com',
      executable: '/Applications/Example, Inc. Sync.app/Contents/MacOS/Sync',
      parentApp: '/Applications/Example, Inc. Sync.app',
    });
    expect(rows[0]).toMatchObject({ remoteHostname: '', parentApp: '', executable: '/usr/sbin/mDNSResponder' });
    expect(rows[5]).toMatchObject({ protocol: 1, port: null });
  });

  it('takes column order from the header and handles quotes, CRLF and odd date forms', () => {
    const text =
      'parentAppExecutable,connectingExecutable,byteCountOut,byteCountIn,denyCount,connectCount,port,protocol,remoteHostname,ipAddress,uid,direction,date\r\n' +
      '"","/Applications/A ""quoted"" app.app/Contents/MacOS/A",0,0,1,0,1194,udp,"multi\nline",2001:DB8::7,,IN,2019-05-29 16:03:12.250+02:00\r\n' +
      '\r\n' +
      ',/usr/local/sbin/openvpn,10,20,0,1,1194,17,,198.51.100.7,0,outgoing,2019-05-29 14:03:12\r\n';
    const rows = parseLittleSnitchTrafficLog(text);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      line: 2,
      date: '2019-05-29T14:03:12.250Z',
      tsUs: Date.UTC(2019, 4, 29, 14, 3, 12, 250) * 1000,
      direction: 'in',
      uid: null,
      ipAddress: '2001:db8::7',
      remoteHostname: 'multi\nline',
      protocol: 17,
      executable: '/Applications/A "quoted" app.app/Contents/MacOS/A',
      denyCount: 1,
    });
    expect(rows[1]).toMatchObject({ line: 5, direction: 'out', byteCountIn: 20, byteCountOut: 10, date: '2019-05-29T14:03:12Z' });
  });

  const header = csv.split('\n')[0]!;
  it.each([
    ['', 'line 1: empty input'],
    ['date,direction\n', 'line 1: header lacks uid, ipAddress'],
    [`${header}\n2019-05-29T14:03:12Z,in,0,198.51.100.7\n`, 'line 2: 4 fields, the header has 13'],
    [`${header}\n2019-05-29T14:03:12Z,sideways,0,198.51.100.7,,17,1194,0,1,0,0,/x,\n`, "line 2: direction 'sideways' is not in or out"],
    [`${header}\n\n29 May 2019,in,0,198.51.100.7,,17,1194,0,1,0,0,/x,\n`, "line 3: date '29 May 2019' is not an ISO-8601 time"],
    [`${header}\n2019-05-29T14:03:12Z,in,0,198.51.100.7,,gre?,1194,0,1,0,0,/x,\n`, "line 2: protocol 'gre?' is not an IP protocol"],
    [`${header}\n2019-05-29T14:03:12Z,in,0,198.51.100.7,,17,99999,0,1,0,0,/x,\n`, "line 2: port '99999' is not a number 0-65535"],
    [`${header}\n2019-05-29T14:03:12Z,in,0,198.51.100.7,,17,1194,-1,1,0,0,/x,\n`, "line 2: connectCount '-1' is not a whole number"],
    [`${header}\n2019-05-29T14:03:12Z,in,0,198.51.100.7,"unclosed,17,1194,0,1,0,0,/x,\n`, 'line 2: quoted field not closed'],
    [`${header}\n2019-05-29T14:03:12Z,in,0,198.51.100.7,"a"b,17,1194,0,1,0,0,/x,\n`, "line 2: unexpected 'b' after a closing quote"],
    [`${header},date\n`, "line 1: column 'date' appears twice"],
  ])('rejects bad CSV %#', (text, message) => {
    let error: unknown;
    try {
      parseLittleSnitchTrafficLog(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LittleSnitchParseError);
    expect((error as Error).message).toContain(`littlesnitch log-traffic CSV ${message}`);
    expect((error as Error).message).not.toContain('\n');
    expect((error as LittleSnitchParseError).line).toBe(Number(/line (\d+)/.exec(message)![1]));
  });
});
