/**
 * The decode chain: link layer by LINKTYPE (a table, like tcpdump's printers[] in print.c), network layer by
 * ethertype, transport by IP protocol. Decoding never throws for any bytes: a packet decodes as far as it can and
 * carries one issue saying where and why it stopped.
 */
import { ETHERTYPE, IPPROTO, LINKTYPE } from './constants.js';
import { createDecodedPacket, resetDecodedPacket, type MutableDecodedPacket } from './decoded-packet.js';
import { FragmentAttributor } from './fragments.js';
import { unsupported } from './issue.js';
import { decodeEthernet } from './link/ethernet.js';
import { decodeNflog } from './link/nflog.js';
import { decodeLoop, decodeNull } from './link/null.js';
import { decodeOldPflog, decodePflog } from './link/pflog.js';
import { decodeMpls, decodePpp, decodePppoeSession } from './link/ppp.js';
import { decodePktap } from './link/pktap.js';
import { decodeIpv4Only, decodeIpv6Only, decodeRaw } from './link/raw.js';
import { decodeSll, decodeSll2 } from './link/sll.js';
import { decodeIpv4 } from './net/ipv4.js';
import { decodeIpv6 } from './net/ipv6.js';
import { decodeIcmp4, decodeIcmp6 } from './transport/icmp.js';
import { decodeUdp } from './transport/udp.js';
import type { CaptureRecord, DecodedPacket } from '../types.js';

/** A link-layer decoder: returns the next layer's offset (setting nextEtherType or nextLinktype), or -1. */
export type LinkDecoder = (pkt: MutableDecodedPacket, offset: number) => number;

/** LINKTYPE → decoder. LINKTYPE names per tcpdump.org/linktypes; 12/14/149 are OS DLT values old files carry. */
export const LINK_DECODERS: ReadonlyMap<number, LinkDecoder> = new Map<number, LinkDecoder>([
  [LINKTYPE.NULL, decodeNull],
  [LINKTYPE.ETHERNET, decodeEthernet],
  [LINKTYPE.PPP, decodePpp],
  [LINKTYPE.OLD_PFLOG, decodeOldPflog],
  [LINKTYPE.PPP_HDLC, decodePpp],
  [LINKTYPE.RAW_12, decodeRaw],
  [LINKTYPE.RAW_14, decodeRaw],
  [LINKTYPE.RAW, decodeRaw],
  [LINKTYPE.LOOP, decodeLoop],
  [LINKTYPE.LINUX_SLL, decodeSll],
  [LINKTYPE.PFLOG, decodePflog],
  [LINKTYPE.USER2_PKTAP, decodePktap],
  [LINKTYPE.IPV4, decodeIpv4Only],
  [LINKTYPE.IPV6, decodeIpv6Only],
  [LINKTYPE.NFLOG, decodeNflog],
  [LINKTYPE.PKTAP, decodePktap],
  [LINKTYPE.LINUX_SLL2, decodeSll2],
]);

/**
 * LINK_DECODERS as an array indexed by LINKTYPE, for the per-packet lookup: a Map lookup hashed the number for every
 * packet (~70 instructions, issue 7). LINKTYPE values are small (the largest here is 276).
 */
const LINK_DECODER_BY_TYPE: ReadonlyArray<LinkDecoder | undefined> = (() => {
  const byType: Array<LinkDecoder | undefined> = new Array<LinkDecoder | undefined>(Math.max(...LINK_DECODERS.keys()) + 1).fill(undefined);
  for (const [linktype, decoder] of LINK_DECODERS) byType[linktype] = decoder;
  return byType;
})();

/** Encapsulations deeper than this (PKTAP inside PKTAP …) are hostile input. */
const MAX_LINK_DEPTH = 3;

/**
 * Decodes capture records into the one reused DecodedPacket. Stateful only for fragment attribution, so use one
 * decoder per input. Not thread-safe, not re-entrant: the returned packet is overwritten by the next call.
 */
export class PacketDecoder {
  private readonly pkt: MutableDecodedPacket = createDecodedPacket();
  private readonly fragments = new FragmentAttributor();

