/**
 * What the CLI needs before it knows which command runs: the input errors the pipelines raise and the profile list
 * for --help, all from light modules. The commands themselves, with the pipelines behind them, load on use.
 */
export { CaptureError } from '../capture/errors.js';
export { describeTimeouts, PROFILES, ProfileError } from '../flow/profiles.js';
export { LittleSnitchParseError } from '../classify/little-snitch-error.js';
export { RulesInputError } from './rules-error.js';
export { LiveCaptureError } from '../capture/live-error.js';
export { LocalNetworkError, parseCidr } from '../flow/local.js';
