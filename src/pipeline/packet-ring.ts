/**
 * Decoded packets handed from a thread that reads and decodes a capture (feed-worker.ts) to the thread that replays
 * them through the flow tables (issue 7: both cores; reading, parsing and decoding were a third of a replay's time).
 * A ring of 64-byte units in shared memory: a packet's units hold what the tables and the replay read of it (packet
 * time, frame, lengths, ports, direction, the four addresses an ICMP error may need), its service guess
 * (decode/app/fingerprint.ts guessService, made by the decoding thread: the payload itself does not travel) and the
 * hash the tables file its flow under (flow/table.ts packetFlowHash, also made there). The
 * reading side fills one reused DecodedPacket whose `data` is the ring itself, the addresses' offsets pointing into
 * the units, so the tables run unchanged and see the same values as in one thread.
 *
 * Synchronisation: two int32 counters (units written, units read) published in batches with Atomics.store. The
 * writer sleeps on a full ring until a quarter of it is free (Atomics.wait: it is a worker); the reader, the main
 * thread, waits on an empty ring without blocking its event loop (Atomics.waitAsync). Each side wakes the other
 * only when it said it sleeps.
 */
import { SERVICE_GUESSES, type ServiceGuess } from '../decode/app/fingerprint.js';
import { createDecodedPacket, type MutableDecodedPacket } from '../decode/decoded-packet.js';
import { packetFlowHash } from '../flow/table.js';
import type { DecodedPacket, Direction, ReusableCaptureRecord } from '../types.js';
import { AT_DIRECTION, AT_DST4, AT_DST4_NUMBER, AT_DST6, AT_DST_PORT, AT_FLOW_HASH, AT_FRAME, AT_ICMP_CODE, AT_ICMP_TYPE, AT_IP_LEN, AT_IP_PROTO, AT_IP_VERSION, AT_ORIG_LEN, AT_QUOTED_DST, AT_QUOTED_DST_PORT, AT_QUOTED_IP_VERSION, AT_QUOTED_SRC, AT_QUOTED_SRC_PORT, AT_SERVICE, AT_SRC4, AT_SRC4_NUMBER, AT_SRC6, AT_SRC_PORT, AT_TS_NSEC, AT_TS_SEC, AT_UDP_LEN, AT_UNITS, BYTES_READ, CANCELLED, DEFAULT_UNITS, DONE, HEADER_BYTES, PAD_UNIT, PUBLISH_EVERY, READ, READER_WAITING, READER_WAKE_AT, RECORDS, STAGE_UNITS, TOTAL_BYTES, UNIT_BYTES, WAIT_MS, WRITER_WAITING, WRITER_WAKE_AT, WRITTEN } from './ring-layout.js';

/** Atomics.waitAsync (ES2024, in Node since 16), typed here: the project compiles against an older library. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const DIRECTIONS: readonly Direction[] = ['unknown', 'in', 'out'];

/** Shared memory for a ring of `units` 64-byte units (a power of two, at least one stage). */
export function createPacketRingBuffer(units = DEFAULT_UNITS): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + units * UNIT_BYTES);
}

/** Thrown on the writing side once the reader cancelled the ring (the replay failed or stopped). */
export class PacketRingCancelled extends Error {
  constructor() {
    super('packet ring cancelled by its reader');
    this.name = 'PacketRingCancelled';
  }
}

/** Views of units: the shared ring after its control block, or the writer's own stage. */
class UnitViews {
  readonly doubles: Float64Array;
  /** Lengths and nanoseconds: unsigned, as a damaged record may claim up to 2^32 - 1. */
  readonly words: Uint32Array;
  readonly shorts: Uint16Array;
  readonly bytes: Uint8Array;

