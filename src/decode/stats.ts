/**
 * Per-run packet counters (softflowd's FLOWTRACKPARAMETERS, Zeek's weird counters): every record is counted once,
 * by the kind of issue it carried, with the first few samples per issue code so a report can point at frames.
 */
import type { DecodedPacket, PacketStats } from '../types.js';

const SAMPLES_PER_CODE = 5;

/** Empty counters. */
export function createPacketStats(): PacketStats {
  return {
    total: 0,
    decoded: 0,
    udp: 0,
    truncated: 0,
    invalid: 0,
    unsupported: 0,
    internal: 0,
    issuesByCode: {},
    issueKindByCode: {},
    issueSamples: {},
  };
}

/** Count one decoded packet. */
export function countPacket(stats: PacketStats, pkt: DecodedPacket): void {
  stats.total++;
  if (pkt.hasUdp && pkt.ipProto === 17) stats.udp++;
  const issue = pkt.issue;
  if (issue === null) {
    stats.decoded++;
    return;
  }
  // A named counter per kind, and one keyed lookup per packet: the per-code records are keyed by many names (TCP,
  // ARP, …: a quarter of a typical capture's packets), and each keyed access by a varying name is a megamorphic
  // lookup (issue 7). The kind and the samples are looked up only for a code's first few packets.
  const kind = issue.kind;
  if (kind === 'unsupported') stats.unsupported++;
  else if (kind === 'truncated') stats.truncated++;
  else if (kind === 'invalid') stats.invalid++;
  else stats.internal++;
  const code = issue.code;
  const count = (stats.issuesByCode[code] ?? 0) + 1;
  stats.issuesByCode[code] = count;
  if (count > SAMPLES_PER_CODE) return;
  if (count === 1) {
    stats.issueKindByCode[code] = kind;
    stats.issueSamples[code] = [];
  }
  stats.issueSamples[code]!.push({ frame: pkt.record.frame, offset: issue.offset, detail: issue.detail });
}
