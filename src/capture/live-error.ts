/**
 * The error a live capture (`udptrack tail --interface`) cannot start with, or ends with: its own module without
 * imports, so the CLI can recognise it at start-up without loading the capture code.
 */

/** Stable reason a live capture cannot start or went away; only ever added to. */
export type LiveCaptureErrorCode =
  | 'cap-missing'
  | 'permission-denied'
  | 'no-such-device'
  | 'device-not-up'
  | 'nflog-group-busy'
  | 'bad-filter'
  | 'open-failed'
  | 'went-away'
  | 'helper-failed';

/** Why a live capture cannot run: one line for the user that says what is missing and the alternative. */
export class LiveCaptureError extends Error {
  constructor(
    readonly device: string,
    readonly code: LiveCaptureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LiveCaptureError';
  }
}
