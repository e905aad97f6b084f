/**
 * Classic pcap (formats.md §1) from hand-built bytes: every magic and byte order, the version quirks of
 * libpcap `sf-pcap.c`, FCS bits, snaplen rules, Kuznetzov variants, and damage that keeps earlier records.
 */
import { describe, expect, it } from 'vitest';
import { CaptureError, createCaptureParser } from '../../src/capture/index.js';
import { concat, packetBytes, parseAll, pcapFile, type PcapRecordSpec } from './vectors.js';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_KUZNETZOV = 0xa1b2cd34;

function refusal(bytes: Uint8Array): CaptureError {
  try {
    parseAll(bytes);
  } catch (err) {
    if (err instanceof CaptureError) return err;
    throw err;
  }
  throw new Error('expected a CaptureError');
}

describe('pcap magics and byte orders', () => {
  const records: PcapRecordSpec[] = [
    { tsSec: 1_700_000_000, tsFrac: 123_456, data: packetBytes(60, 1) },
    { tsSec: 1_700_000_001, tsFrac: 999_999, data: packetBytes(42, 2) },
  ];

  it.each([
    ['µs little-endian', MAGIC_US, true, 6, 1000],
    ['µs big-endian', MAGIC_US, false, 6, 1000],
    ['ns little-endian', MAGIC_NS, true, 9, 1],
    ['ns big-endian', MAGIC_NS, false, 9, 1],
  ])('%s', (_name, magic, littleEndian, digits, nsPerFrac) => {
    const { records: out, summary } = parseAll(pcapFile({ magic, littleEndian, records }));
    expect(summary).toMatchObject({
      format: 'pcap',
      version: '2.4',
      byteOrder: littleEndian ? 'little-endian' : 'big-endian',
      nanosecond: magic === MAGIC_NS,
      records: 2,
      damage: null,
    });
    expect(summary.interfaces).toEqual([
      {
        section: 0,
        id: 0,
        linktype: 1,
        name: undefined,
        snaplenBytes: 65535,
        tsDigits: digits,
        tsOffsetSec: 0,
        fcsBytes: 0,
      },
    ]);
    expect(out.map((r) => [r.frame, r.tsSec, r.tsNsec, r.tsDigits, r.capLenBytes, r.origLenBytes])).toEqual([
      [1, 1_700_000_000, 123_456 * nsPerFrac, digits, 60, 60],
      [2, 1_700_000_001, 999_999 * nsPerFrac, digits, 42, 42],
    ]);
    expect(out[0]!.data).toEqual(Array.from(packetBytes(60, 1)));
    expect(out[1]).toMatchObject({ linktype: 1, interfaceId: 0, interfaceName: undefined, direction: 'unknown' });
  });

  it('reads ts_sec as unsigned (libpcap: good until 2106)', () => {
    const { records: out } = parseAll(pcapFile({ records: [{ tsSec: 0xfffffff0, tsFrac: 0, data: packetBytes(4) }] }));
    expect(out[0]!.tsSec).toBe(0xfffffff0);
  });

  it('carries an out-of-range fraction into the seconds (tcpdump timestamp_invalid_nano.pcap)', () => {
    const bytes = pcapFile({
      magic: MAGIC_NS,
      records: [
        { tsSec: 100, tsFrac: 1_000_000_000, data: packetBytes(4) },
        { tsSec: 100, tsFrac: 2_147_483_648, data: packetBytes(4) },
      ],
    });
    expect(parseAll(bytes).records.map((r) => [r.tsSec, r.tsNsec])).toEqual([
      [101, 0],
      [102, 147_483_648],
    ]);
    const us = pcapFile({ records: [{ tsSec: 5, tsFrac: 2_500_000, data: packetBytes(4) }] });
    expect(parseAll(us).records.map((r) => [r.tsSec, r.tsNsec])).toEqual([[7, 500_000_000]]);
  });
});

