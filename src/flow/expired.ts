/**
 * The table's memory of states that expired: evidence for a later denial ("this 5-tuple had state until 31 s
 * ago"). Bounded: the newest `capacityStates` are kept in a ring of typed arrays, indexed by key hash, so a
 * capture with millions of short flows keeps no object per expired flow (each one used to survive to the old
 * generation and be copied by every scavenge on the way: issue 7).
 */

import { type FlowStore } from './flow-store.js';
import { A_PACKETS, BYTES_PER_FLOW, B_PACKETS, EXPIRES_US, F64_PER_FLOW, FLOW_ID, IP_VERSION, KEY_A0, KEY_A1, KEY_A2, KEY_A3, KEY_B0, KEY_B1, KEY_B2, KEY_B3, KEY_HASH, LAST_US, LOCAL_SIDE, OPENER, PORT_A, PORT_B, TIMEOUT_KEY_INDEX, U16_PER_FLOW, U32_PER_FLOW } from './flow-layout.js';

/** What the table remembers of a state after it expired. */
export interface ExpiredState {
  flowId: number;
  lastUs: number;
  expiresUs: number;
  timeoutKey: string;
  timeoutUs: number;
  /** The local side had sent on the flow. */
  localSent: boolean;
  packetsFromLocal: number;
  packetsFromRemote: number;
  opener: 'local' | 'remote';
}

/** The canonical key of a flow as the table stores it (IPv4 uses word 0 of each side). */
export interface FlowKeyWords {
  ipVersion: 4 | 6;
  portA: number;
  portB: number;
  keyA0: number;
  keyA1: number;
  keyA2: number;
  keyA3: number;
  keyB0: number;
  keyB1: number;
  keyB2: number;
  keyB3: number;
  hash: number;
}

const KEY_WORDS = 8;

/** Four index places per state, a power of two. */
function indexSizeFor(capacity: number): number {
  let size = 1;
  while (size < capacity * 4) size *= 2;
  return size;
}

/** A ring of the most recent expired states with a hash index from flow key to ring slot. */
export class ExpiredStates {
  private readonly capacity: number;
  private readonly keyWords: Uint32Array;
  private readonly ports: Uint32Array;
  private readonly ipVersions: Uint8Array;
  private readonly hashes: Int32Array;
  // Flow ids and packet counts are Uint32, as in the flow store they come from (flow-store.ts): 12 bytes a state.
  private readonly flowIds: Uint32Array;
  private readonly lastUs: Float64Array;
  private readonly expiresUs: Float64Array;
  private readonly timeoutUs: Float64Array;
  private readonly packetsFromLocal: Uint32Array;
  private readonly packetsFromRemote: Uint32Array;
  /** Bit 0: opened by the local side. */
  private readonly flags: Uint8Array;
  private readonly timeoutKeyIndexes: Uint8Array;
  /**
   * Open-addressing index (linear probing, backward-shift deletion): ring slot + 1 of the newest state of each
   * key, 0 for empty. Four times the ring, so probes stay short; no Map and no object per entry.
   */
  private readonly index: Int32Array;
  private readonly indexMask: number;
  private next = 0;
  private stored = 0;

  /**
   * @param capacityStates - the most states kept. Allocated whole: typed arrays this size come from calloc'd pages
   *   that cost nothing until a state lands on them; timeout keys are small indexes, not a JS array of strings (which
   *   the heap had to fill and scan whole for every table).
   * @param storeKeyNames - the timeout key names of the flow store whose flows rememberFlow will get, in its order:
   *   they take the first indexes, so a flow's key index is copied as it is instead of looked up by name per flow.
   */
  constructor(capacityStates: number, storeKeyNames: readonly string[] = []) {
    this.capacity = capacityStates;
    this.storeKeyNames = storeKeyNames;
    for (const name of storeKeyNames) this.keyIndexOf(name);
    this.keyWords = new Uint32Array(capacityStates * KEY_WORDS);
    this.ports = new Uint32Array(capacityStates);
    this.ipVersions = new Uint8Array(capacityStates);
    this.hashes = new Int32Array(capacityStates);
    this.flowIds = new Uint32Array(capacityStates);
    this.lastUs = new Float64Array(capacityStates);
    this.expiresUs = new Float64Array(capacityStates);
    this.timeoutUs = new Float64Array(capacityStates);
    this.packetsFromLocal = new Uint32Array(capacityStates);
    this.packetsFromRemote = new Uint32Array(capacityStates);
    this.flags = new Uint8Array(capacityStates);
    this.timeoutKeyIndexes = new Uint8Array(capacityStates);
    this.index = new Int32Array(indexSizeFor(capacityStates));
    this.indexMask = this.index.length - 1;
  }

