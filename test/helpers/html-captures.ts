/**
 * Synthetic captures for the HTML report's tests, built in memory with the fixture writer: a flow too long to draw
 * every packet of, a capture with more flows than the page draws, and one whose interface and process names are
 * markup (PKTAP records, as macOS writes them).
 */
import { concat, ethernet, ipUdp, writePcap, type FixturePacket } from '../../fixtures/writer.js';

export const T0_US = Date.UTC(2026, 10, 20, 9, 0, 0) * 1000;
export const HOST = '192.168.1.10';
const sec = (s: number): number => T0_US + Math.round(s * 1e6);
const payload = (n: number): Uint8Array => new Uint8Array(n).fill(0x5a);

function udp(t: number, src: string, sport: number, dst: string, dport: number): FixturePacket {
  return { tsUs: sec(t), data: ethernet(ipUdp({ src, sport, dst, dport, payload: payload(32) })) };
}

function pcap(packets: FixturePacket[]): Uint8Array {
  packets.sort((a, b) => a.tsUs - b.tsUs);
  return writePcap({ linktype: 1 }, packets);
}

/**
 * One OpenVPN-like flow with `pairs` request/reply pairs 50 ms apart, then 100 s of silence (pf forgets it after
 * udp.multiple 60 s), then three server packets 10 s apart that pf denies.
 */
export function buildLongFlow(pairs: number): { bytes: Uint8Array; lastPacketS: number } {
  const packets: FixturePacket[] = [];
  for (let i = 0; i < pairs; i++) {
    packets.push(udp(i * 0.05, HOST, 40000, '198.51.100.7', 1194));
    packets.push(udp(i * 0.05 + 0.01, '198.51.100.7', 1194, HOST, 40000));
  }
  const lastPacketS = (pairs - 1) * 0.05 + 0.01;
  for (let k = 0; k < 3; k++) packets.push(udp(lastPacketS + 100 + k * 10, '198.51.100.7', 1194, HOST, 40000));
  return { bytes: pcap(packets), lastPacketS };
}

/**
 * More flows than the page draws: `lost` flows the host opened whose server answers again after pf forgot them,
 * `unsolicited` probes from different senders, and `expiredOnly` DNS exchanges (after the others, so the queue of
 * expired-only flows never pushes out a state a denial still needs).
 */
export function buildManyFlows(counts: { lost: number; unsolicited: number; expiredOnly: number }): Uint8Array {
  const packets: FixturePacket[] = [];
  for (let i = 0; i < counts.lost; i++) {
    const server = `198.51.${100 + Math.floor(i / 200)}.${1 + (i % 200)}`;
    packets.push(udp(i * 0.2, HOST, 30000 + i, server, 443));
    packets.push(udp(i * 0.2 + 0.02, server, 443, HOST, 30000 + i));
    packets.push(udp(i * 0.2 + 100, server, 443, HOST, 30000 + i));
  }
  for (let i = 0; i < counts.unsolicited; i++) packets.push(udp(5 + i * 0.1, `203.0.113.${1 + (i % 250)}`, 40000 + i, HOST, 9999));
  for (let i = 0; i < counts.expiredOnly; i++) {
    const t = 400 + i * 0.01;
    packets.push(udp(t, HOST, 20000 + (i % 40000), '192.168.1.1', 53));
    packets.push(udp(t + 0.005, '192.168.1.1', 53, HOST, 20000 + (i % 40000)));
  }
  // A last packet long after, so every DNS state has timed out and left the table before the capture ends.
  packets.push(udp(400 + counts.expiredOnly * 0.01 + 300, HOST, 19999, '192.0.2.53', 123));
  return pcap(packets);
}

/** A NUL-padded fixed-size string field. */
function cstr(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(text).subarray(0, size - 1));
  return out;
}

/**
 * A PKTAP v1 header (XNU bsd/net/pktap.h, 108 bytes, little-endian host) around an Ethernet frame: interface name,
 * direction flag (1 in, 2 out) and the process that owned the socket.
 */
function pktap(ifName: string, direction: 1 | 2, processName: string, frame: Uint8Array): Uint8Array {
  const header = new Uint8Array(108);
  const view = new DataView(header.buffer);
  view.setUint32(0, 108, true); // pth_length
  view.setUint32(4, 1, true); // pth_type_next: PTH_TYPE_PACKET
  view.setUint32(8, 1, true); // pth_dlt: DLT_EN10MB
  header.set(cstr(ifName, 24), 12);
  view.setUint32(36, direction, true); // pth_flags: PTH_FLAG_DIR_IN 1, PTH_FLAG_DIR_OUT 2
  view.setUint32(40, 2, true); // pth_protocol_family: AF_INET
  view.setUint32(52, 4242, true); // pth_pid
  header.set(cstr(processName, 17), 56);
  view.setUint32(84, 0xffffffff, true); // pth_epid: none
  return concat(header, frame);
}

/** Interface and process names a hostile or careless system could report; each must show as text, never as markup. */
export const HOSTILE_IFNAME = '<img src=x>"&\'';
export const HOSTILE_PROCESS = '<svg onload=1>';

/** The host talks to a server, goes quiet past pf's timeout, and the server's next packets are denied on `HOSTILE_IFNAME`. */
export function buildHostileNames(): Uint8Array {
  const packets: FixturePacket[] = [];
  const add = (t: number, direction: 1 | 2): void => {
    const ip = direction === 2 ? ipUdp({ src: HOST, sport: 41000, dst: '198.51.100.9', dport: 51820, payload: payload(32) }) : ipUdp({ src: '198.51.100.9', sport: 51820, dst: HOST, dport: 41000, payload: payload(32) });
    packets.push({ tsUs: sec(t), data: pktap(HOSTILE_IFNAME, direction, HOSTILE_PROCESS, ethernet(ip)) });
  };
  add(0, 2);
  add(0.03, 1);
  add(1, 2);
  add(1.03, 1);
  add(120, 1);
  add(130, 1);
  packets.sort((a, b) => a.tsUs - b.tsUs);
  return writePcap({ linktype: 149 }, packets);
}