describe('pcap versions (libpcap sf-pcap.c)', () => {
  // Before 2.3 the two length fields were written the other way round: offset 8 holds len, offset 12 caplen.
  const swappedOnDisk: PcapRecordSpec = { tsSec: 1, tsFrac: 0, data: packetBytes(60), capLenField: 100, origLenField: 60 };

  it.each([
    ['2.0', 2, 0],
    ['2.2', 2, 2],
    ['543.0 (DG/UX)', 543, 0],
  ])('version %s always swaps caplen and len', (_v, versionMajor, versionMinor) => {
    const bytes = pcapFile({
      versionMajor,
      versionMinor,
      records: [swappedOnDisk, { tsSec: 2, tsFrac: 0, data: packetBytes(8), capLenField: 20, origLenField: 8 }],
    });
    const { records, summary } = parseAll(bytes);
    expect(summary.damage).toBeNull();
    expect(records.map((r) => [r.capLenBytes, r.origLenBytes])).toEqual([
      [60, 100],
      [8, 20],
    ]);
  });

  it('version 2.3 swaps only when caplen > len ("maybe swapped")', () => {
    const bytes = pcapFile({
      versionMinor: 3,
      records: [
        { tsSec: 1, tsFrac: 0, data: packetBytes(60), capLenField: 100, origLenField: 60 },
        { tsSec: 2, tsFrac: 0, data: packetBytes(30), capLenField: 30, origLenField: 90 },
      ],
    });
    expect(parseAll(bytes).records.map((r) => [r.capLenBytes, r.origLenBytes])).toEqual([
      [60, 100],
      [30, 90],
    ]);
  });

  it('version 2.4 keeps orig_len < caplen as written (libpcap does not fix it up)', () => {
    const bytes = pcapFile({ records: [{ tsSec: 1, tsFrac: 0, data: packetBytes(60), origLenField: 50 }] });
    expect(parseAll(bytes).records.map((r) => [r.capLenBytes, r.origLenBytes])).toEqual([[60, 50]]);
  });

  it.each([
    [1, 4, 'unsupported pcap version 1.4'],
    [2, 5, 'unsupported pcap version 2.5'],
    [3, 0, 'unsupported pcap version 3.0'],
  ])('refuses version %i.%i', (versionMajor, versionMinor, message) => {
    const err = refusal(pcapFile({ versionMajor, versionMinor }));
    expect(err.code).toBe('unsupported-version');
    expect(err.message).toBe(message);
  });
});

describe('pcap linktype field (formats.md §1.4)', () => {
  it('trims 2n bytes of FCS when the P bit is set', () => {
    // FCS length 2 words (bits 31..28 = 2) + P bit + EN10MB.
    const bytes = pcapFile({
      linktypeField: 0x2400_0001,
      records: [
        { tsSec: 1, tsFrac: 0, data: packetBytes(64) },
        // Cut by the snaplen before the FCS: nothing captured to trim, the wire length still loses 4.
        { tsSec: 2, tsFrac: 0, data: packetBytes(40), origLenField: 100 },
        // Cut inside the FCS: only the FCS part that was captured goes.
        { tsSec: 3, tsFrac: 0, data: packetBytes(98), origLenField: 100 },
      ],
    });
    const { records, summary } = parseAll(bytes);
    expect(summary.interfaces[0]).toMatchObject({ linktype: 1, fcsBytes: 4 });
    expect(records.map((r) => [r.linktype, r.capLenBytes, r.origLenBytes, r.data.length])).toEqual([
      [1, 60, 60, 60],
      [1, 40, 96, 40],
      [1, 96, 96, 96],
    ]);
    expect(records[0]!.data).toEqual(Array.from(packetBytes(60)));
  });

  it('ignores the FCS length when the P bit is clear (tcpdump esp_truncated_fcsbits.pcap)', () => {
    const bytes = pcapFile({ linktypeField: 0x4000_0001, records: [{ tsSec: 1, tsFrac: 0, data: packetBytes(46) }] });
    const { records, summary } = parseAll(bytes);
    expect(summary.interfaces[0]).toMatchObject({ linktype: 1, fcsBytes: 0 });
    expect(records[0]!.capLenBytes).toBe(46);
  });

  it('refuses reserved bits, like libpcap and tcpdump', () => {
    const err = refusal(pcapFile({ linktypeField: 0x0030_0000 }));
    expect(err.code).toBe('bad-file-header');
    expect(err.message).toBe('pcap linktype field reserved bits are not zero (0x00300000)');
  });
});

