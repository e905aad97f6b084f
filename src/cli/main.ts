/**
 * Process entry point: binds the CLI to this process's streams and sets the exit code. The only place that touches
 * process.exitCode (changesets: one exit site).
 */
import { StreamSink, type CliIo } from './io.js';
import { runCli } from './program.js';

const io: CliIo = {
  stdout: new StreamSink(process.stdout),
  stderr: new StreamSink(process.stderr),
  stderrIsTty: process.stderr.isTTY === true,
  // Made when a command reads it: process.stdin builds its stream on first use, ~5 ms of start-up (issue 7).
  get stdin() {
    return process.stdin;
  },
};

// A promise, not a top-level await: the bundle the bin loads is CommonJS (scripts/build-bundles.mjs).
void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
});
