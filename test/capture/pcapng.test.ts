/**
 * pcapng (formats.md §2, §3.6) from hand-built blocks: sections of both byte orders, interfaces of different
 * link types, tsresol/tsoffset, EPB/SPB/PB, skipped blocks, Apple process blocks, bad options, and damage.
 */
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/capture/index.js';
import {
  block,
  concat,
  epb,
  idb,
  optI64,
  optString,
  optU32,
  optU8,
  packetBytes,
  parseAll,
  pb,
  pib,
  shb,
  spb,
  ByteWriter,
} from './vectors.js';

const LE = true;
const BE = false;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;
const EPB_FLAGS = 2;

function refusal(bytes: Uint8Array): CaptureError {
  try {
    parseAll(bytes);
  } catch (err) {
    if (err instanceof CaptureError) return err;
    throw err;
  }
  throw new Error('expected a CaptureError');
}

describe('pcapng basics', () => {
  it('reads SHB + IDB + EPB with if_name and epb_flags direction', () => {
    const bytes = concat(
      shb(LE, { options: [optString(4, 'test writer')] }),
      idb(LE, 1, 65535, [optString(IF_NAME, 'en0\0')]),
      epb(LE, { ts: 1_700_000_000_123_456n, data: packetBytes(60), options: [optU32(EPB_FLAGS, 1, LE)] }),
      epb(LE, {
        ts: 1_700_000_001_000_000n,
        data: packetBytes(61),
        origLenBytes: 1500,
        options: [optU32(EPB_FLAGS, 2, LE)],
      }),
      epb(LE, { ts: 1_700_000_002_000_001n, data: packetBytes(3) }),
    );
    const { records, summary } = parseAll(bytes);
    expect(summary).toMatchObject({
      format: 'pcapng',
      version: '1.0',
      byteOrder: 'little-endian',
      nanosecond: false,
      sections: 1,
      records: 3,
      damage: null,
      bytesRead: bytes.length,
    });
    expect(summary.interfaces).toEqual([
      { section: 0, id: 0, linktype: 1, name: 'en0', snaplenBytes: 65535, tsDigits: 6, tsOffsetSec: 0, fcsBytes: 0 },
    ]);
    const rows = records.map((r) => [r.frame, r.tsSec, r.tsNsec, r.tsDigits, r.capLenBytes, r.origLenBytes, r.direction]);
    expect(rows).toEqual([
      [1, 1_700_000_000, 123_456_000, 6, 60, 60, 'in'],
      [2, 1_700_000_001, 0, 6, 61, 1500, 'out'],
      [3, 1_700_000_002, 1000, 6, 3, 3, 'unknown'],
    ]);
    expect(records[0]).toMatchObject({ linktype: 1, interfaceId: 0, interfaceName: 'en0', processName: undefined });
    expect(records[2]!.data).toEqual([0, 1, 2]);
  });

  it('accepts version 1.2 (libpcap treats it as 1.0)', () => {
    const { summary } = parseAll(concat(shb(LE, { minor: 2 }), idb(LE, 1, 0)));
    expect(summary).toMatchObject({ version: '1.2', damage: null });
  });

  it('an empty section is clean (libpcap refuses "no Interface Description Blocks"; nothing is lost here)', () => {
    expect(parseAll(shb(BE)).summary).toMatchObject({ records: 0, damage: null, byteOrder: 'big-endian' });
  });
});

