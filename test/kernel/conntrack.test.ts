/**
 * Real kernel: `simulate --profile nft` on a capture of the protected host's interface predicts exactly the inbound
 * UDP packets Linux conntrack + nftables drops.
 *
 * Two network namespaces joined by a veth pair: `host` (10.203.0.1, protected) and `peer` (10.203.0.2). In `host`,
 * nftables has a `ct timeout` object for UDP (unreplied 3 s, replied 5 s) attached to every new UDP flow in an output
 * chain, and an input chain that accepts established/related traffic and NFLOG-logs then drops every other UDP
 * packet. tcpdump captures the host's interface (if.pcap) and the NFLOG group (nflog.pcap). Two scheduled UDP peers,
 * one per namespace, run eight scenarios concurrently on their own port pairs; each inbound packet has a designed
 * outcome, and every packet is at least 0.75 s away from every kernel threshold (expiry under unreplied or
 * replied, the 2-second stream rule) — host packets too, since one after expiry would open a fresh entry.
 *
 * Mapping the kernel's verdicts onto interface-capture frames is exact: every datagram carries a unique ASCII tag
 * as its payload (`<scenario>#<step>`), read back from both captures with an independent pcap reader; a tag occurs
 * exactly once per capture. NFLOG records are the dropped packets; the host's sockets report the delivered ones,
 * and the two must split the inbound packets between them.
 *
 * Three checks, in an order that tells a broken setup from a broken model: (1) the schedule ran within its margins,
 * (2) the kernel did what the scenarios were designed to show (else the nftables/conntrack setup is wrong), (3) the
 * frames simulate denies are exactly the frames the kernel logged (else the model is wrong).
 *
 * Needs root, `ip netns`, nftables with ct timeout objects, and tcpdump with nflog capture; without them the test
 * is skipped and says what is missing (console warning and skip note). `conntrack` is optional (diagnostics).
 * On failure the captures, ruleset and `conntrack -E` log are kept in a temp folder (named in the output);
 * UDPTRACK_KEEP_CAPTURES=1 keeps them after a pass too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCommand, spawnCli } from '../helpers/cli.js';
import {
  createNetnsPair,
  deleteNetns,
  ipv4UdpOf,
  kernelTestBlockers,
  NsProcess,
  nsRun,
  readPcap,
  sleep,
  startTcpdump,
  startUdpSchedule,
  tcpdumpCounts,
  type NetnsPair,
  type ScheduledSend,
} from '../helpers/netns.js';

const UNREPLIED_S = 3;
const REPLIED_S = 5;
const HOST = '10.203.0.1';
const PEER = '10.203.0.2';
const NFLOG_GROUP = 7;
const LOG_PREFIX = 'udptrack-drop ';
/** Every designed margin is ≥ 0.75 s; the schedule's relative jitter must stay well inside it. */
const DESIGN_MARGIN_MS = 750;
const MAX_JITTER_MS = 400;

type Outcome = 'pass' | 'deny';
interface Step {
  at: number;
  dir: 'out' | 'in';
  expect?: Outcome;
  why?: string;
}
interface Scenario {
  name: string;
  about: string;
  steps: Step[];
}

const out = (at: number, why?: string): Step => ({ at, dir: 'out', why });
const inbound = (at: number, expect: Outcome, why: string): Step => ({ at, dir: 'in', expect, why });

/**
 * The kernel's rule (nf_conntrack_udp_packet, behaviour.md §1.2): each packet refreshes the entry with `unreplied`,
 * unless a reply has already been seen and the packet comes more than 2 s after the entry was created: `replied`.
 * The first reply itself refreshes with `unreplied`. Denied packets are dropped before confirmation: no entry.
 */
