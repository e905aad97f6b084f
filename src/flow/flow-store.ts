/**
 * Where the flow table keeps its flows: one typed array per field (struct of arrays), indexed by a flow's slot.
 * A flow costs a few hundred bytes and no garbage-collected object besides its small handle, so scavenges have
 * nothing to copy and half a million live flows stay in the low hundreds of MiB (issue 7; the hand-written reader
 * the issue measured did the same). `FlowRecord` is the handle: every `Flow` field is an accessor over the arrays,
 * so the table's state machines read like plain objects. A handle is valid until its flow ends: the slot is then
 * reused.
 */
import type { DirectionCounters, Flow, FlowEndReason, StateEvent } from './table.js';

/**
 * State changes kept per flow: pf rises first → single → multiple at most (peer states only rise, pf.c), conntrack
 * unreplied → replied, the two-state models initial → established; 3 holds every model (10 bytes a flow less than 4
 * with 240k flows alive, issue 7), and a longer history would keep its last slot current (addEvent).
 */
export const HISTORY_SLOTS = 3;

/**
 * Growth: doubling while the store is small; past 8k flows one step of ×64 (to 512k flows, ~115 MB of address space).
 * A growth copies the store into a new buffer, and the old one stays resident until a full garbage collection, which
 * may come long after: doubling at 131k flows (33 MB old, 33 MB copied) put the peak with 240k flows alive anywhere
 * between 145 and 163 MiB; one step of ×8 at 64k flows (14 MB old) still put it at 133 or 146 MiB from run to run
 * (issue 7: ≤ 150 MiB). Past 8k flows the old store is under 2 MB. Pages of the larger buffer that no flow reached
 * cost nothing (calloc'd, never touched); small captures never get there.
 */
const LARGE_STORE_FLOWS = 8192;
const LARGE_GROWTH = 64;

const LOCAL_SIDES = [undefined, 'a', 'b'] as const;
const SERVICE_BY = ['', 'port', 'payload'] as const;
/** timeoutKeyIndex of a flow without state. */
const NO_TIMEOUT_KEY = 255;
const EVENT_KINDS = ['created', 'timeout-changed'] as const;
/** packetSides bits: the flow's first packet came from side A; its latest did. */
export const PACKET_SIDE_FIRST_A = 1;
export const PACKET_SIDE_LATEST_A = 2;

type TypedArray = Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array;

type TypedArrayType = Float64ArrayConstructor | Uint32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor | Int32ArrayConstructor;

/** Every per-flow array of the store: name, element type, elements per flow. */
const STORE_FIELDS = [
  ['firstUs', Float64Array, 1],
  ['lastUs', Float64Array, 1],
  ['expiresUs', Float64Array, 1],
  ['stateCreatedUs', Float64Array, 1],
  ['maxGapUs', Float64Array, 1],
  ['firstFrame', Uint32Array, 1],
  ['lastFrame', Uint32Array, 1],
  ['id', Uint32Array, 1],
  ['deniedPackets', Uint32Array, 1],
  ['windowPackets', Uint32Array, 1],
  ['keyA0', Uint32Array, 1],
  ['keyA1', Uint32Array, 1],
  ['keyA2', Uint32Array, 1],
  ['keyA3', Uint32Array, 1],
  ['keyB0', Uint32Array, 1],
  ['keyB1', Uint32Array, 1],
  ['keyB2', Uint32Array, 1],
  ['keyB3', Uint32Array, 1],
  ['portA', Uint16Array, 1],
  ['portB', Uint16Array, 1],
  ['hash', Int32Array, 1],
  ['peerStateA', Uint8Array, 1],
  ['peerStateB', Uint8Array, 1],
  ['aPackets', Uint32Array, 1],
  ['aPayloadBytes', Float64Array, 1],
  ['aIpBytes', Float64Array, 1],
  ['aWireBytes', Float64Array, 1],
  ['bPackets', Uint32Array, 1],
  ['bPayloadBytes', Float64Array, 1],
  ['bIpBytes', Float64Array, 1],
  ['bWireBytes', Float64Array, 1],
  ['laterSideFirstUs', Float64Array, 1],
  ['otherSideLastUs', Float64Array, 1],
  ['packetSides', Uint8Array, 1],
  ['ipVersion', Uint8Array, 1],
  ['localSide', Uint8Array, 1],
  ['opener', Uint8Array, 1],
  ['hasState', Uint8Array, 1],
  ['seenReply', Uint8Array, 1],
  ['serviceBy', Uint8Array, 1],
  ['roles', Uint8Array, 1],
  ['timeoutKeyIndex', Uint8Array, 1],
  ['serviceIndex', Uint16Array, 1],
  ['historyCount', Uint8Array, 1],
  ['historyAtUs', Float64Array, HISTORY_SLOTS - 1],
  ['historyKeyIndex', Uint8Array, HISTORY_SLOTS],
  ['historyKind', Uint8Array, HISTORY_SLOTS],
  ['wheelSec', Int32Array, 1],
  ['wheelNext', Int32Array, 1],
  ['wheelPrev', Int32Array, 1],
] as const satisfies ReadonlyArray<readonly [string, TypedArrayType, number]>;