describe('pcapng sections and interfaces', () => {
  it('reads a BE section then a LE section; interface ids restart at 0 (formats.md §2.3)', () => {
    const bytes = concat(
      shb(BE),
      idb(BE, 1, 96, [optString(IF_NAME, 'eth0')]),
      idb(BE, 0, 0, [optString(IF_NAME, 'lo'), optU8(IF_TSRESOL, 9)]),
      epb(BE, { interfaceId: 1, ts: 1_600_000_000_000_000_001n, data: packetBytes(20, 1) }),
      epb(BE, { interfaceId: 0, ts: 1_600_000_000_000_002n, data: packetBytes(30, 2), origLenBytes: 300 }),
      shb(LE),
      idb(LE, 113, 262144, [optString(IF_NAME, 'any'), optU8(IF_TSRESOL, 3)]),
      epb(LE, { interfaceId: 0, ts: 1_600_000_000_123n, data: packetBytes(40, 3), options: [optU32(EPB_FLAGS, 2, LE)] }),
    );
    const { records, summary } = parseAll(bytes);
    expect(summary).toMatchObject({ sections: 2, byteOrder: 'big-endian', records: 3, damage: null });
    expect(summary.interfaces.map((i) => [i.section, i.id, i.linktype, i.name, i.snaplenBytes, i.tsDigits])).toEqual([
      [0, 0, 1, 'eth0', 96, 6],
      [0, 1, 0, 'lo', 0, 9],
      [1, 0, 113, 'any', 262144, 3],
    ]);
    const rows = records.map((r) => [r.interfaceId, r.interfaceName, r.linktype, r.tsSec, r.tsNsec, r.tsDigits, r.direction]);
    expect(rows).toEqual([
      [1, 'lo', 0, 1_600_000_000, 1, 9, 'unknown'],
      [0, 'eth0', 1, 1_600_000_000, 2000, 6, 'unknown'],
      [0, 'any', 113, 1_600_000_000, 123_000_000, 3, 'out'],
    ]);
    expect(records[1]!.data).toEqual(Array.from(packetBytes(30, 2)));
    expect(records[2]!.data).toEqual(Array.from(packetBytes(40, 3)));
  });
});

describe('pcapng timestamps (formats.md §2.8)', () => {
  function firstTs(options: Parameters<typeof idb>[3], ts: bigint): [number, number, number] {
    const { records } = parseAll(concat(shb(LE), idb(LE, 1, 0, options), epb(LE, { ts, data: packetBytes(1) })));
    const r = records[0]!;
    return [r.tsSec, r.tsNsec, r.tsDigits];
  }

  it('defaults to microseconds without if_tsresol', () => {
    expect(firstTs([], 1_234_567_890_123_456n)).toEqual([1_234_567_890, 123_456_000, 6]);
  });

  it('decimal resolutions: ns above 2^53 exactly, ms, seconds, and finer than ns (BigInt path)', () => {
    expect(firstTs([optU8(IF_TSRESOL, 9)], 1_700_000_000_999_999_999n)).toEqual([1_700_000_000, 999_999_999, 9]);
    expect(firstTs([optU8(IF_TSRESOL, 9)], 18_446_744_073_709_551_615n)).toEqual([18_446_744_073, 709_551_615, 9]);
    expect(firstTs([optU8(IF_TSRESOL, 3)], 1_700_000_000_001n)).toEqual([1_700_000_000, 1_000_000, 3]);
    expect(firstTs([optU8(IF_TSRESOL, 0)], 1_700_000_000n)).toEqual([1_700_000_000, 0, 0]);
    expect(firstTs([optU8(IF_TSRESOL, 12)], 1_700_000_000_123_456_789_012n % 2n ** 64n)).toEqual(
      expectedTs(1_700_000_000_123_456_789_012n % 2n ** 64n, 10n ** 12n, 9),
    );
    expect(firstTs([optU8(IF_TSRESOL, 19)], 2n ** 64n - 1n)).toEqual([1, 844_674_407, 9]);
  });

  it('binary resolutions: 2^-10, 2^-30 and the libpcap overflow case 2^-63', () => {
    expect(firstTs([optU8(IF_TSRESOL, 0x80 | 10)], (1_000n << 10n) + 512n)).toEqual([1000, 500_000_000, 9]);
    expect(firstTs([optU8(IF_TSRESOL, 0x80 | 30)], (1_700_000_000n << 30n) + 1n)).toEqual([1_700_000_000, 0, 9]);
    // libpcap and Wireshark overflow frac·10^9 in 64 bits here and print 0.000000001.
    expect(firstTs([optU8(IF_TSRESOL, 0x80 | 63)], 2n ** 63n - 1n)).toEqual([0, 999_999_999, 9]);
  });

  it('adds if_tsoffset seconds, positive or negative', () => {
    expect(firstTs([optI64(IF_TSOFFSET, 1_000_000_000n, LE)], 5_000_001n)).toEqual([1_000_000_005, 1000, 6]);
    expect(firstTs([optI64(IF_TSOFFSET, -100n, LE), optU8(IF_TSRESOL, 9)], 1_000_000_000_500n)).toEqual([900, 500, 9]);
  });

  it('damages an if_tsresol libpcap refuses (10^-100), keeping earlier records', () => {
    const tooFine = idb(LE, 1, 0, [optU8(IF_TSRESOL, 100)]);
    const bytes = concat(shb(LE), idb(LE, 1, 0), epb(LE, { ts: 1n, data: packetBytes(4) }), tooFine);
    const { records, summary } = parseAll(bytes);
    expect(records).toHaveLength(1);
    expect(summary.damage).toMatchObject({ code: 'pcapng-tsresol-unsupported', frame: 2 });
  });
});

