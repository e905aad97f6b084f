/**
 * The pf.conf reader: macros expanded where they stand (lists, `$if:network`, macros built from macros), the
 * grammar of filter rules and anchors, and for bad input the line and what pfctl would have expected there.
 */
import { describe, expect, it } from 'vitest';
import { formatNet } from '../../src/policy/ip.js';
import { allFilterRules, type PfFilterRule } from '../../src/policy/pf-model.js';
import { PfSyntaxError, parsePfConf } from '../../src/policy/pf-parse.js';

function rules(text: string): PfFilterRule[] {
  return allFilterRules(parsePfConf(text).statements);
}

function syntaxError(text: string): PfSyntaxError {
  try {
    parsePfConf(text);
  } catch (error) {
    if (error instanceof PfSyntaxError) return error;
    throw error;
  }
  throw new Error('no syntax error');
}

describe('macros', () => {
  it('expands a quoted macro and keeps its definition', () => {
    const set = parsePfConf('wifi = "en0"\npass on $wifi proto udp\n');
    expect(set.macros.get('wifi')).toBe('en0');
    const [rule] = allFilterRules(set.statements);
    expect(rule!.interfaces).toEqual([{ negated: false, name: 'en0' }]);
    expect(rule!.protos).toEqual([17]);
    expect(rule!.text).toBe('pass on $wifi proto udp');
    expect(rule!.line).toBe(2);
  });

  it('expands a list macro into a list and a macro glued to :network into one word', () => {
    const [rule] = rules('int_en0 = "en0"\nifs = "{ en0 en1 }"\npass on $ifs from $int_en0:network to any\n');
    expect(rule!.interfaces!.map((i) => i.name)).toEqual(['en0', 'en1']);
    expect(rule!.from.hosts).toEqual([{ negated: false, host: { kind: 'interface', name: 'en0', modifier: 'network', dynamic: false } }]);
  });

  it('builds a macro from other macros (pfctl concatenates the strings with a blank)', () => {
    const set = parsePfConf('a = "en0"\nb = "utun3"\nall_ifs = "{" $a $b "}"\nblock on $all_ifs\n');
    expect(set.macros.get('all_ifs')).toBe('{ en0 utun3 }');
    expect(allFilterRules(set.statements)[0]!.interfaces!.map((i) => i.name)).toEqual(['en0', 'utun3']);
  });

  it('accepts the unquoted form without blanks (wifi=en1) and does not expand inside quotes', () => {
    const set = parsePfConf('wifi=en1 # a comment\nanchor "$wifi"\n');
    expect(set.macros.get('wifi')).toBe('en1');
    expect(set.statements[0]).toMatchObject({ kind: 'anchor', name: '$wifi' });
  });

  it('refuses an undefined macro with its line', () => {
    const error = syntaxError('block all\npass on $wlan proto udp\n');
    expect(error.line).toBe(2);
    expect(error.detail).toBe("macro 'wlan' is not defined");
  });
});

describe('filter rules', () => {
  it('reads action, direction, log, quick, interface, family, protocol, hosts, ports and state', () => {
    const [rule] = rules('block drop in log (all) quick on ! en0 inet6 proto { tcp, udp } from fe80::/10 port 547 to ! ff02::1:2 port { 546, 5353:5355 } no state\n');
    expect(rule).toMatchObject({
      action: 'block',
      blockPolicy: 'drop',
      direction: 'in',
      log: true,
      quick: true,
      interfaces: [{ negated: true, name: 'en0' }],
      af: 6,
      protos: [6, 17],
      state: 'no',
    });
    const fromHost = rule!.from.hosts![0]!.host;
    expect(fromHost.kind === 'net' && formatNet(fromHost.net)).toBe('fe80::/10');
    expect(rule!.from.ports).toEqual([{ op: '=', low: 547, high: 547 }]);
    expect(rule!.to.hosts![0]!.negated).toBe(true);
    expect(rule!.to.ports).toEqual([
      { op: '=', low: 546, high: 546 },
      { op: ':', low: 5353, high: 5355 },
    ]);
  });

  it('reads port operators, service names and ranges', () => {
    const [a, b, c] = rules('pass proto udp to port > 1023\npass proto udp to port 1000 >< 2000\npass proto udp from port bootps to port bootpc\n');
    expect(a!.to.ports).toEqual([{ op: '>', low: 1023, high: 1023 }]);
    expect(b!.to.ports).toEqual([{ op: '><', low: 1000, high: 2000 }]);
    expect(c!.from.ports).toEqual([{ op: '=', low: 67, high: 67 }]);
    expect(c!.to.ports).toEqual([{ op: '=', low: 68, high: 68 }]);
  });

  it('reads ICMPv6 types by name and number, with codes', () => {
    const [rule] = rules('pass in quick inet6 proto icmp6 from fe80::/10 icmp6-type { routeradv, neighbradv, 137 code 0 }\n');
    expect(rule!.icmp).toEqual({
      af: 6,
      items: [
        { type: 134, code: undefined },
        { type: 136, code: undefined },
        { type: 137, code: 0 },
      ],
    });
  });

  it('reads `all`, tables, self, dynamic interface addresses and host names', () => {
    const set = parsePfConf('table <lan> persist { 192.168.0.0/16, !192.168.9.0/24 }\npass from <lan> to self\npass out from (en0) to vpn.example.net\nblock all\n');
    const [a, b, c] = allFilterRules(set.statements);
    expect(set.tables.get('lan')!.entries.map((e) => `${e.negated ? '!' : ''}${formatNet(e.net)}`)).toEqual(['192.168.0.0/16', '!192.168.9.0/24']);
    expect(a!.from.hosts).toEqual([{ negated: false, host: { kind: 'table', name: 'lan' } }]);
    expect(a!.to.hosts).toEqual([{ negated: false, host: { kind: 'self' } }]);
    expect(b!.from.hosts![0]!.host).toEqual({ kind: 'interface', name: 'en0', modifier: 'address', dynamic: true });
    expect(b!.to.hosts![0]!.host).toEqual({ kind: 'hostname', name: 'vpn.example.net' });
    expect(c!.from.hosts).toBeUndefined();
  });

  it('records options it cannot check against a log, and TCP flags', () => {
    const [rule] = rules('pass out quick proto tcp to 198.51.100.7 port 443 flags S/SA user root keep state (max 100) label "relay"\n');
    expect(rule!.unmodelled).toEqual(['user root']);
    expect(rule!.tcpFlags).toBe('S/SA');
    expect(rule!.state).toBe('keep');
  });

  it('joins continuation lines and keeps the statement text without its comment', () => {
    const [rule] = rules('pass out quick on en0 inet proto udp \\\n   from any port 68 to any port 67 # DHCP\n');
    expect(rule!.text).toBe('pass out quick on en0 inet proto udp from any port 68 to any port 67');
    expect(rule!.line).toBe(1);
  });
});