type StoreFieldName = (typeof STORE_FIELDS)[number][0];

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

/** The arrays, a free list of slots, and the names behind the small indexes (timeout keys, services). */
export class FlowStore {
  capacity: number;
  firstUs!: Float64Array;
  lastUs!: Float64Array;
  expiresUs!: Float64Array;
  stateCreatedUs!: Float64Array;
  maxGapUs!: Float64Array;
  /**
   * Frame numbers in 32 bits, as Wireshark counts them (frame.number is a guint32): past 4,294,967,295 packets they
   * wrap. 8 bytes a flow less than doubles (issue 7).
   */
  firstFrame!: Uint32Array;
  lastFrame!: Uint32Array;
  id!: Uint32Array;
  deniedPackets!: Uint32Array;
  windowPackets!: Uint32Array;
  keyA0!: Uint32Array;
  keyA1!: Uint32Array;
  keyA2!: Uint32Array;
  keyA3!: Uint32Array;
  keyB0!: Uint32Array;
  keyB1!: Uint32Array;
  keyB2!: Uint32Array;
  keyB3!: Uint32Array;
  portA!: Uint16Array;
  portB!: Uint16Array;
  hash!: Int32Array;
  peerStateA!: Uint8Array;
  peerStateB!: Uint8Array;
  aPackets!: Uint32Array;
  aPayloadBytes!: Float64Array;
  aIpBytes!: Float64Array;
  aWireBytes!: Float64Array;
  bPackets!: Uint32Array;
  bPayloadBytes!: Float64Array;
  bIpBytes!: Float64Array;
  bWireBytes!: Float64Array;
  /**
   * Each side's first and last packet time, from four times kept in two (issue 7: 16 bytes a flow): the side that
   * sent the flow's first packet saw it at `firstUs`, and the side that sent its latest at `lastUs`; the other side's
   * first and last are these, -1 before it sent any. `packetSides` says which side is which (PACKET_SIDE_*).
   * Read them through sideFirstUs / sideLastUs.
   */
  laterSideFirstUs!: Float64Array;
  otherSideLastUs!: Float64Array;
  packetSides!: Uint8Array;
  ipVersion!: Uint8Array;
  localSide!: Uint8Array;
  opener!: Uint8Array;
  hasState!: Uint8Array;
  seenReply!: Uint8Array;
  serviceBy!: Uint8Array;
  /**
   * The role of a packet from side A (bits 0-1) and from side B (bits 2-3) by the addresses alone (table.ts
   * ROLE_BY_CODE), set when the flow is created: a flow's addresses and the local side never change.
   */
  roles!: Uint8Array;
  timeoutKeyIndex!: Uint8Array;
  serviceIndex!: Uint16Array;
  historyCount!: Uint8Array;
  /**
   * The time of history entries 1 and 2 (`HISTORY_SLOTS - 1` a flow): entry 0 is always the state's creation, at
   * `stateCreatedUs` (a flow gains state once: table.ts startState). Read through historyTimeUs.
   */
  historyAtUs!: Float64Array;
  historyKeyIndex!: Uint8Array;
  historyKind!: Uint8Array;
  /**
   * The table's timing wheel as doubly linked lists through the flows (no array entry or object per flow): the
   * second of the wheel slot holding the flow (-1: in none) and its neighbours there (-1: none). A free slot is in
   * no wheel list: its `wheelNext` links the free list instead.
   */
  wheelSec!: Int32Array;
  wheelNext!: Int32Array;
  wheelPrev!: Int32Array;
  /** History entries per flow (`HISTORY_SLOTS`) and the names of `historyKind` values, for writers of records. */
  readonly historySlots = HISTORY_SLOTS;
  readonly eventKinds: readonly StateEvent['event'][] = EVENT_KINDS;
  /** Timeout key names (the profile's keys) and the table's scaled timeout for each. */
  readonly keyNames: readonly string[];
  readonly timeoutUsByKeyIndex: readonly number[];
  /** Service names by index (0: none). */
  private readonly serviceNames: string[] = [''];
  private readonly serviceIndexes = new Map<string, number>([['', 0]]);
  /**
   * The flow being reported as it ends, its end and why: kept for that one flow (during onFlowEnd) instead of an
   * array each — every other flow's end is -1 / undefined.
   */
  endingIndex = -1;
  endingUs = -1;
  endingReason: FlowEndReason | undefined = undefined;
  /** The most recently released slot (-1: none); the free list goes on through `wheelNext`. */
  private freeHead = -1;
  private nextUnused = 0;

