/**
 * Where the flow table keeps its flows: one record of BYTES_PER_FLOW bytes per flow slot in one buffer, read and
 * written through five typed views of it (f64, u32, i32, u16, u8) at `slot * X_PER_FLOW + FIELD` (the layout:
 * flow-layout.ts). A flow costs 224 bytes and no garbage-collected object besides its small handle, so scavenges have
 * nothing to copy and half a million live flows stay in the low hundreds of MiB (issue 7; the hand-written reader the
 * issue measured did the same). Records, not one array per field: a flow that ends after minutes of silence is read
 * whole (its state remembered, its JSON record written), and its ~45 fields were ~45 cache misses when each lived in
 * an array of its own (a micro-benchmark of 430k such reads among 262k flows: 0.45 µs a flow from separate arrays,
 * 0.13 µs from records; a 10M-packet run with one thread ~4 % faster, once the offsets were literals).
 * `FlowRecord` is the handle: every `Flow` field is an accessor over the record, so reports read like plain objects.
 * A handle is valid until its flow ends: the slot is then reused.
 */
import type { DirectionCounters, Flow, FlowEndReason, StateEvent } from './table.js';
import { HISTORY_SLOTS, PACKET_SIDE_FIRST_A, PACKET_SIDE_LATEST_A, BYTES_PER_FLOW, F64_PER_FLOW, U32_PER_FLOW, U16_PER_FLOW, FIRST_US, LAST_US, EXPIRES_US, STATE_CREATED_US, MAX_GAP_US, A_PAYLOAD_BYTES, A_IP_BYTES, A_WIRE_BYTES, B_PAYLOAD_BYTES, B_IP_BYTES, B_WIRE_BYTES, LATER_SIDE_FIRST_US, OTHER_SIDE_LAST_US, HISTORY_AT_US, FIRST_FRAME, LAST_FRAME, FLOW_ID, DENIED_PACKETS, WINDOW_PACKETS, KEY_A0, KEY_A1, KEY_A2, KEY_A3, KEY_B0, KEY_B1, KEY_B2, KEY_B3, A_PACKETS, B_PACKETS, KEY_HASH, WHEEL_SEC, WHEEL_NEXT, WHEEL_PREV, PORT_A, PORT_B, SERVICE_INDEX, PEER_STATE_A, PEER_STATE_B, PACKET_SIDES, IP_VERSION, LOCAL_SIDE, OPENER, HAS_STATE, SEEN_REPLY, SERVICE_BY_CODE, TIMEOUT_KEY_INDEX, HISTORY_COUNT, HISTORY_KEY_INDEX, HISTORY_KIND } from './flow-layout.js';

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

/** timeoutKeyIndex of a flow without state. */
const NO_TIMEOUT_KEY = 255;

/** What the record's small codes mean: LOCAL_SIDE, SERVICE_BY_CODE, HISTORY_KIND. */
const LOCAL_SIDES = [undefined, 'a', 'b'] as const;
const SERVICE_BY_NAMES = ['', 'port', 'payload'] as const;
const EVENT_KINDS = ['created', 'timeout-changed'] as const;

