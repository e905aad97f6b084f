/**
 * The state machines of each profile, pinned with the packet sequences of ../shared/docs/behaviour.md §1:
 * pf's single-reply trap on udp.single, the purge-lag window, adaptive scaling; Linux's 2-second stream rule;
 * RFC 4787's outbound-only refresh.
 */
import { describe, expect, it } from 'vitest';
import { LocalSide } from '../../src/flow/local.js';
import { getProfile, withOverrides, type TimeoutProfile } from '../../src/flow/profiles.js';
import { FlowTable, packetFlowHash, snapshotFlow, type Denial, type Flow, type Verdict } from '../../src/flow/table.js';
import { readCapture } from '../../src/capture/index.js';
import { PacketDecoder } from '../../src/decode/packet.js';
import { isReplayedPacket, recordTimeUs } from '../../src/pipeline/packet-feed.js';
import { HAVE_CORPUS, fixtureAndCorpusCaptures } from '../helpers/captures.js';
import { SCRIPT_T0_US, icmpErrorPacket, udpPacket } from '../helpers/packets.js';

const CLIENT = '192.168.1.10';
const SERVER = '198.51.100.7';
const out = (t: number) => ({ t, src: CLIENT, sport: 51234, dst: SERVER, dport: 1194 });
const inb = (t: number) => ({ t, src: SERVER, sport: 1194, dst: CLIENT, dport: 51234 });

function replay(profile: TimeoutProfile, script: ReturnType<typeof out>[]) {
  const denials: Denial[] = [];
  const ended: Flow[] = [];
  const table = new FlowTable({
    profile,
    local: new LocalSide('option', 'test', [CLIENT]),
    events: { onDenial: (d) => denials.push(d), onFlowEnd: (f) => ended.push(snapshotFlow(f)) },
  });
  const verdicts: Verdict[] = [];
  const keys: string[] = [];
  for (const step of script) {
    const { pkt, tsUs } = udpPacket(step);
    table.advance(tsUs);
    verdicts.push(table.observe(pkt, tsUs));
    keys.push(table.last.flow?.timeoutKey ?? '');
  }
  table.finish();
  return { verdicts, keys, denials, ended, table };
}

describe('pf', () => {
  const pf = getProfile('pf');

  it('walks first → single → multiple exactly as pf.c does', () => {
    // A→B creates SINGLE:NO_TRAFFIC on udp.first; A→B again: udp.single; B→A: MULTIPLE:SINGLE still udp.single;
    // A→B: MULTIPLE:MULTIPLE on udp.multiple.
    const r = replay(pf, [out(0), out(1), inb(2), out(3)]);
    expect(r.keys).toEqual(['udp.first', 'udp.single', 'udp.single', 'udp.multiple']);
    expect(r.verdicts).toEqual(['pass', 'pass', 'pass', 'pass']);
  });

  it('single-reply trap: the opener sent once, the peer streams → stays on udp.single (30 s)', () => {
    const r = replay(pf, [out(0), inb(1), inb(11), inb(21), inb(31), inb(65), inb(105)]);
    expect(r.keys.slice(1, 5)).toEqual(['udp.single', 'udp.single', 'udp.single', 'udp.single']);
    // 31 → 65 is a 34 s gap: past udp.single (30 s) but inside the 10 s purge window.
    expect(r.verdicts[5]).toBe('window');
    // 65 → 105 is 40 s: past 30 + 10 → denied.
    expect(r.verdicts[6]).toBe('deny');
    expect(r.denials.map((d) => d.reason)).toEqual(['purge-window', 'state-expired']);
    expect(r.denials[1]!.previous).toMatchObject({ timeoutKey: 'udp.single', timeoutUs: 30_000_000, localSent: true, packetsFromLocal: 1 });
  });

  it('the same stream with the opener sending again sits on udp.multiple (60 s) and survives a 50 s gap', () => {
    const r = replay(pf, [out(0), inb(1), out(2), inb(3), inb(53)]);
    expect(r.keys[3]).toBe('udp.multiple');
    expect(r.verdicts[4]).toBe('pass');
  });

  it('purge-lag window is interval wide: 39.9 s after last packet on udp.single may still pass, 40 s does not', () => {
    expect(replay(pf, [out(0), inb(1), inb(40.9)]).verdicts[2]).toBe('window');
    expect(replay(pf, [out(0), inb(1), inb(41)]).verdicts[2]).toBe('deny');
    // interval=0 makes expiry exact.
    expect(replay(withOverrides(pf, 'interval=0'), [out(0), inb(1), inb(31)]).verdicts[2]).toBe('deny');
    expect(replay(withOverrides(pf, 'interval=0'), [out(0), inb(1), inb(30.99)]).verdicts[2]).toBe('pass');
  });

  it('adaptive scaling: 9000 states between start 6000 and end 12000 halve every timeout', () => {
    const scaled = withOverrides(pf, 'states=9000,interval=0');
    // udp.single 30 s → 15 s.
    expect(replay(scaled, [out(0), inb(1), inb(15.9)]).verdicts[2]).toBe('pass');
    expect(replay(scaled, [out(0), inb(1), inb(16.1)]).verdicts[2]).toBe('deny');
    // At adaptive.end everything expires at once.
    expect(replay(withOverrides(pf, 'states=12000,interval=0'), [out(0), inb(0.5)]).verdicts[1]).toBe('deny');
  });

  it('an inbound packet with no state is denied and does not create state', () => {
    const r = replay(pf, [inb(0), inb(1)]);
    expect(r.verdicts).toEqual(['deny', 'deny']);
    expect(r.denials.map((d) => d.reason)).toEqual(['never-seen', 'never-seen']);
    expect(r.ended).toHaveLength(1);
    expect(r.ended[0]!.deniedPackets).toBe(2);
  });
});