/** [sec, nsec, digits] computed with BigInt, the reference for the number paths. */
function expectedTs(t: bigint, units: bigint, digits: number): [number, number, number] {
  return [Number(t / units), Number(((t % units) * 1_000_000_000n) / units), digits];
}

describe('pcapng packet blocks', () => {
  it('SPB: interface 0, no timestamp, caplen = min(len, snaplen) as libpcap computes it', () => {
    const bytes = concat(
      shb(LE),
      idb(LE, 1, 64),
      spb(LE, 100, packetBytes(64)),
      spb(LE, 10, packetBytes(10, 5)),
    );
    const { records, summary } = parseAll(bytes);
    expect(summary.damage).toBeNull();
    expect(records.map((r) => [r.interfaceId, r.tsSec, r.tsNsec, r.capLenBytes, r.origLenBytes])).toEqual([
      [0, 0, 0, 64, 100],
      [0, 0, 0, 10, 10],
    ]);
    expect(records[1]!.data).toEqual(Array.from(packetBytes(10, 5)));
  });

  it('SPB with snaplen 0 keeps the whole packet', () => {
    const { records } = parseAll(concat(shb(BE), idb(BE, 1, 0), spb(BE, 70, packetBytes(70))));
    expect(records[0]!.capLenBytes).toBe(70);
  });

  it('obsolete PB: 16-bit interface id, pack_flags direction', () => {
    const bytes = concat(
      shb(BE),
      idb(BE, 1, 0),
      idb(BE, 105, 0),
      pb(BE, { interfaceId: 1, ts: 2_000_000n, data: packetBytes(24), options: [optU32(EPB_FLAGS, 1, BE)] }),
    );
    const { records } = parseAll(bytes);
    const rows = records.map((r) => [r.interfaceId, r.linktype, r.tsSec, r.direction, r.capLenBytes]);
    expect(rows).toEqual([[1, 105, 2, 'in', 24]]);
  });

  it('skips NRB, ISB, custom, local-use and unknown blocks by their length', () => {
    const bytes = concat(
      shb(LE),
      block(4, Uint8Array.of(1, 0, 8, 0, 10, 0, 0, 1, 104, 0, 0, 0, 0, 0, 0, 0), LE),
      idb(LE, 1, 0),
      block(5, new Uint8Array(12), LE),
      block(0x00000bad, Uint8Array.of(0, 0, 0x7e, 0x9c, 1, 2, 3), LE),
      block(0x80001234, new Uint8Array(40), LE),
      block(0x7777, new Uint8Array(0), LE),
      epb(LE, { ts: 1n, data: packetBytes(5) }),
    );
    const { records, summary } = parseAll(bytes);
    expect(summary.damage).toBeNull();
    expect(records).toHaveLength(1);
  });
});

