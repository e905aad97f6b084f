/**
 * Real kernel, real libpcap: `udptrack tail` watching traffic as it happens, three ways at once on the same packets.
 *
 * Two network namespaces joined by a veth pair: `host` (10.212.0.1, the protected side) and `peer` (10.212.0.2).
 * In `host`, nftables gives new outbound UDP flows a conntrack timeout of 3 s unreplied / 5 s replied, NFLOG-logs
 * them with the prefix "udptrack-pass " (context for the log), and logs then drops every inbound UDP packet that is
 * not part of a live flow with the prefix "udptrack-drop " — both to NFLOG group 31 with `queue-threshold 1`, so the
 * kernel sends each record at once instead of batching them for up to a second. Three tails run in `host`:
 *
 *   interface  udptrack tail --interface hv0 -v   (cap on the veth; the model predicts the denials)
 *   nflog      udptrack tail --interface nflog:31  (the log says which packets were dropped)
 *   stdin      tcpdump -i hv0 -U --immediate-mode -w - udp | udptrack tail -
 *
 * The traffic, from UDP sockets in both namespaces on one schedule:
 *   t=0.5…2.5  the peer sends 5 datagrams from ports 41001…41005 to host:9000      → unsolicited, each
 *   t=4.0      the host sends 5000 → peer:6000, t=4.2 the peer replies            (a flow with state)
 *   t=9.0      the peer sends again: conntrack forgot the flow at 7.2 (unreplied)  → client-killed, provisional
 *   t=10.5     the host sends on the flow again                                   → revised to idle-expiry
 *   then nothing: the host's new flow expires at 13.5 and the interface tail says so on its wall-clock tick.
 *
 * Every verdict must reach the tail's stdout within one second of its datagram leaving the peer, with the cause the
 * scenario implies, on all three tails. Then: an interface that goes away ends a tail with a clear message and
 * exit 2; with --wait the tail waits for it and goes on when it is back; no such interface and no privileges are one
 * line and exit 2.
 *
 * Needs root, namespaces, nftables with ct timeout objects, tcpdump with nflog support and the cap module; each test
 * otherwise skips with the reason. Run alone: npx vitest run --no-file-parallelism test/kernel/tail.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { createNetnsPair, deleteNetns, kernelTestBlockers, nsRun, run, sleep, startUdpSchedule, type NetnsPair, type UdpScheduleReport } from '../helpers/netns.js';

const BIN = resolve(REPO_ROOT, 'bin/udptrack.cjs');
const GROUP = 31;
const suffix = `${process.pid}`;
const pair: NetnsPair = {
  a: { ns: `uttail-h-${suffix}`, ifname: 'hv0', addr: '10.212.0.1' },
  b: { ns: `uttail-p-${suffix}`, ifname: 'pv0', addr: '10.212.0.2' },
};
const HOST = pair.a.addr;
const PEER = pair.b.addr;
const MODEL = ['--profile', 'linux', '--udp-timeout', 'unreplied=3s,replied=5s'];

function capBlocker(): string[] {
  try {
    createRequire(import.meta.url)('cap');
    return [];
  } catch {
    return ['the optional cap module is not built (apt-get install libpcap-dev; npm rebuild cap)'];
  }
}

const blockers = [...kernelTestBlockers({ nflog: true, ctTimeout: true }), ...(process.getuid?.() === 0 ? capBlocker() : [])];
const namespaces: string[] = [];
const procs: LineProcess[] = [];

afterAll(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  const left = deleteNetns(...namespaces);
  if (left.length > 0) console.warn(`could not delete: ${left.join('; ')}`);
});

function skipUnlessReady(ctx: { skip: (note?: string) => void }): void {
  if (blockers.length === 0) return;
  const reason = `tail kernel test skipped: ${blockers.join('; ')}`;
  console.warn(reason);
  ctx.skip(reason);
}

/** A process in a namespace whose stdout lines are timestamped as they arrive. */
class LineProcess {
  readonly child: ChildProcess;
  readonly lines: Array<{ atMs: number; text: string }> = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private partial = '';