const SCENARIOS: Scenario[] = [
  {
    name: 'unreplied',
    about: 'host sends once, no reply; the peer answers after unreplied has run out',
    steps: [out(0), inbound(3.8, 'deny', 'expired at 3.0 (+0.8)'), inbound(4.6, 'deny', 'the denied packet made no entry')],
  },
  {
    name: 'refresh-out',
    about: 'a second unanswered host packet refreshes unreplied',
    steps: [out(0), out(2.0, 'no reply yet: unreplied again'), inbound(4.2, 'pass', 'expires at 2.0+3 (-0.8); would have at 3.0 (+1.2)')],
  },
  {
    name: 'two-second',
    about: 'a host packet after the reply but within 2 s of creation keeps the flow on unreplied',
    steps: [
      out(0),
      inbound(0.3, 'pass', 'reply'),
      out(1.0, 'reply seen, 1.0 s before stream_ts: unreplied'),
      inbound(5.0, 'deny', 'expired at 1.0+3 (+1.0); replied would last to 1.0+5 (-1.0)'),
    ],
  },
  {
    name: 'reply-unreplied',
    about: 'the first reply refreshes with unreplied even when it comes after 2 s',
    steps: [out(0), inbound(2.25, 'pass', 'within unreplied (-0.75)'), inbound(6.1, 'deny', 'expired at 2.25+3 (+0.85); replied would last to 7.25')],
  },
  {
    name: 'stream',
    about: 'a host packet more than 2 s after creation, reply seen, moves the flow to replied',
    steps: [
      out(0),
      inbound(0.6, 'pass', 'reply'),
      out(2.8, 'entry alive to 0.6+3 (-0.8); reply seen, 0.8 s after stream_ts: replied'),
      inbound(6.8, 'pass', 'gap 4.0: after unreplied (+1.0), before replied (-1.0)'),
    ],
  },
  {
    name: 'replied-edge',
    about: 'peer gaps straddling replied',
    steps: [
      out(0),
      inbound(0.6, 'pass', 'reply'),
      out(2.8, 'replied from here (as in stream)'),
      inbound(7.05, 'pass', 'gap 4.25, replied 5 (-0.75)'),
      inbound(12.85, 'deny', 'gap 5.8, replied 5 (+0.8)'),
      inbound(13.65, 'deny', 'the denied packet made no entry'),
    ],
  },
  {
    name: 'inbound-refresh',
    about: 'peer packets refresh the entry, and move it to replied after 2 s',
    steps: [
      out(0),
      inbound(2.2, 'pass', 'first reply (-0.8); refreshes unreplied'),
      inbound(4.4, 'pass', 'expires at 2.2+3 (-0.8); replied from here'),
      inbound(8.65, 'pass', 'expires at 4.4+5 (-0.75)'),
    ],
  },
  {
    name: 'unsolicited',
    about: 'peer packets on a 5-tuple the host never used; the host then opens it',
    steps: [
      inbound(1.0, 'deny', 'no entry'),
      inbound(2.0, 'deny', 'the denied packet made no entry'),
      out(3.0, 'creates the entry'),
      inbound(3.5, 'pass', 'reply'),
    ],
  },
];

interface Planned {
  tag: string;
  scenario: Scenario;
  step: Step;
  hostPort: number;
  peerPort: number;
}

const planned: Planned[] = SCENARIOS.flatMap((scenario, i) =>
  scenario.steps.map((step, j) => ({ tag: `${scenario.name}#${j + 1}`, scenario, step, hostPort: 41001 + i, peerPort: 42001 + i })),
);
const byTag = new Map(planned.map((p) => [p.tag, p]));
const inboundTags = planned.filter((p) => p.step.dir === 'in').map((p) => p.tag);

const ruleset = `table ip udptrack {
  ct timeout udp_short {
    protocol udp;
    l3proto ip;
    policy = { unreplied : ${UNREPLIED_S}, replied : ${REPLIED_S} }
  }
  # The object must be attached after conntrack made the entry (priority > -200) and before it is confirmed:
  # at priority raw (-300) there is no entry yet and the flow silently keeps the namespace default (30 s).
  chain output {
    type filter hook output priority filter; policy accept;
    meta l4proto udp ct state new ct timeout set "udp_short"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    meta l4proto udp counter log prefix "${LOG_PREFIX}" group ${NFLOG_GROUP} drop
  }
}
`;

const blockers = kernelTestBlockers();
const haveConntrack = hasCommand('conntrack');

const suffix = `${process.pid}`;
const pair: NetnsPair = {
  a: { ns: `udptrack-host-${suffix}`, ifname: 'uthost0', addr: HOST },
  b: { ns: `udptrack-peer-${suffix}`, ifname: 'utpeer0', addr: PEER },
};
const started: NsProcess[] = [];
let scratch: string | undefined;
let keepScratch = false;

afterAll(async () => {
  for (const proc of started) if (proc.running) await proc.stop('SIGKILL', 2000);
  const left = deleteNetns(pair.a.ns, pair.b.ns);
  if (left.length > 0) console.warn(`kernel test: could not delete namespaces: ${left.join('; ')}`);
  if (scratch !== undefined && !keepScratch) rmSync(scratch, { recursive: true, force: true });
  else if (scratch !== undefined) console.warn(`kernel test: captures kept in ${scratch}`);
});

