/**
 * JSON documents for machines that people also open: the structure is indented, and every array of records (flows,
 * denials, verdicts) holds one compact record per line, so `grep` and `jq -c` work line by line and a document
 * with a million records is written in pieces instead of one `JSON.stringify(doc, null, 2)` string (simulate built
 * hundreds of MiB of indentation that way: issue 7).
 */

/** Write `value` as JSON through `write`, records one per line (see the module comment). */
export function writeJsonDocument(value: unknown, write: (text: string) => void): void {
  layout(value, '', write);
  write('\n');
}

function isRecordArray(value: unknown): value is object[] {
  return Array.isArray(value) && value.length > 0 && value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e));
}

/** Whether an object has a record array somewhere below it (then it is laid out over several lines). */
function holdsRecords(value: unknown): boolean {
  if (isRecordArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some((v) => v !== null && typeof v === 'object' && holdsRecords(v));
}

function layout(value: unknown, indent: string, write: (text: string) => void): void {
  const inner = `${indent}  `;
  if (isRecordArray(value)) {
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