  /**
   * @param streamDelayUs - conntrack's stream delay (the replied timeout applies from state creation + this), so the
   *   flow's stream time is derived instead of stored
   */
  constructor(keyNames: readonly string[], timeoutUsByKeyIndex: readonly number[], capacity = 1024, readonly streamDelayUs = 0) {
    this.capacity = capacity;
    this.keyNames = keyNames;
    this.timeoutUsByKeyIndex = timeoutUsByKeyIndex;
    this.allocateArrays(capacity);
  }

  /** A slot for a new flow, every field reset. */
  allocate(): number {
    let index: number;
    if (this.freeHead >= 0) {
      index = this.freeHead;
      this.freeHead = this.wheelNext[index]!;
    } else {
      if (this.nextUnused === this.capacity) this.grow(this.capacity >= LARGE_STORE_FLOWS ? this.capacity * LARGE_GROWTH : this.capacity * 2);
      index = this.nextUnused++;
    }
    this.clear(index);
    return index;
  }

  /** Give a slot back once its flow was reported. */
  release(index: number): void {
    this.wheelNext[index] = this.freeHead;
    this.freeHead = index;
  }

  /** The flow's timeout key ('' while it holds no state). */
  timeoutKeyName(index: number): string {
    return this.keyNames[this.timeoutKeyIndex[index]!] ?? '';
  }

  /**
   * The flow's timeout in µs, from its key (0 while it holds no state): derived, not stored, as every key has one
   * scaled timeout per table.
   */
  timeoutUsOf(index: number): number {
    return this.timeoutUsByKeyIndex[this.timeoutKeyIndex[index]!] ?? 0;
  }

  /** The index of a timeout key; NO_TIMEOUT_KEY for '' (no state) or a name the profile does not have. */
  keyIndexOf(name: string): number {
    const index = this.keyNames.indexOf(name);
    return index < 0 ? NO_TIMEOUT_KEY : index;
  }

  serviceName(index: number): string {
    return this.serviceNames[this.serviceIndex[index]!] ?? '';
  }

