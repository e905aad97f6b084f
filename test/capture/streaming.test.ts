/**
 * Streaming: the push parser must give the same records whatever the chunking (one byte at a time, random
 * sizes, a buffer smaller than one record), the file path, a stream and stdin must agree, memory must not grow
 * with the input, and damage must stop reading without losing earlier records.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CaptureError, createCaptureParser, readCapture } from '../../src/capture/index.js';
import { StreamingCaptureParser } from '../../src/capture/parser.js';
import {
  concat,
  copyRecord,
  epb,
  idb,
  optString,
  optU32,
  optU8,
  packetBytes,
  parseAll,
  pcapFile,
  pib,
  seededRandom,
  shb,
  spb,
  type RecordCopy,
} from './vectors.js';

const LE = true;
const BE = false;

const tmp = mkdtempSync(join(tmpdir(), 'udptrack-capture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

/** A pcap with many records of varied sizes, including one larger than a small test buffer. */
function samplePcap(): Uint8Array {
  const random = seededRandom(7);
  const records = Array.from({ length: 300 }, (_, i) => ({
    tsSec: 1_700_000_000 + i,
    tsFrac: Math.floor(random() * 1_000_000),
    data: packetBytes(i === 150 ? 5000 : Math.floor(random() * 1600), i),
  }));
  return pcapFile({ magic: 0xa1b23c4d, littleEndian: false, records });
}

/** A pcapng with two sections of different byte orders, SPBs, Apple PIBs and big packets. */
function samplePcapng(): Uint8Array {
  const random = seededRandom(11);
  const parts: Uint8Array[] = [shb(LE), idb(LE, 1, 0, [optString(2, 'en0'), optU8(9, 9)]), pib(LE, 42, 'openvpn')];
  for (let i = 0; i < 150; i++) {
    const data = packetBytes(i === 75 ? 7000 : Math.floor(random() * 1500), i);
    const ts = 1_700_000_000_000_000_000n + BigInt(i) * 1_234_567n;
    parts.push(epb(LE, { ts, data, options: [optU32(2, 1 + (i % 2), LE), optU32(0x8001, 0, LE)] }));
  }
  parts.push(shb(BE), idb(BE, 0, 128));
  for (let i = 0; i < 50; i++) parts.push(spb(BE, 200, packetBytes(128, i)));
  return concat(...parts);
}

async function readPath(path: string, bufferBytes?: number): Promise<{ records: RecordCopy[]; summary: unknown }> {
  const records: RecordCopy[] = [];
  const summary = await readCapture(path, (rec) => records.push(copyRecord(rec)), { bufferBytes });
  return { records, summary };
}

describe.each([
  ['pcap', samplePcap()],
  ['pcapng', samplePcapng()],
])('%s: identical records whatever the chunking', (_name, bytes) => {
  const oneShot = parseAll(bytes);

  it('is clean and complete in one push', () => {
    expect(oneShot.summary.damage).toBeNull();
    expect(oneShot.records.length).toBeGreaterThan(150);
  });

  it('one byte at a time', () => {
    const byByte = parseAll(bytes, () => 1);
    expect(byByte.records).toEqual(oneShot.records);
    expect(byByte.summary).toEqual(oneShot.summary);
  });

  it('random chunk sizes (several seeds)', () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const chunked = parseAll(bytes, () => 1 + Math.floor(random() * 3000));
      expect(chunked.records).toEqual(oneShot.records);
      expect(chunked.summary).toEqual(oneShot.summary);
    }
  });

  it('a 64-byte buffer (every record straddles reads; big records grow it) via the file path', async () => {
    const path = writeTemp(`chunk-${_name}`, bytes);
    const small = await readPath(path, 64);
    expect(small.records).toEqual(oneShot.records);
    expect(small.summary).toEqual(oneShot.summary);
  });

  it('file path, stream, and stdin ("-") agree', async () => {
    const path = writeTemp(`agree-${_name}`, bytes);
    const fromFile = await readPath(path);
    expect(fromFile.records).toEqual(oneShot.records);

    const fromStream: RecordCopy[] = [];
    const stream = createReadStream(path, { highWaterMark: 1000 });
    const streamSummary = await readCapture(stream, (rec) => fromStream.push(copyRecord(rec)));
    expect(fromStream).toEqual(oneShot.records);
    expect(streamSummary).toEqual(fromFile.summary);

    const fromStdin: RecordCopy[] = [];
    const fakeStdin = Readable.from([Buffer.from(bytes)]) as typeof process.stdin;
    const stdin = vi.spyOn(process, 'stdin', 'get').mockReturnValue(fakeStdin);
    try {
      const stdinSummary = await readCapture('-', (rec) => fromStdin.push(copyRecord(rec)));
      expect(fromStdin).toEqual(oneShot.records);
      expect(stdinSummary).toEqual(fromFile.summary);
    } finally {
      stdin.mockRestore();
    }
  });
});