interface SimulateJson {
  profiles: Array<{
    name: string;
    timeouts: Record<string, number>;
    denied: Array<{ frame: number; src: string; sport: number; dst: string; dport: number; verdict: string; reason: string }>;
    purge_window: unknown[];
  }>;
}
interface PacketJson {
  frame: number;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  nflog?: { group: number; prefix?: string; hook?: number };
}

describe('real kernel: nftables ct timeout + conntrack', () => {
  it('simulate --profile nft on the interface capture predicts exactly the packets the kernel logged as dropped', async (ctx) => {
    if (blockers.length > 0) {
      const reason = `real-kernel conntrack test skipped: ${blockers.join('; ')}`;
      console.warn(reason);
      ctx.skip(reason);
    }
    const t0 = Date.now();
    scratch = mkdtempSync(join(tmpdir(), 'udptrack-kernel-'));
    keepScratch = true; // until the test has passed
    const ifPcap = join(scratch, 'if.pcap');
    const nflogPcap = join(scratch, 'nflog.pcap');
    const host = pair.a.ns;
    const peer = pair.b.ns;

    // --- namespaces, nftables ---------------------------------------------------------------------------------
    createNetnsPair(pair, 24);
    nsRun(host, ['nft', '-f', '-'], ruleset);
    const listed = nsRun(host, ['nft', 'list', 'ruleset']);
    writeFileSync(join(scratch, 'ruleset.nft'), listed);
    expect(listed).toMatch(new RegExp(`policy = \\{ unreplied : ${UNREPLIED_S}, replied : ${REPLIED_S} \\}`));

    // The object must really be attached: a probe flow shows the short timeout in the conntrack table.
    if (haveConntrack) {
      nsRun(host, [process.execPath, '-e', `const s=require('node:dgram').createSocket('udp4');s.bind(40999,'${HOST}',()=>s.send('probe',40999,'${PEER}',()=>s.close()))`]);
      const entry = nsRun(host, ['conntrack', '-L', '-p', 'udp', '--sport', '40999']);
      const timeout = /^udp\s+17\s+(\d+)\s/m.exec(entry);
      expect(timeout, `no conntrack entry for the probe flow: ${entry}`).not.toBeNull();
      expect(Number(timeout![1]), `ct timeout object not applied to new flows: ${entry.trim()}`).toBeLessThanOrEqual(UNREPLIED_S);
    } else {
      console.warn('kernel test: conntrack(8) not installed; skipping the probe of the ct timeout and conntrack -E diagnostics');
    }

    // --- captures -----------------------------------------------------------------------------------------------
    const events = haveConntrack ? new NsProcess(host, ['conntrack', '-E', '-p', 'udp', '-o', 'timestamp']) : undefined;
    if (events) started.push(events);
    const ifCap = await startTcpdump(host, ['-i', pair.a.ifname, '-n', '-w', ifPcap, 'udp']);
    started.push(ifCap);
    const nflogCap = await startTcpdump(host, ['-i', `nflog:${NFLOG_GROUP}`, '-w', nflogPcap]);
    started.push(nflogCap);

    // --- traffic: two scheduled peers with a common start ---------------------------------------------------------
    const sends = (dir: 'out' | 'in'): ScheduledSend[] =>
      planned
        .filter((p) => p.step.dir === dir)
        .map((p) => (dir === 'out'
          ? { at: p.step.at, sport: p.hostPort, dst: PEER, dport: p.peerPort, tag: p.tag }
          : { at: p.step.at, sport: p.peerPort, dst: HOST, dport: p.hostPort, tag: p.tag }));
    const tSetup = Date.now();
    const startAtMs = Date.now() + 1500;
    const endAt = Math.max(...planned.map((p) => p.step.at)) + 0.4;
    const hostRun = startUdpSchedule(host, { local: HOST, bind: [...new Set(planned.map((p) => p.hostPort))], sends: sends('out'), startAtMs, endAt });
    const peerRun = startUdpSchedule(peer, { local: PEER, bind: [...new Set(planned.map((p) => p.peerPort))], sends: sends('in'), startAtMs, endAt });
    started.push(hostRun.proc, peerRun.proc);
    const [hostReport, peerReport] = await Promise.all([hostRun.done, peerRun.done]);
    expect(hostReport.readyLateMs, 'host peer was not ready at the common start').toBeLessThan(0);
    expect(peerReport.readyLateMs, 'remote peer was not ready at the common start').toBeLessThan(0);
    await sleep(200);

    const ifExit = await ifCap.stop();
    const nflogExit = await nflogCap.stop();
    await events?.stop();
    const conntrackLog = events === undefined ? '(conntrack not installed)' : events.stdout.trim();
    writeFileSync(join(scratch, 'conntrack-events.txt'), `${conntrackLog}\n`);
    const tTraffic = Date.now();
    const counter = /counter packets (\d+)/.exec(nsRun(host, ['nft', 'list', 'chain', 'ip', 'udptrack', 'input']));
    for (const [name, exit, proc] of [['interface', ifExit, ifCap], ['nflog', nflogExit, nflogCap]] as const) {
      expect(exit.code, `tcpdump (${name}) ended badly: ${proc.stderr}`).toBe(0);
      expect(tcpdumpCounts(proc.stderr)?.droppedByKernel, `tcpdump (${name}) lost packets: ${proc.stderr}`).toBe(0);
    }

    // --- what happened on the wire and in the kernel -------------------------------------------------------------
    const ifFrames = readPcap(ifPcap).map((record) => ({ record, udp: ipv4UdpOf(record) }));
    const frameOfTag = new Map<string, number>();
    const tsOfTag = new Map<string, number>();
    for (const { record, udp } of ifFrames) {
      const tag = udp?.payload.toString('latin1') ?? '';
      const p = byTag.get(tag);
      expect(p, `interface capture frame ${record.frame} is not one of the test's datagrams (${JSON.stringify(udp)})`).toBeDefined();
      expect(frameOfTag.has(tag), `tag ${tag} captured twice`).toBe(false);
      const [src, sport, dst, dport] = p!.step.dir === 'out' ? [HOST, p!.hostPort, PEER, p!.peerPort] : [PEER, p!.peerPort, HOST, p!.hostPort];
      expect({ src: udp!.src, sport: udp!.sport, dst: udp!.dst, dport: udp!.dport }, `5-tuple of ${tag}`).toEqual({ src, sport, dst, dport });
      frameOfTag.set(tag, record.frame);
      tsOfTag.set(tag, record.tsUs);
    }
    expect([...frameOfTag.keys()].sort(), 'every datagram appears once in the interface capture').toEqual(planned.map((p) => p.tag).sort());

    const logged = new Set<string>();
    const nflogRecords = readPcap(nflogPcap);
    for (const record of nflogRecords) {
      const tag = ipv4UdpOf(record)?.payload.toString('latin1') ?? '';
      expect(byTag.get(tag)?.step.dir, `NFLOG record ${record.frame} is not an inbound test datagram ('${tag}')`).toBe('in');
      expect(logged.has(tag), `tag ${tag} logged twice`).toBe(false);
      logged.add(tag);
    }
    expect(Number(counter?.[1]), 'the drop rule counted as many packets as NFLOG delivered').toBe(logged.size);
    const delivered = new Set(hostReport.received.map((r) => r.tag));
    for (const tag of inboundTags) {
      expect(logged.has(tag) !== delivered.has(tag), `${tag} must be either logged as dropped or delivered, not ${logged.has(tag) ? 'both' : 'neither'}`).toBe(true);
    }

    // udptrack reads the NFLOG capture the same way: group, prefix, input hook and the 5-tuples.
    const nflogJson = spawnCli(['packets', '--format', 'json', nflogPcap]);
    expect(nflogJson.exitCode, nflogJson.stderr).toBe(0);
    const nflogPackets = nflogJson.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as PacketJson);
    expect(nflogPackets).toHaveLength(nflogRecords.length);
    for (const pkt of nflogPackets) {
      const udp = ipv4UdpOf(nflogRecords[pkt.frame - 1]!)!;
      expect(pkt).toMatchObject({ src: udp.src, sport: udp.sport, dst: udp.dst, dport: udp.dport, nflog: { group: NFLOG_GROUP, prefix: LOG_PREFIX, hook: 1 } });
    }

    // --- (1) timing: every packet left on schedule, relative to the others -----------------------------------------
    const offsetsMs = planned.map((p) => (tsOfTag.get(p.tag)! / 1000 - startAtMs) - p.step.at * 1000);
    const jitterMs = Math.max(...offsetsMs) - Math.min(...offsetsMs);

    // One row per packet, printed on any failure below.
    const rows = planned.map((p) => ({
      tag: p.tag,
      dir: p.step.dir,
      plannedS: p.step.at,
      capturedS: Number(((tsOfTag.get(p.tag)! / 1000 - startAtMs) / 1000).toFixed(4)),
      designed: p.step.expect ?? '',
      kernel: p.step.dir === 'in' ? (logged.has(p.tag) ? 'deny' : 'pass') : '',
      frame: frameOfTag.get(p.tag),
      why: p.step.why ?? '',
    }));

    // --- udptrack's prediction ---------------------------------------------------------------------------------
    const sim = spawnCli(['simulate', '--profile', 'nft', '--udp-timeout', `unreplied=${UNREPLIED_S}s,replied=${REPLIED_S}s`, '--local', HOST, '--format', 'json', '--no-progress', ifPcap]);
    expect(sim.exitCode, sim.stderr).toBe(0);
    const profile = (JSON.parse(sim.stdout) as SimulateJson).profiles.find((p) => p.name === 'nft')!;
    expect(profile.timeouts).toEqual({ unreplied: UNREPLIED_S, replied: REPLIED_S });
    expect(profile.purge_window, 'conntrack expiry is exact: no purge window').toEqual([]);
    const tagOfFrame = new Map([...frameOfTag].map(([tag, frame]) => [frame, tag]));
    const predicted = new Set<string>();
    for (const d of profile.denied) {
      const tag = tagOfFrame.get(d.frame);
      expect(tag, `simulate denied frame ${d.frame}, which is not a test datagram`).toBeDefined();
      const udp = ipv4UdpOf(ifFrames[d.frame - 1]!.record)!;
      expect({ src: d.src, sport: d.sport, dst: d.dst, dport: d.dport }, `simulate's frame ${d.frame} is ${tag}`).toEqual({ src: udp.src, sport: udp.sport, dst: udp.dst, dport: udp.dport });
      predicted.add(tag!);
    }
    for (const row of rows) Object.assign(row, { model: row.dir === 'in' ? (predicted.has(row.tag) ? 'deny' : 'pass') : '' });

    // The same prediction from the live ruleset (`nft list ruleset` → --firewall-config).
    const fromRuleset = spawnCli(['analyze', '--profile', 'nft', '--firewall-config', join(scratch, 'ruleset.nft'), '--local', HOST, '--format', 'json', '--no-progress', ifPcap]);
    expect(fromRuleset.exitCode, fromRuleset.stderr).toBe(0);
    const analyzeJson = JSON.parse(fromRuleset.stdout) as { denials: Array<{ frame: number; verdict: string }> };
    const predictedFromRuleset = new Set(analyzeJson.denials.filter((d) => d.verdict === 'deny').map((d) => tagOfFrame.get(d.frame)));

    const table = `\n${rows.map((r) => JSON.stringify(r)).join('\n')}\nconntrack -E:\n${conntrackLog}\ncaptures: ${scratch}`;
    expect(jitterMs, `schedule jitter ${jitterMs.toFixed(1)} ms eats the ${DESIGN_MARGIN_MS} ms design margins${table}`).toBeLessThan(MAX_JITTER_MS);

    // --- (2) the kernel did what the scenarios were designed to show ----------------------------------------------
    const designedDeny = planned.filter((p) => p.step.expect === 'deny').map((p) => p.tag).sort();
    expect([...logged].sort(), `kernel drops differ from the design: the nftables/conntrack setup is not what the test assumes${table}`).toEqual(designedDeny);
    expect(logged.size, 'some inbound packets were dropped').toBeGreaterThan(0);
    expect(inboundTags.length - logged.size, 'some inbound packets passed').toBeGreaterThan(0);

    // --- (3) the model predicts exactly the kernel's drops ----------------------------------------------------
    expect([...predicted].sort(), `simulate --profile nft disagrees with the kernel${table}`).toEqual([...logged].sort());
    expect([...predictedFromRuleset].sort(), `analyze --firewall-config (live nft ruleset) disagrees with the kernel${table}`).toEqual([...logged].sort());

    keepScratch = !!process.env['UDPTRACK_KEEP_CAPTURES'];
    console.log(
      `kernel test: ${inboundTags.length} inbound datagrams, ${logged.size} dropped and predicted, schedule jitter ${jitterMs.toFixed(1)} ms ` +
        `(design margin ${DESIGN_MARGIN_MS} ms, so every packet ≥ ${(DESIGN_MARGIN_MS - jitterMs).toFixed(0)} ms from a threshold); setup ${((tSetup - t0) / 1000).toFixed(1)} s, traffic ${((tTraffic - tSetup) / 1000).toFixed(1)} s, ` +
        `checks ${((Date.now() - tTraffic) / 1000).toFixed(1)} s`,
    );
  }, 120_000);
});