  setService(index: number, name: string): void {
    let serviceIndex = this.serviceIndexes.get(name);
    if (serviceIndex === undefined) {
      serviceIndex = this.serviceNames.length;
      this.serviceNames.push(name);
      this.serviceIndexes.set(name, serviceIndex);
    }
    this.serviceIndex[index] = serviceIndex;
  }

  /** Record a state change (created / timeout-changed); a full history keeps its last slot current. */
  addEvent(index: number, atUs: number, kind: 'created' | 'timeout-changed', keyIndex: number): void {
    const count = this.historyCount[index]!;
    const k = count < HISTORY_SLOTS ? count : HISTORY_SLOTS - 1;
    const at = index * HISTORY_SLOTS + k;
    if (k > 0) this.historyAtUs[index * (HISTORY_SLOTS - 1) + k - 1] = atUs;
    this.historyKeyIndex[at] = keyIndex;
    this.historyKind[at] = kind === 'created' ? 0 : 1;
    if (count < HISTORY_SLOTS) this.historyCount[index] = count + 1;
  }

  /** The state changes of a flow as report objects, its expiry last when it timed out (allocates: reports only). */
  history(index: number): StateEvent[] {
    const out: StateEvent[] = [];
    const count = this.historyCount[index]!;
    for (let k = 0; k < count; k++) {
      const at = index * HISTORY_SLOTS + k;
      const keyIndex = this.historyKeyIndex[at]!;
      out.push({
        atUs: this.historyTimeUs(index, k),
        event: EVENT_KINDS[this.historyKind[at]!]!,
        timeoutKey: this.keyNames[keyIndex] ?? '',
        timeoutUs: this.timeoutUsByKeyIndex[keyIndex] ?? 0,
      });
    }
    if (this.endingIndex === index && this.endingReason === 'idle-timeout') {
      out.push({ atUs: this.expiresUs[index]!, event: 'expired', timeoutKey: this.timeoutKeyName(index), timeoutUs: this.timeoutUsOf(index) });
    }
    return out;
  }

  /** The time of history entry `k` of the flow (entry 0: its state's creation). */
  historyTimeUs(index: number, k: number): number {
    return k === 0 ? this.stateCreatedUs[index]! : this.historyAtUs[index * (HISTORY_SLOTS - 1) + k - 1]!;
  }

  /** Side A's (`a`) or side B's first packet time; -1 before that side sent any. */
  sideFirstUs(index: number, a: boolean): number {
    if ((a ? this.aPackets[index]! : this.bPackets[index]!) === 0) return -1;
    return ((this.packetSides[index]! & PACKET_SIDE_FIRST_A) !== 0) === a ? this.firstUs[index]! : this.laterSideFirstUs[index]!;
  }

  /** Side A's (`a`) or side B's last packet time; -1 before that side sent any. */
  sideLastUs(index: number, a: boolean): number {
    if ((a ? this.aPackets[index]! : this.bPackets[index]!) === 0) return -1;
    return ((this.packetSides[index]! & PACKET_SIDE_LATEST_A) !== 0) === a ? this.lastUs[index]! : this.otherSideLastUs[index]!;
  }

  private clear(index: number): void {
    this.firstUs[index] = this.lastUs[index] = 0;
    this.expiresUs[index] = this.stateCreatedUs[index] = -1;
    this.maxGapUs[index] = 0;
    this.deniedPackets[index] = this.windowPackets[index] = 0;
    this.peerStateA[index] = this.peerStateB[index] = 0;
    this.aPackets[index] = this.bPackets[index] = 0;
    this.aPayloadBytes[index] = this.aIpBytes[index] = this.aWireBytes[index] = 0;
    this.bPayloadBytes[index] = this.bIpBytes[index] = this.bWireBytes[index] = 0;
    this.laterSideFirstUs[index] = this.otherSideLastUs[index] = -1;
    this.packetSides[index] = 0;
    this.localSide[index] = this.opener[index] = this.hasState[index] = this.seenReply[index] = 0;
    this.serviceBy[index] = this.roles[index] = 0;
    this.timeoutKeyIndex[index] = NO_TIMEOUT_KEY;
    this.serviceIndex[index] = 0;
    this.historyCount[index] = 0;
    this.wheelSec[index] = this.wheelNext[index] = this.wheelPrev[index] = -1;
  }

