/**
 * Oracle: every classic pcap in the shared corpus (magic a1b2c3d4 or a1b23c4d, either byte order) read by
 * readCapture and by `pcap-parser` must give the same records — timestamp, caplen, orig_len, bytes — up to
 * wherever pcap-parser stops (it silently drops an incomplete last record; we report damage there).
 *
 * pcap-parser is a minimal reader, so its output is mapped through the libpcap rules it lacks
 * before comparing (each rule is a libpcap behaviour our reader implements, formats.md §1.3–1.5):
 * - it only knows the µs magic: ns files are fed to it with the magic patched to µs in the same byte order,
 *   and its "timestampMicroseconds" is then the raw ns fraction;
 * - it never swaps caplen/len (versions < 2.3, 543.0, 2.3 "maybe swapped"): such files are compared only if
 *   the swap cannot change the framing (caplen == len in every record), otherwise excluded;
 * - it does not cut caplen > snaplen down to the snaplen: the expected caplen is min(caplen, snaplen);
 * - it does not trim FCS bytes: files with the linktype P bit and a nonzero FCS length are excluded (none in
 *   the corpus);
 * - it reports an out-of-range fraction raw; we carry it into the seconds, so instants are compared as
 *   total nanoseconds.
 * Files we refuse by design are excluded with the reason (their refusal is asserted in corpus.test.ts).
 * Excluded today (each listed as a skipped test with its reason):
 * - malformed/libpcap__linktype-reserved-field-not-zero.pcap — refused (reserved linktype bits);
 * - malformed/libpcap__pcap-invalid-version-1.pcap — refused (version 1.4; pcap-parser's check lets it through);
 * - malformed/ndpi__fuzz-2021-10-13.pcap — version 2.0 with caplen ≠ len, so libpcap's swap changes framing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pcapParser from 'pcap-parser';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { listFiles } from '../helpers/captures.js';

const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');

/** Files pcap-parser reads but we refuse on purpose (libpcap and tcpdump refuse them too). */
const REFUSED_BY_DESIGN: Record<string, string> = {
  'malformed/libpcap__linktype-reserved-field-not-zero.pcap':
    'linktype reserved bits set: libpcap "savefile linktype reserved field not zero", tcpdump refuses it',
  'malformed/libpcap__pcap-invalid-version-1.pcap':
    'version 1.4: libpcap "archaic pcap savefile format"; pcap-parser accepts it (its check is major != 2 && minor != 4)',
};

interface Expected {
  tsTotalNs: bigint;
  capLenBytes: number;
  origLenBytes: number;
  data: number[];
}

interface PcapInfo {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplenBytes: number;
  linktypeField: number;
}

