/**
 * Where the capture helper's entry point is (cli/capture-helper.ts, run as its own process by `tail --interface`).
 * Resolved here, in a module beside it: this file sits in dist/cli/ both as itself and inside the bundle
 * dist/cli/udptrack.cjs the bin loads, so `./capture-helper.js` names the same file either way.
 */
import { fileURLToPath } from 'node:url';

export const CAPTURE_HELPER_ENTRY = fileURLToPath(new URL('./capture-helper.js', import.meta.url));
