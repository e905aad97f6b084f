/**
 * The live classifier (`udptrack tail`): the same checks as explain, on packets as they arrive. Once a verdict's
 * window has closed it must agree with the offline classifier on the same timeline; before that it is provisional,
 * revised when a later packet changes its cause, and settled when its window closes. Memory stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { Timeline, explainDenials, type ObservedPacket, type TimeoutContext } from '../../src/classify/explain.js';
import { LiveExplainer, type LiveVerdict, type SettleReason } from '../../src/classify/live.js';

const HOST = '192.168.1.10';
const SERVER = '198.51.100.7';
const TIMEOUTS: TimeoutContext = { profileName: 'pf', steadyTimeoutUs: 60e6, estimate: undefined };
const SETTLE_US = 120e6;

function p(t: number, fromLocal: boolean, options: Partial<ObservedPacket> = {}): ObservedPacket {
  return {
    index: 0,
    frame: 0,
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

type Event =
  | { kind: 'verdict'; id: number; frame: number; cause: string; provisional: boolean }
  | { kind: 'revision'; id: number; from: string; cause: string; provisional: boolean; atS: number }
  | { kind: 'settled'; id: number; cause: string; atS: number; reason: SettleReason };

/** Feed a timeline (frames and indexes numbered here) to a live classifier; returns its events and the classifier. */
function live(packets: ObservedPacket[], options: { endS?: number; settleUs?: number; finish?: boolean; maxFlows?: number } = {}): { events: Event[]; explainer: LiveExplainer } {
  const events: Event[] = [];
  const explainer = new LiveExplainer({
    timeouts: TIMEOUTS,
    settleAfterUs: options.settleUs ?? SETTLE_US,
    maxFlows: options.maxFlows,
    events: {
      onVerdict: (v) => events.push({ kind: 'verdict', id: v.id, frame: v.explanation.packet.frame, cause: v.explanation.cause, provisional: v.explanation.provisional }),
      onRevision: (v, from, atUs) => events.push({ kind: 'revision', id: v.id, from, cause: v.explanation.cause, provisional: v.explanation.provisional, atS: atUs / 1e6 }),
      onSettled: (v, atUs, reason) => events.push({ kind: 'settled', id: v.id, cause: v.explanation.cause, atS: atUs / 1e6, reason }),
    },
  });
  packets.forEach((q, i) => explainer.add({ ...q, index: i, frame: i + 1 }, ''));
  if (options.endS !== undefined) explainer.advance(options.endS * 1e6);
  if (options.finish ?? false) explainer.finish();
  return { events, explainer };
}

/** The final cause of each verdict, by id, from the events. */
function finalCauses(events: Event[]): string[] {
  const byId = new Map<number, string>();
  for (const e of events) byId.set(e.id, e.cause);
  return [...byId.entries()].sort((a, b) => a[0] - b[0]).map(([, cause]) => cause);
}

function offline(packets: ObservedPacket[]): string[] {
  return explainDenials(new Timeline(packets.map((q, i) => ({ ...q, index: i, frame: i + 1 }))), TIMEOUTS).map((e) => e.cause);
}

const flush = [40001, 40002, 40003].flatMap((port) => [p(0, true, { localPort: port }), p(5, false, { localPort: port }), p(10.1 + port / 1e6, false, { localPort: port, denied: true })]);

