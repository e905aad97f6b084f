/**
 * Classic pcap ("libpcap savefile") reader, formats.md §1, following libpcap `sf-pcap.c`
 * (`pcap_check_header`, `pcap_next_packet`) wherever the two could disagree.
 */
import type { ChunkBuffer } from './chunk-buffer.js';
import { CaptureError, hex32 } from './errors.js';
import { adjustSnaplen, maxSnaplenForLinktype, trimFcs, type TrimmedLengths } from './limits.js';
import type { FormatDescription, FormatReader, RecordSink } from './record-sink.js';

/** Magic numbers as read in the writer's byte order (formats.md §1.2). */
export const PCAP_MAGIC = {
  MICROSECONDS: 0xa1b2c3d4,
  NANOSECONDS: 0xa1b23c4d,
  KUZNETZOV: 0xa1b2cd34,
} as const;

const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** Kuznetzov patched header (`struct pcap_sf_patched_pkthdr`): +ifindex u32, protocol u16, pkt_type u8, pad. */
const KUZNETZOV_RECORD_HEADER_BYTES = 24;
/** SuSE 6.3 "ss990915" variant (Wireshark `wiretap/libpcap.h`): +cpu1, cpu2, pad[3]. */
const SS990915_RECORD_HEADER_BYTES = 28;
/** Records the variant probe reads with each candidate header size (Wireshark reads two too). */
const VARIANT_PROBE_RECORDS = 2;

/** Linktype field bits (formats.md §1.4, libpcap `pcap/pcap.h` LT_* macros). */
const LT_LINKTYPE_MASK = 0x0000_ffff;
const LT_RESERVED1_MASK = 0x03ff_0000;
const LT_FCS_LENGTH_PRESENT = 0x0400_0000;
const LINKTYPE_ETHERNET = 1;

/** How caplen/len are stored (libpcap `swapped_type_t`). */
const LENGTHS_NORMAL = 0;
const LENGTHS_SWAPPED = 1;
const LENGTHS_MAYBE_SWAPPED = 2;

/** Outcome of reading the first records with one candidate record-header size. */
const PROBE_SANE = 0;
const PROBE_INSANE = 1;
const PROBE_NEED_MORE = 2;

const USEC_PER_SEC = 1_000_000;
const NSEC_PER_SEC = 1_000_000_000;

/**
 * Resync mode (the live tail): what a record header written by a live capture looks like. No packet on any link is
 * longer than this (IPv4/IPv6 64 KiB, GSO/GRO super-packets 64 KiB, BIG TCP 512 KiB, plus link headers).
 */
const PLAUSIBLE_MAX_ORIG_LEN_BYTES = 1 << 20;
/**
 * While scanning for the next record after damage, a candidate's timestamp must lie near the last good record's:
 * at most an hour before it (a clock stepped back) and a year after it (a stream quiet for months).
 */
const PLAUSIBLE_BACK_SEC = 3600;
const PLAUSIBLE_AHEAD_SEC = 366 * 86_400;

/** What the resync scan found at one offset. */
const CANDIDATE_NO = 0;
const CANDIDATE_RECORD = 1;
const CANDIDATE_FILE_HEADER = 2;
const CANDIDATE_NEED_MORE = 3;

/** Is this u32 (read little-endian from the first four bytes) a pcap magic in either byte order? */
export function pcapByteOrder(magicLittleEndian: number): 'little-endian' | 'big-endian' | null {
  if (isPcapMagic(magicLittleEndian)) return 'little-endian';
  if (isPcapMagic(swap32(magicLittleEndian))) return 'big-endian';
  return null;
}

function isPcapMagic(value: number): boolean {
  return value === PCAP_MAGIC.MICROSECONDS || value === PCAP_MAGIC.NANOSECONDS || value === PCAP_MAGIC.KUZNETZOV;
}

/** A pcap file header this reader accepts without complaint (magic, version 2.0–2.4, reserved bits zero). */
function saneFileHeaderAt(view: DataView, pos: number): boolean {
  const magicLe = view.getUint32(pos, true);
  const le = isPcapMagic(magicLe);
  const major = view.getUint16(pos + 4, le);
  const minor = view.getUint16(pos + 6, le);
  return major === 2 && minor <= 4 && (view.getUint32(pos + 20, le) & LT_RESERVED1_MASK) === 0;
}

function swap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

/** Reads a classic pcap file: the 24-byte header, then records until the input ends or breaks. */
export class PcapReader implements FormatReader {
  needBytes = FILE_HEADER_BYTES;
  headerAccepted = false;