/** The header of a classic pcap with a standard magic, or undefined for anything else. */
function classicPcapInfo(bytes: Buffer): PcapInfo | undefined {
  if (bytes.length < 24) return undefined;
  const magicLe = bytes.readUInt32LE(0);
  const magicBe = bytes.readUInt32BE(0);
  const known = [0xa1b2c3d4, 0xa1b23c4d];
  const littleEndian = known.includes(magicLe);
  if (!littleEndian && !known.includes(magicBe)) return undefined;
  const u16 = (at: number) => (littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  return {
    littleEndian,
    nanosecond: (littleEndian ? magicLe : magicBe) === 0xa1b23c4d,
    versionMajor: u16(4),
    versionMinor: u16(6),
    snaplenBytes: u32(16),
    linktypeField: u32(20),
  };
}

/** pcap-parser's records, patched magic for ns files. */
/** One record as pcap-parser reports it. */
interface OracleRecord {
  sec: number;
  frac: number;
  cap: number;
  orig: number;
  data: Buffer;
}

function oracleRecords(bytes: Buffer, info: PcapInfo): Promise<OracleRecord[]> {
  const fed = Buffer.from(bytes);
  if (info.nanosecond) {
    if (info.littleEndian) fed.writeUInt32LE(0xa1b2c3d4, 0);
    else fed.writeUInt32BE(0xa1b2c3d4, 0);
  }
  return new Promise((resolvePackets, reject) => {
    const out: OracleRecord[] = [];
    const parser = pcapParser.parse(Readable.from([fed]));
    parser.on('packet', (p) =>
      out.push({
        sec: p.header.timestampSeconds,
        frac: p.header.timestampMicroseconds,
        cap: p.header.capturedLength,
        orig: p.header.originalLength,
        data: Buffer.from(p.data),
      }),
    );
    parser.on('error', reject);
    parser.on('end', () => resolvePackets(out));
  });
}

/** True when some record header, walked with the on-disk caplen as pcap-parser does, has caplen ≠ len. */
function hasUnequalLengths(bytes: Buffer, info: PcapInfo): boolean {
  const u32 = (at: number) => (info.littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  for (let at = 24; at + 16 <= bytes.length; at += 16 + u32(at + 8)) {
    if (u32(at + 8) !== u32(at + 12)) return true;
  }
  return false;
}

/** Why this file cannot be compared record by record, or undefined when it can. */
function exclusionReason(rel: string, info: PcapInfo, bytes: Buffer): string | undefined {
  const byDesign = REFUSED_BY_DESIGN[rel];
  if (byDesign !== undefined) return byDesign;
  const swaps = info.versionMajor === 543 || (info.versionMajor === 2 && info.versionMinor <= 3);
  if (swaps && hasUnequalLengths(bytes, info)) {
    const version = `${info.versionMajor}.${info.versionMinor}`;
    return `version ${version} swaps caplen/len (libpcap); pcap-parser frames records differently`;
  }
  if ((info.linktypeField & 0x04000000) !== 0 && info.linktypeField >>> 28 !== 0) {
    return 'FCS bytes declared in the linktype field; pcap-parser does not trim them';
  }
  return undefined;
}

function expectedFromOracle(info: PcapInfo, r: OracleRecord): Expected {
  // libpcap pcap_adjust_snapshot: 0 or above the maximum means 262144 (no corpus file has DBUS/USBPCAP/EBHSCR).
  const snaplenBytes = info.snaplenBytes === 0 || info.snaplenBytes > 262_144 ? 262_144 : info.snaplenBytes;
  const capLenBytes = Math.min(r.cap, snaplenBytes);
  return {
    tsTotalNs: BigInt(r.sec) * 1_000_000_000n + BigInt(r.frac) * (info.nanosecond ? 1n : 1000n),
    capLenBytes,
    origLenBytes: r.orig,
    data: Array.from(r.data.subarray(0, capLenBytes)),
  };
}

const corpusFiles = existsSync(CORPUS) ? listFiles(CORPUS).sort() : [];
const classic = corpusFiles.flatMap((path) => {
  const bytes = readFileSync(path);
  const info = classicPcapInfo(bytes);
  return info === undefined ? [] : [{ path, rel: relative(CORPUS, path), bytes, info }];
});

describe.skipIf(!existsSync(CORPUS))('pcap-parser oracle over the corpus classic pcaps', () => {
  it('finds the classic pcaps (including the mis-named pcap/*.pcapng)', () => {
    expect(classic.length).toBeGreaterThan(60);
    expect(classic.map((c) => c.rel)).toContain('pcap/apple__radar-81131821_classic_named_pcapng.pcapng');
  });

  const compared = classic.filter((c) => exclusionReason(c.rel, c.info, c.bytes) === undefined);
  const excluded = classic.filter((c) => exclusionReason(c.rel, c.info, c.bytes) !== undefined);

  // Listed as skipped tests so every exclusion and its reason shows in the run.
  for (const { rel, info, bytes } of excluded) {
    it.skip(`${rel} (excluded: ${exclusionReason(rel, info, bytes)})`, () => undefined);
  }

  it('excludes only the files listed in the header comment', () => {
    expect(excluded.map((c) => c.rel)).toEqual([
      'malformed/libpcap__linktype-reserved-field-not-zero.pcap',
      'malformed/libpcap__pcap-invalid-version-1.pcap',
      'malformed/ndpi__fuzz-2021-10-13.pcap',
    ]);
  });

  it.each(compared.map((c) => [c.rel, c] as const))('%s', async (_rel, { path, bytes, info }) => {
    const oracle = await oracleRecords(bytes, info);
    const ours: Expected[] = [];
    const summary = await readCapture(path, (rec) =>
      ours.push({
        tsTotalNs: BigInt(rec.tsSec) * 1_000_000_000n + BigInt(rec.tsNsec),
        capLenBytes: rec.capLenBytes,
        origLenBytes: rec.origLenBytes,
        data: Array.from(rec.data),
      }),
    );
    expect(ours).toEqual(oracle.map((r) => expectedFromOracle(info, r)));
    expect(summary.records).toBe(oracle.length);
  });
});
