/**
 * DeferredBytes keeps analyze's denials for the end of the JSON document without holding them all in memory: past
 * a few MiB they go to a temporary file. Whatever the path, the bytes drained are the bytes taken, in order, and
 * the temporary directory is gone afterwards.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeferredBytes, StringSink } from '../../src/cli/io.js';
import { JsonBytes, jsonPiece } from '../../src/report/json-bytes.js';

async function drained(lines: string[], separator: string): Promise<{ text: string; spilled: boolean }> {
  const deferred = new DeferredBytes();
  const out = new JsonBytes(deferred, 4096);
  const sep = jsonPiece(separator);
  lines.forEach((line, i) => {
    if (i > 0) out.piece(sep);
    out.text(line);
  });
  out.flush();
  const spilled = (deferred as unknown as { path: string | undefined }).path;
  const sink = new StringSink();
  await deferred.drainTo(sink);
  expect(spilled === undefined || !existsSync(dirname(spilled))).toBe(true);
  return { text: sink.text, spilled: spilled !== undefined };
}

describe('DeferredBytes', () => {
  it('keeps a few lines in memory', async () => {
    expect(await drained(['{"a":1}', '{"b":"é"}'], ',\n')).toEqual({ text: '{"a":1},\n{"b":"é"}', spilled: false });
    expect(await drained([], ',\n')).toEqual({ text: '', spilled: false });
  });

  it('spills past the memory limit and reads back the same text, multi-byte characters across chunk edges included', async () => {
    const lines = Array.from({ length: 120_000 }, (_, i) => `{"frame":${i},"src":"2001:db8::${i.toString(16)}","note":"${'é€'.repeat(i % 7)}"}`);
    const { text, spilled } = await drained(lines, ',\n');
    expect(spilled).toBe(true);
    expect(text).toBe(lines.join(',\n'));
  });
});
