/**
 * The process's standard output: written synchronously to the descriptor (cli/io.ts StreamSink), so a reader slower
 * than the replay slows udptrack down instead of queueing its output in memory, and a reader that goes away ends it
 * quietly. Spawned for real: a pipe whose reader sleeps first fills (EAGAIN on the non-blocking descriptor), and the
 * document must still arrive whole and identical to the one written to a file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'udptrack-stdout-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BIN = join(REPO_ROOT, 'bin/udptrack.cjs');
const ENV = { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NO_COLOR: '1' };

function sh(script: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', script, 'sh', ...args], { encoding: 'utf8', env: ENV, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('standard output', () => {
  // 20k packets / 2000 flows from the bench's generator: ~2.6 MB of ndjson, forty times a pipe's buffer.
  const capture = join(tmp, 'w.pcap');
  const generated = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/gen-workload.mjs'), '--packets', '20000', '--flows', '2000', '--seed', '3', '--out', capture], { encoding: 'utf8' });

  it('arrives whole through a pipe whose reader starts late, as it does in a file', () => {
    expect(generated.status, generated.stderr).toBe(0);
    for (const format of ['ndjson', 'json']) {
      const file = join(tmp, `out.${format}`);
      const direct = sh('"$1" "$2" analyze --format "$3" "$4" > "$5"', process.execPath, BIN, format, capture, file);
      expect(direct.status, direct.stderr).toBe(0);
      const expected = readFileSync(file, 'utf8');
      expect(expected.length).toBeGreaterThan(1_000_000);
      const piped = sh('"$1" "$2" analyze --format "$3" "$4" | { sleep 1; cat; }', process.execPath, BIN, format, capture);
      expect(piped.status, piped.stderr).toBe(0);
      expect(piped.stdout).toBe(expected);
    }
  });

  it('ends quietly, exit 0, when the reader goes away', () => {
    const result = sh('{ "$1" "$2" analyze --format ndjson "$3"; echo "$?" > "$4"; } | head -c 1000 > /dev/null', process.execPath, BIN, capture, join(tmp, 'status'));
    expect(result.stderr).toBe('');
    expect(readFileSync(join(tmp, 'status'), 'utf8').trim()).toBe('0');
  });

  it('a full disk is one line on stderr and exit 2, never a stack trace', () => {
    for (const args of [['analyze', '--format', 'json'], ['analyze'], ['packets']]) {
      const result = spawnSync(process.execPath, [BIN, ...args, join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap')], {
        encoding: 'utf8',
        env: ENV,
        stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
      });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toEqual(['udptrack: cannot write standard output: ENOSPC: no space left on device, write']);
    }
  });
});