  private littleEndian = true;
  private nanosecond = false;
  private kuznetzov = false;
  private version = '';
  private lengthOrder = LENGTHS_NORMAL;
  private recordHeaderBytes = RECORD_HEADER_BYTES;
  private variantDecided = false;
  private fcsBytes = 0;
  /** libpcap `max_snaplen_for_dlt`: a larger caplen is corrupt. */
  private maxCapLenBytes = 0;
  /** libpcap `p->snapshot`: a larger caplen is tolerated but cut to this. */
  private effectiveSnaplenBytes = 0;
  private readonly trimmed: TrimmedLengths = { capLenBytes: 0, origLenBytes: 0 };
  /** Seconds of the last record delivered (-1 before the first): resync candidates must lie near it. */
  private lastTsSec = -1;

  /** @param sink - shared record, counters and summary lists */
  constructor(private readonly sink: RecordSink) {}

  parse(buf: ChunkBuffer, eof: boolean): void {
    if (this.sink.damage !== null) return;
    for (;;) {
      if (this.sink.scanning !== null && !this.scan(buf, eof)) return;
      if (!this.headerAccepted && !this.parseFileHeader(buf, eof)) return;
      if (!this.variantDecided && !this.decideVariant(buf, eof)) return;
      this.parseRecords(buf);
      // Resync mode: damage in the records just read starts a scan for the next plausible record.
      if (this.sink.scanning === null) return;
    }
  }

  finish(buf: ChunkBuffer): void {
    const leftBytes = buf.availableBytes;
    if (this.sink.damage === null && this.sink.scanning === null && this.headerAccepted && leftBytes > 0) {
      const offset = buf.startOffset;
      if (leftBytes < this.recordHeaderBytes) {
        // libpcap: "truncated dump file; tried to read 16 header bytes, only got N".
        this.sink.fail(
          'pcap-truncated-record-header',
          offset,
          `record header needs ${this.recordHeaderBytes} bytes, only ${leftBytes} left`,
        );
      } else {
        const capLenBytes = this.readLengths(buf.view, buf.start)[0];
        this.sink.fail(
          'pcap-record-past-eof',
          offset,
          `caplen ${capLenBytes} needs ${this.recordHeaderBytes + capLenBytes} bytes, only ${leftBytes} left`,
        );
      }
    }
    this.sink.endOfInput(buf.baseOffset + buf.end);
  }

  describe(): FormatDescription {
    let variant: FormatDescription['variant'];
    if (this.kuznetzov) {
      variant = this.recordHeaderBytes === SS990915_RECORD_HEADER_BYTES ? 'kuznetzov-ss990915' : 'kuznetzov';
    }
    return {
      format: 'pcap',
      version: this.version,
      byteOrder: this.littleEndian ? 'little-endian' : 'big-endian',
      nanosecond: this.nanosecond,
      variant,
      sections: 1,
    };
  }

  /** formats.md §1.1–1.4; returns false while waiting for the 24 header bytes. */
  private parseFileHeader(buf: ChunkBuffer, eof: boolean): boolean {
    const haveBytes = buf.availableBytes;
    if (haveBytes < FILE_HEADER_BYTES) {
      if (eof) this.refuse('truncated-file-header', `truncated file header (${haveBytes} of 24 bytes)`);
      return false;
    }
    const view = buf.view;
    const at = buf.start;
    const magicLe = view.getUint32(at, true);
    const le = isPcapMagic(magicLe);
    const magic = le ? magicLe : swap32(magicLe);
    this.littleEndian = le;
    this.nanosecond = magic === PCAP_MAGIC.NANOSECONDS;
    this.kuznetzov = magic === PCAP_MAGIC.KUZNETZOV;
    this.checkVersion(view.getUint16(at + 4, le), view.getUint16(at + 6, le));
    const snaplenBytes = view.getUint32(at + 16, le);
    const linktypeField = view.getUint32(at + 20, le);
    this.applyLinktypeField(linktypeField, snaplenBytes);
    buf.start += FILE_HEADER_BYTES;
    this.headerAccepted = true;
    this.variantDecided = !this.kuznetzov;
    this.recordHeaderBytes = this.kuznetzov ? KUZNETZOV_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES;
    this.needBytes = this.recordHeaderBytes;
    return true;
  }

