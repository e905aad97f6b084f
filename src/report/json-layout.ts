/**
 * JSON documents for machines that people also open: the structure is indented, and every array of records (flows,
 * denials, verdicts) holds one compact record per line, so `grep` and `jq -c` work line by line and a document
 * with a million records is written in pieces instead of one `JSON.stringify(doc, null, 2)` string (simulate built
 * hundreds of MiB of indentation that way: issue 7).
 */

import { CollectedBytes, JsonBytes } from './json-bytes.js';

/**
 * An array of records kept as their JSON bytes, one per line, instead of objects: simulate lists every denial of
 * every profile (200k records over ten profiles of a 1M-packet capture were ~250 MB of objects and strings, and a
 * tenth of the run in garbage collection: issue 7). writeJsonDocument lays it out like an array of records;
 * `JSON.stringify` sees the parsed records (toJSON).
 */
export class JsonRecordList<T> {
  private readonly sink = new CollectedBytes();
  private readonly out = new JsonBytes(this.sink, 64 * 1024);
  /** Records held. */
  length = 0;

  /** Append one record: `write` puts exactly one JSON value (no newline) into the writer. */
  add(write: (out: JsonBytes) => void): void {
    if (this.length > 0) this.out.text('\n');
    write(this.out);
    this.length++;
  }

  /** The records' bytes (one record per line) and their count, to rebuild the list elsewhere (fromBytes). */
  bytes(): { chunks: Uint8Array[]; length: number } {
    this.out.flush();
    return { chunks: this.sink.chunks, length: this.length };
  }

  /** A list from another list's bytes() (simulate's worker thread hands its profiles' denials over this way). */
  static fromBytes<T>(from: { chunks: readonly Uint8Array[]; length: number }): JsonRecordList<T> {
    const list = new JsonRecordList<T>();
    list.sink.chunks.push(...from.chunks);
    list.length = from.length;
    return list;
  }

  /** The records as text, joined by `separator`, in pieces. */
  writeJoined(separator: string, write: (text: string) => void): void {
    this.out.flush();
    const decoder = new TextDecoder();
    for (const chunk of this.sink.chunks) write(decoder.decode(chunk, { stream: true }).replaceAll('\n', separator));
    const rest = decoder.decode();
    if (rest !== '') write(rest);
  }

  /** The records as objects (library callers, JSON.stringify). */
  toJSON(): T[] {
    let text = '';
    this.writeJoined(',', (piece) => {
      text += piece;
    });
    return JSON.parse(`[${text}]`) as T[];
  }
}

/** Write `value` as JSON through `write`, records one per line (see the module comment). */
export function writeJsonDocument(value: unknown, write: (text: string) => void): void {
  layout(value, '', write);
  write('\n');
}

function isRecordArray(value: unknown): value is object[] | JsonRecordList<unknown> {
  if (value instanceof JsonRecordList) return value.length > 0;
  return Array.isArray(value) && value.length > 0 && value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e));
}

/** Whether an object has a record array somewhere below it (then it is laid out over several lines). */
function holdsRecords(value: unknown): boolean {
  if (isRecordArray(value)) return true;
  if (value === null || typeof value !== 'object' || value instanceof JsonRecordList) return false;
  return Object.values(value).some((v) => v !== null && typeof v === 'object' && holdsRecords(v));
}

function layout(value: unknown, indent: string, write: (text: string) => void): void {
  const inner = `${indent}  `;
  if (value instanceof JsonRecordList) {
    if (value.length === 0) {
      write('[]');
      return;
    }
    write(`[\n${inner}`);
    value.writeJoined(`,\n${inner}`, write);
    write(`\n${indent}]`);
    return;
  }
  if (isRecordArray(value) && Array.isArray(value)) {
    write('[\n');
    value.forEach((element, i) => {
      write(inner);
      if (holdsRecords(element)) layout(element, inner, write);
      else write(JSON.stringify(element));
      write(i + 1 < value.length ? ',\n' : '\n');
    });
    write(`${indent}]`);
    return;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && holdsRecords(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    write('{\n');
    entries.forEach(([key, v], i) => {
      write(`${inner}${JSON.stringify(key)}: `);
      layout(v, inner, write);
      write(i + 1 < entries.length ? ',\n' : '\n');
    });
    write(`${indent}}`);
    return;
  }
  write(JSON.stringify(value) ?? 'null');
}
