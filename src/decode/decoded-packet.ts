/**
 * The reusable DecodedPacket: one object per reader, reset before each packet so the hot path allocates
 * nothing for packets that decode cleanly (gopacket DecodingLayerParser: "DecodeFromBytes … totally resets").
 */
import { ReusableCaptureRecord, type CaptureRecord, type DecodedPacket } from '../types.js';

/** Decoder scratch that travels with a packet between the link layer and the network layer. */
export interface DecodeScratch {
  /** Ethertype of the network layer found by the link decoder (0x0800 IPv4, 0x86DD IPv6, …); -1 none. */
  nextEtherType: number;
  /** End of the network-layer bytes (NFLOG's payload TLV ends before the frame does). */
  netEnd: number;
  /** Link type of an encapsulated frame (PKTAP's pth_dlt, as a LINKTYPE value); -1 none. */
  nextLinktype: number;
}

export type MutableDecodedPacket = DecodedPacket & DecodeScratch;

const EMPTY = new Uint8Array(0);

/** A blank record, for tests and for decoding bytes that did not come from a capture reader. */
export function createCaptureRecord(): ReusableCaptureRecord {
  return new ReusableCaptureRecord();
}

/** A fresh packet object; create one per pipeline and pass it to every decodePacket call. */
export function createDecodedPacket(): MutableDecodedPacket {
  const pkt: MutableDecodedPacket = {
    record: createCaptureRecord(),
    data: EMPTY,
    dataStart: 0,
    dataEnd: 0,
    direction: 'unknown',
    ifName: undefined,
    vlanCount: 0,
    vlanOuterId: -1,
    pflog: undefined,
    nflog: undefined,
    pktap: undefined,
    ipVersion: 0,
    ipOffset: -1,
    srcAddrOffset: -1,
    dstAddrOffset: -1,
    src4: 0,
    dst4: 0,
    ipProto: -1,
    ipLenBytes: 0,
    ttl: 0,
    isFragment: false,
    fragmentOffsetBytes: 0,
    moreFragments: false,
    fragmentId: 0,
    hasUdp: false,
    portsFromFirstFragment: false,
    srcPort: -1,
    dstPort: -1,
    udpLenBytes: 0,
    payloadOffset: -1,
    payloadLenBytes: 0,
    icmpType: -1,
    icmpCode: -1,
    hasQuotedUdp: false,
    quotedIpVersion: 0,
    quotedSrcAddrOffset: -1,
    quotedDstAddrOffset: -1,
    quotedSrcPort: -1,
    quotedDstPort: -1,
    issue: null,
    nextEtherType: -1,
    netEnd: 0,
    nextLinktype: -1,
  };
  return pkt;
}

/** Reset every field for a new packet (keeps the object's shape stable for V8). */
export function resetDecodedPacket(pkt: MutableDecodedPacket, record: CaptureRecord): void {
  pkt.record = record;
  const buffer = record.buffer;
  const start = record.dataOffset;
  // A record whose capLenBytes claims more than its buffer holds (hand-built in tests) ends at the buffer.
  const end = Math.min(start + record.capLenBytes, buffer.length);
  pkt.data = buffer;
  pkt.dataStart = start;
  pkt.dataEnd = end;
  pkt.direction = record.direction;
  pkt.ifName = record.interfaceName;
  pkt.vlanCount = 0;
  pkt.vlanOuterId = -1;
  pkt.pflog = undefined;
  pkt.nflog = undefined;
  pkt.pktap = undefined;
  pkt.ipVersion = 0;
  pkt.ipOffset = -1;
  pkt.srcAddrOffset = -1;
  pkt.dstAddrOffset = -1;
  pkt.src4 = 0;
  pkt.dst4 = 0;
  pkt.ipProto = -1;
  pkt.ipLenBytes = 0;
  pkt.ttl = 0;
  pkt.isFragment = false;
  pkt.fragmentOffsetBytes = 0;
  pkt.moreFragments = false;
  pkt.fragmentId = 0;
  pkt.hasUdp = false;
  pkt.portsFromFirstFragment = false;
  pkt.srcPort = -1;
  pkt.dstPort = -1;
  pkt.udpLenBytes = 0;
  pkt.payloadOffset = -1;
  pkt.payloadLenBytes = 0;
  pkt.icmpType = -1;
  pkt.icmpCode = -1;
  pkt.hasQuotedUdp = false;
  pkt.quotedIpVersion = 0;
  pkt.quotedSrcAddrOffset = -1;
  pkt.quotedDstAddrOffset = -1;
  pkt.quotedSrcPort = -1;
  pkt.quotedDstPort = -1;
  pkt.issue = null;
  pkt.nextEtherType = -1;
  pkt.netEnd = end;
  pkt.nextLinktype = -1;
}
