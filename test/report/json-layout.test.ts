import { describe, expect, it } from 'vitest';
import { JsonRecordList, writeJsonDocument } from '../../src/report/json-layout.js';

function text(value: unknown): string {
  let out = '';
  writeJsonDocument(value, (t) => (out += t));
  return out;
}

describe('writeJsonDocument', () => {
  const doc = {
    file: 'a "quoted" name',
    empty: [],
    numbers: [1, 2, 3],
    profiles: [
      { name: 'pf', timeouts: { a: 1 }, denied: [{ frame: 1, src: '::1' }, { frame: 2, nested: { deep: [{ x: 1 }] } }], window: [] },
      { name: 'linux', denied: [] },
    ],
    gone: undefined,
  };

  it('parses back to the same value', () => {
    expect(JSON.parse(text(doc))).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('puts each record of a record array on its own line, compact, and keeps scalars and plain arrays inline', () => {
    const lines = text(doc).split('\n');
    expect(lines).toContain('        {"frame":1,"src":"::1"},');
    expect(lines).toContain('  "numbers": [1,2,3],');
    expect(lines).toContain('  "empty": [],');
    expect(lines).toContain('    {"name":"linux","denied":[]}');
    expect(lines.at(-1)).toBe('');
  });

  it('writes a value without records compactly', () => {
    expect(text({ a: [1], b: 'x' })).toBe('{"a":[1],"b":"x"}\n');
  });

  it('lays out a JsonRecordList exactly like the array of its records, and JSON.stringify sees the records', () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ frame: i, ts: `t${i}`, src: i % 3 === 0 ? '2001:db8::1' : '10.0.0.1', note: i % 7 === 0 ? 'é€' : '' }));
    const list = (items: object[]): JsonRecordList<object> => {
      const l = new JsonRecordList<object>();
      for (const item of items) l.add((out) => out.text(JSON.stringify(item)));
      return l;
    };
    const asArrays = { profiles: [{ name: 'pf', denied: records, window: [] }, { name: 'linux', denied: [], window: records.slice(0, 2) }] };
    const asLists = { profiles: [{ name: 'pf', denied: list(records), window: list([]) }, { name: 'linux', denied: list([]), window: list(records.slice(0, 2)) }] };
    expect(text(asLists)).toBe(text(asArrays));
    expect(JSON.parse(JSON.stringify(asLists))).toEqual(asArrays);
    expect(list(records).length).toBe(5000);
  });
});