  constructor(buffer: ArrayBufferLike, offset: number, readonly units: number) {
    this.doubles = new Float64Array(buffer, offset, (units * UNIT_BYTES) / 8);
    this.words = new Uint32Array(buffer, offset, (units * UNIT_BYTES) / 4);
    this.shorts = new Uint16Array(buffer, offset, (units * UNIT_BYTES) / 2);
    this.bytes = new Uint8Array(buffer, offset, units * UNIT_BYTES);
  }
}

class RingViews extends UnitViews {
  readonly control: Int32Array;
  readonly progress: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    const units = (buffer.byteLength - HEADER_BYTES) / UNIT_BYTES;
    if (!Number.isInteger(units) || units < STAGE_UNITS || (units & (units - 1)) !== 0) {
      throw new Error(`packet ring: unit count must be a power of two, at least ${STAGE_UNITS}`);
    }
    super(buffer, HEADER_BYTES, units);
    this.control = new Int32Array(buffer, 0, 8);
    this.progress = new Float64Array(buffer, 0, 8);
  }
}

/**
 * The decoding thread's side: puts each replayed packet into the ring, in capture order. Counters are int32 and
 * wrap (differences taken `| 0`), like the shared ones: a capture may hold more than 2^31 packets.
 */
export class PacketRingWriter {
  private readonly views: RingViews;
  private readonly mask: number;
  private next = 0;
  private readSeen = 0;
  private readonly stage = new UnitViews(new ArrayBuffer(STAGE_UNITS * UNIT_BYTES), 0, STAGE_UNITS);
  /** Units of the stage filled. */
  private staged = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.views = new RingViews(buffer);
    this.mask = this.views.units - 1;
  }

  /** One packet the tables take (packet-feed.ts isReplayedPacket), with its service guess. */
  put(pkt: DecodedPacket, guess: ServiceGuess): void {
    const units = pkt.hasQuotedUdp ? 3 : pkt.ipVersion === 6 ? 2 : 1;
    if (this.staged + units > STAGE_UNITS) this.flushStage();
    const stage = this.stage;
    const b = this.staged * UNIT_BYTES;
    const record = pkt.record;
    stage.doubles[(b + AT_TS_SEC) >> 3] = record.tsSec;
    stage.doubles[(b + AT_FRAME) >> 3] = record.frame;
    const words = stage.words;
    words[(b + AT_TS_NSEC) >> 2] = record.tsNsec;
    words[(b + AT_ORIG_LEN) >> 2] = record.origLenBytes;
    words[(b + AT_IP_LEN) >> 2] = pkt.ipLenBytes;
    words[(b + AT_UDP_LEN) >> 2] = pkt.udpLenBytes;
    const shorts = stage.shorts;
    shorts[(b + AT_SRC_PORT) >> 1] = pkt.srcPort;
    shorts[(b + AT_DST_PORT) >> 1] = pkt.dstPort;
    const bytes = stage.bytes;
    bytes[b + AT_UNITS] = units;
    bytes[b + AT_IP_VERSION] = pkt.ipVersion;
    bytes[b + AT_DIRECTION] = pkt.direction === 'in' ? 1 : pkt.direction === 'out' ? 2 : 0;
    bytes[b + AT_SERVICE] = guess.index;
    if (pkt.ipVersion === 6) {
      copyBytes(pkt.data, pkt.srcAddrOffset, bytes, b + AT_SRC6, 16);
      copyBytes(pkt.data, pkt.dstAddrOffset, bytes, b + AT_DST6, 16);
    } else {
      copyBytes(pkt.data, pkt.srcAddrOffset, bytes, b + AT_SRC4, 4);
      copyBytes(pkt.data, pkt.dstAddrOffset, bytes, b + AT_DST4, 4);
      words[(b + AT_SRC4_NUMBER) >> 2] = pkt.src4;
      words[(b + AT_DST4_NUMBER) >> 2] = pkt.dst4;
    }
    if (pkt.hasQuotedUdp) {
      bytes[b + AT_IP_PROTO] = pkt.ipProto;
      shorts[(b + AT_ICMP_TYPE) >> 1] = pkt.icmpType + 1;
      shorts[(b + AT_ICMP_CODE) >> 1] = pkt.icmpCode + 1;
      const quotedBytes = pkt.quotedIpVersion === 6 ? 16 : 4;
      bytes[b + AT_QUOTED_IP_VERSION] = pkt.quotedIpVersion;
      shorts[(b + AT_QUOTED_SRC_PORT) >> 1] = pkt.quotedSrcPort;
      shorts[(b + AT_QUOTED_DST_PORT) >> 1] = pkt.quotedDstPort;
      copyBytes(pkt.data, pkt.quotedSrcAddrOffset, bytes, b + AT_QUOTED_SRC, quotedBytes);
      copyBytes(pkt.data, pkt.quotedDstAddrOffset, bytes, b + AT_QUOTED_DST, quotedBytes);
    } else {
      words[(b + AT_FLOW_HASH) >> 2] = packetFlowHash(pkt);
    }
    this.staged += units;
    if (this.staged === STAGE_UNITS) this.flushStage();
  }

  /** Copy the stage into the ring (marking an unfilled rest as empty) and publish it. */
  private flushStage(): void {
    if (this.staged === 0) return;
    if (this.staged < STAGE_UNITS) this.stage.bytes[this.staged * UNIT_BYTES + AT_UNITS] = PAD_UNIT;
    const views = this.views;
    if (((this.next + STAGE_UNITS - this.readSeen) | 0) > views.units) this.waitForRoom(STAGE_UNITS);
    // The ring is a whole number of stages and a stage is copied whole: a stage never wraps around the ring's end.
    views.bytes.set(this.stage.bytes, (this.next & this.mask) * UNIT_BYTES);
    this.staged = 0;
    this.next = (this.next + STAGE_UNITS) | 0;
    this.publish();
  }

  /** What the reading thread's progress line shows: bytes read, the input's size, records read. */
  progress(bytesRead: number, totalBytes: number | undefined, records: number): void {
    const progress = this.views.progress;
    progress[BYTES_READ] = bytesRead;
    progress[TOTAL_BYTES] = totalBytes ?? -1;
    progress[RECORDS] = records;
  }

  /** Publish the rest and mark the stream ended (also after a failure: the reader then takes the worker's error). */
  finish(): void {
    if (Atomics.load(this.views.control, CANCELLED) !== 1) this.flushStage();
    Atomics.store(this.views.control, DONE, 1);
    Atomics.notify(this.views.control, WRITTEN);
  }

  private publish(): void {
    publishCounter(this.views.control, WRITTEN, this.next, READER_WAITING, READER_WAKE_AT);
  }

  private waitForRoom(units: number): void {
    const control = this.views.control;
    for (;;) {
      if (Atomics.load(control, CANCELLED) === 1) throw new PacketRingCancelled();
      this.readSeen = Atomics.load(control, READ);
      if (((this.next + units - this.readSeen) | 0) <= this.views.units) return;
      // Sleep until a quarter of the ring is free: one wake-up per quarter, not per batch the reader publishes.
      Atomics.store(control, WRITER_WAKE_AT, (this.readSeen + (this.views.units >> 2)) | 0);
      Atomics.store(control, WRITER_WAITING, 1);
      Atomics.wait(control, READ, this.readSeen, WAIT_MS);
    }
  }
}