describe.each([
  ['pcap', samplePcap()],
  ['pcapng', samplePcapng()],
])('%s: a throttle pauses reading without losing or reordering records', (name, bytes) => {
  const oneShot = parseAll(bytes);

  // A throttle that asks for a pause every time it is asked (every 256 records): the readers stop after the current
  // record and the parser resumes from there once the promise settles (output backpressure, capture/read.ts).
  const readThrottled = async (source: string | NodeJS.ReadableStream, bufferBytes?: number): Promise<{ records: RecordCopy[]; pauses: number; summary: unknown }> => {
    const records: RecordCopy[] = [];
    let pauses = 0;
    const throttle = (): Promise<void> => {
      pauses++;
      return new Promise((resolve) => setTimeout(resolve, 1));
    };
    const summary = await readCapture(source, (rec) => records.push(copyRecord(rec)), { throttle, bufferBytes });
    return { records, pauses, summary };
  };

  it('file path, default and 64-byte buffers', async () => {
    const path = writeTemp(`throttle-${name}`, bytes);
    for (const bufferBytes of [undefined, 64]) {
      const read = await readThrottled(path, bufferBytes);
      expect(read.records).toEqual(oneShot.records);
      expect(read.summary).toEqual(oneShot.summary);
      expect(read.pauses).toBe(Math.floor(oneShot.records.length / 256));
    }
  });

  it('stream path, small chunks', async () => {
    const path = writeTemp(`throttle-stream-${name}`, bytes);
    const read = await readThrottled(createReadStream(path, { highWaterMark: 777 }));
    expect(read.records).toEqual(oneShot.records);
    expect(read.summary).toEqual(oneShot.summary);
    expect(read.pauses).toBe(Math.floor(oneShot.records.length / 256));
  });
});

describe('constant memory', () => {
  it('keeps a 1 MiB buffer over a 20 MiB input pushed in 64 KiB chunks', () => {
    const record = { tsSec: 1, tsFrac: 0, data: packetBytes(1400) };
    const body = pcapFile({ records: Array.from({ length: 1000 }, () => record) }).subarray(24);
    let records = 0;
    const parser = createCaptureParser(() => {
      records++;
    }) as StreamingCaptureParser;
    parser.push(pcapFile());
    for (let i = 0; i < 15; i++) {
      for (let at = 0; at < body.length; at += 65536) parser.push(body.subarray(at, at + 65536));
    }
    expect(parser.end()).toMatchObject({ records: 15_000, damage: null });
    expect(records).toBe(15_000);
    expect(parser.buffer.bytes.length).toBe(1 << 20);
  });

  it('grows only for a record larger than the buffer', () => {
    const huge = packetBytes(3 * 1024 * 1024);
    const bytes = pcapFile({ linktypeField: 231, snaplenBytes: 0, records: [{ tsSec: 1, tsFrac: 0, data: huge }] });
    let seen: number[] = [];
    const parser = createCaptureParser((rec) => {
      seen = [rec.capLenBytes, rec.data[0]!, rec.data[rec.data.length - 1]!];
    }) as StreamingCaptureParser;
    for (let at = 0; at < bytes.length; at += 65536) parser.push(bytes.subarray(at, at + 65536));
    parser.end();
    expect(seen).toEqual([huge.length, 0, huge[huge.length - 1]]);
    expect(parser.buffer.bytes.length).toBeGreaterThanOrEqual(huge.length + 16);
  });
});

