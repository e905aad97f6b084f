/**
 * JSON documents for machines that people also open: the structure is indented, and every array of records (flows,
 * denials, verdicts) holds one compact record per line, so `grep` and `jq -c` work line by line and a document
 * with a million records is written in pieces instead of one `JSON.stringify(doc, null, 2)` string (simulate built
 * hundreds of MiB of indentation that way: issue 7).
 */

import { CollectedBytes, JsonBytes, type ByteSink } from './json-bytes.js';

/** Where writeJsonDocument writes: the layout as text, record lists as the bytes they are held in. */
export interface JsonDocumentSink extends ByteSink {
  write(text: string): void;
}

/** A JsonRecordList as plain data (structured clone: simulate's worker thread hands its lists over this way). */
export interface JsonRecordBytes {
  chunks: Uint8Array[];
  /** Records held. */
  length: number;
  /** The indent they are joined for. */
  indent: string;
}

/**
 * An array of records kept as their JSON bytes instead of objects: simulate lists every denial of every profile
 * (200k records over ten profiles of a 1M-packet capture were ~250 MB of objects and strings, and a tenth of the
 * run in garbage collection: issue 7). writeJsonDocument lays it out like an array of records, one per line;
 * `JSON.stringify` sees the parsed records (toJSON).
 *
 * The records are held already joined the way the layout will write them at `indent` (a comma, a newline, the
 * indent), so writing the list is handing its chunks over: re-joining 34 MB of simulate's denials record by record
 * took ~85 ms of a 1M-packet run (issue 7). A list laid out at another indent is re-joined as text.
 */
export class JsonRecordList<T> {
  private readonly sink = new CollectedBytes();
  private readonly out = new JsonBytes(this.sink, 64 * 1024);
  /** What is held between two records. */
  private readonly separator: string;
  /** Records held. */
  length = 0;

  /** @param indent - the spaces writeJsonDocument will put before each record of this list (two per depth). */
  constructor(readonly indent = '') {
    this.separator = `,\n${indent}`;
  }

  /** Append one record: `write` puts exactly one JSON value (no newline) into the writer. */
  add(write: (out: JsonBytes) => void): void {
    if (this.length > 0) this.out.text(this.separator);
    write(this.out);
    this.length++;
  }

  /** The records' bytes, their count and indent, to rebuild the list elsewhere (fromBytes). */
  bytes(): JsonRecordBytes {
    this.out.flush();
    return { chunks: this.sink.chunks, length: this.length, indent: this.indent };
  }

  /** A list from another list's bytes() (simulate's worker thread hands its profiles' denials over this way). */
  static fromBytes<T>(from: JsonRecordBytes): JsonRecordList<T> {
    const list = new JsonRecordList<T>(from.indent);
    list.sink.chunks.push(...from.chunks);
    list.length = from.length;
    return list;
  }

  /**
   * The records with `,\n` and `indent` between them: the held chunks themselves when that is how they are held
   * (never filled again: the writer moved on to new ones, so the sink may keep them), else re-joined. The separator
   * cannot occur inside a record: JSON escapes a newline in a string (RFC 8259 §7).
   */
  writeJoined(indent: string, sink: ByteSink): void {
    this.out.flush();
    if (indent === this.indent) {
      for (const chunk of this.sink.chunks) sink.writeBytes(chunk);
      return;
    }
    const text = Buffer.concat(this.sink.chunks).toString('utf8').replaceAll(this.separator, `,\n${indent}`);
    sink.writeBytes(Buffer.from(text, 'utf8'));
  }

  /** The records as objects (library callers, JSON.stringify). */
  toJSON(): T[] {
    this.out.flush();
    return JSON.parse(`[${Buffer.concat(this.sink.chunks).toString('utf8')}]`) as T[];
  }
}

/** Write `value` as JSON into `sink`, records one per line (see the module comment). */
export function writeJsonDocument(value: unknown, sink: JsonDocumentSink): void {
  layout(value, '', sink);
  sink.write('\n');
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

function layout(value: unknown, indent: string, sink: JsonDocumentSink): void {
  const write = (text: string): void => sink.write(text);
  const inner = `${indent}  `;
  if (value instanceof JsonRecordList) {
    if (value.length === 0) {
      write('[]');
      return;
    }
    write(`[\n${inner}`);
    value.writeJoined(inner, sink);
    write(`\n${indent}]`);
    return;
  }
  if (isRecordArray(value) && Array.isArray(value)) {
    write('[\n');
    value.forEach((element, i) => {
      write(inner);
      if (holdsRecords(element)) layout(element, inner, sink);
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
      layout(v, inner, sink);
      write(i + 1 < entries.length ? ',\n' : '\n');
    });
    write(`${indent}}`);
    return;
  }
  write(JSON.stringify(value) ?? 'null');
}