describe('linux conntrack', () => {
  const linux = getProfile('linux');

  it('2-second rule: a reply within 2 s keeps the entry on unreplied (30 s) until a packet after 2 s', () => {
    // DNS-like: request, reply at 0.1 s, nothing more → expires 30 s after the reply.
    const r = replay(linux, [out(0), inb(0.1), inb(30.2)]);
    expect(r.keys.slice(0, 2)).toEqual(['unreplied', 'unreplied']);
    expect(r.verdicts[2]).toBe('deny');
    // A packet at 1.5 s (reply seen, but < 2 s after creation) still refreshes to 30 s.
    const early = replay(linux, [out(0), inb(0.1), out(1.5), inb(31.6)]);
    expect(early.keys[2]).toBe('unreplied');
    expect(early.verdicts[3]).toBe('deny');
    // A packet at 2.5 s enters the stream state: 120 s.
    const stream = replay(linux, [out(0), inb(0.1), out(2.5), inb(100)]);
    expect(stream.keys[2]).toBe('replied');
    expect(stream.verdicts[3]).toBe('pass');
  });

  it('the reply itself refreshes to unreplied; only the next packet gets replied', () => {
    const r = replay(linux, [out(0), inb(5), inb(6)]);
    expect(r.keys).toEqual(['unreplied', 'unreplied', 'replied']);
  });

  it('expiry is exact (no purge lag): 30 s after the last packet the entry is gone', () => {
    expect(replay(linux, [out(0), inb(29.99)]).verdicts[1]).toBe('pass');
    expect(replay(linux, [out(0), inb(30)]).verdicts[1]).toBe('deny');
  });

  it('linux-4 has no 2-second rule: the packet after the reply is on 180 s', () => {
    const r = replay(getProfile('linux-4'), [out(0), inb(0.1), out(0.2), inb(170)]);
    expect(r.keys[2]).toBe('replied');
    expect(r.verdicts[3]).toBe('pass');
  });

  it('nft ct timeout values from --udp-timeout', () => {
    const nft = withOverrides(getProfile('nft'), 'unreplied=3s,replied=5s');
    const r = replay(nft, [out(0), inb(0.5), out(2.5), inb(7.4), inb(12.5)]);
    expect(r.verdicts).toEqual(['pass', 'pass', 'pass', 'pass', 'deny']);
  });
});

describe('other profiles', () => {
  it('rfc4787 refreshes on outbound only: inbound keepalives do not keep a NAT mapping', () => {
    const nat = withOverrides(getProfile('rfc4787'), 'mapping=120s');
    const r = replay(nat, [out(0), inb(60), inb(119), inb(121)]);
    expect(r.verdicts).toEqual(['pass', 'pass', 'pass', 'deny']);
  });

  it('suricata moves to established once both directions are seen', () => {
    const r = replay(getProfile('suricata'), [out(0), inb(1), inb(250)]);
    expect(r.keys.slice(0, 2)).toEqual(['new', 'established']);
    expect(r.verdicts[2]).toBe('pass');
  });

  it('expired flows are reported with their timeout and dropped as the replay goes', () => {
    const r = replay(getProfile('zeek'), [out(0), inb(1), out(200)]);
    expect(r.ended.map((f) => [f.endReason, (f.endUs - SCRIPT_T0_US) / 1e6])).toEqual([
      ['idle-timeout', 61],
      ['end-of-input', 200],
    ]);
    expect(r.ended[0]!.history.map((h) => h.event)).toEqual(['created', 'expired']);
  });
});

