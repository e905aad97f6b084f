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
    const issue: DecodeIssue = { kind, code, layer, offset };
    if (requiredBytes !== undefined) issue.requiredBytes = requiredBytes;
    if (availableBytes !== undefined) issue.availableBytes = availableBytes;
    if (detail !== undefined) issue.detail = detail;
    pkt.issue = issue;
  }
  return -1;
}
