/**
 * What runs over a UDP flow, from the payload first and the ports second (formats.md §7; the port table is
 * gopacket's layers/ports.go idea). Payload signatures are checked strictly enough that random bytes rarely match:
 * OpenVPN's opcode byte alone would match 1 in 8 random datagrams, so it is used only with its layout or port.
 */

/** Stable service names used in every report. */
export type ServiceName =
  | 'openvpn'
  | 'wireguard'
  | 'ike'
  | 'esp-in-udp'
  | 'quic'
  | 'dns'
  | 'mdns'
  | 'llmnr'
  | 'netbios-ns'
  | 'dhcp'
  | 'dhcpv6'
  | 'ntp'
  | 'ssdp'
  | 'stun'
  | 'syslog'
  | 'snmp'
  | 'teredo'
  | 'vxlan'
  | '';

/** A guess and what it rests on. */
export interface ServiceGuess {
  service: ServiceName;
  by: 'payload' | 'port' | '';
  /** Its place in SERVICE_GUESSES: how a guess travels between threads as one number. */
  readonly index: number;
}

/** Well-known ports (IANA; formats.md §7.4). Looked up by the server-side port. */
const PORT_SERVICES: ReadonlyMap<number, ServiceName> = new Map<number, ServiceName>([
  [53, 'dns'],
  [67, 'dhcp'],
  [68, 'dhcp'],
  [123, 'ntp'],
  [137, 'netbios-ns'],
  [161, 'snmp'],
  [443, 'quic'],
  [500, 'ike'],
  [514, 'syslog'],
  [546, 'dhcpv6'],
  [547, 'dhcpv6'],
  [1194, 'openvpn'],
  [1900, 'ssdp'],
  [3478, 'stun'],
  [3544, 'teredo'],
  [4500, 'ike'],
  [4789, 'vxlan'],
  [5353, 'mdns'],
  [5355, 'llmnr'],
  [51820, 'wireguard'],
]);

const NONE: ServiceGuess = { service: '', by: '', index: 0 };

/**
 * One shared guess object per (service, by), so a guess allocates nothing, found without a Map: a Map lookup per
 * packet (by the service's name, by the port number) was most of a guess's cost, and the reading thread of a
 * two-thread replay guesses every packet (issue 7).
 */
const SERVICE_NAMES: readonly ServiceName[] = ['openvpn', 'wireguard', 'ike', 'esp-in-udp', 'quic', 'dns', 'mdns', 'llmnr', 'netbios-ns', 'dhcp', 'dhcpv6', 'ntp', 'ssdp', 'stun', 'syslog', 'snmp', 'teredo', 'vxlan'];
const PAYLOAD_GUESSES = new Map<ServiceName, ServiceGuess>(SERVICE_NAMES.map((service, i) => [service, { service, by: 'payload', index: 1 + i }]));
const PORT_GUESSES = new Map<ServiceName, ServiceGuess>(SERVICE_NAMES.map((service, i) => [service, { service, by: 'port', index: 1 + SERVICE_NAMES.length + i }]));
/** Every guess guessService can return, by its index. */
export const SERVICE_GUESSES: readonly ServiceGuess[] = [NONE, ...PAYLOAD_GUESSES.values(), ...PORT_GUESSES.values()];
/**
 * The port guess by port number, as its index in SERVICE_GUESSES (0, NONE: no well-known service). Bytes, not an
 * array of 65536 references: that cost ~2 ms of every run's start-up and 512 KiB the garbage collector copied and
 * scanned (issue 7).
 */
const PORT_GUESS_INDEX_BY_PORT: Uint8Array = (() => {
  const byPort = new Uint8Array(65536);
  for (const [port, service] of PORT_SERVICES) byPort[port] = PORT_GUESSES.get(service)!.index;
  return byPort;
})();