describe('hash table', () => {
  it('keeps thousands of flows apart and finds each again (IPv4 and IPv6)', () => {
    const table = new FlowTable({ profile: getProfile('linux'), local: new LocalSide('option', 'test', ['10.0.0.0/8', 'fd00::/8']) });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3000; i++) {
        const v6 = i % 3 === 0;
        const { pkt, tsUs } = udpPacket({
          t: round,
          src: v6 ? `fd00::${i.toString(16)}` : `10.0.${i >> 8}.${i & 255}`,
          sport: 40000 + (i % 1000),
          dst: v6 ? '2001:db8::53' : '192.0.2.53',
          dport: 53,
        });
        table.observe(pkt, tsUs);
        expect(table.last.created).toBe(round === 0);
      }
    }
    expect(table.liveFlows).toBe(3000);
    expect(table.counts.flowsCreated).toBe(3000);
  });
});

describe('ICMP errors about UDP flows (behaviour.md §7a)', () => {
  const pf = getProfile('pf');
  const request = { t: 0, src: CLIENT, sport: 51234, dst: SERVER, dport: 1194 };

  function run(steps: Array<{ kind: 'udp'; p: ReturnType<typeof out> } | { kind: 'icmp'; t: number; from: string; to: string }>) {
    const denials: Denial[] = [];
    const table = new FlowTable({ profile: pf, local: new LocalSide('option', 'test', [CLIENT]), events: { onDenial: (d) => denials.push(d) } });
    const verdicts: Verdict[] = [];
    for (const step of steps) {
      const { pkt, tsUs } =
        step.kind === 'udp' ? udpPacket(step.p) : icmpErrorPacket({ t: step.t, src: step.from, dst: step.to, type: 3, code: 3, about: request });
      table.advance(tsUs);
      verdicts.push(step.kind === 'udp' ? table.observe(pkt, tsUs) : table.observeIcmpError(pkt, tsUs));
    }
    return { verdicts, denials, table };
  }

  it('passes an error while the quoted flow has state, and does not refresh it', () => {
    const { verdicts, denials } = run([
      { kind: 'udp', p: out(0) },
      { kind: 'icmp', t: 50, from: SERVER, to: CLIENT },
      { kind: 'udp', p: inb(75) },
    ]);
    // udp.first 60 s from t=0 (+10 s purge lag): the error at 50 s passes as related; had it refreshed the state,
    // the packet at 75 s would pass too.
    expect(verdicts).toEqual(['pass', 'pass', 'deny']);
    expect(denials.map((d) => d.icmpType)).toEqual([-1]);
  });

  it('denies an error that arrives after the state expired, with the expired state as evidence', () => {
    const { verdicts, denials, table } = run([
      { kind: 'udp', p: out(0) },
      { kind: 'icmp', t: 75, from: '203.0.113.1', to: CLIENT },
    ]);
    expect(verdicts).toEqual(['pass', 'deny']);
    expect(denials).toHaveLength(1);
    const d = denials[0]!;
    expect(d).toMatchObject({ icmpType: 3, icmpCode: 3, reason: 'state-expired', srcPort: 1194, dstPort: 51234, flowId: 1 });
    expect(d.previous).toMatchObject({ timeoutKey: 'udp.first', expiresUs: SCRIPT_T0_US + 60_000_000 });
    expect(table.counts.flowsCreated).toBe(1);
  });

  it('denies an error about a flow never seen, and creates no flow for it', () => {
    const { verdicts, denials, table } = run([{ kind: 'icmp', t: 1, from: SERVER, to: CLIENT }]);
    expect(verdicts).toEqual(['deny']);
    expect(denials[0]).toMatchObject({ reason: 'never-seen', flowId: 0 });
    expect(table.counts.flowsCreated).toBe(0);
  });

  it('passes the host\'s own errors (outbound)', () => {
    const { verdicts, denials } = run([{ kind: 'icmp', t: 1, from: CLIENT, to: SERVER }]);
    expect(verdicts).toEqual(['pass']);
    expect(denials).toEqual([]);
  });
});

