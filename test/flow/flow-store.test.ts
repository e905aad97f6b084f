/**
 * The flow table's store (src/flow/flow-store.ts): one record per flow whose fields do not overlap, growth that keeps
 * every flow's fields and follows its policy — doubling while small, then one large step, so a big capture leaves only
 * a small old store behind for the garbage collector (issue 7: peak RSS with 250k flows alive).
 */
import { describe, expect, it } from 'vitest';
import * as layout from '../../src/flow/flow-layout.js';
import { HISTORY_SLOTS } from '../../src/flow/flow-layout.js';
import { FlowStore } from '../../src/flow/flow-store.js';

/** Every field of the record: [constant name, bytes per element, elements]. */
const FIELDS: ReadonlyArray<readonly [string, number, number]> = [
  ...['FIRST_US', 'LAST_US', 'EXPIRES_US', 'STATE_CREATED_US', 'MAX_GAP_US', 'A_PAYLOAD_BYTES', 'A_IP_BYTES', 'A_WIRE_BYTES', 'B_PAYLOAD_BYTES', 'B_IP_BYTES', 'B_WIRE_BYTES', 'LATER_SIDE_FIRST_US', 'OTHER_SIDE_LAST_US'].map((n) => [n, 8, 1] as const),
  ['HISTORY_AT_US', 8, HISTORY_SLOTS - 1],
  ...['FIRST_FRAME', 'LAST_FRAME', 'FLOW_ID', 'DENIED_PACKETS', 'WINDOW_PACKETS', 'KEY_A0', 'KEY_A1', 'KEY_A2', 'KEY_A3', 'KEY_B0', 'KEY_B1', 'KEY_B2', 'KEY_B3', 'A_PACKETS', 'B_PACKETS', 'KEY_HASH', 'WHEEL_SEC', 'WHEEL_NEXT', 'WHEEL_PREV'].map((n) => [n, 4, 1] as const),
  ...['PORT_A', 'PORT_B', 'SERVICE_INDEX'].map((n) => [n, 2, 1] as const),
  ...['PEER_STATE_A', 'PEER_STATE_B', 'PACKET_SIDES', 'IP_VERSION', 'LOCAL_SIDE', 'OPENER', 'HAS_STATE', 'SEEN_REPLY', 'SERVICE_BY_CODE', 'ROLES', 'TIMEOUT_KEY_INDEX', 'HISTORY_COUNT'].map((n) => [n, 1, 1] as const),
  ['HISTORY_KEY_INDEX', 1, HISTORY_SLOTS],
  ['HISTORY_KIND', 1, HISTORY_SLOTS],
];

describe('FlowStore', () => {
  it("lays a flow's fields out in its record without overlap, each aligned to its size", () => {
    const owner = new Array<string | undefined>(layout.BYTES_PER_FLOW);
    const constants = layout as unknown as Record<string, number>;
    for (const [name, size, count] of FIELDS) {
      const index = constants[name];
      expect(index, name).toBeTypeOf('number');
      for (let byte = index! * size; byte < (index! + count) * size; byte++) {
        expect(byte, name).toBeLessThan(layout.BYTES_PER_FLOW);
        expect(owner[byte], `${name} overlaps ${owner[byte]}`).toBeUndefined();
        owner[byte] = name;
      }
    }
    expect(layout.BYTES_PER_FLOW % 8).toBe(0);
  });

  it('keeps every field of every flow through its growths, and reuses released slots first', () => {
    const store = new FlowStore(['udp.first', 'udp.single'], [60e6, 30e6], 1024);
    const { F64_PER_FLOW, U32_PER_FLOW, U16_PER_FLOW, BYTES_PER_FLOW } = layout;
    const flows = 9000;
    const capacities = new Set<number>([store.capacity]);
    const fill = (f: number): void => {
      store.f64[f * F64_PER_FLOW + layout.FIRST_US] = f * 1000.5;
      store.f64[f * F64_PER_FLOW + layout.HISTORY_AT_US + 1] = f / 4;
      store.u32[f * U32_PER_FLOW + layout.FLOW_ID] = f + 1;
      store.u32[f * U32_PER_FLOW + layout.KEY_B3] = 0xffffffff - f;
      store.i32[f * U32_PER_FLOW + layout.KEY_HASH] = -f | 0;
      store.i32[f * U32_PER_FLOW + layout.WHEEL_PREV] = f - 1;
      store.u16[f * U16_PER_FLOW + layout.PORT_B] = f & 0xffff;
      store.u8[f * BYTES_PER_FLOW + layout.LOCAL_SIDE] = f % 3;
      store.u8[f * BYTES_PER_FLOW + layout.HISTORY_KIND + 2] = f & 1;
    };
    const check = (f: number): void => {
      expect(store.f64[f * F64_PER_FLOW + layout.FIRST_US]).toBe(f * 1000.5);
      expect(store.historyTimeUs(f, 2)).toBe(f / 4);
      expect(store.u32[f * U32_PER_FLOW + layout.FLOW_ID]).toBe(f + 1);
      expect(store.u32[f * U32_PER_FLOW + layout.KEY_B3]).toBe(0xffffffff - f);
      expect(store.i32[f * U32_PER_FLOW + layout.KEY_HASH]).toBe(-f | 0);
      expect(store.i32[f * U32_PER_FLOW + layout.WHEEL_PREV]).toBe(f - 1);
      expect(store.u16[f * U16_PER_FLOW + layout.PORT_B]).toBe(f & 0xffff);
      expect(store.u8[f * BYTES_PER_FLOW + layout.LOCAL_SIDE]).toBe(f % 3);
      expect(store.historyKindOf(f, 2)).toBe(f & 1);
    };
    for (let n = 0; n < flows; n++) {
      const f = store.allocate();
      expect(f).toBe(n);
      fill(f);
      capacities.add(store.capacity);
    }
    // Doubling to 8192, then one step of x64.
    expect([...capacities]).toEqual([1024, 2048, 4096, 8192, 8192 * 64]);
    for (let f = 0; f < flows; f++) check(f);
    // A released slot is the next one handed out, its fields reset (times and links to -1, the rest to 0).
    store.release(4321);
    expect(store.allocate()).toBe(4321);
    expect(store.f64[4321 * F64_PER_FLOW + layout.FIRST_US]).toBe(0);
    expect(store.f64[4321 * F64_PER_FLOW + layout.EXPIRES_US]).toBe(-1);
    expect(store.i32[4321 * U32_PER_FLOW + layout.WHEEL_PREV]).toBe(-1);
    expect(store.u8[4321 * BYTES_PER_FLOW + layout.LOCAL_SIDE]).toBe(0);
    expect(store.allocate()).toBe(flows);
    check(4320);
    check(4322);
  });
});
