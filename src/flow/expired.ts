/**
 * The table's memory of states that expired: evidence for a later denial ("this 5-tuple had state until 31 s
 * ago"). Bounded: the newest `capacityStates` are kept in a ring of typed arrays, indexed by key hash, so a
 * capture with millions of short flows keeps no object per expired flow (each one used to survive to the old
 * generation and be copied by every scavenge on the way: issue 7).
 */

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
const INITIAL_STATES = 1024;

/** Four index places per state, a power of two. */
function indexSizeFor(capacity: number): number {
  let size = 1;
  while (size < capacity * 4) size *= 2;
  return size;
}

/** A ring of the most recent expired states with a hash index from flow key to ring slot. */
export class ExpiredStates {
  private capacity: number;
  private keyWords: Uint32Array;
  private ports: Uint32Array;
  private ipVersions: Uint8Array;
  private hashes: Int32Array;
  private flowIds: Float64Array;
  private lastUs: Float64Array;
  private expiresUs: Float64Array;
  private timeoutUs: Float64Array;
  private packetsFromLocal: Float64Array;
  private packetsFromRemote: Float64Array;
  /** Bit 0: opened by the local side. */
  private flags: Uint8Array;
  private timeoutKeys: string[];
  /**
   * Open-addressing index (linear probing, backward-shift deletion): ring slot + 1 of the newest state of each
   * key, 0 for empty. Four times the ring, so probes stay short; no Map and no object per entry.
   */
  private index: Int32Array;
  private indexMask: number;
  private next = 0;
  private stored = 0;

  /**
   * @param capacityStates - the most states kept; the ring starts small and doubles up to it (a table per profile
   *   allocated ~7 MB up front each: simulate's ten tables paid 70 MB and their zeroing for short captures)
   */
  constructor(private readonly capacityStates: number) {
    this.capacity = Math.min(capacityStates, INITIAL_STATES);
    this.keyWords = new Uint32Array(this.capacity * KEY_WORDS);
    this.ports = new Uint32Array(this.capacity);
    this.ipVersions = new Uint8Array(this.capacity);
    this.hashes = new Int32Array(this.capacity);
    this.flowIds = new Float64Array(this.capacity);
    this.lastUs = new Float64Array(this.capacity);
    this.expiresUs = new Float64Array(this.capacity);
    this.timeoutUs = new Float64Array(this.capacity);
    this.packetsFromLocal = new Float64Array(this.capacity);
    this.packetsFromRemote = new Float64Array(this.capacity);
    this.flags = new Uint8Array(this.capacity);
    this.timeoutKeys = new Array<string>(this.capacity).fill('');
    this.index = new Int32Array(indexSizeFor(this.capacity));
    this.indexMask = this.index.length - 1;
  }

  /** Double the ring (oldest state first in the new one, two block copies per array) and rebuild the index. */
  private grow(): void {
    const oldCapacity = this.capacity;
    const oldest = this.next;
    const capacity = Math.min(this.capacityStates, oldCapacity * 2);
    // Ring order: [oldest, end) then [0, oldest).
    const reorder = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(old: T, perState = 1): T => {
      const next = new (old.constructor as new (length: number) => T)(capacity * perState);
      next.set(old.subarray(oldest * perState), 0);
      next.set(old.subarray(0, oldest * perState), (oldCapacity - oldest) * perState);
      return next;
    };
    this.keyWords = reorder(this.keyWords, KEY_WORDS);
    this.ports = reorder(this.ports);
    this.ipVersions = reorder(this.ipVersions);
    this.hashes = reorder(this.hashes);
    this.flowIds = reorder(this.flowIds);
    this.lastUs = reorder(this.lastUs);
    this.expiresUs = reorder(this.expiresUs);
    this.timeoutUs = reorder(this.timeoutUs);
    this.packetsFromLocal = reorder(this.packetsFromLocal);
    this.packetsFromRemote = reorder(this.packetsFromRemote);
    this.flags = reorder(this.flags);
    const keys = this.timeoutKeys;
    this.timeoutKeys = [...keys.slice(oldest), ...keys.slice(0, oldest), ...new Array<string>(capacity - oldCapacity).fill('')];
    this.capacity = capacity;
    this.index = new Int32Array(indexSizeFor(capacity));
    this.indexMask = this.index.length - 1;
    for (let k = 0; k < oldCapacity; k++) this.indexSlot(k);
    this.next = oldCapacity;
  }

  /** Point the index at ring slot `slot` (its key's entry, or a free place). */
  private indexSlot(slot: number): void {
    const index = this.index;
    const mask = this.indexMask;
    const w = slot * KEY_WORDS;
    for (let i = this.hashes[slot]! & mask; ; i = (i + 1) & mask) {
      const entry = index[i]!;
      if (entry === 0 || this.sameSlotKey(entry - 1, slot, w)) {
        index[i] = slot + 1;
        return;
      }
    }
  }

  private sameSlotKey(a: number, b: number, wb: number): boolean {
    const wa = a * KEY_WORDS;
    const words = this.keyWords;
    for (let k = 0; k < KEY_WORDS; k++) if (words[wa + k] !== words[wb + k]) return false;
    return this.hashes[a] === this.hashes[b] && this.ipVersions[a] === this.ipVersions[b] && this.ports[a] === this.ports[b];
  }

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
    if (this.stored === this.capacity && this.capacity < this.capacityStates) this.grow();
    const slot = this.next;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.stored === this.capacity) this.unindex(slot);
    else this.stored++;
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
    this.timeoutKeys[slot] = timeoutKey;
    this.packetsFromLocal[slot] = packetsFromLocal;
    this.packetsFromRemote[slot] = packetsFromRemote;
    this.flags[slot] = openedByLocal ? 1 : 0;
    // Index it: an entry for the same key now points at this newer state; else take the first free place.
    const index = this.index;
    const mask = this.indexMask;
    for (let i = key.hash & mask; ; i = (i + 1) & mask) {
      const entry = index[i]!;
      if (entry === 0 || this.sameKey(entry - 1, key)) {
        index[i] = slot + 1;
        return;
      }
    }
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
      timeoutKey: this.timeoutKeys[slot]!,
      timeoutUs: this.timeoutUs[slot]!,
      localSent: packetsFromLocal > 0,
      packetsFromLocal,
      packetsFromRemote: this.packetsFromRemote[slot]!,
      opener: (this.flags[slot]! & 1) === 1 ? 'local' : 'remote',
    };
  }
}
