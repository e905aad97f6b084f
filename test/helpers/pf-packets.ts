/**
 * Packets for the pf evaluator, the kill-switch advisor and --check tests: an OpenVPN server's datagram to the
 * laptop on en0 unless a test says otherwise.
 */
import type { LoggedPacket } from '../../src/classify/kill-switch.js';
import type { PacketFacts } from '../../src/policy/evaluate.js';

/** What the evaluator sees of a packet. */
export function packetFacts(over: Partial<PacketFacts> = {}): PacketFacts {
  return {
    ifName: 'en0',
    direction: 'in',
    af: 4,
    proto: 17,
    src: '198.51.100.7',
    dst: '192.168.1.10',
    sport: 1194,
    dport: 51234,
    icmpType: undefined,
    icmpCode: undefined,
    tcpFlags: undefined,
    ...over,
  };
}

/** A maker of denied log records numbered 1, 2, … with the packet time `tsUsOf(frame)`. */
export function loggedPackets(tsUsOf: (frame: number) => number): (over: Partial<LoggedPacket>) => LoggedPacket {
  let nextFrame = 1;
  return (over) => {
    const frame = nextFrame++;
    return { frame, tsUs: tsUsOf(frame), denied: true, service: '', ...packetFacts(), ...over };
  };
}
