/**
 * The one input error that ends a run (design-models.md §5, level "input"): the source cannot be opened or read,
 * its magic is unknown, or its first header is broken. Everything found after the first header is damage
 * (`CaptureDamage`), never an exception, so records read before it are not lost.
 */

/** Stable, kebab-case reason for a `CaptureError`; only ever added to, never renamed. */
export type CaptureErrorCode =
  | 'no-such-file'
  | 'permission-denied'
  | 'is-a-directory'
  | 'read-failed'
  | 'empty-file'
  | 'truncated-file-header'
  | 'not-a-capture-file'
  | 'unsupported-version'
  | 'bad-file-header';

/**
 * An unreadable or unrecognisable capture. `message` is one line meant for the user
 * (`not a capture file (magic 0x3c21444f)`); the CLI prints it next to `path` and exits 2.
 */
export class CaptureError extends Error {
  /** The path the user gave (`-` for standard input, `<stream>` for a caller's stream). */
  readonly path: string;
  /** Machine-readable reason, for tests and for callers that want to react to one case. */
  readonly code: CaptureErrorCode;

  /**
   * @param path - the input as the user named it
   * @param code - stable reason
   * @param message - one line, no trailing period, no path (the caller prints the path)
   */
  constructor(path: string, code: CaptureErrorCode, message: string) {
    super(message);
    this.name = 'CaptureError';
    this.path = path;
    this.code = code;
  }
}


/** A u32 as 8 hex digits, for messages (`magic 0x3c21444f`). */
export function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
