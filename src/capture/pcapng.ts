/**
 * pcapng reader, formats.md §2 (draft-ietf-opsawg-pcapng) with libpcap `sf-pcapng.c` limits, plus Apple's
 * process-information blocks (§3.6). Unlike libpcap it accepts sections of either byte order and interfaces
 * of different link types and snaplens in one file, as Wireshark does.
 */
import type { Direction } from '../types.js';
import type { ChunkBuffer } from './chunk-buffer.js';
import { CaptureError, hex32, type CaptureErrorCode } from './errors.js';
import {
  adjustSnaplen,
  INITIAL_MAX_BLOCK_BYTES,
  MAX_SECTION_HEADER_BYTES,
  maxBlockBytesForLinktype,
  trimFcs,
  type TrimmedLengths,
} from './limits.js';
import { decodeOptionString, OptionCursor, readInt64 } from './options.js';
import type { FormatDescription, FormatReader, RecordSink } from './record-sink.js';
import type { CaptureDamageCode } from './summary.js';
import { setPcapngTimestamp, TsResolution } from './timestamp.js';

/** Block types (formats.md §2.3–2.7, §3.6). */
export const PCAPNG_BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 1,
  PB: 2,
  SPB: 3,
  EPB: 6,
  APPLE_PIB: 0x8000_0001,
} as const;

/**
 * Block types a resync scan accepts as the start of the next block (formats.md §2.1): those above, and the
 * name-resolution, interface-statistics, systemd-journal, decryption-secrets and custom blocks.
 */
const KNOWN_BLOCK_TYPES: ReadonlySet<number> = new Set([
  PCAPNG_BLOCK.SHB,
  PCAPNG_BLOCK.IDB,
  PCAPNG_BLOCK.PB,
  PCAPNG_BLOCK.SPB,
  4,
  5,
  PCAPNG_BLOCK.EPB,
  9,
  0x0a,
  0x0bad,
  0x4000_0bad,
  PCAPNG_BLOCK.APPLE_PIB,
]);

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

/** type + length + trailer. */
const BLOCK_OVERHEAD_BYTES = 12;
/** Enough to read any block's type and length, and an SHB's byte-order magic. */
const BLOCK_PEEK_BYTES = 12;
/** Smallest complete block of each kind: overhead + fixed body fields. */
const SHB_MIN_BYTES = BLOCK_OVERHEAD_BYTES + 16;
const IDB_MIN_BYTES = BLOCK_OVERHEAD_BYTES + 8;
const EPB_MIN_BYTES = BLOCK_OVERHEAD_BYTES + 20;
const PB_MIN_BYTES = BLOCK_OVERHEAD_BYTES + 20;
const SPB_MIN_BYTES = BLOCK_OVERHEAD_BYTES + 4;
const PIB_MIN_BYTES = BLOCK_OVERHEAD_BYTES + 4;

/** IDB options (formats.md §2.4). */
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;
/** EPB / PB options (formats.md §2.5, §2.6, §3.6). */
const EPB_FLAGS = 2;
const EPB_APPLE_PIB_INDEX = 0x8001;
const EPB_APPLE_EFFECTIVE_PIB_INDEX = 0x8003;
/** Apple PIB options (formats.md §3.6). */
const PIB_NAME = 2;
const PIB_PATH = 3;

/** epb_flags bits 0-1 (direction) and 5-8 (FCS length in octets), formats.md §2.5. */
const EPB_FLAGS_DIRECTION_MASK = 0x3;
const EPB_FLAGS_FCS_SHIFT = 5;
const EPB_FLAGS_FCS_MASK = 0xf;
const NO_INDEX = -1;

/** One IDB, as the packet blocks of its section need it. */
class PcapngInterface {
  constructor(
    readonly id: number,
    readonly linktype: number,
    readonly snaplenBytes: number,
    readonly name: string | undefined,
    readonly tsResolution: TsResolution,
    readonly tsOffsetSec: number,
    readonly fcsBytes: number,
  ) {}
}

