/**
 * Input plumbing shared by the commands: `-` means standard input; a progress line on stderr only when stderr is a
 * terminal and the input is a file of known size (never in pipes or CI).
 */
import type { CaptureSource, WorkerChoice } from '../pipeline/index.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

/** Resolve a FILE argument: a path, or standard input for `-`. */
export function openInput(file: string, io: CliIo): CaptureSource {
  return file === '-' ? io.stdin : file;
}

/**
 * `--threads N` as the pipeline's worker choice: 1 keeps a run in one thread (false); 2 takes a second one whatever the
 * input's size (stdin must still be a regular file for the second reader); no option leaves it to the pipeline's
 * default, a second thread from WORKER_MIN_BYTES (undefined).
 */
export function workerChoiceOf(text: string | undefined): WorkerChoice | false | undefined {
  if (text === undefined) return undefined;
  if (text !== '1' && text !== '2') throw new UsageError(`--threads must be 1 or 2, not '${text}'`);
  return text === '1' ? false : { minBytes: 0 };
}

/** A progress line updater. */
export interface ProgressReporter {
  /** Input read so far: bytes, the input's size when known, packet records (for the packets/s figure). */
  update: ((bytesRead: number, totalBytes: number | undefined, records: number) => void) | undefined;
  done(): void;
}

const REDRAW_EVERY_MS = 250;

/**
 * A progress line (`45% 104.3 MiB of 232.0 MiB, 812k packets/s, 1.6 s left`) redrawn in place at most four times
 * a second; a no-op unless stderr is a terminal and the input a file. `force` true/false overrides the tty test.
 */
export function progressReporter(file: string, io: CliIo, force?: boolean): ProgressReporter {
  const enabled = force ?? (io.stderrIsTty && file !== '-');
  const startedMs = Date.now();
  let lastDrawMs = 0;
  let drawn = false;
  const reporter: ProgressReporter = {
    update: undefined,
    done() {
      if (drawn) io.stderr.write('\r\x1b[K');
    },
  };
  if (!enabled) return reporter;
  reporter.update = (bytesRead, totalBytes, records) => {
    const nowMs = Date.now();
    if (nowMs - lastDrawMs < REDRAW_EVERY_MS) return;
    lastDrawMs = nowMs;
    const elapsedSec = Math.max((nowMs - startedMs) / 1000, 0.001);
    const rate = records / elapsedSec;
    let line = `${mib(bytesRead)}`;
    if (totalBytes !== undefined && totalBytes > 0) {
      const fraction = bytesRead / totalBytes;
      const leftSec = fraction > 0 ? (elapsedSec / fraction) * (1 - fraction) : 0;
      line = `${Math.floor(fraction * 100)}% ${mib(bytesRead)} of ${mib(totalBytes)}, ${leftSec.toFixed(1)} s left`;
    }
    line += `, ${Math.round(rate / 1000)}k packets/s`;
    io.stderr.write(`\r\x1b[K${line}`);
    drawn = true;
  };
  return reporter;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