describe('stopping', () => {
  const damagedPcap = concat(
    pcapFile({ records: [{ tsSec: 1, tsFrac: 0, data: packetBytes(10) }] }),
    // caplen 300000 > 262144: damage after one good record.
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x93, 0x04, 0, 0xe0, 0x93, 0x04, 0),
    new Uint8Array(2_000_000),
  );

  it('stops a file at damage without reading the rest', async () => {
    const path = writeTemp('damaged.pcap', damagedPcap);
    const progress: number[] = [];
    const summary = await readCapture(path, () => undefined, { onProgress: (n) => progress.push(n) });
    expect(summary).toMatchObject({ records: 1, damage: { code: 'pcap-caplen-impossible', offset: 50, frame: 2 } });
    expect(summary.bytesRead).toBeLessThan(damagedPcap.length);
    expect(progress.length).toBe(1);
  });

  it('stops a stream at damage and releases it', async () => {
    const stream = Readable.from(
      (function* () {
        for (let at = 0; at < damagedPcap.length; at += 1000) yield Buffer.from(damagedPcap.subarray(at, at + 1000));
      })(),
    );
    const summary = await readCapture(stream, () => undefined);
    expect(summary).toMatchObject({ records: 1, damage: { code: 'pcap-caplen-impossible' }, bytesRead: 1000 });
    expect(stream.destroyed).toBe(true);
  });

  it('ignores pushes after damage; push after end() is a programming error', () => {
    const parser = createCaptureParser(() => undefined);
    parser.push(damagedPcap.subarray(0, 100));
    expect(parser.stopped).toBe(true);
    parser.push(Uint8Array.of(1, 2, 3));
    expect(parser.end().records).toBe(1);
    expect(() => parser.push(Uint8Array.of(1))).toThrow('push after end');
  });

  it('summary() is null until the format is known', () => {
    const parser = createCaptureParser(() => undefined);
    expect(parser.summary()).toBeNull();
    parser.push(Uint8Array.of(0xd4, 0xc3));
    expect(parser.summary()).toBeNull();
    expect(parser.headerAccepted).toBe(false);
    parser.push(pcapFile().subarray(2));
    expect(parser.headerAccepted).toBe(true);
    expect(parser.summary()).toMatchObject({ format: 'pcap', records: 0 });
  });

  it('an error thrown by onRecord propagates and closes the input', async () => {
    const path = writeTemp('ok.pcap', samplePcap());
    await expect(
      readCapture(path, () => {
        throw new Error('consumer bug');
      }),
    ).rejects.toThrow('consumer bug');
    const stream = createReadStream(path);
    await expect(
      readCapture(stream, () => {
        throw new Error('consumer bug');
      }),
    ).rejects.toThrow('consumer bug');
    expect(stream.destroyed).toBe(true);
  });
});