  private grow(capacity: number): void {
    const old = STORE_FIELDS.map(([name]) => this.arrays[name]);
    this.allocateArrays(capacity);
    STORE_FIELDS.forEach(([name], i) => this.arrays[name].set(old[i]!));
    this.capacity = capacity;
  }

  /**
   * Every field's array for `capacity` flows, as views into ONE ArrayBuffer. Fifty separate arrays per growth left
   * malloc's heap fragmented once they were freed (glibc raises its mmap threshold to the size of what it frees, so
   * the next megabyte-sized arrays came from the heap and stayed resident: ~25 MiB with 240k flows alive). One buffer
   * of tens of MiB is always mapped on its own and given back whole.
   */
  private allocateArrays(capacity: number): void {
    let bytes = 0;
    for (const [, Type, perFlow] of STORE_FIELDS) bytes = align8(bytes) + Type.BYTES_PER_ELEMENT * capacity * perFlow;
    const buffer = new ArrayBuffer(align8(bytes));
    let offset = 0;
    const arrays = this.arrays;
    for (const [name, Type, perFlow] of STORE_FIELDS) {
      offset = align8(offset);
      arrays[name] = new Type(buffer, offset, capacity * perFlow);
      offset += Type.BYTES_PER_ELEMENT * capacity * perFlow;
    }
  }

  /** The fields by name (the same objects as the named properties). */
  private get arrays(): Record<StoreFieldName, TypedArray> {
    return this as unknown as Record<StoreFieldName, TypedArray>;
  }
}

/** One direction's counters of a flow, as a view over the store (reports read `flow.fromA.packets`). */
class DirectionView implements DirectionCounters {
  constructor(
    private readonly store: FlowStore,
    private readonly index: number,
    private readonly a: boolean,
  ) {}

  get packets(): number {
    return this.a ? this.store.aPackets[this.index]! : this.store.bPackets[this.index]!;
  }

  set packets(value: number) {
    if (this.a) this.store.aPackets[this.index] = value;
    else this.store.bPackets[this.index] = value;
  }

  get payloadBytes(): number {
    return this.a ? this.store.aPayloadBytes[this.index]! : this.store.bPayloadBytes[this.index]!;
  }

  set payloadBytes(value: number) {
    if (this.a) this.store.aPayloadBytes[this.index] = value;
    else this.store.bPayloadBytes[this.index] = value;
  }

  get ipBytes(): number {
    return this.a ? this.store.aIpBytes[this.index]! : this.store.bIpBytes[this.index]!;
  }

  set ipBytes(value: number) {
    if (this.a) this.store.aIpBytes[this.index] = value;
    else this.store.bIpBytes[this.index] = value;
  }

  get wireBytes(): number {
    return this.a ? this.store.aWireBytes[this.index]! : this.store.bWireBytes[this.index]!;
  }

  set wireBytes(value: number) {
    if (this.a) this.store.aWireBytes[this.index] = value;
    else this.store.bWireBytes[this.index] = value;
  }

  get firstUs(): number {
    return this.store.sideFirstUs(this.index, this.a);
  }

  get lastUs(): number {
    return this.store.sideLastUs(this.index, this.a);
  }
}

/** A flow's handle: every field an accessor over the store at `index`. */
export class FlowRecord implements Flow {
  constructor(
    /** The arrays behind the handle (writers that serialize a flow read them directly). */
    readonly store: FlowStore,
    /** The flow's slot; the table points a handle at one flow after another (handles are views, not identities). */
    public index: number,
  ) {}

  get wheelSec(): number {
    return this.store.wheelSec[this.index]!;
  }

  get firstUs(): number {
    return this.store.firstUs[this.index]!;
  }

  set firstUs(value: number) {
    this.store.firstUs[this.index] = value;
  }