describe('pcapng FCS', () => {
  it('trims if_fcslen bytes; a nonzero epb_flags FCS length wins', () => {
    const bytes = concat(
      shb(LE),
      idb(LE, 1, 0, [optU8(IF_FCSLEN, 4)]),
      epb(LE, { ts: 1n, data: packetBytes(64) }),
      epb(LE, { ts: 2n, data: packetBytes(64), options: [optU32(EPB_FLAGS, 2 << 5, LE)] }),
      epb(LE, { ts: 3n, data: packetBytes(40), origLenBytes: 64 }),
    );
    const { records, summary } = parseAll(bytes);
    expect(summary.interfaces[0]!.fcsBytes).toBe(4);
    expect(records.map((r) => [r.capLenBytes, r.origLenBytes, r.data.length])).toEqual([
      [60, 60, 60],
      [62, 62, 62],
      [40, 60, 40],
    ]);
  });

  it('reads an if_fcslen written in bits (32) as 4 octets', () => {
    const { summary } = parseAll(concat(shb(LE), idb(LE, 1, 0, [optU8(IF_FCSLEN, 32)])));
    expect(summary.interfaces[0]!.fcsBytes).toBe(4);
  });
});

describe('pcapng Apple process-information blocks (formats.md §3.6)', () => {
  it('maps EPB options 0x8001 / 0x8003 to the PIB ordinal in the section', () => {
    const bytes = concat(
      shb(LE),
      idb(LE, 0, 524288, [optString(IF_NAME, 'utun3')]),
      pib(LE, 554, 'openvpn', '/usr/local/sbin/openvpn'),
      pib(LE, 0, 'kernel_task'),
      epb(LE, {
        ts: 1n,
        data: packetBytes(8),
        options: [optU32(0x8001, 0, LE), optU32(0x8003, 1, LE), optU32(0x8002, 0, LE)],
      }),
      epb(LE, { ts: 2n, data: packetBytes(8), options: [optU32(0x8001, 1, LE)] }),
      epb(LE, { ts: 3n, data: packetBytes(8), options: [optU32(0x8001, 7, LE)] }),
      shb(BE),
      idb(BE, 1, 0),
      pib(BE, 99, 'mDNSResponder'),
      epb(BE, { ts: 4n, data: packetBytes(8), options: [optU32(0x8001, 0, BE), optU32(0x8003, 1, BE)] }),
    );
    const { records, summary } = parseAll(bytes);
    expect(summary.damage).toBeNull();
    expect(summary.processes).toEqual([
      { section: 0, index: 0, pid: 554, name: 'openvpn', path: '/usr/local/sbin/openvpn' },
      { section: 0, index: 1, pid: 0, name: 'kernel_task', path: undefined },
      { section: 1, index: 0, pid: 99, name: 'mDNSResponder', path: undefined },
    ]);
    expect(
      records.map((r) => [r.processName, r.processId, r.effectiveProcessName, r.effectiveProcessId]),
    ).toEqual([
      ['openvpn', 554, 'kernel_task', 0],
      ['kernel_task', 0, undefined, undefined],
      // Index 7 does not exist: no process rather than a wrong one.
      [undefined, undefined, undefined, undefined],
      // PIB indexes restart with the section.
      ['mDNSResponder', 99, undefined, undefined],
    ]);
  });
});