/** One Apple process-information block. */
interface AppleProcess {
  pid: number;
  name: string | undefined;
}

/** What an IDB's options say; filled by `readIdbOptions`. */
interface IdbOptions {
  name: string | undefined;
  tsResolution: TsResolution | null;
  tsOffsetSec: number;
  fcsBytes: number;
}

/** Reads a pcapng file block by block until the input ends or breaks. */
export class PcapngReader implements FormatReader {
  needBytes = BLOCK_PEEK_BYTES;
  headerAccepted = false;

  /** Byte order of the current section. */
  private littleEndian = true;
  private firstLittleEndian = true;
  private version = '';
  private sectionIndex = -1;
  private interfaces: PcapngInterface[] = [];
  private processes: AppleProcess[] = [];
  private maxBlockBytes = INITIAL_MAX_BLOCK_BYTES;
  private readonly options = new OptionCursor();
  private readonly trimmed: TrimmedLengths = { capLenBytes: 0, origLenBytes: 0 };
  /** Scratch for the packet options: set by `readPacketOptions`, read by `emitPacket`. */
  private packetFlags = 0;
  private processIndex = NO_INDEX;
  private effectiveProcessIndex = NO_INDEX;
  /** Resync mode: a later section header had a version this reader cannot read; its blocks are skipped. */
  private skippingSection = false;

  /** @param sink - shared record, counters and summary lists */
  constructor(private readonly sink: RecordSink) {}

  parse(buf: ChunkBuffer, eof: boolean): void {
    if (this.sink.damage !== null) return;
    if (!this.headerAccepted && !this.readFirstSectionHeader(buf, eof)) return;
    for (;;) {
      if (this.sink.scanning !== null && !this.skippingSection && !this.scan(buf, eof)) return;
      this.parseBlocks(buf);
      // Resync mode: a block that cannot be framed starts a scan for the next one.
      if (this.sink.scanning === null || this.skippingSection) return;
    }
  }

  finish(buf: ChunkBuffer): void {
    const leftBytes = buf.availableBytes;
    if (this.sink.damage === null && this.sink.scanning === null && this.headerAccepted && leftBytes > 0) {
      let detail = `only ${leftBytes} bytes of a block header left`;
      if (leftBytes >= 8) {
        const type = buf.view.getUint32(buf.start, this.littleEndian);
        const totalBytes = buf.view.getUint32(buf.start + 4, this.littleEndian);
        detail = `block type 0x${hex32(type)} length ${totalBytes}, only ${leftBytes} bytes left`;
      }
      this.sink.fail('pcapng-truncated-block', buf.startOffset, detail);
    }
    this.sink.endOfInput(buf.baseOffset + buf.end);
  }

  describe(): FormatDescription {
    return {
      format: 'pcapng',
      version: this.version,
      byteOrder: this.firstLittleEndian ? 'little-endian' : 'big-endian',
      nanosecond: false,
      variant: undefined,
      sections: this.sectionIndex + 1,
    };
  }