  /** libpcap accepts 2.0–2.4 and DG/UX 543.0; caplen/len were swapped before 2.3 (formats.md §1.3). */
  private checkVersion(major: number, minor: number): void {
    this.version = `${major}.${minor}`;
    const supported = (major === 2 && minor <= 4) || (major === 543 && minor === 0);
    if (!supported) this.refuse('unsupported-version', `unsupported pcap version ${this.version}`);
    if (major === 543 || minor < 3) this.lengthOrder = LENGTHS_SWAPPED;
    else if (minor === 3) this.lengthOrder = LENGTHS_MAYBE_SWAPPED;
    else this.lengthOrder = LENGTHS_NORMAL;
  }

  /** formats.md §1.4: low 16 bits LINKTYPE, reserved bits must be 0, P bit + length = FCS words. */
  private applyLinktypeField(linktypeField: number, snaplenBytes: number): void {
    const reservedBits = linktypeField & LT_RESERVED1_MASK;
    if (reservedBits !== 0) {
      // libpcap ≥ 1.10.5 "savefile linktype reserved field not zero"; tcpdump 4.99 refuses it as an unknown DLT.
      this.refuse('bad-file-header', `pcap linktype field reserved bits are not zero (0x${hex32(reservedBits)})`);
    }
    const linktype = linktypeField & LT_LINKTYPE_MASK;
    this.fcsBytes = (linktypeField & LT_FCS_LENGTH_PRESENT) !== 0 ? 2 * (linktypeField >>> 28) : 0;
    this.maxCapLenBytes = maxSnaplenForLinktype(linktype);
    this.effectiveSnaplenBytes = adjustSnaplen(linktype, snaplenBytes);
    // libpcap: Kuznetzov EN10MB captures may be cooked-mode with a 14-byte fake Ethernet header added.
    if (this.kuznetzov && linktype === LINKTYPE_ETHERNET) this.effectiveSnaplenBytes += 14;
    this.initRecordConstants(linktype);
    this.sink.interfaces.push({
      section: 0,
      id: 0,
      linktype,
      name: undefined,
      snaplenBytes,
      tsDigits: this.nanosecond ? 9 : 6,
      tsOffsetSec: 0,
      fcsBytes: this.fcsBytes,
    });
  }

  /** Fields that never change in a classic pcap file are set once, not per record. */
  private initRecordConstants(linktype: number): void {
    const rec = this.sink.record;
    rec.tsDigits = this.nanosecond ? 9 : 6;
    rec.linktype = linktype;
    rec.interfaceId = 0;
    rec.interfaceName = undefined;
    rec.direction = 'unknown';
    rec.processName = undefined;
    rec.processId = undefined;
    rec.effectiveProcessName = undefined;
    rec.effectiveProcessId = undefined;
  }

  /**
   * The 0xA1B2CD34 magic covers two record-header sizes (formats.md §1.6). Like Wireshark, read the first
   * records with each size and keep the first that looks sane; libpcap's 24-byte form wins a tie.
   * Returns false while more input is needed to decide.
   */
  private decideVariant(buf: ChunkBuffer, eof: boolean): boolean {
    for (const headerBytes of [KUZNETZOV_RECORD_HEADER_BYTES, SS990915_RECORD_HEADER_BYTES]) {
      const verdict = this.probeRecords(buf, headerBytes, eof);
      if (verdict === PROBE_NEED_MORE) {
        this.needBytes = buf.availableBytes + 1;
        return false;
      }
      if (verdict === PROBE_SANE) {
        this.recordHeaderBytes = headerBytes;
        break;
      }
    }
    this.variantDecided = true;
    this.needBytes = this.recordHeaderBytes;
    return true;
  }

  private probeRecords(buf: ChunkBuffer, headerBytes: number, eof: boolean): number {
    let pos = buf.start;
    for (let i = 0; i < VARIANT_PROBE_RECORDS; i++) {
      const leftBytes = buf.end - pos;
      if (leftBytes === 0 && eof) return PROBE_SANE;
      if (leftBytes < headerBytes) return eof ? PROBE_INSANE : PROBE_NEED_MORE;
      const [capLenBytes, origLenBytes] = this.readLengths(buf.view, pos);
      if (capLenBytes > this.maxCapLenBytes || capLenBytes > origLenBytes) return PROBE_INSANE;
      pos += headerBytes + capLenBytes;
      if (pos > buf.end) return eof ? PROBE_INSANE : PROBE_NEED_MORE;
    }
    return PROBE_SANE;
  }

