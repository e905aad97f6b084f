/**
 * Live capture on an interface through libpcap, with the `cap` binding (an optional dependency: it builds only where
 * libpcap's headers are installed). The only importer of `cap`, loaded on first use, so udptrack works where it did
 * not build.
 *
 * The capture runs in a helper process of its own that writes a classic pcap stream on its stdout, and the tail
 * reads that stream exactly as it reads `tcpdump -U -w -` on stdin. Two reasons:
 * - cap aborts the process it runs in when the interface goes down or is removed (`assert(status == 0)` in its poll
 *   callback, cap 0.2.1 src/binding.cc); in a helper, that is an exit the tail reports and, with --wait, survives;
 * - cap writes libpcap's warnings to the process's stderr itself (`pcap_lookupnet` fails on interfaces without an
 *   IPv4 address, nflog among them); the helper's stderr is read and filtered.
 *
 * cap hands over a packet's bytes and length, not libpcap's timestamp or wire length: the helper stamps each
 * packet when libpcap delivers it (immediate mode on Linux, BIOCIMMEDIATE on macOS, so within about a millisecond
 * of its arrival) and writes the captured length as the wire length. NFLOG records carry the kernel's own time
 * (NFULA_TIMESTAMP), which the tail prefers.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { LiveCaptureError, type LiveCaptureErrorCode } from './live-error.js';

export { LiveCaptureError, type LiveCaptureErrorCode } from './live-error.js';

/** What the helper captures. */
export interface CaptureHelperSpec {
  /** Interface name, `any`, `nflog:GROUP`, `pflog0`, … as libpcap names it. */
  device: string;
  /** A BPF filter (pcap-filter(7)); '' for everything. */
  filter: string;
  /** Wait for the device to exist (and be up) instead of failing. */
  wait: boolean;
}

/** A status line of the helper on its stderr: `@udptrack-capture {json}`. */
export type CaptureHelperStatus =
  | { event: 'listening'; device: string; linktype: number }
  | { event: 'waiting'; device: string; code: LiveCaptureErrorCode; message: string }
  | { event: 'error'; device: string; code: LiveCaptureErrorCode; message: string };

const STATUS_PREFIX = '@udptrack-capture ';
/** libpcap's snapshot length as cap sets it (`pcap_set_snaplen(…, 65535)`); the helper's buffer holds one packet. */
const CAP_SNAPLEN_BYTES = 65_535;
/** Kernel buffer for packets not yet read (`pcap_set_buffer_size`): 4 MiB rides out a busy second. */
const KERNEL_BUFFER_BYTES = 4 << 20;
/** How often a waiting helper looks for its device again. */
const WAIT_POLL_MS = 500;
/** Exit code of a helper that reported an error status. */
const HELPER_ERROR_EXIT = 3;

/** LINKTYPE_* for the link-type names cap returns (cap 0.2.1 `Open`); other DLTs come as "Unknown linktype N". */
const CAP_LINKTYPES: Readonly<Record<string, number>> = {
  NULL: 0,
  ETHERNET: 1,
  IEEE802_11_RADIO: 127,
  LINKTYPE_LINUX_SLL: 113,
  // DLT_RAW is 12 or 14 by OS; the file format's LINKTYPE_RAW is 101.
  RAW: 101,
};

/** The LINKTYPE of cap's link-type text; DLT_LOOP is 12 on OpenBSD, where LINKTYPE_LOOP is 108. */
export function linktypeOfCap(text: string, platform: string = process.platform): number | undefined {
  const known = CAP_LINKTYPES[text];
  if (known !== undefined) return known;
  const match = /^Unknown linktype (\d+)$/.exec(text);
  if (match === null) return undefined;
  const dlt = Number(match[1]);
  return platform === 'openbsd' && dlt === 12 ? 108 : dlt;
}

