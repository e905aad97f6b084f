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
  stats[issue.kind]++;
  stats.issuesByCode[issue.code] = (stats.issuesByCode[issue.code] ?? 0) + 1;
  stats.issueKindByCode[issue.code] = issue.kind;
  let samples = stats.issueSamples[issue.code];
  if (samples === undefined) {
    samples = [];
    stats.issueSamples[issue.code] = samples;
  }
  if (samples.length < SAMPLES_PER_CODE) {
    samples.push({ frame: pkt.record.frame, offset: issue.offset, detail: issue.detail });
  }
}