describe('pcap snaplen and caplen (formats.md §1.5)', () => {
  it('cuts caplen > snaplen to the snaplen but stays aligned on the next record', () => {
    const bytes = pcapFile({
      snaplenBytes: 53,
      records: [
        { tsSec: 1, tsFrac: 0, data: packetBytes(90), origLenField: 200 },
        { tsSec: 2, tsFrac: 0, data: packetBytes(20, 7) },
      ],
    });
    const { records, summary } = parseAll(bytes);
    expect(summary.damage).toBeNull();
    expect(records.map((r) => [r.capLenBytes, r.origLenBytes, r.data.length])).toEqual([
      [53, 200, 53],
      [20, 20, 20],
    ]);
    expect(records[1]!.data).toEqual(Array.from(packetBytes(20, 7)));
  });

  it('treats snaplen 0 as the maximum (libpcap pcap_adjust_snapshot)', () => {
    const bytes = pcapFile({ snaplenBytes: 0, records: [{ tsSec: 1, tsFrac: 0, data: packetBytes(1500) }] });
    expect(parseAll(bytes).records[0]!.capLenBytes).toBe(1500);
  });

  it('accepts caplen up to 262144 and damages above it, keeping the records before', () => {
    const good = { tsSec: 1, tsFrac: 0, data: packetBytes(10) };
    const bytes = pcapFile({
      snaplenBytes: 0,
      records: [good, { tsSec: 2, tsFrac: 0, data: packetBytes(16), capLenField: 262_145 }],
    });
    const { records, summary } = parseAll(bytes);
    expect(records).toHaveLength(1);
    expect(summary.damage).toEqual({
      code: 'pcap-caplen-impossible',
      offset: 24 + 16 + 10,
      frame: 2,
      detail: 'caplen 262145 > maximum 262144 for linktype 1',
    });
  });

  it('raises the maximum for link types libpcap allows larger records (DBUS 231)', () => {
    const big = packetBytes(300_000);
    const bytes = pcapFile({ linktypeField: 231, snaplenBytes: 0, records: [{ tsSec: 1, tsFrac: 0, data: big }] });
    const { records, summary } = parseAll(bytes);
    expect(summary.damage).toBeNull();
    expect(records[0]!.capLenBytes).toBe(300_000);
  });
});

describe('pcap damage at the end of the input', () => {
  const first = { tsSec: 1, tsFrac: 0, data: packetBytes(30) };

  it('a record whose data runs past EOF', () => {
    const full = pcapFile({ records: [first, { tsSec: 2, tsFrac: 0, data: packetBytes(50) }] });
    const { records, summary } = parseAll(full.subarray(0, full.length - 8));
    expect(records).toHaveLength(1);
    expect(summary.damage).toEqual({
      code: 'pcap-record-past-eof',
      offset: 24 + 16 + 30,
      frame: 2,
      detail: 'caplen 50 needs 66 bytes, only 58 left',
    });
  });

  it('a record header cut short (scapy bad_rsn_trailing_byte.pcap)', () => {
    const bytes = concat(pcapFile({ records: [first] }), Uint8Array.of(0));
    const { records, summary } = parseAll(bytes);
    expect(records).toHaveLength(1);
    expect(summary.damage).toMatchObject({ code: 'pcap-truncated-record-header', offset: 70, frame: 2 });
  });

  it('a header-only file is clean with no records', () => {
    expect(parseAll(pcapFile()).summary).toMatchObject({ records: 0, damage: null, bytesRead: 24 });
  });
});