  /** The index of a timeout key name (a profile has a handful). */
  private keyIndexOf(name: string): number {
    let index = this.keyIndexes.get(name);
    if (index === undefined) {
      index = this.keyNames.length;
      this.keyNames.push(name);
      this.keyIndexes.set(name, index);
    }
    return index;
  }

  private readonly keyNames: string[] = [];
  private readonly storeKeyNames: readonly string[];
  private readonly keyIndexes = new Map<string, number>();

  /** Remember an expired state of the flow keyed by `key`, forgetting the oldest when full. */
  remember(
    key: FlowKeyWords,
    flowId: number,
    lastUs: number,
    expiresUs: number,
    timeoutKey: string,
    timeoutUs: number,
    packetsFromLocal: number,
    packetsFromRemote: number,
    openedByLocal: boolean,
  ): void {
    const slot = this.claimSlot();
    const w = slot * KEY_WORDS;
    const words = this.keyWords;
    words[w] = key.keyA0;
    words[w + 1] = key.keyA1;
    words[w + 2] = key.keyA2;
    words[w + 3] = key.keyA3;
    words[w + 4] = key.keyB0;
    words[w + 5] = key.keyB1;
    words[w + 6] = key.keyB2;
    words[w + 7] = key.keyB3;
    this.ports[slot] = ((key.portA << 16) | key.portB) >>> 0;
    this.ipVersions[slot] = key.ipVersion;
    this.hashes[slot] = key.hash;
    this.flowIds[slot] = flowId;
    this.lastUs[slot] = lastUs;
    this.expiresUs[slot] = expiresUs;
    this.timeoutUs[slot] = timeoutUs;
    this.timeoutKeyIndexes[slot] = this.keyIndexOf(timeoutKey);
    this.packetsFromLocal[slot] = packetsFromLocal;
    this.packetsFromRemote[slot] = packetsFromRemote;
    this.flags[slot] = openedByLocal ? 1 : 0;
    this.indexSlot(slot);
  }

  /**
   * Remember flow slot `f` of a table's store as its state expires, read straight from the store: the flow table
   * calls this for every expiry (ten tables in simulate), and passing its fields as arguments boxed the doubles and
   * copied the key through a scratch object first (issue 7).
   */
  rememberFlow(store: FlowStore, f: number): void {
    const slot = this.claimSlot();
    const w = slot * KEY_WORDS;
    const words = this.keyWords;
    words[w] = store.u32[f * U32_PER_FLOW + KEY_A0]!;
    words[w + 1] = store.u32[f * U32_PER_FLOW + KEY_A1]!;
    words[w + 2] = store.u32[f * U32_PER_FLOW + KEY_A2]!;
    words[w + 3] = store.u32[f * U32_PER_FLOW + KEY_A3]!;
    words[w + 4] = store.u32[f * U32_PER_FLOW + KEY_B0]!;
    words[w + 5] = store.u32[f * U32_PER_FLOW + KEY_B1]!;
    words[w + 6] = store.u32[f * U32_PER_FLOW + KEY_B2]!;
    words[w + 7] = store.u32[f * U32_PER_FLOW + KEY_B3]!;
    this.ports[slot] = ((store.u16[f * U16_PER_FLOW + PORT_A]! << 16) | store.u16[f * U16_PER_FLOW + PORT_B]!) >>> 0;
    this.ipVersions[slot] = store.u8[f * BYTES_PER_FLOW + IP_VERSION] === 6 ? 6 : 4;
    this.hashes[slot] = store.i32[f * U32_PER_FLOW + KEY_HASH]!;
    this.flowIds[slot] = store.u32[f * U32_PER_FLOW + FLOW_ID]!;
    this.lastUs[slot] = store.f64[f * F64_PER_FLOW + LAST_US]!;
    this.expiresUs[slot] = store.f64[f * F64_PER_FLOW + EXPIRES_US]!;
    this.timeoutUs[slot] = store.timeoutUsOf(f);
    this.timeoutKeyIndexes[slot] = store.keyNames === this.storeKeyNames ? store.u8[f * BYTES_PER_FLOW + TIMEOUT_KEY_INDEX]! : this.keyIndexOf(store.timeoutKeyName(f));
    const side = store.u8[f * BYTES_PER_FLOW + LOCAL_SIDE]!; // 0 none, 1 a, 2 b
    const aPackets = store.u32[f * U32_PER_FLOW + A_PACKETS]!;
    const bPackets = store.u32[f * U32_PER_FLOW + B_PACKETS]!;
    this.packetsFromLocal[slot] = side === 0 ? 0 : side === 1 ? aPackets : bPackets;
    this.packetsFromRemote[slot] = side === 0 ? 0 : side === 1 ? bPackets : aPackets;
    this.flags[slot] = side !== 0 && side - 1 === store.u8[f * BYTES_PER_FLOW + OPENER] ? 1 : 0;
    this.indexSlot(slot);
  }

