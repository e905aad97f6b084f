/**
 * Every file of the shared corpus (README.md: "decoded, or refused with one clear line; none may crash, hang,
 * or lose the packets before the damage") is either read — possibly with damage — or refused with a
 * CaptureError, never any other exception, each well under 5 s. The files known to be refused or damaged are
 * pinned with their reason; pcapng files are cross-checked against tshark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureError, readCapture, type CaptureSummary } from '../../src/capture/index.js';
import { listFiles } from '../helpers/captures.js';

const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');
const PER_FILE_BUDGET_MS = 5000;

/** Refused inputs: CaptureError code and message, with libpcap/tcpdump's own verdict for comparison. */
const REFUSED: Record<string, [code: string, message: string]> = {
  // tcpdump 4.99: "unknown data link type 3145728"; libpcap ≥ 1.10.5: "linktype reserved field not zero".
  'malformed/libpcap__linktype-reserved-field-not-zero.pcap': [
    'bad-file-header',
    'pcap linktype field reserved bits are not zero (0x00300000)',
  ],
  'malformed/libpcap__pcap-empty-file.pcap': ['empty-file', 'empty file'],
  // libpcap: "archaic pcap savefile format".
  'malformed/libpcap__pcap-invalid-version-1.pcap': ['unsupported-version', 'unsupported pcap version 1.4'],
  'malformed/libpcap__pcap-truncated-hdr-23.pcap': ['truncated-file-header', 'truncated file header (23 of 24 bytes)'],
  'malformed/libpcap__pcapng-invalid-vers-1.pcapng': ['unsupported-version', 'pcapng: unsupported version 0.1'],
  'malformed/libpcap__pcapng-shb-len-insane.pcapng': [
    'bad-file-header',
    'pcapng: section header block length 2097152 is larger than 1 MiB',
  ],
  'malformed/libpcap__pcapng-truncated-shb.pcapng': [
    'truncated-file-header',
    'pcapng: truncated section header block (16 of 28 bytes)',
  ],
  // libpcap: "block total length in header and trailer don't match".
  'malformed/libpcap__shb-option-too-long.pcapng': [
    'bad-file-header',
    'pcapng: section header block length 52 does not match its trailer 808464432',
  ],
  'malformed/pcapplusplus__solaris.snoop': [
    'not-a-capture-file',
    'not a capture file (magic 0x736e6f6f: Solaris snoop format is not supported)',
  ],
};

/** Inputs read part-way: damage code and the records delivered before it (all match tcpdump/tshark counts). */
const DAMAGED: Record<string, [code: string, records: number]> = {
  'malformed/libpcap__pcapng-block-len-not-mult4.pcapng': ['pcapng-block-length-not-multiple-of-4', 0],
  'malformed/libpcap__pcapng-block-len-too-small.pcapng': ['pcapng-block-too-small', 0],
  // libpcap: "if_tsresol option resolution 10^-100 is too high".
  'malformed/libpcap__pcapng-idb-tsresol-dec-high.pcapng': ['pcapng-tsresol-unsupported', 0],
  'malformed/libpcap__pcapng-packet-before-idb.pcapng': ['pcapng-packet-before-idb', 0],
  'malformed/ndpi__fuzz-2021-10-13.pcap': ['pcap-truncated-record-header', 1],
  'pcap/scapy__bad_rsn_trailing_byte.pcap': ['pcap-truncated-record-header', 1],
  // Second section has version 2.0 (libpcap: "unknown pcapng savefile major version number 2").
  'pcapng/gopacket__test901.pcapng': ['pcapng-unsupported-version', 1],
  'pflog/scapy__openbsd_pflog_icmp4_block_TRUNCATED.pcap': ['pcap-record-past-eof', 0],
  'pflog/scapy__openbsd_pflog_udp4_block_TRUNCATED.pcap': ['pcap-record-past-eof', 0],
};

type Outcome = { kind: 'read'; summary: CaptureSummary; records: number } | { kind: 'refused'; error: CaptureError };

async function outcomeOf(path: string): Promise<Outcome> {
  let records = 0;
  try {
    const summary = await readCapture(path, () => {
      records++;
    });
    return { kind: 'read', summary, records };
  } catch (err) {
    if (err instanceof CaptureError) return { kind: 'refused', error: err };
    throw err;
  }
}