  /** caplen and len of the record at `pos`, after libpcap's swap rules (cold paths only: allocates). */
  private readLengths(view: DataView, pos: number): [number, number] {
    const le = this.littleEndian;
    const capLenBytes = view.getUint32(pos + 8, le);
    const origLenBytes = view.getUint32(pos + 12, le);
    const swap =
      this.lengthOrder === LENGTHS_SWAPPED ||
      (this.lengthOrder === LENGTHS_MAYBE_SWAPPED && capLenBytes > origLenBytes);
    return swap ? [origLenBytes, capLenBytes] : [capLenBytes, origLenBytes];
  }

  /** The hot loop: one record per iteration, no allocation (the record points into the buffer); fields hoisted to locals. */
  private parseRecords(buf: ChunkBuffer): void {
    const sink = this.sink;
    const rec = sink.record;
    const view = buf.view;
    const end = buf.end;
    const le = this.littleEndian;
    const headerBytes = this.recordHeaderBytes;
    const lengthOrder = this.lengthOrder;
    const maxCapLenBytes = this.maxCapLenBytes;
    const resync = sink.resync;
    let pos = buf.start;
    for (;;) {
      if (end - pos < headerBytes) {
        this.needBytes = headerBytes;
        break;
      }
      let capLenBytes = view.getUint32(pos + 8, le);
      let origLenBytes = view.getUint32(pos + 12, le);
      if (lengthOrder !== LENGTHS_NORMAL && (lengthOrder === LENGTHS_SWAPPED || capLenBytes > origLenBytes)) {
        const t = capLenBytes;
        capLenBytes = origLenBytes;
        origLenBytes = t;
      }
      if (capLenBytes > maxCapLenBytes) {
        sink.fail(
          'pcap-caplen-impossible',
          buf.baseOffset + pos,
          `caplen ${capLenBytes} > maximum ${maxCapLenBytes} for linktype ${rec.linktype}`,
        );
        // Resync: this header is not a record boundary; the scan starts at the next byte.
        if (resync) pos += 1;
        break;
      }
      if (resync && !this.plausibleLengths(view, pos)) {
        sink.fail('pcap-record-implausible', buf.baseOffset + pos, this.describeHeader(view, pos));
        pos += 1;
        break;
      }
      const recordBytes = headerBytes + capLenBytes;
      if (end - pos < recordBytes) {
        this.needBytes = recordBytes;
        break;
      }
      this.setTimestamp(view.getUint32(pos, le), view.getUint32(pos + 4, le));
      this.setLengths(capLenBytes, origLenBytes);
      rec.buffer = buf.bytes;
      rec.dataOffset = pos + headerBytes;
      pos += recordBytes;
      buf.start = pos;
      sink.emit();
      if (sink.pause !== undefined) break;
    }
    buf.start = pos;
  }

  /**
   * µs or ns by magic. An out-of-range fraction (tcpdump's timestamp_invalid_nano.pcap) is carried into the
   * seconds, so tsNsec keeps its 0..999_999_999 contract while the instant stays the one the file wrote.
   */
  private setTimestamp(tsSec: number, tsFrac: number): void {
    const rec = this.sink.record;
    this.lastTsSec = tsSec;
    const fracPerSec = this.nanosecond ? NSEC_PER_SEC : USEC_PER_SEC;
    const nsecPerFrac = this.nanosecond ? 1 : 1000;
    if (tsFrac < fracPerSec) {
      rec.tsSec = tsSec;
      rec.tsNsec = tsFrac * nsecPerFrac;
      return;
    }
    const carrySec = Math.floor(tsFrac / fracPerSec);
    rec.tsSec = tsSec + carrySec;
    rec.tsNsec = (tsFrac - carrySec * fracPerSec) * nsecPerFrac;
  }

  /**
   * libpcap cuts a caplen above the file snaplen down to the snaplen (Solaris 2.3 bufmod bug) but keeps
   * orig_len as written even when smaller than caplen; then the declared FCS is trimmed (formats.md §1.4).
   */
  private setLengths(capLenBytes: number, origLenBytes: number): void {
    const rec = this.sink.record;
    const keptBytes = capLenBytes > this.effectiveSnaplenBytes ? this.effectiveSnaplenBytes : capLenBytes;
    if (this.fcsBytes === 0) {
      rec.capLenBytes = keptBytes;
      rec.origLenBytes = origLenBytes;
      return;
    }
    trimFcs(keptBytes, origLenBytes, this.fcsBytes, this.trimmed);
    rec.capLenBytes = this.trimmed.capLenBytes;
    rec.origLenBytes = this.trimmed.origLenBytes;
  }

