/** The capture files tests run over: the repository's fixtures and, when it is there, the shared corpus. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureError } from '../../src/capture/index.js';
import { CORPUS_DIR, REPO_ROOT } from './cli.js';

/** Every file under `dir`, recursively, in name order (readdir order differs between file systems). */
export function listFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * Whether ../shared/corpus is beside the checkout. CI has it; a clone anywhere else (a new user running the
 * README's `npm test`) runs the corpus-wide tests over the fixtures alone.
 */
export const HAVE_CORPUS = existsSync(CORPUS_DIR);

/**
 * The fewest captures fixtureAndCorpusCaptures() may list, so a test over "every capture" cannot pass over none:
 * the five fixtures, and the corpus's 130-odd when it is there.
 */
export const MIN_CAPTURES = HAVE_CORPUS ? 105 : 5;

/** Every fixture capture (.pcap, .pcapng, .cap) and every corpus capture, damaged ones included. */
export function fixtureAndCorpusCaptures(): string[] {
  return [
    ...listFiles(join(REPO_ROOT, 'fixtures')).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)),
    ...(HAVE_CORPUS ? listFiles(CORPUS_DIR).filter((f) => !f.endsWith('.md') && !f.endsWith('.txt')) : []),
  ];
}

/** What `run` gives, or the CaptureError that stopped it as one line (code and message); other errors propagate. */
export async function textOrCaptureError(run: () => Promise<string>): Promise<string> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    return `CaptureError ${error.code}: ${error.message}`;
  }
}