  /** The ring slot for the next state (the oldest one's, unindexed, once the ring is full). */
  private claimSlot(): number {
    const slot = this.next;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.stored === this.capacity) this.unindex(slot);
    else this.stored++;
    return slot;
  }

  /** Index ring slot `slot`: an entry for the same key now points at this newer state; else the first free place. */
  private indexSlot(slot: number): void {
    const index = this.index;
    const mask = this.indexMask;
    const hash = this.hashes[slot]!;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = index[i]!;
      if (entry === 0 || this.sameSlotKey(entry - 1, slot)) {
        index[i] = slot + 1;
        return;
      }
    }
  }

  private sameSlotKey(a: number, b: number): boolean {
    if (this.hashes[a] !== this.hashes[b] || this.ports[a] !== this.ports[b] || this.ipVersions[a] !== this.ipVersions[b]) return false;
    const words = this.keyWords;
    const wa = a * KEY_WORDS;
    const wb = b * KEY_WORDS;
    for (let k = 0; k < KEY_WORDS; k++) if (words[wa + k] !== words[wb + k]) return false;
    return true;
  }

  /** Drop the index entry of a ring slot about to be reused (none when a newer state of its key replaced it). */
  private unindex(slot: number): void {
    const index = this.index;
    const mask = this.indexMask;
    let hole = this.hashes[slot]! & mask;
    for (;;) {
      const entry = index[hole]!;
      if (entry === 0) return;
      if (entry === slot + 1) break;
      hole = (hole + 1) & mask;
    }
    index[hole] = 0;
    // Backward-shift deletion keeps every later entry of the cluster reachable from its home position.
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const entry = index[j]!;
      if (entry === 0) return;
      const home = this.hashes[entry - 1]! & mask;
      if (((hole - home) & mask) < ((j - home) & mask)) {
        index[hole] = entry;
        index[j] = 0;
        hole = j;
      }
    }
  }

  private sameKey(slot: number, key: FlowKeyWords): boolean {
    const w = slot * KEY_WORDS;
    const words = this.keyWords;
    return (
      this.hashes[slot] === key.hash &&
      this.ipVersions[slot] === key.ipVersion &&
      this.ports[slot] === ((key.portA << 16) | key.portB) >>> 0 &&
      words[w] === key.keyA0 &&
      words[w + 1] === key.keyA1 &&
      words[w + 2] === key.keyA2 &&
      words[w + 3] === key.keyA3 &&
      words[w + 4] === key.keyB0 &&
      words[w + 5] === key.keyB1 &&
      words[w + 6] === key.keyB2 &&
      words[w + 7] === key.keyB3
    );
  }

  /** The newest remembered state of exactly this key, as a new object (called per denial, not per packet). */
  lookup(key: FlowKeyWords): ExpiredState | undefined {
    const index = this.index;
    const mask = this.indexMask;
    let slot = -1;
    for (let i = key.hash & mask; ; i = (i + 1) & mask) {
      const entry = index[i]!;
      if (entry === 0) return undefined;
      if (this.sameKey(entry - 1, key)) {
        slot = entry - 1;
        break;
      }
    }
    const packetsFromLocal = this.packetsFromLocal[slot]!;
    return {
      flowId: this.flowIds[slot]!,
      lastUs: this.lastUs[slot]!,
      expiresUs: this.expiresUs[slot]!,
      timeoutKey: this.keyNames[this.timeoutKeyIndexes[slot]!] ?? '',
      timeoutUs: this.timeoutUs[slot]!,
      localSent: packetsFromLocal > 0,
      packetsFromLocal,
      packetsFromRemote: this.packetsFromRemote[slot]!,
      opener: (this.flags[slot]! & 1) === 1 ? 'local' : 'remote',
    };
  }
}