  constructor(ns: string, argv: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore') {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: [stdin, 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const atMs = Date.now();
      this.partial += chunk;
      let newline: number;
      while ((newline = this.partial.indexOf('\n')) >= 0) {
        this.lines.push({ atMs, text: this.partial.slice(0, newline) });
        this.partial = this.partial.slice(newline + 1);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((done) => this.child.on('close', (code) => done(code)));
    procs.push(this);
  }

  /** The ndjson records so far, with their arrival times. */
  records(): Array<{ atMs: number; r: Record<string, unknown> }> {
    return this.lines.filter((l) => l.text.startsWith('{')).map((l) => ({ atMs: l.atMs, r: JSON.parse(l.text) as Record<string, unknown> }));
  }

  async waitForStderr(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} on stderr within ${timeoutMs} ms: ${this.stderr}`);
      await sleep(20);
    }
  }

  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<{ atMs: number; text: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l.text));
      if (line !== undefined) return line;
      if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await sleep(20);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 5000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function tailArgv(...args: string[]): string[] {
  return [process.execPath, BIN, 'tail', ...args];
}

function firewall(ifname: string): string {
  return `table ip udptrack_tail {
  ct timeout udp_short {
    protocol udp;
    l3proto ip;
    policy = { unreplied : 3, replied : 5 }
  }
  chain output {
    type filter hook output priority filter; policy accept;
    meta l4proto udp ct state new ct timeout set "udp_short"
    oifname "${ifname}" meta l4proto udp ct state new log prefix "udptrack-pass " group ${GROUP} queue-threshold 1
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    iifname "${ifname}" meta l4proto udp log prefix "udptrack-drop " group ${GROUP} queue-threshold 1 drop
  }
}
`;
}

/** Each verdict id's records in order, from a tail's ndjson. */
function verdictHistory(records: Array<{ atMs: number; r: Record<string, unknown> }>): Map<number, Array<{ atMs: number; r: Record<string, unknown> }>> {
  const byId = new Map<number, Array<{ atMs: number; r: Record<string, unknown> }>>();
  for (const rec of records) {
    if (!['verdict', 'revision', 'final'].includes(rec.r['type'] as string)) continue;
    const id = rec.r['id'] as number;
    byId.set(id, [...(byId.get(id) ?? []), rec]);
  }
  return byId;
}

describe('udptrack tail on a real interface, on NFLOG, and on tcpdump through stdin', () => {
  it('every datagram the firewall denies is a verdict within one second, with the cause the traffic implies', async (ctx) => {
    skipUnlessReady(ctx);
    namespaces.push(pair.a.ns, pair.b.ns);
    createNetnsPair(pair, 24);
    nsRun(pair.a.ns, ['nft', '-f', '-'], firewall(pair.a.ifname));

    const iface = new LineProcess(pair.a.ns, tailArgv('--interface', pair.a.ifname, '-v', '--format', 'ndjson', '--final-after', '3s', ...MODEL));
    const nflog = new LineProcess(pair.a.ns, tailArgv('--interface', `nflog:${GROUP}`, '--format', 'ndjson', '--final-after', '3s', ...MODEL));
    const stdin = new LineProcess(pair.a.ns, tailArgv('-', '--format', 'ndjson', '--final-after', '3s', ...MODEL), 'pipe');
    const tcpdump = spawn('ip', ['netns', 'exec', pair.a.ns, 'tcpdump', '-i', pair.a.ifname, '-n', '-U', '--immediate-mode', '-w', '-', 'udp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tcpdumpErr = '';
    tcpdump.stderr.setEncoding('utf8').on('data', (chunk: string) => (tcpdumpErr += chunk));
    tcpdump.stdout.pipe(stdin.child.stdin!);
    try {
      await iface.waitForStderr(/listening on hv0, link-type 1\n/, 10_000);
      await nflog.waitForStderr(/listening on nflog:31, link-type 239\n/, 10_000);
      const deadline = Date.now() + 10_000;
      while (!/listening on/.test(tcpdumpErr)) {
        if (Date.now() > deadline) throw new Error(`tcpdump did not start: ${tcpdumpErr}`);
        await sleep(20);
      }
      await sleep(300);

      const startAtMs = Date.now() + 1500;
      const unsolicitedPorts = [41001, 41002, 41003, 41004, 41005];
      const peer = startUdpSchedule(pair.b.ns, {
        local: PEER,
        bind: [...unsolicitedPorts, 6000],
        sends: [
          ...unsolicitedPorts.map((sport, i) => ({ at: 0.5 + 0.5 * i, sport, dst: HOST, dport: 9000, tag: `probe-${sport}` })),
          { at: 4.2, sport: 6000, dst: HOST, dport: 5000, tag: 'reply' },
          { at: 9.0, sport: 6000, dst: HOST, dport: 5000, tag: 'stray' },
        ],
        startAtMs,
        endAt: 12,
      });
      const host = startUdpSchedule(pair.a.ns, {
        local: HOST,
        bind: [5000],
        sends: [
          { at: 4.0, sport: 5000, dst: PEER, dport: 6000, tag: 'hello' },
          { at: 10.5, sport: 5000, dst: PEER, dport: 6000, tag: 'again' },
        ],
        startAtMs,
        endAt: 12,
      });
      const [peerReport, hostReport] = (await Promise.all([peer.done, host.done])) as [UdpScheduleReport, UdpScheduleReport];
      expect(hostReport.received.map((r) => r.tag)).toEqual(['reply']); // the stray was dropped, as the scenario needs
      // The host's second flow (10.5 s, unreplied 3 s) expires at 13.5 s; nothing else is sent, so the interface tail
      // can only learn it from its wall-clock tick (1 s behind now, 1 s expiry slots).
      const againMs = hostReport.sent.find((s) => s.tag === 'again')!.atMs;
      const secondEnd = (): { atMs: number; text: string } | undefined =>
        iface.lines.filter((l) => /"type":"flow","event":"end".*"reason":"idle-timeout"/.test(l.text)).find((l) => Date.parse(JSON.parse(l.text).ts as string) > againMs);
      const waitUntil = Date.now() + 8000;
      while (secondEnd() === undefined && Date.now() < waitUntil) await sleep(50);
      const expiry = secondEnd();
      // The stray's verdict is final 3 s after it (12 s): announced by the tick too, before the expiry.
      await sleep(300);

      const sentAt = new Map(peerReport.sent.map((s) => [s.tag, s.atMs]));
      for (const [name, tail] of [['interface', iface], ['nflog', nflog], ['stdin', stdin]] as const) {
        const history = verdictHistory(tail.records());
        const firsts = [...history.values()].map((h) => h[0]!);
        // The five probes: unsolicited, each within a second of its send.
        for (const sport of unsolicitedPorts) {
          const first = firsts.find((f) => f.r['sport'] === sport && f.r['dport'] === 9000);
          expect(first, `${name}: verdict for the probe from ${sport}`).toBeDefined();
          expect(first!.r['cause'], `${name}: probe ${sport}`).toBe('unsolicited');
          const delayMs = first!.atMs - sentAt.get(`probe-${sport}`)!;
          expect(delayMs, `${name}: probe ${sport} took ${delayMs} ms`).toBeLessThan(1000);
          expect(history.get(first!.r['id'] as number)!.at(-1)!.r['cause']).toBe('unsolicited');
        }
        // The stray on the expired flow: client-killed at first (the host has not sent again yet), provisional,
        // within a second; revised to idle-expiry when the host sends on the flow again; final 3 s after it.
        const stray = firsts.find((f) => f.r['sport'] === 6000 && f.r['dport'] === 5000);
        expect(stray, `${name}: verdict for the stray`).toBeDefined();
        expect(stray!.r, name).toMatchObject({ type: 'verdict', cause: 'client-killed', provisional: true, src: PEER, dst: HOST });
        expect(stray!.atMs - sentAt.get('stray')!, `${name}: stray`).toBeLessThan(1000);
        const later = history.get(stray!.r['id'] as number)!.slice(1).map((h) => h.r);
        expect(later, name).toEqual([
          expect.objectContaining({ type: 'revision', previous_cause: 'client-killed', cause: 'idle-expiry', provisional: true }),
          expect.objectContaining({ type: 'final', cause: 'idle-expiry', provisional: false, reason: 'window' }),
        ]);
        // Nothing else was denied: the reply and the host's packets passed.
        expect(firsts.map((f) => f.r['sport']).sort(), name).toEqual([...unsolicitedPorts, 6000].sort());
      }

      // -v on the interface: the host's flows gaining state and expiring, with absolute times.
      const flows = iface.records().filter((x) => x.r['type'] === 'flow').map((x) => x.r);
      expect(flows.filter((f) => f['event'] === 'new').map((f) => (f['local'] as { port: number }).port)).toEqual([5000, 5000]);
      expect(expiry, `no expiry announced while the input was quiet; stderr: ${iface.stderr}`).toBeDefined();
      const expiredAtMs = Date.parse(JSON.parse(expiry!.text).ts as string);
      expect(expiredAtMs - againMs).toBeGreaterThan(2500);
      expect(expiredAtMs - againMs).toBeLessThan(3500);
      expect(expiry!.atMs).toBeGreaterThan(expiredAtMs);
      expect(expiry!.atMs - expiredAtMs).toBeLessThan(3000);
    } finally {
      tcpdump.kill('SIGINT');
      for (const tail of [iface, nflog]) expect(await tail.stop('SIGINT')).toBe(0);
      expect(await stdin.exited).toBe(0); // tcpdump ended, so did its stream
    }
    for (const [name, tail] of [['interface', iface], ['nflog', nflog], ['stdin', stdin]] as const) {
      const summary = tail.records().at(-1)!.r;
      expect(summary, name).toMatchObject({ type: 'summary', verdicts: 6, causes: { unsolicited: 5, 'idle-expiry': 1 }, revisions: 1 });
      expect(summary['end'], name).toBe(name === 'stdin' ? 'end-of-input' : 'interrupted');
      expect(tail.stderr, name).not.toMatch(/Warning|Assertion/);
    }
  });
});

describe('interfaces that go away', () => {
  const ns = `uttail-g-${suffix}`;
  const peerNs = `uttail-gp-${suffix}`;

  /** A veth `name` in `ns` to `peerNs`, addressed and up. */
  function addVeth(name: string, peerName: string): void {
    run(['ip', 'link', 'add', name, 'netns', ns, 'type', 'veth', 'peer', 'name', peerName, 'netns', peerNs]);
    nsRun(ns, ['ip', 'addr', 'add', '10.213.0.1/24', 'dev', name]);
    nsRun(peerNs, ['ip', 'addr', 'add', '10.213.0.2/24', 'dev', peerName]);
    nsRun(ns, ['ip', 'link', 'set', name, 'up']);
    nsRun(peerNs, ['ip', 'link', 'set', peerName, 'up']);
  }

  async function probe(sport: number): Promise<number> {
    const report = await startUdpSchedule(peerNs, { local: '10.213.0.2', bind: [sport], sends: [{ at: 0.2, sport, dst: '10.213.0.1', dport: 9000, tag: `p${sport}` }], startAtMs: Date.now() + 300, endAt: 0.5 }).done;
    return report.sent[0]!.atMs;
  }

  function setUp(): void {
    namespaces.push(ns, peerNs);
    run(['ip', 'netns', 'add', ns]);
    run(['ip', 'netns', 'add', peerNs]);
    for (const n of [ns, peerNs]) spawnSync('ip', ['netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }

  it('without --wait: a clear message, the summary, exit 2', async (ctx) => {
    skipUnlessReady(ctx);
    setUp();
    addVeth('gone0', 'gonep0');
    const tail = new LineProcess(ns, tailArgv('--interface', 'gone0', '--local', '10.213.0.1'));
    await tail.waitForStderr(/listening on gone0/, 10_000);
    await sleep(200);
    const sentMs = await probe(42001);
    const verdict = await tail.waitForLine(/deny #1 \[provisional\] 10\.213\.0\.2:42001 → 10\.213\.0\.1:9000: unsolicited\./, 2000);
    expect(verdict.atMs - sentMs).toBeLessThan(1000);
    run(['ip', '-n', ns, 'link', 'del', 'gone0']);
    expect(await tail.exited).toBe(2);
    expect(tail.stderr).toMatch(/^udptrack: listening on gone0, link-type 1\nudptrack: gone0 went away \(removed, or down\); udptrack tail --interface gone0 --wait waits for it to come back\n$/);
    expect(tail.lines.map((l) => l.text).join('\n')).toMatch(/\nDenied: {5}1 \(1 unsolicited\)/);
  });

  it('with --wait: waits for it to appear, and again when it goes away, and goes on', async (ctx) => {
    skipUnlessReady(ctx);
    const tail = new LineProcess(ns, tailArgv('--interface', 'back0', '--wait', '--local', '10.213.0.1'));
    await tail.waitForStderr(/waiting: there is no interface back0/, 10_000);
    addVeth('back0', 'backp0');
    await tail.waitForStderr(/listening on back0/, 10_000);
    await sleep(200);
    await probe(42002);
    await tail.waitForLine(/deny #1 .*10\.213\.0\.2:42002 → 10\.213\.0\.1:9000: unsolicited\./, 2000);
    run(['ip', '-n', ns, 'link', 'del', 'back0']);
    await tail.waitForStderr(/back0 went away; waiting for it to come back \(--wait\)/, 10_000);
    addVeth('back0', 'backp0');
    await tail.waitForStderr(/listening on back0[^]*listening on back0/, 10_000);
    await sleep(200);
    const sentMs = await probe(42003);
    // The second capture continues the first: verdict #2, frame numbers going on.
    const second = await tail.waitForLine(/deny #2 .*10\.213\.0\.2:42003 → 10\.213\.0\.1:9000: unsolicited\./, 2000);
    expect(second.atMs - sentMs).toBeLessThan(1000);
    const frames = tail.lines.map((l) => /frame (\d+)\)$/.exec(l.text)?.[1]).filter((f) => f !== undefined).map(Number);
    expect(frames[1]!).toBeGreaterThan(frames[0]!);
    expect(await tail.stop('SIGINT')).toBe(0);
    expect(tail.lines.map((l) => l.text).join('\n')).toMatch(/\nDenied: {5}2 \(2 unsolicited\)/);
  });
});

describe('what is missing, in one line', () => {
  it('no such interface; pflog0 on Linux says how to make it; no privileges', (ctx) => {
    skipUnlessReady(ctx);
    const ns = `uttail-m-${suffix}`;
    namespaces.push(ns);
    run(['ip', 'netns', 'add', ns]);
    nsRun(ns, ['ip', 'link', 'set', 'lo', 'up']);
    const runTail = (prefix: string[], args: string[]): { status: number | null; stderr: string; stdout: string } =>
      spawnSync('ip', ['netns', 'exec', ns, ...prefix, process.execPath, BIN, 'tail', ...args], { encoding: 'utf8' });
    const missing = runTail([], ['--interface', 'nosuch0']);
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('udptrack: there is no interface nosuch0 (ip link, ifconfig -a list them); --wait waits for it to appear\n');
    const pflog = runTail([], ['--interface', 'pflog0']);
    expect(pflog.status).toBe(2);
    expect(pflog.stderr).toMatch(/^udptrack: there is no pflog0: create it with sudo ifconfig pflog0 create, and add log to the block rules \(block log all\)[^\n]*\n$/);
    const filter = runTail([], ['--interface', 'lo', '--filter', 'udp and']);
    expect(filter.status).toBe(2);
    expect(filter.stderr).toMatch(/^udptrack: --filter: .*syntax error.*\(see pcap-filter\(7\)\)\n$/);
    const nobody = runTail(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], ['--interface', 'lo']);
    expect(nobody.status).toBe(2);
    expect(nobody.stderr).toMatch(/^udptrack: capturing on lo needs root \(or CAP_NET_RAW and CAP_NET_ADMIN\): sudo udptrack tail --interface lo \([^\n]*\)\n$/);
    const nobodyNflog = runTail(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], ['--interface', `nflog:${GROUP}`]);
    expect(nobodyNflog.status).toBe(2);
    expect(nobodyNflog.stderr).toMatch(/^udptrack: capturing on nflog:31 needs root/);
  });
});