  /**
   * The first SHB is the file header: anything wrong with it is a CaptureError, with libpcap's limits
   * (`pcap_ng_check_header`: length 28..1 MiB, version 1.0 or 1.2). Returns false while waiting for bytes.
   */
  private readFirstSectionHeader(buf: ChunkBuffer, eof: boolean): boolean {
    const haveBytes = buf.availableBytes;
    const view = buf.view;
    const at = buf.start;
    if (haveBytes < BLOCK_PEEK_BYTES) return this.waitForHeader(haveBytes, SHB_MIN_BYTES, eof);
    const le = this.sectionByteOrder(view.getUint32(at + 8, true));
    if (le === null) {
      this.refuse('not-a-capture-file', `pcapng: bad byte-order magic 0x${hex32(view.getUint32(at + 8, false))}`);
    }
    const totalBytes = view.getUint32(at + 4, le);
    this.checkFirstSectionLength(totalBytes);
    if (haveBytes < totalBytes) return this.waitForHeader(haveBytes, totalBytes, eof);
    const trailerBytes = view.getUint32(at + totalBytes - 4, le);
    if (trailerBytes !== totalBytes) {
      this.refuse(
        'bad-file-header',
        `pcapng: section header block length ${totalBytes} does not match its trailer ${trailerBytes}`,
      );
    }
    const major = view.getUint16(at + 12, le);
    const minor = view.getUint16(at + 14, le);
    this.version = `${major}.${minor}`;
    // libpcap: only 1.0 and 1.2 (1.2 was written by some tools and is treated as 1.0).
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      this.refuse('unsupported-version', `pcapng: unsupported version ${this.version}`);
    }
    this.firstLittleEndian = le;
    this.startSection(le);
    buf.start += totalBytes;
    this.headerAccepted = true;
    this.needBytes = BLOCK_PEEK_BYTES;
    return true;
  }

  private waitForHeader(haveBytes: number, wantBytes: number, eof: boolean): false {
    if (eof) {
      this.refuse(
        'truncated-file-header',
        `pcapng: truncated section header block (${haveBytes} of ${wantBytes} bytes)`,
      );
    }
    this.needBytes = wantBytes;
    return false;
  }

  private checkFirstSectionLength(totalBytes: number): void {
    let problem = '';
    if (totalBytes > MAX_SECTION_HEADER_BYTES) problem = 'is larger than 1 MiB';
    else if (totalBytes < SHB_MIN_BYTES) problem = `is smaller than ${SHB_MIN_BYTES}`;
    else if (totalBytes % 4 !== 0) problem = 'is not a multiple of 4';
    if (problem !== '') {
      this.refuse('bad-file-header', `pcapng: section header block length ${totalBytes} ${problem}`);
    }
  }

  /**
   * The block loop: frame each block by its length, check the trailer, dispatch by type. In resync mode a block that
   * cannot be framed starts a scan at the next byte; damage inside a framed block (its trailer matched) ends with
   * the block, so reading goes on right after it.
   */
  private parseBlocks(buf: ChunkBuffer): void {
    const view = buf.view;
    const end = buf.end;
    const resync = this.sink.resync;
    let pos = buf.start;
    for (;;) {
      const leftBytes = end - pos;
      if (leftBytes < BLOCK_PEEK_BYTES) {
        this.needBytes = BLOCK_PEEK_BYTES;
        break;
      }
      const type = view.getUint32(pos, this.littleEndian);
      // An SHB announces its own byte order (formats.md §2.3): read its length in that order.
      const le = type === PCAPNG_BLOCK.SHB ? this.sectionByteOrder(view.getUint32(pos + 8, true)) : this.littleEndian;
      if (le === null) {
        const magicHex = hex32(view.getUint32(pos + 8, false));
        this.fail(buf, pos, 'pcapng-bad-byte-order-magic', `byte-order magic 0x${magicHex}`);
        if (resync) pos = this.startScan(pos);
        break;
      }
      const totalBytes = view.getUint32(pos + 4, le);
      if (!this.checkBlockLength(buf, pos, type, totalBytes)) {
        if (resync) pos = this.startScan(pos);
        break;
      }
      if (leftBytes < totalBytes) {
        this.needBytes = totalBytes;
        break;
      }
      const trailerBytes = view.getUint32(pos + totalBytes - 4, le);
      if (trailerBytes !== totalBytes) {
        this.fail(buf, pos, 'pcapng-block-length-mismatch', `header length ${totalBytes}, trailer ${trailerBytes}`);
        if (resync) pos = this.startScan(pos);
        break;
      }
      buf.start = pos + totalBytes;
      if (this.skippingSection && type !== PCAPNG_BLOCK.SHB) {
        pos += totalBytes;
        continue;
      }
      if (!this.readBlock(buf, pos, type, totalBytes, le)) {
        if (!resync) {
          buf.start = pos;
          break;
        }
        pos += totalBytes;
        if (!this.skippingSection) this.sink.resumeAt(buf.baseOffset + pos);
        continue;
      }
      // Resync mode: a readable section header ends the skipping of an unreadable section.
      if (this.sink.scanning !== null) this.sink.resumeAt(buf.baseOffset + pos);
      pos += totalBytes;
      if (this.sink.pause !== undefined) break;
    }
    buf.start = pos;
  }

  /** Resync: the block at `pos` cannot be framed, so the next one is looked for from the next byte. */
  private startScan(pos: number): number {
    this.skippingSection = false;
    return pos + 1;
  }

  /**
   * Resync mode, after a block that cannot be framed: step forward byte by byte to the next offset holding a block
   * of a known type whose length is sane (at least the type's fixed fields, a multiple of 4, within the maximum;
   * for a packet block, an interface the section described and a caplen that fits) and whose trailing copy of the
   * length matches. Returns false while more bytes are needed.
   */
  private scan(buf: ChunkBuffer, eof: boolean): boolean {
    const view = buf.view;
    for (let pos = buf.start; ; pos++) {
      const leftBytes = buf.end - pos;
      if (leftBytes < EPB_MIN_BYTES) {
        // Too few bytes to tell; at the end of input nothing more can be found (`finish` reports the rest).
        if (!eof || leftBytes < BLOCK_OVERHEAD_BYTES) {
          buf.start = eof ? buf.end : pos;
          this.needBytes = EPB_MIN_BYTES;
          return false;
        }
      }
      const totalBytes = this.plausibleBlockAt(view, pos, leftBytes);
      if (totalBytes === 0) continue;
      if (leftBytes < totalBytes) {
        if (eof) continue;
        buf.start = pos;
        this.needBytes = totalBytes;
        return false;
      }
      const le = view.getUint32(pos, true) === PCAPNG_BLOCK.SHB ? this.sectionByteOrder(view.getUint32(pos + 8, true))! : this.littleEndian;
      if (view.getUint32(pos + totalBytes - 4, le) !== totalBytes) continue;
      buf.start = pos;
      this.sink.resumeAt(buf.baseOffset + pos);
      this.needBytes = BLOCK_PEEK_BYTES;
      return true;
    }
  }

  /** The total length of a plausible block starting at `pos` (see `scan`), or 0. */
  private plausibleBlockAt(view: DataView, pos: number, leftBytes: number): number {
    let le = this.littleEndian;
    let type = view.getUint32(pos, le);
    if (view.getUint32(pos, true) === PCAPNG_BLOCK.SHB) {
      const order = leftBytes >= BLOCK_PEEK_BYTES ? this.sectionByteOrder(view.getUint32(pos + 8, true)) : null;
      if (order === null) return 0;
      le = order;
      type = PCAPNG_BLOCK.SHB;
    } else if (!KNOWN_BLOCK_TYPES.has(type)) {
      return 0;
    }
    const totalBytes = view.getUint32(pos + 4, le);
    if (totalBytes < BLOCK_OVERHEAD_BYTES || totalBytes % 4 !== 0 || totalBytes > this.maxBlockBytes) return 0;
    switch (type) {
      case PCAPNG_BLOCK.SHB:
        return totalBytes >= SHB_MIN_BYTES && leftBytes >= SHB_MIN_BYTES && view.getUint16(pos + 12, le) === 1 ? totalBytes : 0;
      case PCAPNG_BLOCK.IDB:
        return totalBytes >= IDB_MIN_BYTES ? totalBytes : 0;
      case PCAPNG_BLOCK.EPB:
      case PCAPNG_BLOCK.PB: {
        if (totalBytes < EPB_MIN_BYTES || leftBytes < EPB_MIN_BYTES) return 0;
        const interfaceId = type === PCAPNG_BLOCK.EPB ? view.getUint32(pos + 8, le) : view.getUint16(pos + 8, le);
        const capLenBytes = view.getUint32(pos + 20, le);
        return interfaceId < this.interfaces.length && capLenBytes <= totalBytes - EPB_MIN_BYTES ? totalBytes : 0;
      }
      case PCAPNG_BLOCK.SPB:
        return totalBytes >= SPB_MIN_BYTES && this.interfaces.length > 0 ? totalBytes : 0;
      default:
        return totalBytes;
    }
  }

  /** libpcap `read_block`: at least 12, a multiple of 4, at most the current maximum block size. */
  private checkBlockLength(buf: ChunkBuffer, pos: number, type: number, totalBytes: number): boolean {
    if (totalBytes < BLOCK_OVERHEAD_BYTES) {
      this.fail(buf, pos, 'pcapng-block-too-small', `block type 0x${hex32(type)} length ${totalBytes} < 12`);
      return false;
    }
    if (totalBytes % 4 !== 0) {
      this.fail(
        buf,
        pos,
        'pcapng-block-length-not-multiple-of-4',
        `block type 0x${hex32(type)} length ${totalBytes} is not a multiple of 4`,
      );
      return false;
    }
    if (totalBytes > this.maxBlockBytes) {
      this.fail(
        buf,
        pos,
        'pcapng-block-too-large',
        `block type 0x${hex32(type)} length ${totalBytes} > maximum ${this.maxBlockBytes}`,
      );
      return false;
    }
    return true;
  }

  /** Handles one complete, framed block; false when it is damaged (damage already recorded). */
  private readBlock(buf: ChunkBuffer, pos: number, type: number, totalBytes: number, le: boolean): boolean {
    switch (type) {
      case PCAPNG_BLOCK.EPB:
        return this.readEnhancedPacket(buf, pos, totalBytes);
      case PCAPNG_BLOCK.SPB:
        return this.readSimplePacket(buf, pos, totalBytes);
      case PCAPNG_BLOCK.PB:
        return this.readObsoletePacket(buf, pos, totalBytes);
      case PCAPNG_BLOCK.IDB:
        return this.readInterface(buf, pos, totalBytes);
      case PCAPNG_BLOCK.SHB:
        return this.readLaterSectionHeader(buf, pos, totalBytes, le);
      case PCAPNG_BLOCK.APPLE_PIB:
        return this.readAppleProcess(buf, pos, totalBytes);
      default:
        // NRB, ISB, DSB, custom, local-use and unknown blocks: skipped by length (formats.md §2.1).
        return true;
    }
  }

  /** EPB (formats.md §2.5): interface id, 64-bit timestamp, caplen, len, data, options. */
  private readEnhancedPacket(buf: ChunkBuffer, pos: number, totalBytes: number): boolean {
    if (!this.checkMinLength(buf, pos, totalBytes, EPB_MIN_BYTES, 'enhanced packet block')) return false;
    const view = buf.view;
    const le = this.littleEndian;
    const iface = this.packetInterface(buf, pos, view.getUint32(pos + 8, le));
    if (iface === null) return false;
    return this.readTimestampedPacket(buf, pos, totalBytes, iface);
  }

  /** Obsolete PB (formats.md §2.6): like an EPB but with a 16-bit interface id and a drops count. */
  private readObsoletePacket(buf: ChunkBuffer, pos: number, totalBytes: number): boolean {
    if (!this.checkMinLength(buf, pos, totalBytes, PB_MIN_BYTES, 'packet block')) return false;
    const iface = this.packetInterface(buf, pos, buf.view.getUint16(pos + 8, this.littleEndian));
    if (iface === null) return false;
    return this.readTimestampedPacket(buf, pos, totalBytes, iface);
  }

  /** The EPB/PB common tail: both keep ts_hi, ts_lo, caplen, len at body offsets 4..19. */
  private readTimestampedPacket(buf: ChunkBuffer, pos: number, totalBytes: number, iface: PcapngInterface): boolean {
    const view = buf.view;
    const le = this.littleEndian;
    const capLenBytes = view.getUint32(pos + 20, le);
    const origLenBytes = view.getUint32(pos + 24, le);
    const dataAt = pos + 28;
    const bodyEnd = pos + totalBytes - 4;
    if (capLenBytes > bodyEnd - dataAt) {
      this.fail(buf, pos, 'pcapng-caplen-exceeds-block', `caplen ${capLenBytes} > ${bodyEnd - dataAt} body bytes`);
      return false;
    }
    const rec = this.sink.record;
    const tsHigh = view.getUint32(pos + 12, le);
    const tsLow = view.getUint32(pos + 16, le);
    setPcapngTimestamp(rec, iface.tsResolution, iface.tsOffsetSec, tsHigh, tsLow);
    this.readPacketOptions(view, dataAt + ((capLenBytes + 3) & ~3), bodyEnd);
    this.emitPacket(buf, iface, dataAt, capLenBytes, origLenBytes);
    return true;
  }

  /** SPB (formats.md §2.6): interface 0, no timestamp, caplen = min(len, snaplen) as libpcap computes it. */
  private readSimplePacket(buf: ChunkBuffer, pos: number, totalBytes: number): boolean {
    if (!this.checkMinLength(buf, pos, totalBytes, SPB_MIN_BYTES, 'simple packet block')) return false;
    const iface = this.packetInterface(buf, pos, 0);
    if (iface === null) return false;
    const origLenBytes = buf.view.getUint32(pos + 8, this.littleEndian);
    const capLenBytes = Math.min(origLenBytes, adjustSnaplen(iface.linktype, iface.snaplenBytes));
    const dataAt = pos + 12;
    const bodyBytes = totalBytes - SPB_MIN_BYTES;
    if (capLenBytes > bodyBytes) {
      this.fail(buf, pos, 'pcapng-caplen-exceeds-block', `caplen ${capLenBytes} > ${bodyBytes} body bytes`);
      return false;
    }
    const rec = this.sink.record;
    rec.tsSec = 0;
    rec.tsNsec = 0;
    this.clearPacketOptions();
    this.emitPacket(buf, iface, dataAt, capLenBytes, origLenBytes);
    return true;
  }

  /** libpcap: a packet before any IDB, or naming an interface the section never described, stops the file. */
  private packetInterface(buf: ChunkBuffer, pos: number, interfaceId: number): PcapngInterface | null {
    if (this.interfaces.length === 0) {
      this.fail(buf, pos, 'pcapng-packet-before-idb', 'packet block before any interface description block');
      return null;
    }
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) {
      this.fail(
        buf,
        pos,
        'pcapng-bad-interface-id',
        `interface id ${interfaceId}, section has ${this.interfaces.length} interfaces`,
      );
      return null;
    }
    return iface;
  }

  private clearPacketOptions(): void {
    this.packetFlags = 0;
    this.processIndex = NO_INDEX;
    this.effectiveProcessIndex = NO_INDEX;
  }

  /** epb_flags / pack_flags and Apple's PIB indexes; options with a wrong length are ignored. */
  private readPacketOptions(view: DataView, optionsAt: number, bodyEnd: number): void {
    this.clearPacketOptions();
    const le = this.littleEndian;
    const cursor = this.options;
    cursor.reset(view, optionsAt, bodyEnd, le);
    while (cursor.next()) {
      if (cursor.lengthBytes !== 4) continue;
      const code = cursor.code;
      if (code === EPB_FLAGS) this.packetFlags = view.getUint32(cursor.valueAt, le);
      else if (code === EPB_APPLE_PIB_INDEX) this.processIndex = view.getUint32(cursor.valueAt, le);
      else if (code === EPB_APPLE_EFFECTIVE_PIB_INDEX) this.effectiveProcessIndex = view.getUint32(cursor.valueAt, le);
    }
  }

  /** Fills the per-interface and per-packet fields, trims the FCS, and hands the record out. */
  private emitPacket(
    buf: ChunkBuffer,
    iface: PcapngInterface,
    dataAt: number,
    capLenBytes: number,
    origLenBytes: number,
  ): void {
    const rec = this.sink.record;
    const flags = this.packetFlags;
    rec.tsDigits = iface.tsResolution.digits;
    rec.linktype = iface.linktype;
    rec.interfaceId = iface.id;
    rec.interfaceName = iface.name;
    rec.direction = directionFromFlags(flags);
    // epb_flags FCS length (octets) wins when given; 0 means "not available", so fall back to if_fcslen.
    const fcsBytes = (flags >>> EPB_FLAGS_FCS_SHIFT) & EPB_FLAGS_FCS_MASK || iface.fcsBytes;
    if (fcsBytes === 0) {
      rec.capLenBytes = capLenBytes;
      rec.origLenBytes = origLenBytes;
    } else {
      trimFcs(capLenBytes, origLenBytes, fcsBytes, this.trimmed);
      rec.capLenBytes = this.trimmed.capLenBytes;
      rec.origLenBytes = this.trimmed.origLenBytes;
    }
    const proc = this.processIndex === NO_INDEX ? undefined : this.processes[this.processIndex];
    rec.processName = proc?.name;
    rec.processId = proc?.pid;
    const effective = this.effectiveProcessIndex === NO_INDEX ? undefined : this.processes[this.effectiveProcessIndex];
    rec.effectiveProcessName = effective?.name;
    rec.effectiveProcessId = effective?.pid;
    rec.buffer = buf.bytes;
    rec.dataOffset = dataAt;
    this.sink.emit();
  }

  /** IDB (formats.md §2.4): linktype u16, reserved u16, snaplen u32, options. */
  private readInterface(buf: ChunkBuffer, pos: number, totalBytes: number): boolean {
    if (!this.checkMinLength(buf, pos, totalBytes, IDB_MIN_BYTES, 'interface description block')) return false;
    const view = buf.view;
    const linktype = view.getUint16(pos + 8, this.littleEndian);
    const snaplenBytes = view.getUint32(pos + 12, this.littleEndian);
    const opts = this.readIdbOptions(buf, pos + 16, pos + totalBytes - 4);
    if (opts.tsResolution === null) {
      this.fail(buf, pos, 'pcapng-tsresol-unsupported', 'if_tsresol finer than 10^-19 or 2^-63');
      return false;
    }
    const id = this.interfaces.length;
    const { name, tsResolution, tsOffsetSec, fcsBytes } = opts;
    this.interfaces.push(new PcapngInterface(id, linktype, snaplenBytes, name, tsResolution, tsOffsetSec, fcsBytes));
    this.maxBlockBytes = Math.max(this.maxBlockBytes, maxBlockBytesForLinktype(linktype));
    this.sink.interfaces.push({
      section: this.sectionIndex,
      id,
      linktype,
      name: opts.name,
      snaplenBytes,
      tsDigits: opts.tsResolution.digits,
      tsOffsetSec: opts.tsOffsetSec,
      fcsBytes: opts.fcsBytes,
    });
    return true;
  }

  /**
   * if_name, if_tsresol (absent ⇒ µs), if_tsoffset (absent ⇒ 0), if_fcslen. A wrong length or a repeat is
   * ignored (libpcap refuses both; the draft lets readers skip a malformed option).
   */
  private readIdbOptions(buf: ChunkBuffer, optionsAt: number, bodyEnd: number): IdbOptions {
    const view = buf.view;
    const le = this.littleEndian;
    const out: IdbOptions = { name: undefined, tsResolution: TsResolution.MICROSECONDS, tsOffsetSec: 0, fcsBytes: 0 };
    let sawTsResolution = false;
    const cursor = this.options;
    cursor.reset(view, optionsAt, bodyEnd, le);
    while (cursor.next()) {
      const at = cursor.valueAt;
      const lengthBytes = cursor.lengthBytes;
      if (cursor.code === IF_NAME && out.name === undefined) {
        out.name = decodeOptionString(buf.bytes, at, lengthBytes);
      } else if (cursor.code === IF_TSRESOL && lengthBytes === 1 && !sawTsResolution) {
        sawTsResolution = true;
        out.tsResolution = TsResolution.fromOption(view.getUint8(at));
      } else if (cursor.code === IF_TSOFFSET && lengthBytes === 8) {
        out.tsOffsetSec = readInt64(view, at, le);
      } else if (cursor.code === IF_FCSLEN && lengthBytes === 1) {
        out.fcsBytes = fcsLengthBytes(view.getUint8(at));
      }
    }
    return out;
  }

  /**
   * A later SHB starts a new section: its own byte order, interface ids and PIB indexes restart at 0
   * (formats.md §2.3). Major version ≠ 1 stops the file, as in libpcap and Wireshark.
   */
  private readLaterSectionHeader(buf: ChunkBuffer, pos: number, totalBytes: number, le: boolean): boolean {
    if (!this.checkMinLength(buf, pos, totalBytes, SHB_MIN_BYTES, 'section header block')) return false;
    const major = buf.view.getUint16(pos + 12, le);
    const minor = buf.view.getUint16(pos + 14, le);
    if (major !== 1) {
      const detail = `section header ${this.sectionIndex + 2} has version ${major}.${minor}; only 1.x is read`;
      this.fail(buf, pos, 'pcapng-unsupported-version', detail);
      // Resync mode: the section's blocks cannot be read (their layout is unknown); skip to the next section.
      if (this.sink.resync) this.skippingSection = true;
      return false;
    }
    this.startSection(le);
    return true;
  }

  /** Apple PIB 0x80000001 (formats.md §3.6): pid u32, options 2 name, 3 path, 4 uuid; indexed by ordinal. */
  private readAppleProcess(buf: ChunkBuffer, pos: number, totalBytes: number): boolean {
    if (!this.checkMinLength(buf, pos, totalBytes, PIB_MIN_BYTES, 'process information block')) return false;
    const view = buf.view;
    const pid = view.getUint32(pos + 8, this.littleEndian);
    let name: string | undefined;
    let path: string | undefined;
    const cursor = this.options;
    cursor.reset(view, pos + 12, pos + totalBytes - 4, this.littleEndian);
    while (cursor.next()) {
      if (cursor.code === PIB_NAME && name === undefined) {
        name = decodeOptionString(buf.bytes, cursor.valueAt, cursor.lengthBytes);
      } else if (cursor.code === PIB_PATH && path === undefined) {
        path = decodeOptionString(buf.bytes, cursor.valueAt, cursor.lengthBytes);
      }
    }
    this.sink.processes.push({ section: this.sectionIndex, index: this.processes.length, pid, name, path });
    this.processes.push({ pid, name });
    return true;
  }

  private startSection(le: boolean): void {
    this.skippingSection = false;
    this.littleEndian = le;
    this.sectionIndex += 1;
    this.interfaces = [];
    this.processes = [];
  }

  /** true = little-endian, false = big-endian, null = not a byte-order magic. */
  private sectionByteOrder(magicLittleEndian: number): boolean | null {
    if (magicLittleEndian === BYTE_ORDER_MAGIC) return true;
    if (magicLittleEndian === BYTE_ORDER_MAGIC_SWAPPED) return false;
    return null;
  }

  private checkMinLength(buf: ChunkBuffer, pos: number, totalBytes: number, minBytes: number, what: string): boolean {
    if (totalBytes >= minBytes) return true;
    this.fail(buf, pos, 'pcapng-block-too-small', `${what} length ${totalBytes} < ${minBytes}`);
    return false;
  }

  private fail(buf: ChunkBuffer, pos: number, code: CaptureDamageCode, detail: string): void {
    this.sink.fail(code, buf.baseOffset + pos, detail);
  }

  private refuse(code: CaptureErrorCode, message: string): never {
    throw new CaptureError(this.sink.path, code, message);
  }
}

function directionFromFlags(flags: number): Direction {
  const bits = flags & EPB_FLAGS_DIRECTION_MASK;
  if (bits === 1) return 'in';
  if (bits === 2) return 'out';
  return 'unknown';
}

/**
 * if_fcslen: the draft's text says bits but its example (4) and every writer mean octets; a value of 16 or
 * more that is a whole number of octets can only be bits.
 */
function fcsLengthBytes(value: number): number {
  return value >= 16 && value % 8 === 0 ? value / 8 : value;
}
