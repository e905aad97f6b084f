/**
 * Resync mode (the live tail reading `tcpdump -U -w -` from a pipe): damage is reported and stepped over instead of
 * ending the input. Byte vectors: garbage between records, a record cut short by a restarted writer, garbage at the
 * end, a second pcap file header, and the pcapng cases (garbage between blocks, a wrong trailer, a damaged but
 * framed block, an unreadable section). Every case is also pushed one byte at a time: resync must not depend on
 * where chunks break.
 */
import { describe, expect, it } from 'vitest';
import { createCaptureParser, type CaptureResync, type CaptureSummary } from '../../src/capture/index.js';
import { concat, copyRecord, epb, idb, optU8, packetBytes, pcapFile, seededRandom, shb, type RecordCopy } from './vectors.js';

const LE = true;
const T0 = 1_795_000_000;

interface Outcome {
  records: RecordCopy[];
  resyncs: CaptureResync[];
  summary: CaptureSummary;
  skippedBytes: number;
}

function parseResync(bytes: Uint8Array, chunkBytes = bytes.length): Outcome {
  const records: RecordCopy[] = [];
  const resyncs: CaptureResync[] = [];
  const parser = createCaptureParser((rec) => records.push(copyRecord(rec)), { resync: true, onResync: (e) => resyncs.push(e) });
  for (let at = 0; at < bytes.length; at += chunkBytes) parser.push(bytes.subarray(at, at + chunkBytes));
  const summary = parser.end();
  expect(parser.resyncs).toBe(resyncs.length);
  return { records, resyncs, summary, skippedBytes: parser.skippedBytes };
}

/** Both chunkings must agree; returns the one-push outcome. */
function parseBothWays(bytes: Uint8Array): Outcome {
  const whole = parseResync(bytes);
  const bytewise = parseResync(bytes, 1);
  expect(bytewise.records).toEqual(whole.records);
  expect(bytewise.resyncs).toEqual(whole.resyncs);
  expect(bytewise.summary).toEqual(whole.summary);
  return whole;
}

/** A pcap record as bytes (16-byte header, little-endian, µs). */
function record(i: number, lengthBytes = 60 + i): Uint8Array {
  return pcapFile({ records: [{ tsSec: T0 + i, tsFrac: 1000 * i, data: packetBytes(lengthBytes, i) }] }).subarray(24);
}

const header = pcapFile({ snaplenBytes: 65535 });

function garbage(lengthBytes: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  // High bytes first in every word: caplen and orig_len read from it are far above any snap length.
  return Uint8Array.from({ length: lengthBytes }, () => 0x80 | Math.floor(random() * 128));
}

