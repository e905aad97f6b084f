import { describe, expect, it } from 'vitest';
import { StringSink } from '../../src/cli/io.js';
import { JsonRecordList, writeJsonDocument } from '../../src/report/json-layout.js';

function text(value: unknown): string {
  const sink = new StringSink();
  writeJsonDocument(value, sink);
  return sink.text;
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

  it.each([
    ['held at the indent the layout gives them', ' '.repeat(8)],
    ['held at another indent', ''],
  ])('lays out a JsonRecordList %s exactly like the array of its records, and JSON.stringify sees the records', (_, indent) => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ frame: i, ts: `t${i}`, src: i % 3 === 0 ? '2001:db8::1' : '10.0.0.1', note: i % 7 === 0 ? 'é€' : '' }));
    const list = (items: object[]): JsonRecordList<object> => {
      const l = new JsonRecordList<object>(indent);
      for (const item of items) l.add((out) => out.text(JSON.stringify(item)));
      return l;
    };
    const asArrays = { profiles: [{ name: 'pf', denied: records, window: [] }, { name: 'linux', denied: [], window: records.slice(0, 2) }] };
    const asLists = { profiles: [{ name: 'pf', denied: list(records), window: list([]) }, { name: 'linux', denied: list([]), window: list(records.slice(0, 2)) }] };
    expect(text(asLists)).toBe(text(asArrays));
    expect(JSON.parse(JSON.stringify(asLists))).toEqual(asArrays);
    expect(list(records).length).toBe(5000);
    const moved = JsonRecordList.fromBytes<object>(list(records).bytes());
    expect(text({ profiles: [{ name: 'pf', denied: moved, window: [] }] })).toBe(text({ profiles: [{ name: 'pf', denied: records, window: [] }] }));
  });

  it('writes a list held at its layout indent as the chunks it holds, not re-joined', () => {
    const list = new JsonRecordList<object>(' '.repeat(4));
    for (let i = 0; i < 3000; i++) list.add((out) => out.text(JSON.stringify({ frame: i, src: '10.0.0.1' })));
    const held = list.bytes().chunks;
    expect(held.length).toBeGreaterThan(1);
    const written: Uint8Array[] = [];
    writeJsonDocument({ denied: list }, { write: () => undefined, writeBytes: (chunk) => written.push(chunk) > 0 });
    expect(written).toEqual(held);
    expect(written.every((chunk, i) => chunk === held[i])).toBe(true);
  });
});
