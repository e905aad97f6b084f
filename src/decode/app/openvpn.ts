/**
 * What an OpenVPN datagram shows on the wire (formats.md §7.1; OpenVPN ssl_pkt.h): opcode and key id in byte 0, the
 * sender's session id after it on control packets, the peer id on P_DATA_V2. Enough to tell a fresh session (hard
 * reset, new session id) from the old one's strays without decrypting anything.
 */

/** OpenVPN opcodes (P_*), ssl_pkt.h. */
export const OPENVPN_OPCODE = {
  CONTROL_HARD_RESET_CLIENT_V1: 1,
  CONTROL_HARD_RESET_SERVER_V1: 2,
  CONTROL_SOFT_RESET_V1: 3,
  CONTROL_V1: 4,
  ACK_V1: 5,
  DATA_V1: 6,
  CONTROL_HARD_RESET_CLIENT_V2: 7,
  CONTROL_HARD_RESET_SERVER_V2: 8,
  DATA_V2: 9,
  CONTROL_HARD_RESET_CLIENT_V3: 10,
  CONTROL_WKC_V1: 11,
} as const;

const NAMES: Readonly<Record<number, string>> = {
  1: 'P_CONTROL_HARD_RESET_CLIENT_V1',
  2: 'P_CONTROL_HARD_RESET_SERVER_V1',
  3: 'P_CONTROL_SOFT_RESET_V1',
  4: 'P_CONTROL_V1',
  5: 'P_ACK_V1',
  6: 'P_DATA_V1',
  7: 'P_CONTROL_HARD_RESET_CLIENT_V2',
  8: 'P_CONTROL_HARD_RESET_SERVER_V2',
  9: 'P_DATA_V2',
  10: 'P_CONTROL_HARD_RESET_CLIENT_V3',
  11: 'P_CONTROL_WKC_V1',
};

/** The visible header of one OpenVPN datagram. */
export interface OpenvpnHeader {
  opcode: number;
  opcodeName: string;
  keyId: number;
  /** Sender's session id (hex) on control and ACK packets; '' on data packets. */
  sessionId: string;
  /** P_DATA_V2 peer id; -1 otherwise. */
  peerId: number;
  /** A client hard reset: the start of a new session. */
  isClientReset: boolean;
  isData: boolean;
}

/** Decode the OpenVPN header of a UDP payload; undefined when byte 0 is not a current opcode or bytes are missing. */
export function decodeOpenvpnHeader(data: Uint8Array, offset: number, lengthBytes: number): OpenvpnHeader | undefined {
  if (lengthBytes < 1 || offset >= data.length) return undefined;
  const b0 = data[offset]!;
  const opcode = b0 >> 3;
  const name = NAMES[opcode];
  if (name === undefined) return undefined;
  const isData = opcode === OPENVPN_OPCODE.DATA_V1 || opcode === OPENVPN_OPCODE.DATA_V2;
  let sessionId = '';
  if (!isData && lengthBytes >= 9 && offset + 9 <= data.length) {
    for (let i = 1; i <= 8; i++) sessionId += data[offset + i]!.toString(16).padStart(2, '0');
  }
  let peerId = -1;
  if (opcode === OPENVPN_OPCODE.DATA_V2 && lengthBytes >= 4 && offset + 4 <= data.length) {
    peerId = (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
  }
  return {
    opcode,
    opcodeName: name,
    keyId: b0 & 7,
    sessionId,
    peerId,
    isClientReset:
      opcode === OPENVPN_OPCODE.CONTROL_HARD_RESET_CLIENT_V2 || opcode === OPENVPN_OPCODE.CONTROL_HARD_RESET_CLIENT_V3 || opcode === OPENVPN_OPCODE.CONTROL_HARD_RESET_CLIENT_V1,
    isData,
  };
}