describe('pcapng options with bad lengths are ignored (formats.md §2.9)', () => {
  it('if_tsresol of length 2 (libpcap pcapng-idb-tsresol-badlen) falls back to µs', () => {
    const bad = { code: IF_TSRESOL, value: Uint8Array.of(9, 9) };
    const { records } = parseAll(concat(shb(LE), idb(LE, 1, 0, [bad]), epb(LE, { ts: 1_500_000n, data: packetBytes(2) })));
    expect(records.map((r) => [r.tsSec, r.tsNsec, r.tsDigits])).toEqual([[1, 500_000_000, 6]]);
  });

  it('epb_flags of length 3 is ignored; an option running past the block ends the option walk', () => {
    const shortFlags = { code: EPB_FLAGS, value: Uint8Array.of(1, 0, 0) };
    const bytes = concat(shb(LE), idb(LE, 1, 0), epb(LE, { ts: 1n, data: packetBytes(4), options: [shortFlags] }));
    expect(parseAll(bytes).records[0]!.direction).toBe('unknown');

    // An EPB whose only option claims 200 bytes: the packet is still delivered.
    const fields = new ByteWriter(LE).u32(0).u32(0).u32(1).u32(4).u32(4).raw(packetBytes(4));
    const body = fields.u16(EPB_FLAGS).u16(200).u32(1).toBytes();
    const { records, summary } = parseAll(concat(shb(LE), idb(LE, 1, 0), block(6, body, LE)));
    expect(summary.damage).toBeNull();
    expect(records.map((r) => [r.capLenBytes, r.direction])).toEqual([[4, 'unknown']]);
  });
});

describe('pcapng damage keeps the records before it', () => {
  const head = concat(shb(LE), idb(LE, 1, 0), epb(LE, { ts: 1n, data: packetBytes(10) }));
  const damageAt = head.length;

  function damaged(tail: Uint8Array) {
    const { records, summary } = parseAll(concat(head, tail));
    expect(records).toHaveLength(1);
    expect(summary.records).toBe(1);
    return summary.damage;
  }

  it('trailer length differs from header length', () => {
    const bad = block(6, new Uint8Array(24), LE, 999);
    expect(damaged(bad)).toEqual({
      code: 'pcapng-block-length-mismatch',
      offset: damageAt,
      frame: 2,
      detail: 'header length 36, trailer 999',
    });
  });

  it('block length < 12', () => {
    const bad = new ByteWriter(LE).u32(6).u32(4).u32(4).toBytes();
    expect(damaged(bad)).toMatchObject({ code: 'pcapng-block-too-small', offset: damageAt });
  });

  it('block length not a multiple of 4', () => {
    const bad = new ByteWriter(LE).u32(1).u32(21).raw(new Uint8Array(13)).toBytes();
    expect(damaged(bad)).toMatchObject({ code: 'pcapng-block-length-not-multiple-of-4', offset: damageAt });
  });

  it('block length above 16 MiB (reported without waiting for the bytes)', () => {
    const bad = new ByteWriter(LE).u32(6).u32(3_000_000_000).u32(0).toBytes();
    expect(damaged(bad)).toMatchObject({
      code: 'pcapng-block-too-large',
      detail: 'block type 0x00000006 length 3000000000 > maximum 16777216',
    });
  });

  it('EPB too short for its fixed fields', () => {
    expect(damaged(block(6, new Uint8Array(8), LE))).toMatchObject({ code: 'pcapng-block-too-small' });
  });

  it('EPB naming an interface the section never described', () => {
    expect(damaged(epb(LE, { interfaceId: 1, ts: 2n, data: packetBytes(4) }))).toMatchObject({
      code: 'pcapng-bad-interface-id',
      detail: 'interface id 1, section has 1 interfaces',
    });
  });

  it('EPB caplen larger than its block', () => {
    expect(damaged(epb(LE, { ts: 2n, data: packetBytes(8), capLenField: 9 }))).toMatchObject({
      code: 'pcapng-caplen-exceeds-block',
    });
  });

  it('packet in a new section before its IDB', () => {
    expect(damaged(concat(shb(LE), epb(LE, { ts: 2n, data: packetBytes(4) })))).toMatchObject({
      code: 'pcapng-packet-before-idb',
      offset: damageAt + shb(LE).length,
    });
  });

  it('later section with major version 2 (gopacket test901)', () => {
    expect(damaged(shb(BE, { major: 2 }))).toMatchObject({ code: 'pcapng-unsupported-version' });
  });

  it('later section with a bad byte-order magic', () => {
    const bad = new ByteWriter(LE).u32(0x0a0d0d0a).u32(28).u32(0x12345678).raw(new Uint8Array(16)).toBytes();
    expect(damaged(bad)).toMatchObject({ code: 'pcapng-bad-byte-order-magic', detail: 'byte-order magic 0x78563412' });
  });

  it('input ending inside a block', () => {
    const next = epb(LE, { ts: 2n, data: packetBytes(40) });
    expect(damaged(next.subarray(0, 30))).toEqual({
      code: 'pcapng-truncated-block',
      offset: damageAt,
      frame: 2,
      detail: 'block type 0x00000006 length 72, only 30 bytes left',
    });
    expect(damaged(next.subarray(0, 5))).toMatchObject({
      code: 'pcapng-truncated-block',
      detail: 'only 5 bytes of a block header left',
    });
  });

  it('packet before any IDB at all (libpcap pcapng-packet-before-idb)', () => {
    const { records, summary } = parseAll(concat(shb(LE), epb(LE, { ts: 1n, data: packetBytes(4) })));
    expect(records).toHaveLength(0);
    expect(summary.damage).toMatchObject({ code: 'pcapng-packet-before-idb', offset: 28, frame: 1 });
  });
});