describe('pcap resync', () => {
  it('steps over garbage between records, counting exactly the garbage', () => {
    const before = [record(1), record(2)];
    const junk = garbage(37, 1);
    const after = [record(3), record(4)];
    const bytes = concat(header, ...before, junk, ...after);
    const out = parseBothWays(bytes);
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
    expect(out.records[2]!.data).toEqual(Array.from(packetBytes(63, 3)));
    expect(out.resyncs).toHaveLength(1);
    const damageAt = 24 + before[0]!.length + before[1]!.length;
    expect(out.resyncs[0]!.damage.offset).toBe(damageAt);
    expect(out.resyncs[0]!.damage.code).toMatch(/^pcap-(caplen-impossible|record-implausible)$/);
    expect(out.resyncs[0]!.damage.frame).toBe(3);
    expect(out.resyncs[0]!.resumedAtOffset).toBe(damageAt + 37);
    expect(out.resyncs[0]!.skippedBytes).toBe(37);
    expect(out.skippedBytes).toBe(37);
    expect(out.summary.damage).toBeNull();
    expect(out.summary.records).toBe(4);
  });

  it('without resync the same bytes stop at the garbage (the offline readers are unchanged)', () => {
    const bytes = concat(header, record(1), garbage(37, 1), record(3));
    const records: RecordCopy[] = [];
    const parser = createCaptureParser((rec) => records.push(copyRecord(rec)));
    parser.push(bytes);
    const summary = parser.end();
    expect(records).toHaveLength(1);
    expect(summary.damage?.offset).toBe(24 + record(1).length);
  });

  it('refuses a header whose caplen exceeds the snap length, which libpcap would only cut', () => {
    const big = pcapFile({ snaplenBytes: 100, records: [{ tsSec: T0 + 2, tsFrac: 0, data: packetBytes(200, 2) }] }).subarray(24);
    const small = pcapFile({ snaplenBytes: 100, records: [{ tsSec: T0 + 3, tsFrac: 0, data: packetBytes(50, 3) }] }).subarray(24);
    const out = parseBothWays(concat(pcapFile({ snaplenBytes: 100 }), big, small));
    expect(out.resyncs[0]!.damage.code).toBe('pcap-record-implausible');
    expect(out.resyncs[0]!.damage.detail).toMatch(/caplen 200, len 200, snaplen 100/);
    // The scan may not resume inside the refused record's own bytes: the next real record is where reading goes on.
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 3]);
    expect(out.resyncs[0]!.skippedBytes).toBe(big.length);
  });

  it('after a record cut short by a restarted writer, goes on at the next record that fits', () => {
    // Record 2 claims 100 bytes but its writer died after 40; the next writer's records follow at once. Record 2's
    // header swallows 100 bytes (a plausible length: no reader can tell yet), the bytes after it are no header, and
    // the scan finds record 4 (record 3 was partly swallowed).
    const cut = record(2, 100).subarray(0, 16 + 40);
    const r3 = record(3, 90);
    const r4 = record(4, 70);
    const r5 = record(5, 70);
    const out = parseBothWays(concat(header, record(1), cut, r3, r4, r5));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 2, T0 + 4, T0 + 5]);
    expect(out.records[2]!.data).toEqual(Array.from(packetBytes(70, 4)));
    expect(out.resyncs).toHaveLength(1);
    const resumedAt = 24 + record(1).length + cut.length + r3.length;
    expect(out.resyncs[0]!.resumedAtOffset).toBe(resumedAt);
    expect(out.resyncs[0]!.damage.offset + out.resyncs[0]!.skippedBytes).toBe(resumedAt);
  });

  it('does not take a header-shaped run of bytes with a far timestamp for a record', () => {
    // Sane lengths, but seconds 0: decades before the last good record.
    const fake = pcapFile({ records: [{ tsSec: 0, tsFrac: 0, data: packetBytes(8, 9) }] }).subarray(24);
    const junk = concat(garbage(5, 2), fake);
    const out = parseBothWays(concat(header, record(1), junk, record(2)));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 2]);
    expect(out.resyncs[0]!.skippedBytes).toBe(junk.length);
  });

  it('takes a new file header as a writer started again, with its own link type', () => {
    // The first writer died 10 bytes into a record header; the new writer's file header follows.
    const second = pcapFile({ linktypeField: 101, records: [{ tsSec: T0 + 9, tsFrac: 0, data: packetBytes(40, 9) }] });
    const out = parseBothWays(concat(header, record(1), record(2, 80).subarray(0, 10), second));
    expect(out.records.map((r) => [r.tsSec, r.linktype])).toEqual([
      [T0 + 1, 1],
      [T0 + 9, 101],
    ]);
    expect(out.summary.interfaces.map((i) => i.linktype)).toEqual([1, 101]);
    expect(out.resyncs).toHaveLength(1);
    expect(out.resyncs[0]!.resumedAtOffset).toBe(24 + record(1).length + 10);
  });

  it('reports garbage at the end of input as damage with nothing to resume at', () => {
    const junk = garbage(50, 3);
    const out = parseBothWays(concat(header, record(1), junk));
    expect(out.records).toHaveLength(1);
    expect(out.resyncs).toHaveLength(1);
    expect(out.resyncs[0]!.resumedAtOffset).toBe(-1);
    expect(out.resyncs[0]!.skippedBytes).toBe(50);
    expect(out.summary.damage?.offset).toBe(24 + record(1).length);
  });

  it('reports a record cut short by the end of input, as the offline reader does', () => {
    const out = parseBothWays(concat(header, record(1), record(2).subarray(0, 20)));
    expect(out.records).toHaveLength(1);
    expect(out.summary.damage?.code).toBe('pcap-record-past-eof');
    expect(out.resyncs).toEqual([{ damage: out.summary.damage, resumedAtOffset: -1, skippedBytes: 20 }]);
  });

  it('steps over several damaged places in one stream', () => {
    const out = parseBothWays(concat(header, record(1), garbage(9, 4), record(2), record(3), garbage(100, 5), record(4)));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
    expect(out.resyncs.map((e) => e.skippedBytes)).toEqual([9, 100]);
    expect(out.skippedBytes).toBe(109);
  });
});

