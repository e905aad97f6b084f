/**
 * Decode issues: how a packet's decoding stopped, with coordinates (etherparse `LenError`), in two kinds a
 * decoder can raise itself (tcpdump's `ND_TCHECK` → truncated, `ND_ICHECK` → invalid) plus `unsupported`
 * for well-formed input out of scope (gopacket `UnsupportedLayerType`).
 */
import type { DecodedPacket, DecodeIssue, IssueKind, Layer } from '../types.js';

/** Record that the capture ended before `requiredBytes` that the headers promised. Returns -1 for chaining. */
export function truncated(
  pkt: DecodedPacket,
  layer: Layer,
  code: string,
  offset: number,
  requiredBytes: number,
  availableBytes: number,
): -1 {
  return setIssue(pkt, 'truncated', layer, code, offset, requiredBytes, availableBytes, undefined);
}

/** Record that bytes were present but contradictory (`detail` names the field and the rule). Returns -1. */
export function invalid(pkt: DecodedPacket, layer: Layer, code: string, offset: number, detail: string): -1 {
  return setIssue(pkt, 'invalid', layer, code, offset, undefined, undefined, detail);
}

/** Record a well-formed packet that is out of scope (ARP, TCP, an unknown link type). Returns -1. */
export function unsupported(pkt: DecodedPacket, layer: Layer, code: string, offset: number, detail?: string): -1 {
  return setIssue(pkt, 'unsupported', layer, code, offset, undefined, undefined, detail);
}

function setIssue(
  pkt: DecodedPacket,
  kind: IssueKind,
  layer: Layer,
  code: string,
  offset: number,
  requiredBytes: number | undefined,
  availableBytes: number | undefined,
  detail: string | undefined,
): -1 {
  // Only the first issue is kept: it says where decoding stopped; later layers never ran.
  if (pkt.issue === null) {
    // The packet's own issue object is reused (no allocation per damaged or out-of-scope packet): like the packet,
    // it is valid until the next decode.
    const issue: DecodeIssue = (pkt as { issueSlot?: DecodeIssue }).issueSlot ?? { kind, code, layer, offset: 0 };
    (pkt as { issueSlot?: DecodeIssue }).issueSlot = issue;
    issue.kind = kind;
    issue.code = code;
    issue.layer = layer;
    // Decoders work on offsets into the reader's buffer; people count from the frame's first byte.
    issue.offset = offset - pkt.dataStart;
    issue.requiredBytes = requiredBytes;
    issue.availableBytes = availableBytes;
    issue.detail = detail;
    pkt.issue = issue;
  }
  return -1;
}