/** The replaying thread's side: takes the packets out in order into one reused DecodedPacket. */
export class PacketRingReader {
  private readonly views: RingViews;
  private readonly mask: number;
  private next = 0;
  private readonly pkt: MutableDecodedPacket = createDecodedPacket();
  private readonly record: ReusableCaptureRecord;
  constructor(buffer: SharedArrayBuffer) {
    this.views = new RingViews(buffer);
    this.mask = this.views.units - 1;
    this.record = this.pkt.record as ReusableCaptureRecord;
    this.pkt.data = this.views.bytes;
    this.setUdpFields();
  }

  /**
   * The fields every UDP packet has the same (no ICMP, nothing quoted): set once, and again after an ICMP error was
   * handed over, rather than for every packet.
   */
  private setUdpFields(): void {
    const pkt = this.pkt;
    pkt.hasUdp = true;
    pkt.ipProto = 17;
    pkt.icmpType = -1;
    pkt.icmpCode = -1;
    pkt.quotedIpVersion = 0;
    pkt.quotedSrcPort = -1;
    pkt.quotedDstPort = -1;
    pkt.quotedSrcAddrOffset = -1;
    pkt.quotedDstAddrOffset = -1;
  }

  /**
   * Hand every packet written so far to `onPacket` (the packet and its guess are valid during the call) with its flow
   * hash (undefined for an ICMP error); returns how many. `stopAfter` bounds one call, so the caller can heed its
   * output's backpressure between calls.
   */
  take(onPacket: (pkt: DecodedPacket, guess: ServiceGuess, flowHash: number | undefined) => void, stopAfter: number): number {
    const views = this.views;
    const written = Atomics.load(views.control, WRITTEN);
    const pkt = this.pkt;
    const record = this.record;
    const doubles = views.doubles;
    const words = views.words;
    const shorts = views.shorts;
    const bytes = views.bytes;
    let taken = 0;
    let sincePublished = 0;
    while (taken < stopAfter && ((written - this.next) | 0) > 0) {
      const b = (this.next & this.mask) * UNIT_BYTES;
      const units = bytes[b + AT_UNITS]!;
      if (units === PAD_UNIT) {
        // The rest of this stage is empty.
        this.next = (this.next + STAGE_UNITS - (this.next & (STAGE_UNITS - 1))) | 0;
        continue;
      }
      record.tsSec = doubles[(b + AT_TS_SEC) >> 3]!;
      record.frame = doubles[(b + AT_FRAME) >> 3]!;
      record.tsNsec = words[(b + AT_TS_NSEC) >> 2]!;
      record.origLenBytes = words[(b + AT_ORIG_LEN) >> 2]!;
      pkt.ipLenBytes = words[(b + AT_IP_LEN) >> 2]!;
      pkt.udpLenBytes = words[(b + AT_UDP_LEN) >> 2]!;
      pkt.srcPort = shorts[(b + AT_SRC_PORT) >> 1]!;
      pkt.dstPort = shorts[(b + AT_DST_PORT) >> 1]!;
      const version = bytes[b + AT_IP_VERSION]!;
      pkt.ipVersion = version as 0 | 4 | 6;
      pkt.direction = DIRECTIONS[bytes[b + AT_DIRECTION]!]!;
      if (version === 6) {
        pkt.srcAddrOffset = b + AT_SRC6;
        pkt.dstAddrOffset = b + AT_DST6;
        pkt.src4 = 0;
        pkt.dst4 = 0;
      } else {
        pkt.srcAddrOffset = b + AT_SRC4;
        pkt.dstAddrOffset = b + AT_DST4;
        pkt.src4 = words[(b + AT_SRC4_NUMBER) >> 2]!;
        pkt.dst4 = words[(b + AT_DST4_NUMBER) >> 2]!;
      }
      const quoted = units === 3;
      pkt.hasQuotedUdp = quoted;
      let flowHash: number | undefined;
      if (quoted) {
        // An ICMP error, for this call only (setUdpFields after it): no UDP header or ports of its own (-1, as
        // decoded; the ring's 16-bit fields would say 65535).
        pkt.hasUdp = false;
        pkt.ipProto = bytes[b + AT_IP_PROTO]!;
        pkt.srcPort = -1;
        pkt.dstPort = -1;
        pkt.icmpType = shorts[(b + AT_ICMP_TYPE) >> 1]! - 1;
        pkt.icmpCode = shorts[(b + AT_ICMP_CODE) >> 1]! - 1;
        pkt.quotedIpVersion = bytes[b + AT_QUOTED_IP_VERSION]! as 0 | 4 | 6;
        pkt.quotedSrcPort = shorts[(b + AT_QUOTED_SRC_PORT) >> 1]!;
        pkt.quotedDstPort = shorts[(b + AT_QUOTED_DST_PORT) >> 1]!;
        pkt.quotedSrcAddrOffset = b + AT_QUOTED_SRC;
        pkt.quotedDstAddrOffset = b + AT_QUOTED_DST;
      } else {
        flowHash = words[(b + AT_FLOW_HASH) >> 2]! | 0;
      }
      onPacket(pkt, SERVICE_GUESSES[bytes[b + AT_SERVICE]!]!, flowHash);
      if (quoted) this.setUdpFields();
      taken++;
      // Only now are the units free (the packet's addresses are read from them during the call). Given back now and
      // then within a long call, so the writer works meanwhile.
      this.next = (this.next + units) | 0;
      sincePublished += units;
      if (sincePublished >= PUBLISH_EVERY) {
        this.publishRead();
        sincePublished = 0;
      }
    }
    this.publishRead();
    return taken;
  }