  /**
   * Resync mode: is the record header at `pos` one a live writer produces? caplen at least 1 and within the file's
   * snap length (libpcap would cut a longer one; a live writer never writes one), orig_len at least caplen and at
   * most any link's largest packet, the sub-second field below one second.
   */
  private plausibleLengths(view: DataView, pos: number): boolean {
    const [capLenBytes, origLenBytes] = this.readLengths(view, pos);
    if (capLenBytes === 0 || capLenBytes > this.effectiveSnaplenBytes || capLenBytes > this.maxCapLenBytes) return false;
    if (origLenBytes < capLenBytes || origLenBytes > PLAUSIBLE_MAX_ORIG_LEN_BYTES) return false;
    return view.getUint32(pos + 4, this.littleEndian) < (this.nanosecond ? NSEC_PER_SEC : USEC_PER_SEC);
  }

  /** The fields of a rejected record header, for the damage detail. */
  private describeHeader(view: DataView, pos: number): string {
    const [capLenBytes, origLenBytes] = this.readLengths(view, pos);
    const fraction = view.getUint32(pos + 4, this.littleEndian);
    return `caplen ${capLenBytes}, len ${origLenBytes}, snaplen ${this.effectiveSnaplenBytes}, sub-second ${fraction}`;
  }

  /**
   * Resync mode, after damage: step forward byte by byte to the next offset that holds either a plausible record
   * header (lengths as `plausibleLengths`, timestamp near the last good record's, and the header after it plausible
   * too when its bytes are already here — the stream is not held back waiting for the next packet) or a new pcap
   * file header (a writer started again on the same pipe). Returns false while more bytes are needed; the bytes
   * before the first unrejected offset are dropped as they are passed, so memory stays at one buffer.
   */
  private scan(buf: ChunkBuffer, eof: boolean): boolean {
    this.needBytes = Math.max(this.recordHeaderBytes, FILE_HEADER_BYTES);
    for (let pos = buf.start; ; pos++) {
      const found = this.candidateAt(buf, pos, eof);
      if (found === CANDIDATE_NO) continue;
      if (found === CANDIDATE_NEED_MORE) {
        // At the end of input nothing more can be found: the rest is skipped and `finish` reports it.
        buf.start = eof ? buf.end : pos;
        return false;
      }
      buf.start = pos;
      this.sink.resumeAt(buf.baseOffset + pos);
      if (found === CANDIDATE_FILE_HEADER) this.headerAccepted = false;
      this.needBytes = this.recordHeaderBytes;
      return true;
    }
  }

  private candidateAt(buf: ChunkBuffer, pos: number, eof: boolean): number {
    const view = buf.view;
    const leftBytes = buf.end - pos;
    if (leftBytes < 4) return CANDIDATE_NEED_MORE;
    if (pcapByteOrder(view.getUint32(pos, true)) !== null) {
      if (leftBytes < FILE_HEADER_BYTES) return eof ? CANDIDATE_NO : CANDIDATE_NEED_MORE;
      return saneFileHeaderAt(view, pos) ? CANDIDATE_FILE_HEADER : CANDIDATE_NO;
    }
    const headerBytes = this.recordHeaderBytes;
    if (leftBytes < headerBytes) return eof ? CANDIDATE_NO : CANDIDATE_NEED_MORE;
    if (!this.plausibleLengths(view, pos) || !this.plausibleTime(view, pos)) return CANDIDATE_NO;
    const next = pos + headerBytes + this.readLengths(view, pos)[0];
    if (buf.end - next >= FILE_HEADER_BYTES && pcapByteOrder(view.getUint32(next, true)) !== null) return CANDIDATE_RECORD;
    if (buf.end - next >= headerBytes && !(this.plausibleLengths(view, next) && this.plausibleTime(view, next))) return CANDIDATE_NO;
    return CANDIDATE_RECORD;
  }

  private plausibleTime(view: DataView, pos: number): boolean {
    if (this.lastTsSec < 0) return true;
    const tsSec = view.getUint32(pos, this.littleEndian);
    return tsSec >= this.lastTsSec - PLAUSIBLE_BACK_SEC && tsSec <= this.lastTsSec + PLAUSIBLE_AHEAD_SEC;
  }

  private refuse(code: 'truncated-file-header' | 'unsupported-version' | 'bad-file-header', message: string): never {
    throw new CaptureError(this.sink.path, code, message);
  }
}