  /** Decode one record; the result is valid until the next call. */
  decode(record: CaptureRecord): DecodedPacket {
    const pkt = this.pkt;
    resetDecodedPacket(pkt, record);
    try {
      decodeInto(pkt, record.linktype);
      if (pkt.isFragment && pkt.issue === null && (pkt.ipProto === IPPROTO.UDP || pkt.fragmentOffsetBytes !== 0)) {
        if (!this.fragments.observe(pkt)) {
          unsupported(pkt, pkt.ipVersion === 4 ? 'ipv4' : 'ipv6', 'ip-fragment-unattributed', pkt.ipOffset,
            `fragment id ${pkt.fragmentId} offset ${pkt.fragmentOffsetBytes} without its first fragment`);
        }
      }
    } catch (error) {
      // Safety net, not a strategy (design-models §5.5): a throw here is a decoder bug, counted per frame.
      pkt.issue = {
        kind: 'internal',
        code: 'decoder-threw',
        layer: 'link',
        offset: 0,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
    return pkt;
  }
}

function decodeInto(pkt: MutableDecodedPacket, linktype: number): void {
  let offset = pkt.dataStart;
  let currentLinktype = linktype;
  for (let depth = 0; ; depth++) {
    const decodeLink = currentLinktype >= 0 && currentLinktype < LINK_DECODER_BY_TYPE.length ? LINK_DECODER_BY_TYPE[currentLinktype] : undefined;
    if (decodeLink === undefined) {
      unsupported(pkt, 'link', 'link-type-unsupported', offset, `linktype ${currentLinktype}`);
      return;
    }
    pkt.nextLinktype = -1;
    offset = decodeLink(pkt, offset);
    if (offset < 0) return;
    if (pkt.nextLinktype < 0) break;
    if (depth >= MAX_LINK_DEPTH) {
      unsupported(pkt, 'link', 'link-nesting-too-deep', offset, `more than ${MAX_LINK_DEPTH} link headers`);
      return;
    }
    currentLinktype = pkt.nextLinktype;
  }
  // Shims between the link header and IP: MPLS label stacks and PPPoE sessions (bounded: each consumes bytes).
  for (let shim = 0; shim < MAX_LINK_DEPTH; shim++) {
    if (pkt.nextEtherType === ETHERTYPE.MPLS || pkt.nextEtherType === ETHERTYPE.MPLS_MULTICAST) offset = decodeMpls(pkt, offset);
    else if (pkt.nextEtherType === ETHERTYPE.PPPOE_SESSION) offset = decodePppoeSession(pkt, offset);
    else break;
    if (offset < 0) return;
  }
  let transportOffset: number;
  switch (pkt.nextEtherType) {
    case ETHERTYPE.IPV4:
      transportOffset = decodeIpv4(pkt, offset);
      break;
    case ETHERTYPE.IPV6:
      transportOffset = decodeIpv6(pkt, offset);
      break;
    default:
      unsupported(pkt, 'link', 'link-ethertype-unsupported', offset, `ethertype 0x${pkt.nextEtherType.toString(16).padStart(4, '0')}`);
      return;
  }
  if (transportOffset < 0) return;
  if (pkt.isFragment && pkt.fragmentOffsetBytes !== 0) return; // ports come from the first fragment, if seen
  switch (pkt.ipProto) {
    case IPPROTO.UDP:
      decodeUdp(pkt, transportOffset);
      return;
    case IPPROTO.ICMP:
      if (pkt.ipVersion === 4) decodeIcmp4(pkt, transportOffset);
      return;
    case IPPROTO.ICMPV6:
      if (pkt.ipVersion === 6) decodeIcmp6(pkt, transportOffset);
      return;
    default:
      // TCP, ESP, GRE …: well-formed, outside a UDP tracker's scope; counted, not an error.
      unsupported(pkt, pkt.ipVersion === 4 ? 'ipv4' : 'ipv6', 'ip-proto-not-udp', transportOffset, protocolDetail(pkt.ipProto));
  }
}

const PROTOCOL_DETAILS: string[] = [];

/** `protocol 6`, made once per protocol number (TCP packets are a quarter of a typical capture). */
function protocolDetail(proto: number): string {
  return (PROTOCOL_DETAILS[proto] ??= `protocol ${proto}`);
}

/** Decode a single record with a throwaway decoder (tests, one-off use). */
export function decodeRecord(record: CaptureRecord): DecodedPacket {
  return new PacketDecoder().decode(record);
}

export { createDecodedPacket };