  get lastUs(): number {
    return this.store.lastUs[this.index]!;
  }

  set lastUs(value: number) {
    this.store.lastUs[this.index] = value;
  }

  get expiresUs(): number {
    return this.store.expiresUs[this.index]!;
  }

  set expiresUs(value: number) {
    this.store.expiresUs[this.index] = value;
  }

  get stateCreatedUs(): number {
    return this.store.stateCreatedUs[this.index]!;
  }

  set stateCreatedUs(value: number) {
    this.store.stateCreatedUs[this.index] = value;
  }

  /** Every refresh sets the expiry to refresh + timeout, so the last refresh is derived (-1 before any state). */
  get lastRefreshUs(): number {
    const expiresUs = this.store.expiresUs[this.index]!;
    return expiresUs < 0 ? -1 : expiresUs - this.store.timeoutUsOf(this.index);
  }

  /** conntrack's stream time: state creation + the stream delay (0 before any state). */
  get streamAtUs(): number {
    const createdUs = this.store.stateCreatedUs[this.index]!;
    return createdUs < 0 ? 0 : createdUs + this.store.streamDelayUs;
  }

  get maxGapUs(): number {
    return this.store.maxGapUs[this.index]!;
  }

  set maxGapUs(value: number) {
    this.store.maxGapUs[this.index] = value;
  }

  /** Set while the flow is reported as it ends (store.endingIndex); -1 otherwise. */
  get endUs(): number {
    return this.store.endingIndex === this.index ? this.store.endingUs : -1;
  }

  get timeoutUs(): number {
    return this.store.timeoutUsOf(this.index);
  }

  get firstFrame(): number {
    return this.store.firstFrame[this.index]!;
  }

  set firstFrame(value: number) {
    this.store.firstFrame[this.index] = value;
  }

  get lastFrame(): number {
    return this.store.lastFrame[this.index]!;
  }

  set lastFrame(value: number) {
    this.store.lastFrame[this.index] = value;
  }

  get id(): number {
    return this.store.id[this.index]!;
  }

  set id(value: number) {
    this.store.id[this.index] = value;
  }

  get deniedPackets(): number {
    return this.store.deniedPackets[this.index]!;
  }

  set deniedPackets(value: number) {
    this.store.deniedPackets[this.index] = value;
  }

  get windowPackets(): number {
    return this.store.windowPackets[this.index]!;
  }

  set windowPackets(value: number) {
    this.store.windowPackets[this.index] = value;
  }

  get keyA0(): number {
    return this.store.keyA0[this.index]!;
  }

  set keyA0(value: number) {
    this.store.keyA0[this.index] = value;
  }

  get keyA1(): number {
    return this.store.keyA1[this.index]!;
  }

  set keyA1(value: number) {
    this.store.keyA1[this.index] = value;
  }

  get keyA2(): number {
    return this.store.keyA2[this.index]!;
  }

  set keyA2(value: number) {
    this.store.keyA2[this.index] = value;
  }

  get keyA3(): number {
    return this.store.keyA3[this.index]!;
  }

  set keyA3(value: number) {
    this.store.keyA3[this.index] = value;
  }

  get keyB0(): number {
    return this.store.keyB0[this.index]!;
  }

  set keyB0(value: number) {
    this.store.keyB0[this.index] = value;
  }

  get keyB1(): number {
    return this.store.keyB1[this.index]!;
  }

  set keyB1(value: number) {
    this.store.keyB1[this.index] = value;
  }

  get keyB2(): number {
    return this.store.keyB2[this.index]!;
  }

  set keyB2(value: number) {
    this.store.keyB2[this.index] = value;
  }

  get keyB3(): number {
    return this.store.keyB3[this.index]!;
  }

  set keyB3(value: number) {
    this.store.keyB3[this.index] = value;
  }

  get portA(): number {
    return this.store.portA[this.index]!;
  }

  set portA(value: number) {
    this.store.portA[this.index] = value;
  }

