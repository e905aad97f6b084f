/**
 * Errors the CLI knows how to report (knip's ConfigurationError, changesets' ExitError): one line, exit 2 for
 * bad usage or unreadable input. Anything else is a bug and is re-thrown.
 */

/** A bad option or argument: printed as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Ends the command with an exit code after the command printed what it had to. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
