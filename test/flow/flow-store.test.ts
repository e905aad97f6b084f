/**
 * The flow table's store (src/flow/flow-store.ts): growth keeps every flow's fields, and follows its policy —
 * doubling while small, then one large step, so a big capture leaves only a small old store behind for the garbage
 * collector (issue 7: peak RSS with 250k flows alive).
 */
import { describe, expect, it } from 'vitest';
import { FlowStore } from '../../src/flow/flow-store.js';

describe('FlowStore', () => {
  it('keeps every field of every flow through its growths, and reuses released slots first', () => {
    const store = new FlowStore(['udp.first', 'udp.single'], [60e6, 30e6], 1024);
    const flows = 9000;
    const capacities = new Set<number>([store.capacity]);
    for (let n = 0; n < flows; n++) {
      const f = store.allocate();
      expect(f).toBe(n);
      store.firstUs[f] = n * 1000.5;
      store.id[f] = n + 1;
      store.keyB3[f] = 0xffffffff - n;
      store.portB[f] = n & 0xffff;
      store.hash[f] = -n | 0;
      store.localSide[f] = (n % 3) as 0 | 1 | 2;
      store.historyAtUs[f * (store.historySlots - 1) + 1] = n / 4;
      store.historyKind[f * store.historySlots + 2] = n & 1;
      store.wheelPrev[f] = n - 1;
      capacities.add(store.capacity);
    }
    // Doubling to 8192, then one step of x64.
    expect([...capacities]).toEqual([1024, 2048, 4096, 8192, 8192 * 64]);
    for (let f = 0; f < flows; f++) {
      expect(store.firstUs[f]).toBe(f * 1000.5);
      expect(store.id[f]).toBe(f + 1);
      expect(store.keyB3[f]).toBe(0xffffffff - f);
      expect(store.portB[f]).toBe(f & 0xffff);
      expect(store.hash[f]).toBe(-f | 0);
      expect(store.localSide[f]).toBe(f % 3);
      expect(store.historyAtUs[f * (store.historySlots - 1) + 1]).toBe(f / 4);
      expect(store.historyKind[f * store.historySlots + 2]).toBe(f & 1);
      expect(store.wheelPrev[f]).toBe(f - 1);
    }
    // A released slot is the next one handed out, its fields reset.
    store.release(4321);
    expect(store.allocate()).toBe(4321);
    expect(store.firstUs[4321]).toBe(0);
    expect(store.wheelPrev[4321]).toBe(-1);
    expect(store.allocate()).toBe(flows);
  });
});