/** Timelines that end well inside every window: the live result must be the offline one. */
const TIMELINES: Record<string, ObservedPacket[]> = {
  'idle-expiry': [p(0, true), p(1, false), p(80, false, { denied: true }), p(85, true), p(86, false)],
  'client-killed': [p(0, true), p(1, false), p(80, false, { denied: true }), p(90, false, { denied: true })],
  'graceful-exit-inflight': [p(0, true), p(10, true, { openvpnOpcode: 4 }), p(10.2, false, { denied: true })],
  'same-port-restart': [
    p(0, true, { openvpnOpcode: 7, openvpnSession: 'aaaa' }),
    p(1, false, { openvpnOpcode: 4, openvpnSession: 'bbbb' }),
    p(50, true, { openvpnOpcode: 7, openvpnSession: 'cccc' }),
    p(50.5, false, { openvpnOpcode: 4, openvpnSession: 'bbbb', denied: true }),
    p(52, true),
  ],
  'state-flush': flush.sort((a, b) => a.tsUs - b.tsUs),
  'endpoint-change': [p(0, true), p(1, false), p(2, false, { remoteAddr: '198.51.100.8', denied: true })],
  'local-address-change': [p(0, true, { localAddr: '192.168.1.11' }), p(30, false, { denied: true })],
  unsolicited: [p(0, false, { remoteAddr: '203.0.113.9', remotePort: 40000, service: '', denied: true })],
  'late-reply': [p(0, true, { remotePort: 53, localPort: 53001, service: 'dns', openvpnOpcode: -1 }), p(45, false, { remotePort: 53, localPort: 53001, service: 'dns', openvpnOpcode: -1, denied: true })],
  'client-restart': [
    p(0, true),
    p(1, false),
    p(70, false, { denied: true }),
    p(71, true, { localPort: 52001, openvpnOpcode: 7, openvpnOpcodeName: 'P_CONTROL_HARD_RESET_CLIENT_V2', openvpnSession: 'dddd' }),
    p(80, false, { denied: true }),
  ],
  'dhcp and multicast': [
    p(0, false, { remoteAddr: '192.168.1.1', remotePort: 67, localAddr: '255.255.255.255', localPort: 68, multicast: true, service: 'dhcp', denied: true }),
    p(1, false, { remoteAddr: '192.168.1.20', remotePort: 5353, localAddr: '224.0.0.251', localPort: 5353, multicast: true, service: 'mdns', denied: true }),
  ],
  'icmp-error': [
    p(0, true, { remotePort: 53, localPort: 53111, service: 'dns', openvpnOpcode: -1 }),
    p(70, false, { remotePort: 53, localPort: 53111, service: '', openvpnOpcode: -1, icmp: { type: 3, code: 3, sender: SERVER }, denied: true }),
  ],
};

describe('live verdicts agree with the offline classifier once settled', () => {
  for (const [name, packets] of Object.entries(TIMELINES)) {
    it(name, () => {
      const { events } = live(packets, { finish: true });
      expect(finalCauses(events)).toEqual(offline(packets));
      // Every verdict ends final: its first line says so, or a revision or settling does.
      for (const id of new Set(events.map((e) => e.id))) {
        const last = events.filter((e) => e.id === id).at(-1)!;
        expect(last.kind === 'settled' || !('provisional' in last) || !last.provisional).toBe(true);
      }
    });
  }
});