  private publishRead(): void {
    publishCounter(this.views.control, READ, this.next, WRITER_WAITING, WRITER_WAKE_AT);
  }

  /** True once the writer finished and every packet was taken. */
  get ended(): boolean {
    const control = this.views.control;
    return Atomics.load(control, DONE) === 1 && Atomics.load(control, WRITTEN) === this.next;
  }

  /** Wait (without blocking the event loop) until the writer published more, finished, or `WAIT_MS` passed. */
  async waitForPackets(): Promise<void> {
    const control = this.views.control;
    const seen = this.next;
    // Woken once a quarter of the ring is there (or at the end), not for every batch the writer publishes: each
    // wake-up is a task on this thread's event loop, and a reader as fast as its writer would take one per batch.
    // Before the first packet, at the first stage: both threads start cold, and this one's warm-up then overlaps
    // the writer's instead of following it (issue 7: the worker took ~25 ms for its first quarter of a ring).
    const wakeAfterUnits = seen === 0 ? STAGE_UNITS : this.views.units >> 2;
    Atomics.store(control, READER_WAKE_AT, (seen + wakeAfterUnits) | 0);
    Atomics.store(control, READER_WAITING, 1);
    if (Atomics.load(control, WRITTEN) !== seen || Atomics.load(control, DONE) === 1) return;
    const wait = waitAsync(control, WRITTEN, seen, WAIT_MS);
    if (wait.async) await wait.value;
  }

