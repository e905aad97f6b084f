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

/** Every fixture capture (.pcap, .pcapng, .cap) and every corpus capture, damaged ones included. */
export function fixtureAndCorpusCaptures(): string[] {
  return [
    ...listFiles(join(REPO_ROOT, 'fixtures')).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)),
    ...(existsSync(CORPUS_DIR) ? listFiles(CORPUS_DIR).filter((f) => !f.endsWith('.md') && !f.endsWith('.txt')) : []),
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