describe('pcapng first section header errors (CaptureError)', () => {
  it('length above 1 MiB', () => {
    const bytes = new ByteWriter(LE).u32(0x0a0d0d0a).u32(3_000_000_000).u32(0x1a2b3c4d).u32(1).toBytes();
    expect(refusal(bytes)).toMatchObject({
      code: 'bad-file-header',
      message: 'pcapng: section header block length 3000000000 is larger than 1 MiB',
    });
  });

  it('length below 28, or not a multiple of 4', () => {
    const small = new ByteWriter(BE).u32(0x0a0d0d0a).u32(24).u32(0x1a2b3c4d).raw(new Uint8Array(12)).toBytes();
    expect(refusal(small).message).toBe('pcapng: section header block length 24 is smaller than 28');
    const odd = new ByteWriter(LE).u32(0x0a0d0d0a).u32(30).u32(0x1a2b3c4d).raw(new Uint8Array(18)).toBytes();
    expect(refusal(odd).message).toBe('pcapng: section header block length 30 is not a multiple of 4');
  });

  it('truncated (libpcap pcapng-truncated-shb)', () => {
    expect(refusal(shb(LE).subarray(0, 16))).toMatchObject({
      code: 'truncated-file-header',
      message: 'pcapng: truncated section header block (16 of 28 bytes)',
    });
    expect(refusal(shb(LE).subarray(0, 6)).message).toBe('pcapng: truncated section header block (6 of 28 bytes)');
  });

  it('unsupported version (libpcap pcapng-invalid-vers-1)', () => {
    expect(refusal(shb(LE, { major: 0, minor: 1 }))).toMatchObject({
      code: 'unsupported-version',
      message: 'pcapng: unsupported version 0.1',
    });
    expect(refusal(shb(LE, { major: 1, minor: 1 })).message).toBe('pcapng: unsupported version 1.1');
  });

  it('trailer mismatch (libpcap shb-option-too-long)', () => {
    const bytes = shb(LE);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, 52, true);
    expect(refusal(bytes).message).toBe('pcapng: section header block length 28 does not match its trailer 52');
  });

  it('bad byte-order magic', () => {
    const bytes = new ByteWriter(LE).u32(0x0a0d0d0a).u32(28).u32(0).raw(new Uint8Array(16)).toBytes();
    expect(refusal(bytes)).toMatchObject({ code: 'not-a-capture-file', message: 'pcapng: bad byte-order magic 0x00000000' });
  });
});