  get portB(): number {
    return this.store.portB[this.index]!;
  }

  set portB(value: number) {
    this.store.portB[this.index] = value;
  }

  get hash(): number {
    return this.store.hash[this.index]!;
  }

  set hash(value: number) {
    this.store.hash[this.index] = value;
  }

  get peerStateA(): number {
    return this.store.peerStateA[this.index]!;
  }

  set peerStateA(value: number) {
    this.store.peerStateA[this.index] = value;
  }

  get peerStateB(): number {
    return this.store.peerStateB[this.index]!;
  }

  set peerStateB(value: number) {
    this.store.peerStateB[this.index] = value;
  }

  get ipVersion(): 4 | 6 {
    return this.store.ipVersion[this.index] === 6 ? 6 : 4;
  }

  set ipVersion(value: 4 | 6) {
    this.store.ipVersion[this.index] = value;
  }

  get localSide(): 'a' | 'b' | undefined {
    return LOCAL_SIDES[this.store.localSide[this.index]!];
  }

  set localSide(value: 'a' | 'b' | undefined) {
    this.store.localSide[this.index] = value === undefined ? 0 : value === 'a' ? 1 : 2;
  }

  get opener(): 'a' | 'b' {
    return this.store.opener[this.index] === 1 ? 'b' : 'a';
  }

  set opener(value: 'a' | 'b') {
    this.store.opener[this.index] = value === 'b' ? 1 : 0;
  }

  get hasState(): boolean {
    return this.store.hasState[this.index] === 1;
  }

  set hasState(value: boolean) {
    this.store.hasState[this.index] = value ? 1 : 0;
  }

  get seenReply(): boolean {
    return this.store.seenReply[this.index] === 1;
  }

  set seenReply(value: boolean) {
    this.store.seenReply[this.index] = value ? 1 : 0;
  }

  get serviceBy(): 'payload' | 'port' | '' {
    return SERVICE_BY[this.store.serviceBy[this.index]!] ?? '';
  }

  set serviceBy(value: 'payload' | 'port' | '') {
    this.store.serviceBy[this.index] = value === '' ? 0 : value === 'port' ? 1 : 2;
  }

  get service(): string {
    return this.store.serviceName(this.index);
  }

  set service(value: string) {
    this.store.setService(this.index, value);
  }

  get endReason(): FlowEndReason | undefined {
    return this.store.endingIndex === this.index ? this.store.endingReason : undefined;
  }

  get timeoutKey(): string {
    return this.store.timeoutKeyName(this.index);
  }

  set timeoutKey(value: string) {
    this.store.timeoutKeyIndex[this.index] = this.store.keyIndexOf(value);
  }

  get totalPackets(): number {
    return this.store.aPackets[this.index]! + this.store.bPackets[this.index]!;
  }

  get fromA(): DirectionCounters {
    return new DirectionView(this.store, this.index, true);
  }

  get fromB(): DirectionCounters {
    return new DirectionView(this.store, this.index, false);
  }

  get history(): StateEvent[] {
    return this.store.history(this.index);
  }

  get addrA(): Uint8Array {
    return wordsToBytes(this.ipVersion, this.keyA0, this.keyA1, this.keyA2, this.keyA3);
  }

  get addrB(): Uint8Array {
    return wordsToBytes(this.ipVersion, this.keyB0, this.keyB1, this.keyB2, this.keyB3);
  }
}

function wordsToBytes(version: 4 | 6, w0: number, w1: number, w2: number, w3: number): Uint8Array {
  const bytes = new Uint8Array(version === 4 ? 4 : 16);
  const words = version === 4 ? [w0] : [w0, w1, w2, w3];
  words.forEach((w, i) => {
    bytes[i * 4] = w >>> 24;
    bytes[i * 4 + 1] = (w >>> 16) & 0xff;
    bytes[i * 4 + 2] = (w >>> 8) & 0xff;
    bytes[i * 4 + 3] = w & 0xff;
  });
  return bytes;
}
