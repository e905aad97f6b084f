/**
 * The command-line program: commander's definition of every command, their help, and the one place errors become
 * exit codes. The only importer of commander. `runCli(argv, io)` is what tests call; `main.ts` binds it to the
 * process.
 *
 * Exit codes: 0 ran to completion (damaged packets included); 1 a --fail-on condition held; 2 bad usage, an
 * unreadable input or unwritable output.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CaptureError, LittleSnitchParseError, LiveCaptureError, LocalNetworkError, PROFILES, ProfileError, RulesInputError, describeTimeouts, parseCidr } from '../pipeline/errors.js';
// Commands load when they run (dynamic import below): start-up then costs only commander and this file, not every
// pipeline, report and parser of the package.
import type { AnalyzeCliOptions } from './commands/analyze.js';
import type { ExplainCliOptions } from './commands/explain.js';
import type { PacketsOptions } from './commands/packets.js';
import type { RulesCliOptions } from './commands/rules.js';
import type { SimulateCliOptions } from './commands/simulate.js';
import type { TailCliOptions } from './commands/tail.js';
import { ExitError, UsageError } from './errors.js';
import { OutputError, type CliIo } from './io.js';

const VERSION = '0.1.0';

const EXIT_CODES_HELP = `
Exit codes:
  0  ran to completion (damaged packets are counted, not fatal); tail: Ctrl-C or the end of its input
  1  a --fail-on condition held
  2  bad usage, an input that is not a readable capture, or output that cannot be written (a full disk);
     tail: no way to capture (no cap, no root, no such interface),
     or the interface went away without --wait`;

function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('udptrack')
    .description(
      'Track UDP "sessions" the way stateful firewalls do (pf, Little Snitch, nftables/conntrack) and explain\n' +
        'why inbound UDP packets were denied.',
    )
    .version(VERSION)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One line per usage error, prefixed like every other error, with the way to more help on the same line.
      outputError: (text, write) => write(`udptrack: ${text.replace(/^error: /, '').trimEnd()} (see udptrack --help)\n`),
    })
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();

  program
    .command('packets')
    .summary('print every packet decoded to its UDP 5-tuple, like tcpdump -nn -e')
    .description(
      'Decode every record of a capture (pcap or pcapng, any byte order; pflog, NFLOG, PKTAP, Ethernet/VLAN,\n' +
        'SLL/SLL2, NULL/LOOP, raw IP) and print one line per packet: time (UTC), interface and direction where\n' +
        'the capture records them, the pf action and rule, the 5-tuple and length, and where decoding stopped\n' +
        'when the packet is damaged. FILE may be - for standard input.',
    )
    .argument('<file>', 'capture file (pcap or pcapng), or - for standard input')
    .addOption(new Option('--format <format>', 'text for people, json for one JSON object per line').default('text').choices(['text', 'json']))
    .option('--udp-only', 'print only packets whose outermost IP layer carries UDP')
    .option('--no-progress', 'never draw the progress line on stderr')
    .addHelpText(
      'after',
      `
Examples:
  udptrack packets capture.pcapng
  sudo tcpdump -i pflog0 -U -w - | udptrack packets -
  udptrack packets --format json pflog.pcap | jq 'select(.pflog.action == "block")'

JSON fields: frame (1-based record number), ts (ISO-8601 UTC at the capture's precision), linktype, src, dst
(IPv6 in RFC 5952 form), proto (outermost IP protocol), sport/dport (when it carries UDP), len (wire length),
caplen, ifname, dir, pflog {action, reason, rule, subrule, anchor, ifname, dir, uid, pid}, nflog {group,
prefix, hook, uid}, process {name, pid}, fragment, icmp {type, code, quoted}, issue {kind, code, layer, offset}.`,
    )
    .action(async (file: string, options: PacketsOptions & { progress: boolean }) => {
      const { runPackets } = await import('./commands/packets.js');
      await runPackets(file, { ...options, progress: options.progress === false ? false : undefined }, io);
    });

  const profileHelp = PROFILES.map((p) => `  ${p.name.padEnd(9)} ${p.title}\n            ${describeTimeouts(p)}`).join('\n');
  // --local, comma-separated or repeated: split and checked here, once for every command, so a bad network is a
  // usage error before any input is read (it used to surface as a stack trace from deep in the replay).
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  const collectNetworks = (value: string, previous: string[] = []): string[] => {
    const networks = value.split(',').filter((network) => network !== '');
    for (const network of networks) {
      try {
        parseCidr(network);
      } catch (error) {
        if (error instanceof LocalNetworkError) throw new InvalidArgumentError(error.message);
        throw error;
      }
    }
    return [...previous, ...networks];
  };

  program
    .command('analyze')
    .summary('replay a capture through a firewall model: flows, expirations, denied inbound packets')
    .description(
      'Replay a capture on packet time through the UDP memory of a firewall (pf, Linux conntrack, …): every flow\n' +
        'with its service, when its state was created, refreshed and expired, and every inbound packet that\n' +
        'arrived when no state matched — the packets a default-deny inbound policy drops. FILE may be - for stdin.',
    )
    .argument('<file>', 'capture file (pcap or pcapng), or - for standard input')
    .addOption(new Option('--format <format>', 'text for people; json (one document: stats, flows, denials); ndjson (one record per line as the replay goes); conn (Zeek conn.log)').default('text').choices(['text', 'json', 'ndjson', 'conn']))
    .option('--profile <name>', 'firewall model (see the list below; default pf, or the one --firewall-config describes)')
    .option('--udp-timeout <spec>', "override the profile's timeouts under its own key names, e.g. udp.single=60s or unreplied=3s,replied=5s (units ms, s, m, h)")
    .option('--firewall-config <file>', 'take the timeouts from `pfctl -s timeouts`, `nft list ruleset` or `sysctl -a` output')
    .option('--local <addr|cidr>', 'the protected host(s), comma-separated or repeated; default: inferred from the capture', collectNetworks)
    .option('--limit <n>', 'rows per table in the text report', '50')
    .option('--html <file>', 'also write an HTML report: a timeline of each flow with denials or expiries (self-contained; stdout output unchanged)')
    .option('--no-progress', 'never draw the progress line on stderr')
    .option('--threads <n>', '1 or 2: a second thread reads and decodes the file while the first replays it (default: 2 for an input file of 128 MiB or more, where it pays; 1 below)')
    .addHelpText(
      'after',
      `
Profiles (--profile NAME; keys for --udp-timeout under each):
${profileHelp}

The local side is the host whose inbound traffic is filtered. Without --local it comes from the capture's own
direction marks (pflog, NFLOG, SLL, pcapng epb_flags, PKTAP), else from the address with the most UDP peers; the
report always says which addresses it took and why.

Examples:
  udptrack analyze capture.pcapng
  udptrack analyze --profile linux --udp-timeout replied=60s --local 192.168.1.10 wifi.pcap
  udptrack analyze --firewall-config <(pfctl -s timeouts) --format json en0.pcap
  udptrack analyze --format conn trace.pcap > conn.log
  udptrack analyze --html report.html capture.pcapng     # + a timeline of each flow with denials or expiries`,
    )
    .action(async (file: string, options: AnalyzeCliOptions & { progress: boolean }) => {
      const { runAnalyze } = await import('./commands/analyze.js');
      await runAnalyze(file, { ...options, progress: options.progress === false ? false : undefined }, io);
    });

  program
    .command('explain')
    .summary('explain each denied inbound UDP packet: cause, evidence, remedy')
    .description(
      'Explain why inbound UDP packets were denied — idle expiry, a killed or restarted VPN client, a state flush,\n' +
        'an endpoint change, LAN multicast, DHCP, unsolicited probes … — with the evidence that decided it, the\n' +
        'causes ruled out, and what to change. Give a denial log (--denied: pflog block records, NFLOG records of a\n' +
        'drop rule), the traffic around it (--capture), or both; with a capture alone the denials are the ones the\n' +
        'firewall model predicts.',
    )
    .option('--denied <file>', 'denial log: pflog (block records; pass records are context) or NFLOG capture')
    .option('--capture <file>', 'the traffic around the denials (e.g. the physical interface)')
    .option('--little-snitch <text>', 'a Little Snitch alert or notification as copied ("… tried to establish an incoming connection to openvpn …")')
    .option('--little-snitch-file <file>', 'the same, read from a file (- for stdin)')
    .option('--deny-prefix <text>', 'NFLOG: records whose prefix contains this are denials (default: drop, deny, block, reject)')
    .addOption(new Option('--format <format>', 'text for people, json for machines').default('text').choices(['text', 'json']))
    .option('--profile <name>', 'firewall model (default pf); see udptrack analyze --help')
    .option('--udp-timeout <spec>', "override the profile's timeouts, e.g. udp.single=60s")
    .option('--firewall-config <file>', 'take the timeouts from pfctl -s timeouts, nft list ruleset or sysctl -a output')
    .option('--local <addr|cidr>', 'the protected host(s); default: from the log or the capture', collectNetworks)
    .option('--html <file>', 'also write an HTML report: a timeline of each denied flow with its causes (self-contained)')
    .addHelpText(
      'after',
      `
Causes: idle-expiry, client-killed, client-restart, same-port-restart, graceful-exit-inflight, state-flush,
endpoint-change, local-address-change, unsolicited, link-local-multicast, dhcp, late-reply, icmp-error.

Examples:
  sudo tcpdump -i pflog0 -w pflog.pcap            # with "block log" rules; then:
  udptrack explain --denied pflog.pcap
  udptrack explain --denied nflog.pcap --capture eth0.pcap --profile linux
  udptrack explain --capture wifi.pcapng --udp-timeout udp.multiple=60s
  udptrack explain --capture wifi.pcapng --html report.html  # + timelines with each denial's cause
  udptrack explain --little-snitch "vpn.example.com tried to establish an incoming connection to openvpn. The request
    was denied automatically because this kind of connection cannot be delayed."`,
    )
    .action(async (options: ExplainCliOptions) => {
      const { runExplain } = await import('./commands/explain.js');
      await runExplain(options, io);
    });

  program
    .command('rules')
    .summary('propose the narrowest kill-switch rules for what a denial log shows, or check a pf.conf against it')
    .description(
      'Read a denial log of a kill switch (pflog block records) and propose the most specific rules that admit the\n' +
        'legitimate denials — DHCP, IPv6 neighbour discovery, mDNS, the VPN server, the tunnel — each saying which\n' +
        'denials it admits and why it is safe; the rest are listed as staying denied, with what to do instead.\n' +
        'With --check PF_CONF: which rule of that pf.conf decides each denied packet, and what to change.',
    )
    .option('--denied <file>', 'denial log: pflog capture (block records are the denials; pass records show the live interfaces), or NFLOG')
    .option('--capture <file>', 'the traffic around the denials, for better explanations of VPN strays')
    .option('--check <pf.conf>', "check this pf.conf against the denials instead of proposing rules")
    .addOption(new Option('--target <target>', 'rule syntax: pf (pf.conf lines), nft (an nftables table), lsrules (a Little Snitch .lsrules file)').default('pf').choices(['pf', 'nft', 'lsrules']))
    .addOption(new Option('--format <format>', 'text: the rule file with comments, or the check report; json: for machines').default('text').choices(['text', 'json']))
    .option('--allow-broad', 'write the usual "pass on $wifi proto udp" instead of the narrow UDP rules, with a warning of what it leaks')
    .option('--deny-prefix <text>', 'NFLOG: records whose prefix contains this are denials (default: drop, deny, block, reject)')
    .option('--profile <name>', 'firewall model for explaining VPN strays (default pf); see udptrack analyze --help')
    .option('--udp-timeout <spec>', "override the profile's timeouts, e.g. udp.multiple=60s")
    .option('--firewall-config <file>', 'take the timeouts from pfctl -s timeouts, nft list ruleset or sysctl -a output')
    .option('--local <addr|cidr>', 'the protected host(s); default: from the log', collectNetworks)
    .addHelpText(
      'after',
      `
What it proposes (behaviour of kill switches: killswitch, Mullvad):
  admitted, with the narrowest rule the evidence allows
    dhcp, dhcpv6          ports 68→67 / 67→68 (546/547): without them the address is not renewed
    neighbour-discovery   ICMPv6 133–137 between link-local, solicited-node and on-link addresses
    mdns                  port 5353 to 224.0.0.251 / ff02::fb (Bonjour, AirPlay, printers)
    vpn-endpoint          the VPN client's packets to its server address and port, keep state
    tunnel                outbound on the tunnel interface, keep state
  staying denied, with explain's remedy: vpn-stray (a keepalive or exit-notify change), unsolicited probes,
  dns-outside-tunnel and outside-tunnel (what the kill switch is for), lan-multicast, icmp, not-udp.
  Never proposed: a rule that passes all UDP or all traffic on the physical interface. --allow-broad writes
  the usual "pass on $wifi proto udp" and lists what it would let through.
  When DHCP or neighbour discovery were blocked, the output says so: that is why Wi-Fi does not come back.

Getting a denial log on macOS (add "log" to the block rule first: block log all):
  sudo ifconfig pflog0 create
  sudo tcpdump -n -e -i pflog0 -w pflog.pcap      # sleep, wake, wait until Wi-Fi fails, then Ctrl-C

Examples:
  udptrack rules --denied pflog.pcap > kill-switch-additions.conf
  udptrack rules --denied pflog.pcap --target nft
  udptrack rules --denied pflog.pcap --target lsrules > kill-switch.lsrules
  udptrack rules --denied pflog.pcap --allow-broad          # see what "pass on $wifi proto udp" leaks
  udptrack rules --check /etc/pf.conf --denied pflog.pcap
  udptrack rules --check /tmp/killswitch.pf.conf --denied pflog.pcap --format json

--check reads macros, lists, tables, set skip on, block/pass/match, in/out, log, quick, on (names, groups,
egress), inet/inet6, proto, from/to (addresses, networks, interfaces, (if), :network, self, <table>), port
operators, icmp-type/icmp6-type, flags, state options and anchors with inline rules; it reports the rule that
decides each denied packet (last match wins unless quick), the legitimate ones still blocked, what passes that
should not, rules broader than their traffic, block rules without log, and rules for a utunN other than the
live tunnel. nat/rdr/scrub, queueing and anchors loaded from other files are listed, not evaluated. A syntax
error stops with the line and what was expected there (exit 2).`,
    )
    .action(async (options: RulesCliOptions, command: Command) => {
      const { runRules } = await import('./commands/rules.js');
      await runRules(options, io, command.getOptionValueSource('target') === 'cli');
    });

  program
    .command('simulate')
    .summary('replay one capture under several firewall models or timeouts and compare the denials')
    .description(
      'Replay a capture once under several profiles (--profile pf --profile linux …, or --all) and report, per\n' +
        'profile, the inbound packets it would deny and the flows it would break. --sweep tries a range of values\n' +
        'for one timeout and finds the smallest that denies nothing legitimate; long-lived flows get the keepalive\n' +
        'interval that keeps them alive under each profile.',
    )
    .argument('<file>', 'capture file (pcap or pcapng), or - for standard input')
    .addOption(new Option('--format <format>', 'text for people, json for machines').default('text').choices(['text', 'json']))
    .option('--profile <name[:spec]>', 'a profile to run, repeatable; NAME:key=value,… gives it its own overrides (default: pf and linux)', collect)
    .option('--all', 'run every built-in profile')
    .option('--udp-timeout <spec>', 'overrides applied to every profile that has those keys')
    .option('--sweep <key=from..to[/step]>', 'try a range of values for one timeout key, e.g. replied=2s..300s or udp.single=10s..60s/5s')
    .option('--local <addr|cidr>', 'the protected host(s); default: inferred from the capture', collectNetworks)
    .option('--html <file>', 'also write an HTML report: each flow that any profile breaks, drawn under every profile stacked')
    .option('--no-progress', 'never draw the progress line on stderr')
    .option('--threads <n>', '1 or 2: a second thread replays about half of the profiles (both of the default two) (default: 2 for an input file of 128 MiB or more, where it pays; 1 below)')
    .addHelpText(
      'after',
      `
Profiles: ${PROFILES.map((p) => p.name).join(', ')} (see udptrack analyze --help for their keys).

Examples:
  udptrack simulate --all laptop.pcap
  udptrack simulate --profile pf --profile linux:replied=60s --format json vpn.pcapng
  udptrack simulate --profile linux --sweep replied=2s..300s vpn.pcap
  udptrack simulate --all --html profiles.html vpn.pcapng   # + each broken flow under every profile, stacked`,
    )
    .action(async (file: string, options: SimulateCliOptions & { progress: boolean }) => {
      const { runSimulate } = await import('./commands/simulate.js');
      await runSimulate(file, { ...options, progress: options.progress === false ? false : undefined }, io);
    });


  program
    .command('tail')
    .summary('watch denials as they happen: pflog0, nflog:GROUP, any interface, or a pcap stream on stdin')
    .description(
      'Explain denied inbound UDP packets as they happen, one line per event, flushed at once: denials with their\n' +
        'cause (provisional while later packets could change it, with a revision line when they do), and with -v\n' +
        'flows gaining state and expiring. Reads a pcap or pcapng stream on stdin as it arrives (-), or captures\n' +
        'live with --interface through libpcap (the optional cap module). With pflog or NFLOG the log says which\n' +
        'packets were denied; on a plain interface the firewall model predicts them. Ctrl-C or the end of input\n' +
        'prints a summary.',
    )
    .argument('[file]', '- for a pcap or pcapng stream on standard input (e.g. from tcpdump -U -w -)')
    .option('-i, --interface <name>', 'capture live: pflog0 (macOS, BSD), nflog:GROUP (Linux), or any interface (en0, eth0, any)')
    .option('--filter <bpf>', "a BPF filter for --interface (pcap-filter(7)), e.g. 'udp or icmp or icmp6'")
    .option('--wait', 'wait for the interface to appear, and to come back when it goes away')
    .addOption(new Option('--format <format>', 'text for people, ndjson for machines (one JSON object per line with a type)').default('text').choices(['text', 'ndjson']))
    .option('-v, --verbose', 'also report flows gaining state and expiring, and verdicts becoming final')
    .option('--final-after <duration>', 'verdicts that depend on later packets are final this long after the denied packet', '120s')
    .option('--deny-prefix <text>', 'NFLOG: records whose prefix contains this are denials (default: drop, deny, block, reject)')
    .option('--profile <name>', 'firewall model (default pf; linux for nflog:GROUP); see udptrack analyze --help')
    .option('--udp-timeout <spec>', "override the profile's timeouts, e.g. replied=60s")
    .option('--firewall-config <file>', 'take the timeouts from pfctl -s timeouts, nft list ruleset or sysctl -a output')
    .option('--local <addr|cidr>', "the protected host(s); default: the capture's direction marks, else this host's addresses", collectNetworks)
    .addHelpText(
      'after',
      `
Times are packet times, absolute, UTC. While the input is quiet a wall-clock tick moves packet time on (the last
packet's time plus the time since it arrived, less 1 s), so expiries and final verdicts are announced anyway.
Damaged or garbage input on stdin is reported on stderr, counted, and reading goes on at the next valid record.

Examples:
  sudo udptrack tail --interface pflog0                  # macOS/BSD: sudo ifconfig pflog0 create, block log …
  sudo udptrack tail --interface nflog:7                 # nft: … log prefix "drop " group 7 drop
  sudo udptrack tail --interface en0 --filter 'udp or icmp or icmp6' -v
  sudo tcpdump -i pflog0 -U -w - | udptrack tail -       # no cap module needed
  sudo tcpdump -i eth0 -U -w - udp | udptrack tail - --format ndjson`,
    )
    .action(async (file: string | undefined, options: TailCliOptions) => {
      const { runTail } = await import('./commands/tail.js');
      await runTail(file, options, io);
    });

  return program;
}

/**
 * Run the CLI with `argv` (without node and script) and return the exit code. Never throws for user errors:
 * they become one line on stderr and exit 2.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  let exitCode = 0;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    exitCode = exitCodeFor(error, io);
  }
  try {
    await io.stdout.flush();
  } catch (error) {
    exitCode = exitCodeFor(error, io);
  }
  await io.stderr.flush();
  return exitCode;
}

function exitCodeFor(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander with exit code 0; its own message is already printed.
    if (error.exitCode === 0) return 0;
    return 2;
  }
  if (error instanceof CaptureError) {
    io.stderr.write(`udptrack: ${error.path}: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ProfileError || error instanceof LittleSnitchParseError || error instanceof LocalNetworkError) {
    io.stderr.write(`udptrack: ${error.message}\n`);
    return 2;
  }
  if (error instanceof LiveCaptureError) {
    io.stderr.write(`udptrack: ${error.message}\n`);
    return 2;
  }
  if (error instanceof UsageError || error instanceof RulesInputError) {
    io.stderr.write(`udptrack: ${error.message}\n`);
    return 2;
  }
  if (error instanceof OutputError) {
    io.stderr.write(`udptrack: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ExitError) return error.exitCode;
  // Not a known error: a bug. Re-throw so it is seen, not swallowed (knip cli.ts).
  throw error;
}
