/**
 * Run the CLI in-process with injected argv and captured output (citty's runMain(cmd, { rawArgs })), or spawn the
 * built binary for the few tests that prove the wiring and exit codes end to end (knip's test/helpers/exec.ts).
 */
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringSink } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPUS_DIR = resolve(REPO_ROOT, '../shared/corpus');

/** What a CLI run produced. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run `udptrack ARGS` in this process; `stdin` feeds `-`. */
export async function runCliCaptured(args: readonly string[], stdin?: Uint8Array): Promise<CliResult> {
  const stdout = new StringSink();
  const stderr = new StringSink();
  const exitCode = await runCli(args, {
    stdout,
    stderr,
    stderrIsTty: false,
    stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
  });
  return { exitCode, stdout: stdout.text, stderr: stderr.text };
}

/** Spawn the built `bin/udptrack.cjs` with a minimal environment. */
export function spawnCli(args: readonly string[], input?: Uint8Array): CliResult {
  const result = spawnSync(process.execPath, [resolve(REPO_ROOT, 'bin/udptrack.cjs'), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NO_COLOR: '1' },
    input: input === undefined ? undefined : Buffer.from(input),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Whether a command is on the PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}