/** The payload guesses matchPayload returns, as constants (no lookup per packet). */
const PAYLOAD = {
  dhcp: PAYLOAD_GUESSES.get('dhcp')!,
  dhcpv6: PAYLOAD_GUESSES.get('dhcpv6')!,
  dns: PAYLOAD_GUESSES.get('dns')!,
  esp_in_udp: PAYLOAD_GUESSES.get('esp-in-udp')!,
  ike: PAYLOAD_GUESSES.get('ike')!,
  llmnr: PAYLOAD_GUESSES.get('llmnr')!,
  mdns: PAYLOAD_GUESSES.get('mdns')!,
  netbios_ns: PAYLOAD_GUESSES.get('netbios-ns')!,
  ntp: PAYLOAD_GUESSES.get('ntp')!,
  openvpn: PAYLOAD_GUESSES.get('openvpn')!,
  quic: PAYLOAD_GUESSES.get('quic')!,
  ssdp: PAYLOAD_GUESSES.get('ssdp')!,
  stun: PAYLOAD_GUESSES.get('stun')!,
  wireguard: PAYLOAD_GUESSES.get('wireguard')!,
} as const;

/** Guess the service of a datagram. Returns a shared, frozen-in-practice object (no allocation per call). */
export function guessService(data: Uint8Array, offset: number, lengthBytes: number, srcPort: number, dstPort: number): ServiceGuess {
  const byPayload = matchPayload(data, offset, Math.min(lengthBytes, data.length - offset), srcPort, dstPort);
  if (byPayload !== NONE) return byPayload;
  const byPort = PORT_GUESS_INDEX_BY_PORT;
  // The lower port first (a client port is usually the higher), then the other; a packet without ports has -1.
  return SERVICE_GUESSES[byPort[Math.min(srcPort, dstPort)] || byPort[Math.max(srcPort, dstPort)] || 0]!;
}

/** Either port is `port` (a plain function: a closure over the ports was an allocation per packet fingerprinted). */
function either(sport: number, dport: number, port: number): boolean {
  return sport === port || dport === port;
}

