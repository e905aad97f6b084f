/**
 * Decoded UDP packets for flow-table tests: raw IP (LINKTYPE_RAW) records built with fixtures/writer.ts and run
 * through the real decoder, so tests exercise the same path as a capture.
 */
import { createCaptureRecord } from '../../src/decode/decoded-packet.js';
import { PacketDecoder } from '../../src/decode/packet.js';
import type { DecodedPacket, Direction } from '../../src/types.js';
import { ipIcmpError, ipUdp } from '../../fixtures/writer.js';

/** One datagram of a scripted exchange. */
export interface ScriptedPacket {
  /** Seconds from the start. */
  t: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payloadBytes?: number;
  direction?: Direction;
}

const decoder = new PacketDecoder();
let frame = 0;

/** Decode one scripted datagram (the returned packet is reused by the next call). */
export function udpPacket(p: ScriptedPacket): { pkt: DecodedPacket; tsUs: number } {
  const bytes = ipUdp({ src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, payload: new Uint8Array(p.payloadBytes ?? 20) });
  const record = createCaptureRecord();
  const tsUs = 1_700_000_000_000_000 + Math.round(p.t * 1e6);
  record.frame = ++frame;
  record.tsSec = Math.floor(tsUs / 1e6);
  record.tsNsec = (tsUs % 1e6) * 1000;
  record.linktype = 101;
  record.data = bytes;
  record.capLenBytes = bytes.length;
  record.origLenBytes = bytes.length;
  record.direction = p.direction ?? 'unknown';
  return { pkt: decoder.decode(record), tsUs };
}

/** Base time of scripted packets, µs. */
export const SCRIPT_T0_US = 1_700_000_000_000_000;

/** An ICMP error from `src` to `dst` about the scripted datagram `about` (sent earlier by the other side). */
export function icmpErrorPacket(p: { t: number; src: string; dst: string; type: number; code: number; about: ScriptedPacket }): { pkt: DecodedPacket; tsUs: number } {
  const quoted = ipUdp({ src: p.about.src, dst: p.about.dst, sport: p.about.sport, dport: p.about.dport, payload: new Uint8Array(p.about.payloadBytes ?? 20) });
  const bytes = ipIcmpError({ src: p.src, dst: p.dst, type: p.type, code: p.code, quoted });
  const record = createCaptureRecord();
  const tsUs = SCRIPT_T0_US + Math.round(p.t * 1e6);
  record.frame = ++frame;
  record.tsSec = Math.floor(tsUs / 1e6);
  record.tsNsec = (tsUs % 1e6) * 1000;
  record.linktype = 101;
  record.data = bytes;
  record.origLenBytes = bytes.length;
  return { pkt: decoder.decode(record), tsUs };
}