describe('pcapng resync', () => {
  const ts = (i: number): bigint => BigInt(T0 + i) * 1_000_000n;
  const start = concat(shb(LE), idb(LE, 1, 0, [optU8(9, 6)]));
  const packet = (i: number): Uint8Array => epb(LE, { ts: ts(i), data: packetBytes(50 + i, i) });

  it('steps over garbage between blocks to the next known block whose trailer matches', () => {
    const junk = garbage(21, 6);
    const out = parseBothWays(concat(start, packet(1), junk, packet(2), packet(3)));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 2, T0 + 3]);
    expect(out.resyncs).toHaveLength(1);
    expect(out.resyncs[0]!.skippedBytes).toBe(21);
    expect(out.resyncs[0]!.resumedAtOffset).toBe(start.length + packet(1).length + 21);
  });

  it('steps over a block whose trailing length is wrong', () => {
    const bad = packet(2).slice();
    new DataView(bad.buffer).setUint32(bad.length - 4, 4096, LE);
    const out = parseBothWays(concat(start, packet(1), bad, packet(3)));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 3]);
    expect(out.resyncs[0]!.damage.code).toBe('pcapng-block-length-mismatch');
    expect(out.resyncs[0]!.skippedBytes).toBe(bad.length);
  });

  it('skips only a framed block whose content is damaged (an interface the section never described)', () => {
    const bad = epb(LE, { interfaceId: 7, ts: ts(2), data: packetBytes(10, 2) });
    const out = parseBothWays(concat(start, packet(1), bad, packet(3)));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 3]);
    expect(out.resyncs).toEqual([
      { damage: expect.objectContaining({ code: 'pcapng-bad-interface-id', offset: start.length + packet(1).length }), resumedAtOffset: start.length + packet(1).length + bad.length, skippedBytes: bad.length },
    ]);
  });

  it('skips a section of an unreadable version up to the next readable section header', () => {
    const v2 = concat(shb(LE, { major: 2 }), idb(LE, 1, 0), packet(5));
    const out = parseBothWays(concat(start, packet(1), v2, start, packet(6)));
    expect(out.records.map((r) => r.tsSec)).toEqual([T0 + 1, T0 + 6]);
    expect(out.resyncs).toHaveLength(1);
    expect(out.resyncs[0]!.damage.code).toBe('pcapng-unsupported-version');
    expect(out.resyncs[0]!.skippedBytes).toBe(v2.length);
  });

  it('reports a block cut short by the end of input', () => {
    const out = parseBothWays(concat(start, packet(1), packet(2).subarray(0, 30)));
    expect(out.records).toHaveLength(1);
    expect(out.summary.damage?.code).toBe('pcapng-truncated-block');
    expect(out.resyncs[0]!.resumedAtOffset).toBe(-1);
  });
});