/** The flows' records, a free list of slots, and the names behind the small indexes (timeout keys, services). */
export class FlowStore {
  capacity: number;
  /** The flows' records (BYTES_PER_FLOW each) through each view the fields need; replaced whole by a growth. */
  f64!: Float64Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  u16!: Uint16Array;
  u8!: Uint8Array;
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
      this.freeHead = this.i32[index * U32_PER_FLOW + WHEEL_NEXT]!;
    } else {
      if (this.nextUnused === this.capacity) this.grow(this.capacity >= LARGE_STORE_FLOWS ? this.capacity * LARGE_GROWTH : this.capacity * 2);
      index = this.nextUnused++;
    }
    this.clear(index);
    return index;
  }

  /** Give a slot back once its flow was reported. */
  release(index: number): void {
    this.i32[index * U32_PER_FLOW + WHEEL_NEXT] = this.freeHead;
    this.freeHead = index;
  }

  /** The flow's timeout key ('' while it holds no state). */
  timeoutKeyName(index: number): string {
    return this.keyNames[this.u8[index * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX]!] ?? '';
  }

  /**
   * The flow's timeout in µs, from its key (0 while it holds no state): derived, not stored, as every key has one
   * scaled timeout per table.
   */
  timeoutUsOf(index: number): number {
    return this.timeoutUsByKeyIndex[this.u8[index * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX]!] ?? 0;
  }

  /** The index of a timeout key; NO_TIMEOUT_KEY for '' (no state) or a name the profile does not have. */
  keyIndexOf(name: string): number {
    const index = this.keyNames.indexOf(name);
    return index < 0 ? NO_TIMEOUT_KEY : index;
  }

  serviceName(index: number): string {
    return this.serviceNames[this.u16[index * U16_PER_FLOW + SERVICE_INDEX]!] ?? '';
  }

  setService(index: number, name: string): void {
    let serviceIndex = this.serviceIndexes.get(name);
    if (serviceIndex === undefined) {
      serviceIndex = this.serviceNames.length;
      this.serviceNames.push(name);
      this.serviceIndexes.set(name, serviceIndex);
    }
    this.u16[index * U16_PER_FLOW + SERVICE_INDEX] = serviceIndex;
  }

  /** Record a state change (created / timeout-changed); a full history keeps its last slot current. */
  addEvent(index: number, atUs: number, kind: 'created' | 'timeout-changed', keyIndex: number): void {
    const count = this.u8[index * BYTES_PER_FLOW + HISTORY_COUNT]!;
    const k = count < HISTORY_SLOTS ? count : HISTORY_SLOTS - 1;
    const b = index * BYTES_PER_FLOW;
    if (k > 0) this.f64[index * F64_PER_FLOW + HISTORY_AT_US + k - 1] = atUs;
    this.u8[b + HISTORY_KEY_INDEX + k] = keyIndex;
    this.u8[b + HISTORY_KIND + k] = kind === 'created' ? 0 : 1;
    if (count < HISTORY_SLOTS) this.u8[b + HISTORY_COUNT] = count + 1;
  }

  /** The state changes of a flow as report objects, its expiry last when it timed out (allocates: reports only). */
  history(index: number): StateEvent[] {
    const out: StateEvent[] = [];
    const count = this.u8[index * BYTES_PER_FLOW + HISTORY_COUNT]!;
    for (let k = 0; k < count; k++) {
      const keyIndex = this.historyKeyIndexOf(index, k);
      out.push({
        atUs: this.historyTimeUs(index, k),
        event: EVENT_KINDS[this.historyKindOf(index, k)]!,
        timeoutKey: this.keyNames[keyIndex] ?? '',
        timeoutUs: this.timeoutUsByKeyIndex[keyIndex] ?? 0,
      });
    }
    if (this.endingIndex === index && this.endingReason === 'idle-timeout') {
      out.push({ atUs: this.f64[index * F64_PER_FLOW + EXPIRES_US]!, event: 'expired', timeoutKey: this.timeoutKeyName(index), timeoutUs: this.timeoutUsOf(index) });
    }
    return out;
  }

  /** The time of history entry `k` of the flow (entry 0: its state's creation). */
  historyTimeUs(index: number, k: number): number {
    return k === 0 ? this.f64[index * F64_PER_FLOW + STATE_CREATED_US]! : this.f64[index * F64_PER_FLOW + HISTORY_AT_US + k - 1]!;
  }

  /** The timeout key index of history entry `k` of the flow. */
  historyKeyIndexOf(index: number, k: number): number {
    return this.u8[index * BYTES_PER_FLOW + HISTORY_KEY_INDEX + k]!;
  }

  /** The kind of history entry `k` of the flow (an EVENT_KINDS index: eventKinds). */
  historyKindOf(index: number, k: number): number {
    return this.u8[index * BYTES_PER_FLOW + HISTORY_KIND + k]!;
  }

  /** Side A's (`a`) or side B's first packet time; -1 before that side sent any. */
  sideFirstUs(index: number, a: boolean): number {
    if ((a ? this.u32[index * U32_PER_FLOW + A_PACKETS]! : this.u32[index * U32_PER_FLOW + B_PACKETS]!) === 0) return -1;
    return ((this.u8[index * BYTES_PER_FLOW + PACKET_SIDES]! & PACKET_SIDE_FIRST_A) !== 0) === a ? this.f64[index * F64_PER_FLOW + FIRST_US]! : this.f64[index * F64_PER_FLOW + LATER_SIDE_FIRST_US]!;
  }

  /** Side A's (`a`) or side B's last packet time; -1 before that side sent any. */
  sideLastUs(index: number, a: boolean): number {
    if ((a ? this.u32[index * U32_PER_FLOW + A_PACKETS]! : this.u32[index * U32_PER_FLOW + B_PACKETS]!) === 0) return -1;
    return ((this.u8[index * BYTES_PER_FLOW + PACKET_SIDES]! & PACKET_SIDE_LATEST_A) !== 0) === a ? this.f64[index * F64_PER_FLOW + LAST_US]! : this.f64[index * F64_PER_FLOW + OTHER_SIDE_LAST_US]!;
  }

  /** Every field of slot `index` zero, then the few whose "none" is not zero. */
  private clear(index: number): void {
    const b = index * BYTES_PER_FLOW;
    this.u8.fill(0, b, b + BYTES_PER_FLOW);
    this.f64[index * F64_PER_FLOW + EXPIRES_US] = this.f64[index * F64_PER_FLOW + STATE_CREATED_US] = -1;
    this.f64[index * F64_PER_FLOW + LATER_SIDE_FIRST_US] = this.f64[index * F64_PER_FLOW + OTHER_SIDE_LAST_US] = -1;
    this.u8[index * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX] = NO_TIMEOUT_KEY;
    this.i32[index * U32_PER_FLOW + WHEEL_SEC] = this.i32[index * U32_PER_FLOW + WHEEL_NEXT] = this.i32[index * U32_PER_FLOW + WHEEL_PREV] = -1;
  }

  /** Records move as they are: the new buffer's first bytes are the old one. */
  private grow(capacity: number): void {
    const old = this.u8;
    this.allocateArrays(capacity);
    this.u8.set(old);
    this.capacity = capacity;
  }

  /**
   * The records of `capacity` flows in ONE ArrayBuffer (fifty separate arrays per growth, as the store once had, left
   * malloc's heap fragmented once they were freed: glibc raises its mmap threshold to the size of what it frees, so
   * the next megabyte-sized arrays came from the heap and stayed resident, ~25 MiB with 240k flows alive). One buffer
   * of tens of MiB is always mapped on its own and given back whole.
   */
  private allocateArrays(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * BYTES_PER_FLOW);
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u8 = new Uint8Array(buffer);
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
    return this.a ? this.store.u32[this.index * U32_PER_FLOW + A_PACKETS]! : this.store.u32[this.index * U32_PER_FLOW + B_PACKETS]!;
  }

  set packets(value: number) {
    if (this.a) this.store.u32[this.index * U32_PER_FLOW + A_PACKETS] = value;
    else this.store.u32[this.index * U32_PER_FLOW + B_PACKETS] = value;
  }

  get payloadBytes(): number {
    return this.a ? this.store.f64[this.index * F64_PER_FLOW + A_PAYLOAD_BYTES]! : this.store.f64[this.index * F64_PER_FLOW + B_PAYLOAD_BYTES]!;
  }

  set payloadBytes(value: number) {
    if (this.a) this.store.f64[this.index * F64_PER_FLOW + A_PAYLOAD_BYTES] = value;
    else this.store.f64[this.index * F64_PER_FLOW + B_PAYLOAD_BYTES] = value;
  }

  get ipBytes(): number {
    return this.a ? this.store.f64[this.index * F64_PER_FLOW + A_IP_BYTES]! : this.store.f64[this.index * F64_PER_FLOW + B_IP_BYTES]!;
  }

  set ipBytes(value: number) {
    if (this.a) this.store.f64[this.index * F64_PER_FLOW + A_IP_BYTES] = value;
    else this.store.f64[this.index * F64_PER_FLOW + B_IP_BYTES] = value;
  }

  get wireBytes(): number {
    return this.a ? this.store.f64[this.index * F64_PER_FLOW + A_WIRE_BYTES]! : this.store.f64[this.index * F64_PER_FLOW + B_WIRE_BYTES]!;
  }

  set wireBytes(value: number) {
    if (this.a) this.store.f64[this.index * F64_PER_FLOW + A_WIRE_BYTES] = value;
    else this.store.f64[this.index * F64_PER_FLOW + B_WIRE_BYTES] = value;
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
    return this.store.i32[this.index * U32_PER_FLOW + WHEEL_SEC]!;
  }

  get firstUs(): number {
    return this.store.f64[this.index * F64_PER_FLOW + FIRST_US]!;
  }

  set firstUs(value: number) {
    this.store.f64[this.index * F64_PER_FLOW + FIRST_US] = value;
  }

  get lastUs(): number {
    return this.store.f64[this.index * F64_PER_FLOW + LAST_US]!;
  }

  set lastUs(value: number) {
    this.store.f64[this.index * F64_PER_FLOW + LAST_US] = value;
  }

  get expiresUs(): number {
    return this.store.f64[this.index * F64_PER_FLOW + EXPIRES_US]!;
  }

  set expiresUs(value: number) {
    this.store.f64[this.index * F64_PER_FLOW + EXPIRES_US] = value;
  }

  get stateCreatedUs(): number {
    return this.store.f64[this.index * F64_PER_FLOW + STATE_CREATED_US]!;
  }

  set stateCreatedUs(value: number) {
    this.store.f64[this.index * F64_PER_FLOW + STATE_CREATED_US] = value;
  }

  /** Every refresh sets the expiry to refresh + timeout, so the last refresh is derived (-1 before any state). */
  get lastRefreshUs(): number {
    const expiresUs = this.store.f64[this.index * F64_PER_FLOW + EXPIRES_US]!;
    return expiresUs < 0 ? -1 : expiresUs - this.store.timeoutUsOf(this.index);
  }

  /** conntrack's stream time: state creation + the stream delay (0 before any state). */
  get streamAtUs(): number {
    const createdUs = this.store.f64[this.index * F64_PER_FLOW + STATE_CREATED_US]!;
    return createdUs < 0 ? 0 : createdUs + this.store.streamDelayUs;
  }

  get maxGapUs(): number {
    return this.store.f64[this.index * F64_PER_FLOW + MAX_GAP_US]!;
  }

  set maxGapUs(value: number) {
    this.store.f64[this.index * F64_PER_FLOW + MAX_GAP_US] = value;
  }

  /** Set while the flow is reported as it ends (store.endingIndex); -1 otherwise. */
  get endUs(): number {
    return this.store.endingIndex === this.index ? this.store.endingUs : -1;
  }

  get timeoutUs(): number {
    return this.store.timeoutUsOf(this.index);
  }

  get firstFrame(): number {
    return this.store.u32[this.index * U32_PER_FLOW + FIRST_FRAME]!;
  }

  set firstFrame(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + FIRST_FRAME] = value;
  }

  get lastFrame(): number {
    return this.store.u32[this.index * U32_PER_FLOW + LAST_FRAME]!;
  }

  set lastFrame(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + LAST_FRAME] = value;
  }

  get id(): number {
    return this.store.u32[this.index * U32_PER_FLOW + FLOW_ID]!;
  }

  set id(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + FLOW_ID] = value;
  }

  get deniedPackets(): number {
    return this.store.u32[this.index * U32_PER_FLOW + DENIED_PACKETS]!;
  }

  set deniedPackets(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + DENIED_PACKETS] = value;
  }

  get windowPackets(): number {
    return this.store.u32[this.index * U32_PER_FLOW + WINDOW_PACKETS]!;
  }

  set windowPackets(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + WINDOW_PACKETS] = value;
  }

  get keyA0(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_A0]!;
  }

  set keyA0(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_A0] = value;
  }

  get keyA1(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_A1]!;
  }

  set keyA1(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_A1] = value;
  }

  get keyA2(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_A2]!;
  }

  set keyA2(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_A2] = value;
  }

  get keyA3(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_A3]!;
  }

  set keyA3(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_A3] = value;
  }

  get keyB0(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_B0]!;
  }

  set keyB0(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_B0] = value;
  }

  get keyB1(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_B1]!;
  }

  set keyB1(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_B1] = value;
  }

  get keyB2(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_B2]!;
  }

  set keyB2(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_B2] = value;
  }

  get keyB3(): number {
    return this.store.u32[this.index * U32_PER_FLOW + KEY_B3]!;
  }

  set keyB3(value: number) {
    this.store.u32[this.index * U32_PER_FLOW + KEY_B3] = value;
  }

  get portA(): number {
    return this.store.u16[this.index * U16_PER_FLOW + PORT_A]!;
  }

  set portA(value: number) {
    this.store.u16[this.index * U16_PER_FLOW + PORT_A] = value;
  }

  get portB(): number {
    return this.store.u16[this.index * U16_PER_FLOW + PORT_B]!;
  }

  set portB(value: number) {
    this.store.u16[this.index * U16_PER_FLOW + PORT_B] = value;
  }

  get hash(): number {
    return this.store.i32[this.index * U32_PER_FLOW + KEY_HASH]!;
  }

  set hash(value: number) {
    this.store.i32[this.index * U32_PER_FLOW + KEY_HASH] = value;
  }

  get peerStateA(): number {
    return this.store.u8[this.index * BYTES_PER_FLOW + PEER_STATE_A]!;
  }

  set peerStateA(value: number) {
    this.store.u8[this.index * BYTES_PER_FLOW + PEER_STATE_A] = value;
  }

  get peerStateB(): number {
    return this.store.u8[this.index * BYTES_PER_FLOW + PEER_STATE_B]!;
  }

  set peerStateB(value: number) {
    this.store.u8[this.index * BYTES_PER_FLOW + PEER_STATE_B] = value;
  }

  get ipVersion(): 4 | 6 {
    return this.store.u8[this.index * BYTES_PER_FLOW + IP_VERSION] === 6 ? 6 : 4;
  }

  set ipVersion(value: 4 | 6) {
    this.store.u8[this.index * BYTES_PER_FLOW + IP_VERSION] = value;
  }

  get localSide(): 'a' | 'b' | undefined {
    return LOCAL_SIDES[this.store.u8[this.index * BYTES_PER_FLOW + LOCAL_SIDE]!];
  }

  set localSide(value: 'a' | 'b' | undefined) {
    this.store.u8[this.index * BYTES_PER_FLOW + LOCAL_SIDE] = value === undefined ? 0 : value === 'a' ? 1 : 2;
  }

  get opener(): 'a' | 'b' {
    return this.store.u8[this.index * BYTES_PER_FLOW + OPENER] === 1 ? 'b' : 'a';
  }

  set opener(value: 'a' | 'b') {
    this.store.u8[this.index * BYTES_PER_FLOW + OPENER] = value === 'b' ? 1 : 0;
  }

  get hasState(): boolean {
    return this.store.u8[this.index * BYTES_PER_FLOW + HAS_STATE] === 1;
  }

  set hasState(value: boolean) {
    this.store.u8[this.index * BYTES_PER_FLOW + HAS_STATE] = value ? 1 : 0;
  }

  get seenReply(): boolean {
    return this.store.u8[this.index * BYTES_PER_FLOW + SEEN_REPLY] === 1;
  }

  set seenReply(value: boolean) {
    this.store.u8[this.index * BYTES_PER_FLOW + SEEN_REPLY] = value ? 1 : 0;
  }

  get serviceBy(): 'payload' | 'port' | '' {
    return SERVICE_BY_NAMES[this.store.u8[this.index * BYTES_PER_FLOW + SERVICE_BY_CODE]!] ?? '';
  }

  set serviceBy(value: 'payload' | 'port' | '') {
    this.store.u8[this.index * BYTES_PER_FLOW + SERVICE_BY_CODE] = value === '' ? 0 : value === 'port' ? 1 : 2;
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
    this.store.u8[this.index * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX] = this.store.keyIndexOf(value);
  }

  get totalPackets(): number {
    return this.store.u32[this.index * U32_PER_FLOW + A_PACKETS]! + this.store.u32[this.index * U32_PER_FLOW + B_PACKETS]!;
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