/** The one line for each reason, with what is missing and the alternative (issue 6). */
export function liveCaptureMessage(device: string, code: LiveCaptureErrorCode, detail: string): string {
  const viaTcpdump = `or without it: sudo tcpdump -i ${device} -U -w - | udptrack tail -`;
  switch (code) {
    case 'cap-missing':
      return `live capture needs the optional 'cap' module, which is not built here (it needs libpcap's headers: apt-get install libpcap-dev or brew install libpcap, then npm rebuild cap); ${viaTcpdump}`;
    case 'permission-denied':
      return `capturing on ${device} needs root (or CAP_NET_RAW and CAP_NET_ADMIN): sudo udptrack tail --interface ${device} (${detail})`;
    case 'no-such-device':
      if (/^pflog\d+$/.test(device)) {
        return `there is no ${device}: create it with sudo ifconfig ${device} create, and add log to the block rules (block log all) so pf writes to it; --wait waits for it`;
      }
      if (/^nflog(:|$)/.test(device)) return `${device}: this libpcap cannot capture NFLOG (Linux with netfilter support only)`;
      return `there is no interface ${device} (ip link, ifconfig -a list them); --wait waits for it to appear`;
    case 'device-not-up':
      return `${device} is down (ip link set ${device} up); --wait waits for it to come up`;
    case 'nflog-group-busy':
      return `${device}: another program already listens on this NFLOG group (ulogd, another tcpdump or udptrack); stop it or log to another group`;
    case 'bad-filter':
      return `--filter: ${detail} (see pcap-filter(7))`;
    case 'went-away':
      return `${device} went away (removed, or down); udptrack tail --interface ${device} --wait waits for it to come back`;
    case 'open-failed':
    case 'helper-failed':
      return `cannot capture on ${device}: ${detail}`;
  }
}