describe('provisional verdicts and revisions', () => {
  it('client-killed until the host sends again, then revised to idle-expiry', () => {
    const { events } = live(TIMELINES['idle-expiry']!);
    expect(events).toEqual([
      { kind: 'verdict', id: 1, frame: 3, cause: 'client-killed', provisional: true },
      { kind: 'revision', id: 1, from: 'client-killed', cause: 'idle-expiry', provisional: true, atS: 85 },
    ]);
  });

  it('a new flow from another port to the same server turns the strays into client-restart', () => {
    const { events } = live(TIMELINES['client-restart']!);
    expect(events.map((e) => [e.kind, e.id, e.cause])).toEqual([
      ['verdict', 1, 'client-killed'],
      ['revision', 1, 'client-restart'],
      ['verdict', 2, 'client-restart'],
    ]);
  });

  it('the first denials of a burst are revised to state-flush when the third flow is denied', () => {
    // Three local ports to one server: until the burst, each looks like a client that restarted on another port.
    const { events } = live(TIMELINES['state-flush']!);
    expect(events.map((e) => [e.kind, e.id, e.cause, 'provisional' in e ? e.provisional : 'settled'])).toEqual([
      ['verdict', 1, 'client-restart', true],
      ['verdict', 2, 'client-restart', true],
      ['revision', 1, 'state-flush', false],
      ['revision', 2, 'state-flush', false],
      ['verdict', 3, 'state-flush', false],
    ]);
  });

  it('DHCP, multicast and ICMP errors are final at once: nothing later can change them', () => {
    const { events } = live([...TIMELINES['dhcp and multicast']!, ...TIMELINES['icmp-error']!.map((q) => ({ ...q, tsUs: q.tsUs + 2e6 }))]);
    expect(events.map((e) => [e.kind, e.cause, 'provisional' in e && e.provisional])).toEqual([
      ['verdict', 'dhcp', false],
      ['verdict', 'link-local-multicast', false],
      ['verdict', 'icmp-error', false],
    ]);
  });

  it('unsolicited settles when the flush window (1 s) closes; idle-expiry when its deciding window closes', () => {
    const unsolicited = live(TIMELINES['unsolicited']!, { endS: 0.95 });
    expect(unsolicited.events.filter((e) => e.kind === 'settled')).toEqual([]);
    unsolicited.explainer.advance(1.05e6);
    expect(unsolicited.events.at(-1)).toEqual({ kind: 'settled', id: 1, cause: 'unsolicited', atS: 1, reason: 'window' });

    const idle = live(TIMELINES['idle-expiry']!, { endS: 80 + 119 });
    expect(idle.events.some((e) => e.kind === 'settled')).toBe(false);
    idle.explainer.advance(200.2e6);
    expect(idle.events.at(-1)).toEqual({ kind: 'settled', id: 1, cause: 'idle-expiry', atS: 200, reason: 'window' });
    expect(idle.explainer.openCount).toBe(0);
  });

  it('a packet after the window does not change a settled verdict', () => {
    const packets = [p(0, true), p(1, false), p(80, false, { denied: true }), p(80 + 130, true)];
    const { events } = live(packets);
    expect(events.map((e) => [e.kind, e.cause])).toEqual([
      ['verdict', 'client-killed'],
      ['settled', 'client-killed'],
    ]);
    // Offline, with the whole capture, the host's packet 130 s later makes it idle-expiry: the window is the
    // live classifier's own bound, as documented.
    expect(offline(packets)).toEqual(['idle-expiry']);
  });

  it('end of input settles what is open', () => {
    const { events } = live(TIMELINES['client-killed']!, { finish: true });
    expect(events.filter((e) => e.kind === 'settled').map((e) => [e.id, e.cause, (e as { reason: string }).reason])).toEqual([
      [1, 'client-killed', 'end-of-input'],
      [2, 'client-killed', 'end-of-input'],
    ]);
  });

  it('a payload fingerprint seen later names the flow\'s service for the packets kept, as offline', () => {
    const packets = [p(0, true, { service: '' }), p(1, false, { service: 'openvpn' }), p(80, false, { service: '', denied: true })];
    const verdicts: LiveVerdict[] = [];
    const explainer = new LiveExplainer({ timeouts: TIMEOUTS, settleAfterUs: SETTLE_US, events: { onVerdict: (v) => verdicts.push(v) } });
    packets.forEach((q, i) => explainer.add({ ...q, index: i, frame: i + 1 }, ''));
    expect(verdicts[0]!.explanation.packet.service).toBe('openvpn');
    expect(verdicts[0]!.explanation.remedy[0]).toMatch(/harmless strays/);
  });
});

describe('bounded memory', () => {
  it('a flow\'s record goes a day after its last packet; nothing stays open', () => {
    const packets: ObservedPacket[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = i * 0.5;
      const port = 20000 + (i % 500);
      packets.push(p(t, true, { localPort: port, service: 'dns', remotePort: 53, openvpnOpcode: -1 }));
      packets.push(p(t + 0.01, false, { localPort: port, service: 'dns', remotePort: 53, openvpnOpcode: -1, remoteAddr: '203.0.113.1', denied: true }));
    }
    const { explainer } = live(packets);
    expect(explainer.flowCount).toBeGreaterThan(500);
    explainer.advance((1000 + 23 * 3600) * 1e6);
    expect(explainer.flowCount).toBeGreaterThan(0);
    explainer.advance((1000 + 24 * 3600 + 1) * 1e6);
    expect(explainer.flowCount).toBe(0);
    expect(explainer.openCount).toBe(0);
  });

  it('at most maxFlows records, the least recently used dropped first', () => {
    const packets = Array.from({ length: 300 }, (_, i) => p(i * 0.001, false, { remotePort: 30000 + i, service: '', denied: true }));
    const { explainer, events } = live(packets, { maxFlows: 100 });
    expect(explainer.flowCount).toBe(100);
    expect(events.filter((e) => e.kind === 'verdict')).toHaveLength(300);
  });
});