describe('options, anchors and what is not modelled', () => {
  it('reads set skip on (one interface, a group or a list) and block-policy', () => {
    const set = parsePfConf('set skip on { lo0 en5 }\nset skip on lo\nset block-policy return\nset ruleset-optimization basic\nset timeout { udp.first 60 }\n');
    expect(set.skip.map((s) => s.name)).toEqual(['lo0', 'en5', 'lo']);
    expect(set.blockPolicy).toBe('return');
  });

  it('reads inline anchors with their own rules and notes anchors whose rules live elsewhere', () => {
    const set = parsePfConf('scrub-anchor "com.apple/*"\nanchor "com.apple/*"\nload anchor "com.apple" from "/etc/pf.anchors/com.apple"\nanchor "mullvad" {\n  pass quick on lo0 all\n  block drop quick all\n}\npass all\n');
    expect(set.statements.map((s) => s.kind)).toEqual(['anchor', 'anchor', 'filter']);
    const mullvad = set.statements[1]!;
    expect(mullvad).toMatchObject({ kind: 'anchor', name: 'mullvad', line: 4 });
    expect(mullvad.kind === 'anchor' && mullvad.rules!.map((r) => r.text)).toEqual(['pass quick on lo0 all', 'block drop quick all']);
    expect(set.ignored.map((i) => i.line)).toEqual([1, 2, 3]);
    expect(set.ignored[1]!.why).toMatch(/loaded at run time/);
  });
});

describe('bad syntax: the line and what was expected', () => {
  it('a misspelt keyword', () => {
    const error = syntaxError('wifi = "en0"\nblock all\npass on $wifi proto udp form any\n');
    expect(error.line).toBe(3);
    expect(error.detail).toMatch(/^expected the end of the line or one of flags, icmp-type, .*found 'form'$/);
  });

  it('an unknown statement', () => {
    expect(syntaxError('allow on en0\n').detail).toBe(
      "expected a rule (pass, block, match, anchor), an option (set …), a table or a macro definition (name = value), found 'allow'",
    );
  });

  it('a port without proto tcp/udp, as pfctl refuses it', () => {
    const error = syntaxError('\n\npass out on en0 to any port 53\n');
    expect(error.line).toBe(3);
    expect(error.detail).toMatch(/^port only applies to tcp\/udp/);
  });

  it('an icmp6-type without proto icmp6', () => {
    expect(syntaxError('pass in inet6 icmp6-type routeradv\n').detail).toMatch(/icmp6-type only applies to icmp6/);
  });

  it('a bad address, an unknown protocol, an unclosed list, an unterminated string', () => {
    expect(syntaxError('pass from 10.0.0.300 to any\n').detail).toMatch(/expected an address.*found '10\.0\.0\.300'/);
    expect(syntaxError('pass proto quic\n').detail).toMatch(/expected a protocol name .* found 'quic'/);
    expect(syntaxError('pass on { en0 en1\n\n').detail).toMatch(/expected .*found the end of the file/);
    expect(syntaxError('wifi = "en0\n').detail).toMatch(/unterminated quoted string/);
  });

  it('an undefined table and an anchor left open', () => {
    expect(syntaxError('pass from <nope>\n').detail).toBe('table <nope> is not defined');
    expect(syntaxError('anchor "a" {\npass all\n').detail).toMatch(/'}' to close the anchor/);
  });
});