describe('input errors (CaptureError)', () => {
  it('missing file, directory, empty file', async () => {
    await expect(readCapture(join(tmp, 'nope.pcap'), () => undefined)).rejects.toMatchObject({
      name: 'CaptureError',
      code: 'no-such-file',
      message: 'no such file',
      path: join(tmp, 'nope.pcap'),
    });
    await expect(readCapture(tmp, () => undefined)).rejects.toMatchObject({ code: 'is-a-directory' });
    await expect(readCapture(writeTemp('empty.pcap', new Uint8Array(0)), () => undefined)).rejects.toMatchObject({
      code: 'empty-file',
      message: 'empty file',
    });
  });

  it('a stream that fails before the header', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
      },
    });
    const err = await readCapture(failing, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureError);
    expect(err).toMatchObject({ code: 'read-failed', path: '<stream>', message: 'cannot read: EIO: i/o error, read' });
  });

  it('a stream that fails after records is damage, not an error', async () => {
    const good = pcapFile({ records: [{ tsSec: 1, tsFrac: 0, data: packetBytes(10) }] });
    let sent = false;
    const failing = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push(Buffer.from(good));
        } else {
          this.destroy(new Error('connection reset'));
        }
      },
    });
    const summary = await readCapture(failing, () => undefined);
    expect(summary).toMatchObject({ records: 1, damage: { code: 'read-error', detail: 'connection reset', frame: 2 } });
  });

  it('a text stream is refused', async () => {
    const text = Readable.from(['hello'], { objectMode: true });
    await expect(readCapture(text, () => undefined)).rejects.toMatchObject({ code: 'read-failed' });
  });
});

describe('a byte limit (maxBytes): the file as it was when a run began', () => {
  const bytes = samplePcap();
  // Record boundaries: the 24-byte header, then 16-byte record headers with their caplen (big-endian file).
  const boundaries: number[] = [];
  for (let at = 24; at < bytes.length; ) {
    boundaries.push(at);
    at += 16 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(at + 8, false);
  }
  const path = writeTemp('limited.pcap', bytes);

  it('progress says how many records were read so far, file and stream alike', async () => {
    const pieces = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) => Buffer.from(bytes.subarray(i * 4096, (i + 1) * 4096)));
    for (const source of [path, () => Readable.from(pieces)]) {
      const seen: Array<[number, number]> = [];
      let delivered = 0;
      const summary = await readCapture(typeof source === 'string' ? source : source(), () => void delivered++, {
        bufferBytes: 4096,
        onProgress: (bytesRead, _total, records) => seen.push([bytesRead, records]),
      });
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.at(-1)).toEqual([bytes.length, summary.records]);
      expect(summary.records).toBe(delivered);
      // Never going back.
      for (let i = 1; i < seen.length; i++) expect(seen[i]![1]).toBeGreaterThanOrEqual(seen[i - 1]![1]);
    }
  });

  it('reads the records within the limit, and only those', async () => {
    const all = await readPath(path);
    const end = boundaries[120]!; // exactly 120 records
    const records: RecordCopy[] = [];
    const summary = await readCapture(path, (rec) => records.push(copyRecord(rec)), { maxBytes: end, bufferBytes: 4096 });
    expect(records).toEqual(all.records.slice(0, 120));
    expect(summary.damage).toBeNull();
    expect(summary.bytesRead).toBe(end);
  });

  it('a limit inside a record ends like a file cut there (damage after the records before it)', async () => {
    const records: RecordCopy[] = [];
    const summary = await readCapture(path, (rec) => records.push(copyRecord(rec)), { maxBytes: boundaries[50]! + 20 });
    expect(records).toHaveLength(50);
    expect(summary.damage?.code).toBe('pcap-record-past-eof');
  });

  it('a descriptor read from an offset with positional reads, up to the limit', async () => {
    const prefixed = writeTemp('prefixed.bin', concat(new Uint8Array(100).fill(0x41), bytes));
    const fd = openSync(prefixed, 'r');
    try {
      const records: RecordCopy[] = [];
      const summary = await readCapture({ fd, name: '-', sizeBytes: bytes.length + 100, startOffset: 100 }, (rec) => records.push(copyRecord(rec)), { maxBytes: boundaries[10]! });
      expect(records).toHaveLength(10);
      expect(summary.damage).toBeNull();
      // Positional reads leave the descriptor's own offset where it was.
      const first = Buffer.alloc(4);
      expect(readSync(fd, first, 0, 4, null)).toBe(4);
      expect(first.toString('latin1')).toBe('AAAA');
    } finally {
      closeSync(fd);
    }
  });
});