  /** Bytes read, the input's size (undefined when unknown), records read, as the writer last said. */
  progress(): [number, number | undefined, number] {
    const progress = this.views.progress;
    const total = progress[TOTAL_BYTES]!;
    return [progress[BYTES_READ]!, total < 0 ? undefined : total, progress[RECORDS]!];
  }

  /** Stop the writer (the replay failed): its next wait for room throws PacketRingCancelled. */
  cancel(): void {
    Atomics.store(this.views.control, CANCELLED, 1);
    Atomics.notify(this.views.control, READ);
  }
}

/**
 * Publish one side's counter, and wake the other side if it sleeps on that counter and it has reached what the
 * sleeper asked for (its `wakeAt`): each side wakes the other only when it said it sleeps.
 */
function publishCounter(control: Int32Array, counter: number, value: number, waiting: number, wakeAt: number): void {
  Atomics.store(control, counter, value);
  if (Atomics.load(control, waiting) === 1 && ((value - Atomics.load(control, wakeAt)) | 0) >= 0) {
    Atomics.store(control, waiting, 0);
    Atomics.notify(control, counter);
  }
}

function copyBytes(from: Uint8Array, fromOffset: number, to: Uint8Array, toOffset: number, count: number): void {
  for (let i = 0; i < count; i++) to[toOffset + i] = from[fromOffset + i]!;
}
