/**
 * The one error of the Little Snitch parsers, in a module of its own so the CLI can recognise it without loading them.
 */

/** Raised for text that is not a Little Snitch alert, or for a bad `log-traffic` CSV; the message is one line. */
export class LittleSnitchParseError extends Error {
  override readonly name = 'LittleSnitchParseError';

  /** @param line 1-based line of the CSV where the problem is, when there is one. */
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}
