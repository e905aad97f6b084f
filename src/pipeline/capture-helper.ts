/**
 * What the capture helper process runs (capture/live.ts): `udptrack tail --interface` starts it as a process of its
 * own, so this module is all the helper loads.
 */
export { runCaptureHelper, type CaptureHelperIo, type CaptureHelperSpec } from '../capture/live.js';