/** Which reason a libpcap error text (as cap throws it from `open`) is. */
function classifyOpenError(device: string, text: string): LiveCaptureErrorCode {
  if (/can't parse filter|syntax error|filter/i.test(text)) return 'bad-filter';
  if (/group index/i.test(text)) return 'nflog-group-busy';
  if (/permission|not permitted|EPERM|EACCES/i.test(text)) return 'permission-denied';
  if (/no such device|doesn't exist|not found/i.test(text)) return 'no-such-device';
  if (/not up|went down/i.test(text)) return 'device-not-up';
  return /^nflog/.test(device) && /not supported/i.test(text) ? 'no-such-device' : 'open-failed';
}

// --- the helper process ---------------------------------------------------------------------------------------

/** What the helper process needs from the process it runs in (the CLI entry binds these). */
export interface CaptureHelperIo {
  /** Write bytes to the pcap stream, synchronously; throws when the reader is gone (EPIPE). */
  write(bytes: Uint8Array): void;
  /** Write one status line. */
  status(line: string): void;
  /** End the helper with an exit code. */
  exit(code: number): never;
}

interface CapModule {
  Cap: {
    new (): { open(device: string, filter: string, bufSize: number, buffer: Buffer): string; on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void; close(): void };
    deviceList(): Array<{ name: string }>;
  };
}

/**
 * The helper's main: open the device (waiting for it with `wait`), write a pcap file header and one record per
 * packet. Status lines tell the parent what happened; any error ends the helper with exit code 3.
 */
export function runCaptureHelper(spec: CaptureHelperSpec, io: CaptureHelperIo): void {
  const status = (s: CaptureHelperStatus): void => io.status(`${STATUS_PREFIX}${JSON.stringify(s)}`);
  const fail = (code: LiveCaptureErrorCode, detail: string): never => {
    status({ event: 'error', device: spec.device, code, message: liveCaptureMessage(spec.device, code, detail) });
    return io.exit(HELPER_ERROR_EXIT);
  };
  let cap: CapModule;
  try {
    cap = createRequire(import.meta.url)('cap') as CapModule;
  } catch (error) {
    fail('cap-missing', error instanceof Error ? error.message.split('\n')[0]! : String(error));
    return;
  }
  const capBuffer = Buffer.alloc(CAP_SNAPLEN_BYTES + 1);
  const out = Buffer.alloc(16 + capBuffer.length);
  let waitingFor: LiveCaptureErrorCode | undefined;
  const attempt = (): void => {
    const session = new cap.Cap();
    let linkText: string;
    try {
      if (!deviceListed(cap, spec.device)) throw new Error('No such device exists');
      linkText = session.open(spec.device, spec.filter, KERNEL_BUFFER_BYTES, capBuffer);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      const code = classifyOpenError(spec.device, text);
      if (spec.wait && (code === 'no-such-device' || code === 'device-not-up')) {
        if (waitingFor !== code) status({ event: 'waiting', device: spec.device, code, message: liveCaptureMessage(spec.device, code, text) });
        waitingFor = code;
        setTimeout(attempt, WAIT_POLL_MS);
        return;
      }
      fail(code, text);
      return;
    }
    const linktype = linktypeOfCap(linkText);
    if (linktype === undefined) fail('open-failed', `unknown link type '${linkText}'`);
    io.write(pcapFileHeader(linktype!));
    status({ event: 'listening', device: spec.device, linktype: linktype! });
    session.on('packet', (capturedBytes) => {
      // Wall-clock µs, monotonic within the helper: the time origin plus the high-resolution clock.
      const tsUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
      const tsSec = Math.floor(tsUs / 1_000_000);
      out.writeUInt32LE(tsSec, 0);
      out.writeUInt32LE(tsUs - tsSec * 1_000_000, 4);
      out.writeUInt32LE(capturedBytes, 8);
      out.writeUInt32LE(capturedBytes, 12);
      capBuffer.copy(out, 16, 0, capturedBytes);
      try {
        io.write(out.subarray(0, 16 + capturedBytes));
      } catch {
        // The tail went away: nothing left to capture for.
        io.exit(0);
      }
    });
  };
  attempt();
}

/** `nflog:7` is listed as `nflog`; other devices by their own name. */
function deviceListed(cap: CapModule, device: string): boolean {
  const names = new Set(cap.Cap.deviceList().map((d) => d.name));
  return names.has(device) || names.has(device.split(':')[0]!);
}

/** A classic pcap file header, µs timestamps, little-endian (formats.md §1.1). */
function pcapFileHeader(linktype: number): Uint8Array {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(CAP_SNAPLEN_BYTES, 16);
  header.writeUInt32LE(linktype, 20);
  return header;
}

// --- the parent side -------------------------------------------------------------------------------------------

/** How the helper process is started: `command args… SPEC_JSON`. */
export interface CaptureHelperCommand {
  command: string;
  args: readonly string[];
}

/** How a helper ended. */
export type CaptureHelperEnd =
  | { kind: 'stopped' }
  | { kind: 'went-away' }
  | { kind: 'error'; error: LiveCaptureError };

/** A running helper: its pcap stream, its status lines as they come, and how it ended. */
export interface CaptureHelper {
  readonly stream: NodeJS.ReadableStream;
  readonly ended: Promise<CaptureHelperEnd>;
  /** Stop capturing (the helper is killed; `ended` resolves to stopped). */
  stop(): void;
}

/** libpcap warnings cap prints itself, harmless here (`pcap_lookupnet` on a device without an IPv4 address). */
const HARMLESS_STDERR = /^Warning: .*This may not actually work$/;
/** cap's abort when the interface went down or away (cap 0.2.1 src/binding.cc, cb_packets). */
const WENT_AWAY_STDERR = /Assertion `status == 0' failed/;

/**
 * Start the capture helper. `onStatus` hears its status lines as they come; `onStderr` any other line it prints
 * (a libpcap message worth showing). A helper that stops after it was listening went away (its interface was
 * removed or went down); one that reported an error ends with it.
 */
export function startCaptureHelper(
  spec: CaptureHelperSpec,
  helper: CaptureHelperCommand,
  onStatus: (status: CaptureHelperStatus) => void,
  onStderr: (line: string) => void,
): CaptureHelper {
  // node:child_process is loaded here, not when the CLI starts: with node:dgram and node:net it cost every run ~8 ms
  // of start-up (issue 7), and only a live capture starts a helper. `performance` is the global one, for the same reason.
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const child: ChildProcess = spawn(helper.command, [...helper.args, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stopped = false;
  let listening = false;
  let error: LiveCaptureError | undefined;
  let wentAway = false;
  let pending = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.startsWith(STATUS_PREFIX)) {
        const status = JSON.parse(line.slice(STATUS_PREFIX.length)) as CaptureHelperStatus;
        if (status.event === 'listening') listening = true;
        if (status.event === 'error') error = new LiveCaptureError(spec.device, status.code, status.message);
        onStatus(status);
      } else if (WENT_AWAY_STDERR.test(line)) {
        wentAway = true;
      } else if (line.trim() !== '' && !HARMLESS_STDERR.test(line)) {
        onStderr(line);
      }
    }
  });
  const ended = new Promise<CaptureHelperEnd>((resolve) => {
    child.on('error', (spawnError) => {
      error = new LiveCaptureError(spec.device, 'helper-failed', liveCaptureMessage(spec.device, 'helper-failed', spawnError.message));
    });
    child.on('close', (code, signal) => {
      if (stopped) resolve({ kind: 'stopped' });
      else if (error !== undefined) resolve({ kind: 'error', error });
      else if (wentAway || listening) resolve({ kind: 'went-away' });
      else {
        const detail = `capture helper ended (${signal ?? `exit ${code}`}) before it was listening`;
        resolve({ kind: 'error', error: new LiveCaptureError(spec.device, 'helper-failed', liveCaptureMessage(spec.device, 'helper-failed', detail)) });
      }
    });
  });
  return {
    stream: child.stdout!,
    ended,
    stop() {
      if (stopped) return;
      stopped = true;
      child.stdin?.end();
      child.kill('SIGTERM');
    },
  };
}
