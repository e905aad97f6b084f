/**
 * Where `--html FILE` goes: checked before the run, so a typo in the path fails in a second rather than after a long
 * replay, and written once the report is complete. Errors are one line, exit 2.
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** Fail now if `path` cannot be written: its folder must exist and be writable, and it must not be a folder. */
export function checkHtmlTarget(path: string): void {
  if (path === '' || path === '-') throw new UsageError(`--html needs a file path, not '${path}' (the normal report still goes to stdout)`);
  const full = resolve(path);
  let isDirectory = false;
  try {
    isDirectory = statSync(full).isDirectory();
  } catch {
    // Not there yet: the folder decides.
  }
  if (isDirectory) throw new UsageError(`--html ${path}: is a directory`);
  try {
    accessSync(dirname(full), constants.W_OK);
  } catch (error) {
    throw new UsageError(`--html ${path}: cannot write there (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Write the page. */
export function writeHtmlFile(path: string, page: string): void {
  try {
    writeFileSync(path, page, 'utf8');
  } catch (error) {
    throw new UsageError(`--html ${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** How the page names an input: `-` is standard input. */
export function inputName(file: string): string {
  return file === '-' ? 'standard input' : file;
}