function u16(data: Uint8Array, o: number): number {
  return (data[o]! << 8) | data[o + 1]!;
}
function u32(data: Uint8Array, o: number): number {
  return ((data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!) >>> 0;
}

function matchPayload(data: Uint8Array, o: number, n: number, sport: number, dport: number): ServiceGuess {
  if (n <= 0) return NONE;
  const b0 = data[o]!;
  // DHCPv4 (RFC 2131): op 1/2, htype 1, hlen 6, magic cookie 63 82 53 63 at 236.
  if (n >= 240 && (b0 === 1 || b0 === 2) && data[o + 1] === 1 && data[o + 2] === 6 && u32(data, o + 236) === 0x63825363) return PAYLOAD.dhcp;
  // STUN (RFC 5389): top two bits 00, length multiple of 4, magic cookie 0x2112A442 at 4.
  if (n >= 20 && (b0 & 0xc0) === 0 && u32(data, o + 4) === 0x2112a442 && (u16(data, o + 2) & 3) === 0) return PAYLOAD.stun;
  // WireGuard (wireguard-go noise-protocol.go): LE type 1..4 with three zero bytes; handshake sizes are exact,
  // transport data is 16 + a multiple of 16 (keepalive = 32).
  if (n >= 32 && b0 >= 1 && b0 <= 4 && data[o + 1] === 0 && data[o + 2] === 0 && data[o + 3] === 0) {
    if ((b0 === 1 && n === 148) || (b0 === 2 && n === 92) || (b0 === 3 && n === 64) || (b0 === 4 && (n - 16) % 16 === 0)) return PAYLOAD.wireguard;
  }
  // IKE on 500, or on 4500 after the non-ESP marker (RFC 3948): version 0x20 (IKEv2) or 0x10 (IKEv1) at 17.
  if (either(sport, dport, 500) && n >= 28 && isIkeHeader(data, o, n)) return PAYLOAD.ike;
  if (either(sport, dport, 4500)) {
    if (n === 1 && b0 === 0xff) return PAYLOAD.ike; // NAT-keepalive
    if (n >= 32 && u32(data, o) === 0 && isIkeHeader(data, o + 4, n - 4)) return PAYLOAD.ike;
    if (n >= 8 && u32(data, o) !== 0) return PAYLOAD.esp_in_udp;
  }
  // SSDP (UPnP): ASCII request lines.
  if (n >= 8 && (startsWith(data, o, n, 'M-SEARCH') || startsWith(data, o, n, 'NOTIFY * ') || startsWith(data, o, n, 'HTTP/1.1 '))) {
    if (either(sport, dport, 1900)) return PAYLOAD.ssdp;
  }
  // DNS family (RFC 1035 header, RFC 6762 mDNS, RFC 4795 LLMNR): plausible header and the port.
  if (n >= 12 && isDnsHeader(data, o)) {
    if (either(sport, dport, 5353)) return PAYLOAD.mdns;
    if (either(sport, dport, 5355)) return PAYLOAD.llmnr;
    if (either(sport, dport, 53)) return PAYLOAD.dns;
    if (either(sport, dport, 137)) return PAYLOAD.netbios_ns;
  }
  // NTP (RFC 5905): 48-byte header, version 1..4, mode 1..5.
  if (either(sport, dport, 123) && n >= 48) {
    const version = (b0 >> 3) & 7;
    const mode = b0 & 7;
    if (version >= 1 && version <= 4 && mode >= 1 && mode <= 5) return PAYLOAD.ntp;
  }
  // QUIC (RFC 9000/8999/9369): long header with a known version, DCID length ≤ 20.
  if (n >= 7 && (b0 & 0x80) !== 0) {
    const version = u32(data, o + 1);
    const known = version === 1 || version === 0x6b3343cf || version === 0 || (version & 0xffffff00) === 0x51303400 || (version & 0x0f0f0f0f) === 0x0a0a0a0a || (version >>> 8) === 0xff0000;
    if (known && data[o + 5]! <= 20 && (version === 0 || (b0 & 0x40) !== 0)) return PAYLOAD.quic;
  }
  // DHCPv6 (RFC 8415) on 546/547.
  if ((either(sport, dport, 546) || either(sport, dport, 547)) && n >= 4 && b0 >= 1 && b0 <= 13) return PAYLOAD.dhcpv6;
  // OpenVPN (formats.md §7.1): a client hard reset (opcode 7 or 10, key id 0) has a recognisable layout;
  // other opcodes only count on the OpenVPN port, since one byte alone matches random data too often.
  const opcode = b0 >> 3;
  if ((opcode === 7 || opcode === 10) && (b0 & 7) === 0 && n >= 14 && isOpenvpnReset(data, o, n)) return PAYLOAD.openvpn;
  if (either(sport, dport, 1194) && opcode >= 3 && opcode <= 11) return PAYLOAD.openvpn;
  return NONE;
}

function isIkeHeader(data: Uint8Array, o: number, n: number): boolean {
  if (n < 28) return false;
  const version = data[o + 17]!;
  const exchange = data[o + 18]!;
  return (version === 0x20 && exchange >= 34 && exchange <= 43) || (version === 0x10 && exchange <= 32);
}

function isDnsHeader(data: Uint8Array, o: number): boolean {
  const flags = u16(data, o + 2);
  const opcode = (flags >> 11) & 0xf;
  const qd = u16(data, o + 4);
  const an = u16(data, o + 6);
  return opcode <= 6 && qd <= 64 && an <= 256 && (qd > 0 || an > 0);
}

function isOpenvpnReset(data: Uint8Array, o: number, n: number): boolean {
  // Plain: op | sid[8] | ack_len 0 | packet_id 0 (14 bytes).
  if (n === 14) return data[o + 9] === 0 && u32(data, o + 10) === 0;
  // tls-crypt: op | sid[8] | packet_id u32 | net_time u32 | tag[32] …; tls-auth: op | sid[8] | hmac[16/20/32/64] |
  // packet_id | net_time … (formats.md §7.1). A net_time that is a plausible Unix time (2001–2100) at one of those
  // offsets is the signature.
  for (const hmacBytes of [0, 16, 20, 32, 64]) {
    const timeOffset = o + 9 + hmacBytes + 4;
    if (timeOffset + 4 > o + n) break;
    const netTime = u32(data, timeOffset);
    if (netTime >= 978_307_200 && netTime <= 4_102_444_800) return true;
  }
  return false;
}

function startsWith(data: Uint8Array, o: number, n: number, text: string): boolean {
  if (n < text.length) return false;
  for (let i = 0; i < text.length; i++) if (data[o + i] !== text.charCodeAt(i)) return false;
  return true;
}
