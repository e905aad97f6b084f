/**
 * Tables for people. The only importer of cli-table3; plain ASCII borders without colour, so output pastes
 * cleanly into issues and diffs well in golden tests.
 */
import { createRequire } from 'node:module';
import type TableClass from 'cli-table3';

// Loaded on first use: machine formats never draw a table, and start-up is part of every run (issue 7).
const require = createRequire(import.meta.url);
let Table: typeof TableClass | undefined;

/** Column alignment. */
export type Align = 'left' | 'right';

/** Render rows under a heading row. */
export function renderTable(head: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  Table ??= require('cli-table3') as typeof TableClass;
  const table = new Table({
    head: [...head],
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
    chars: {
      top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
      bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
      left: '|', 'left-mid': '', mid: '', 'mid-mid': '', right: '|', 'right-mid': '', middle: '|',
    },
    colAligns: align ? [...align] : head.map(() => "left" as const),
    wordWrap: false,
  });
  for (const row of rows) table.push([...row]);
  return table.toString();
}

/** Key/value lines aligned on the colon. */
export function renderKeyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n');
}
