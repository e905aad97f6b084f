import { describe, expect, it } from 'vitest';
import { writeJsonDocument } from '../../src/report/json-layout.js';

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
});
