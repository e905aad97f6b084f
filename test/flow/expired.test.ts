/**
 * The table's bounded memory of expired states: newest state per key, oldest forgotten first, colliding hashes
 * kept apart by the full key, and the index consistent after any sequence of evictions.
 */
import { describe, expect, it } from 'vitest';
import { ExpiredStates, type FlowKeyWords } from '../../src/flow/expired.js';

function key(n: number, hash = n * 7919): FlowKeyWords {
  return { ipVersion: 4, portA: 1000 + n, portB: 53, keyA0: 0x0a000000 + n, keyA1: 0, keyA2: 0, keyA3: 0, keyB0: 0x09090909, keyB1: 0, keyB2: 0, keyB3: 0, hash };
}

function remember(memory: ExpiredStates, k: FlowKeyWords, flowId: number): void {
  memory.remember(k, flowId, flowId * 10, flowId * 10 + 30, 'udp.single', 30, 2, 1, true);
}

describe('ExpiredStates', () => {
  it('returns what was remembered, for exactly that key', () => {
    const memory = new ExpiredStates(8);
    remember(memory, key(1), 1);
    expect(memory.lookup(key(1))).toEqual({
      flowId: 1, lastUs: 10, expiresUs: 40, timeoutKey: 'udp.single', timeoutUs: 30, localSent: true,
      packetsFromLocal: 2, packetsFromRemote: 1, opener: 'local',
    });
    expect(memory.lookup(key(2))).toBeUndefined();
    expect(memory.lookup({ ...key(1), portB: 54 })).toBeUndefined();
  });

  it('keeps the newest state of a key', () => {
    const memory = new ExpiredStates(8);
    remember(memory, key(1), 1);
    remember(memory, key(1), 5);
    expect(memory.lookup(key(1))?.flowId).toBe(5);
  });

  it('forgets the oldest states first when full', () => {
    const memory = new ExpiredStates(4);
    for (let n = 1; n <= 6; n++) remember(memory, key(n), n);
    expect(memory.lookup(key(1))).toBeUndefined();
    expect(memory.lookup(key(2))).toBeUndefined();
    for (let n = 3; n <= 6; n++) expect(memory.lookup(key(n))?.flowId).toBe(n);
  });

  it('tells keys with the same hash apart and survives evictions inside a probe cluster', () => {
    const memory = new ExpiredStates(4);
    // Every key hashes alike: one cluster, so each eviction exercises the backward shift.
    for (let n = 1; n <= 40; n++) {
      remember(memory, key(n, 12345), n);
      for (let m = 1; m <= n; m++) {
        const found = memory.lookup(key(m, 12345));
        if (m > n - 4) expect(found?.flowId, `key ${m} after ${n}`).toBe(m);
        else expect(found, `key ${m} after ${n}`).toBeUndefined();
      }
    }
  });

  it('agrees with a reference model over a random sequence', () => {
    const capacity = 16;
    const memory = new ExpiredStates(capacity);
    const ring: Array<{ n: number; flowId: number }> = [];
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let flowId = 1; flowId <= 2000; flowId++) {
      const n = Math.floor(random() * 40);
      remember(memory, key(n, n % 5), flowId);
      ring.push({ n, flowId });
      if (ring.length > capacity) ring.shift();
      for (let m = 0; m < 40; m++) {
        const newest = ring.filter((e) => e.n === m).at(-1);
        expect(memory.lookup(key(m, m % 5))?.flowId).toBe(newest?.flowId);
      }
    }
  });

  it('agrees with the reference model at a larger capacity, timeout keys from several profiles included', () => {
    const capacity = 3000;
    const names = ['udp.single', 'replied', 'udp.multiple', 'inactivity'];
    const memory = new ExpiredStates(capacity);
    const ring: Array<{ n: number; flowId: number }> = [];
    let seed = 11;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let flowId = 1; flowId <= 9000; flowId++) {
      const n = Math.floor(random() * 5000);
      memory.remember(key(n, n % 97), flowId, flowId * 10, flowId * 10 + 30, names[flowId % 4]!, 30, 2, 1, true);
      ring.push({ n, flowId });
      if (ring.length > capacity) ring.shift();
      if (flowId % 1000 === 0) {
        const newest = new Map<number, number>();
        for (const e of ring) newest.set(e.n, e.flowId);
        for (let m = 0; m < 5000; m++) {
          const found = memory.lookup(key(m, m % 97));
          const expected = newest.get(m);
          expect(found?.flowId, `key ${m} after ${flowId}`).toBe(expected);
          if (expected !== undefined) expect(found?.timeoutKey).toBe(names[expected % 4]);
        }
      }
    }
  });
});