describe('pcap Kuznetzov "modified" format (formats.md §1.6)', () => {
  const extra24 = Uint8Array.of(2, 0, 0, 0, 0x08, 0x00, 0, 0);
  const extra28 = concat(extra24, Uint8Array.of(1, 2, 0, 0));

  function kuznetzov(extra: Uint8Array, linktypeField = 1): Uint8Array {
    return pcapFile({
      magic: MAGIC_KUZNETZOV,
      snaplenBytes: 68,
      linktypeField,
      records: [
        { tsSec: 1, tsFrac: 500_000, data: packetBytes(80, 1), origLenField: 80, extraHeader: extra },
        { tsSec: 2, tsFrac: 250_000, data: packetBytes(40, 2), extraHeader: extra },
        { tsSec: 3, tsFrac: 750_000, data: packetBytes(50, 3), extraHeader: extra },
      ],
    });
  }

  it('reads the 24-byte record header (libpcap pcap_sf_patched_pkthdr), snaplen +14 for EN10MB', () => {
    const { records, summary } = parseAll(kuznetzov(extra24));
    expect(summary).toMatchObject({ variant: 'kuznetzov', damage: null, records: 3 });
    // snaplen 68 + 14 = 82 ≥ 80: the first record is not cut.
    expect(records.map((r) => [r.tsSec, r.capLenBytes])).toEqual([
      [1, 80],
      [2, 40],
      [3, 50],
    ]);
    expect(records[2]!.data).toEqual(Array.from(packetBytes(50, 3)));
  });

  it('detects the 28-byte SuSE ss990915 header by trial reading, like Wireshark', () => {
    const { records, summary } = parseAll(kuznetzov(extra28));
    expect(summary).toMatchObject({ variant: 'kuznetzov-ss990915', damage: null, records: 3 });
    expect(records[1]!.data).toEqual(Array.from(packetBytes(40, 2)));
  });

  it('decides the variant the same way when bytes arrive one at a time', () => {
    const bytes = kuznetzov(extra28);
    const { records, summary } = parseAll(bytes, () => 1);
    expect(summary.variant).toBe('kuznetzov-ss990915');
    expect(records).toEqual(parseAll(bytes).records);
  });
});

describe('pcap file header errors (CaptureError)', () => {
  it('empty input', () => {
    expect(refusal(new Uint8Array(0))).toMatchObject({ code: 'empty-file', message: 'empty file' });
  });

  it('truncated header (libpcap pcap-truncated-hdr-23)', () => {
    const err = refusal(pcapFile().subarray(0, 23));
    expect(err).toMatchObject({ code: 'truncated-file-header', message: 'truncated file header (23 of 24 bytes)' });
  });

  it('fewer bytes than a magic', () => {
    expect(refusal(Uint8Array.of(0xd4, 0xc3)).message).toBe('truncated file header (2 of 4 bytes)');
  });

  it('unknown magic, shown as the bytes appear in the file', () => {
    const html = new TextEncoder().encode('<!DOCTYPE html>');
    expect(refusal(html)).toMatchObject({ code: 'not-a-capture-file', message: 'not a capture file (magic 0x3c21444f)' });
    const snoop = new TextEncoder().encode('snoop\0\0\0');
    expect(refusal(snoop).message).toBe('not a capture file (magic 0x736e6f6f: Solaris snoop format is not supported)');
  });

  it('throws as soon as the magic is known to be wrong, with the path given to the parser', () => {
    const parser = createCaptureParser(() => undefined, { path: 'y.pcap' });
    expect(() => parser.push(Uint8Array.of(1, 2, 3, 4))).toThrow(expect.objectContaining({ path: 'y.pcap' }));
  });
});