describe('timing wheel', () => {
  it('reports an expiry on time when pf shortens the timeout (udp.first 60 s → udp.single 30 s)', () => {
    const ends: Array<[number, string, number]> = [];
    const table = new FlowTable({
      profile: getProfile('pf'),
      local: new LocalSide('option', 'test', [CLIENT]),
      events: { onFlowEnd: (f) => ends.push([f.id, f.endReason ?? '', (f.endUs - SCRIPT_T0_US) / 1e6]) },
    });
    const feed = (step: ReturnType<typeof out>) => {
      const { pkt, tsUs } = udpPacket(step);
      table.advance(tsUs);
      table.observe(pkt, tsUs);
    };
    feed(out(0));
    feed(inb(0.1)); // udp.single: expires at 30.1 s (+10 s purge lag), not at 60 s
    feed({ t: 45, src: CLIENT, sport: 40000, dst: SERVER, dport: 53 });
    // The first flow is reported when packet time passes its expiry, before the third packet's flow exists.
    expect(ends).toEqual([[1, 'idle-timeout', 30.1]]);
    feed({ t: 45.5, src: CLIENT, sport: 40001, dst: SERVER, dport: 53 });
    table.finish();
    expect(ends.map((e) => e[1])).toEqual(['idle-timeout', 'end-of-input', 'end-of-input']);
  });

  it('keeps flows whose timeout is longer than a lap of the wheel (4096 s)', () => {
    const ends: Array<[string, number]> = [];
    const profile = withOverrides(getProfile('linux'), 'unreplied=2h,replied=2h');
    const table = new FlowTable({ profile, local: new LocalSide('option', 'test', [CLIENT]), events: { onFlowEnd: (f) => ends.push([f.endReason ?? '', (f.endUs - SCRIPT_T0_US) / 1e6]) } });
    for (let t = 0; t <= 7300; t += 100) {
      const { pkt, tsUs } = udpPacket({ t, src: CLIENT, sport: 40000 + (t === 0 ? 0 : 1), dst: SERVER, dport: 53 });
      table.advance(tsUs);
      table.observe(pkt, tsUs);
    }
    expect(ends).toEqual([['idle-timeout', 7200]]);
  });
});

describe('the end of input in steps', () => {
  // The replay ends flows in steps of a few thousand at the end of input, waiting on output backpressure between
  // them (pipeline/replay.ts): the steps must end exactly the flows finish() ends, in the same order and the same way.
  const ended = (finishInSteps: boolean): string[] => {
    const seen: string[] = [];
    const table = new FlowTable({
      profile: getProfile('pf'),
      local: new LocalSide('option', 'test', [CLIENT]),
      events: { onFlowEnd: (f) => seen.push(`${f.id} ${f.endReason} ${f.endUs} ${f.firstUs}`) },
    });
    // 3000 flows over 90 s, some answered, some only inbound (denied-only flows), all alive at the end or due in its
    // last second.
    for (let n = 0; n < 3000; n++) {
      const t = (n * 30) / 1000;
      const port = 20000 + n;
      const steps = n % 3 === 2 ? [{ t, src: SERVER, sport: 1194, dst: CLIENT, dport: port }] : [{ t, src: CLIENT, sport: port, dst: SERVER, dport: 1194 }];
      if (n % 3 === 1) steps.push({ t: t + 0.01, src: SERVER, sport: 1194, dst: CLIENT, dport: port });
      for (const step of steps) {
        const { pkt, tsUs } = udpPacket(step);
        table.advance(tsUs);
        table.observe(pkt, tsUs);
      }
    }
    if (finishInSteps) {
      let steps = 0;
      while (table.finishSome(7)) steps++;
      expect(steps).toBeGreaterThan(100);
    } else {
      table.finish();
    }
    expect(table.liveFlows).toBe(0);
    return seen;
  };

  it('ends the same flows in the same order as finish()', () => {
    const whole = ended(false);
    expect(whole.length).toBeGreaterThan(2000);
    expect(ended(true)).toEqual(whole);
  });
});

describe('packetFlowHash', () => {
  it("is the hash the table files each UDP packet's flow under, on every fixture and corpus capture (IPv4 and IPv6)", async () => {
    const checked = { 4: 0, 6: 0 };
    const mismatches: string[] = [];
    for (const file of fixtureAndCorpusCaptures()) {
      const decoder = new PacketDecoder();
      const table = new FlowTable({ profile: getProfile('pf'), local: new LocalSide('none', 'test') });
      try {
        await readCapture(file, (record) => {
          const pkt = decoder.decode(record);
          if (!isReplayedPacket(pkt) || pkt.hasQuotedUdp) return;
          const tsUs = recordTimeUs(record);
          table.advance(tsUs);
          table.observe(pkt, tsUs);
          // The table's own hash of the key it just looked up (private: nothing else needs to read it).
          const tableHash = (table as unknown as { lastHash: number }).lastHash;
          checked[pkt.ipVersion as 4 | 6]++;
          if (packetFlowHash(pkt) !== tableHash && mismatches.length < 3) mismatches.push(`${file} frame ${record.frame}`);
        });
      } catch {
        // Not a capture, or damaged past some point: the packets before it were checked.
      }
    }
    expect(mismatches).toEqual([]);
    // Both branches of packetFlowHash ran (the corpus has thousands of each; the fixtures alone tens of IPv4, a few IPv6).
    expect(checked[4]).toBeGreaterThan(HAVE_CORPUS ? 1000 : 10);
    expect(checked[6]).toBeGreaterThan(HAVE_CORPUS ? 100 : 0);
  });
});