const files = existsSync(CORPUS) ? listFiles(CORPUS).sort() : [];
const isCaptureName = (rel: string) => /\.(pcap|pcapng|snoop)$/.test(rel);

describe.skipIf(!existsSync(CORPUS))('every corpus file is read or refused with CaptureError', () => {
  it('finds the corpus', () => {
    expect(files.filter(isCaptureName).length).toBeGreaterThan(130);
  });

  it.each(files.map((path) => [relative(CORPUS, path), path] as const))('%s', async (rel, path) => {
    const startMs = performance.now();
    const outcome = await outcomeOf(path);
    expect(performance.now() - startMs).toBeLessThan(PER_FILE_BUDGET_MS);

    const refused = REFUSED[rel];
    const damaged = DAMAGED[rel];
    if (!isCaptureName(rel)) {
      // README.md and the *.tcpdump.txt printouts are not captures: refused by magic, never a crash.
      expect(outcome).toMatchObject({ kind: 'refused', error: { code: 'not-a-capture-file' } });
    } else if (refused !== undefined) {
      expect(outcome.kind).toBe('refused');
      const error = (outcome as { error: CaptureError }).error;
      expect([error.code, error.message]).toEqual(refused);
      expect(error.path).toBe(path);
    } else {
      expect(outcome.kind).toBe('read');
      const { summary, records } = outcome as { summary: CaptureSummary; records: number };
      expect(summary.records).toBe(records);
      if (damaged === undefined) {
        expect(summary.damage).toBeNull();
        expect(summary.bytesRead).toBe(statSync(path).size);
      } else {
        expect([summary.damage?.code, records]).toEqual(damaged);
        expect(summary.damage?.frame).toBe(records + 1);
      }
    }
  });
});

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const TSHARK_SKIP = !existsSync(CORPUS)
  ? 'corpus missing'
  : hasTshark
    ? undefined
    : 'tshark not installed: pcapng cross-check skipped';

/**
 * pcapng files cross-checked with `tshark -T fields -e frame.time_epoch …`: multi-section LE/BE, ns and µs
 * interfaces, many interfaces, SPB/PB and custom blocks, Apple PIB files, a damaged second section.
 * Rows without an interface id are tshark's custom-block pseudo-frames; SPBs have no time (we report 0).
 */
const TSHARK_FILES = [
  'linktype/ndpi__quic-v2_sll.pcapng',
  'pcapng/apple__radar-74957353.pcapng',
  'pcapng/apple__radar-101007576-iperf.pcapng',
  'pcapng/gopacket__test300.pcapng',
  'pcapng/gopacket__test901.pcapng',
  'pcapng/pcapngtestgen__be_test202.pcapng',
  'pcapng/pcapngtestgen__le_test102.pcapng',
  'pcapng/pcapplusplus__many_interfaces-1.pcapng',
  'pcapng/zeek__pcapng-multi-interface.pcapng',
  'vpn/ndpi__openvpn_nohmac_tcp.pcapng',
];
// Not cross-checked: malformed/libpcap__pcapng-tsresol-bin-overflow.pcapng. Its timestamp is 2^63-1 units of
// 2^-63 s = 0.999999999 s; libpcap and Wireshark overflow frac·10^9 in 64 bits and print 0.000000001.

describe.skipIf(TSHARK_SKIP !== undefined)(`pcapng vs tshark${TSHARK_SKIP ? ` (${TSHARK_SKIP})` : ''}`, () => {
  it.each(TSHARK_FILES)('%s', async (rel) => {
    const path = join(CORPUS, rel);
    const ours: string[] = [];
    await readCapture(path, (rec) => {
      const ts = rec.tsSec === 0 && rec.tsNsec === 0 ? '' : `${rec.tsSec}.${String(rec.tsNsec).padStart(9, '0')}`;
      ours.push([ts, rec.capLenBytes, rec.origLenBytes, rec.interfaceId].join('\t'));
    });
    const result = spawnSync(
      'tshark',
      ['-r', path, '-T', 'fields', ...['frame.time_epoch', 'frame.cap_len', 'frame.len', 'frame.interface_id'].flatMap((f) => ['-e', f])],
      { encoding: 'utf8' },
    );
    const theirs = result.stdout
      .split('\n')
      .filter((line) => line !== '' && !line.endsWith('\t'))
      .map((line) => line.replace(/^(\d+\.\d{9})\d*/, '$1'));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });
});
