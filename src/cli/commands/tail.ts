/**
 * `udptrack tail -` / `udptrack tail --interface IF`: watch denials as they happen. Every event is written and
 * flushed at once; Ctrl-C (SIGINT or SIGTERM) or the end of input prints the summary and exits 0.
 */
import { TailSession, hostAddresses, parseDurationUs, tailInterface, tailStream, type InterfaceEvent, type TailEnd } from '../../pipeline/tail.js';
import { resolveProfile, timeoutsInSeconds, type ProfileChoice } from '../../pipeline/profiles.js';
import {
  damageRecord,
  flowRecord,
  renderDamageLine,
  renderFlowEndLine,
  renderFlowStartLine,
  renderRevisionLine,
  renderSettledLine,
  renderTailHeader,
  renderTailSummary,
  renderVerdictLine,
  revisionRecord,
  settledRecord,
  startRecord,
  summaryRecord,
  verdictRecord,
} from '../../report/tail.js';
import { ExitError, UsageError } from '../errors.js';
import { CAPTURE_HELPER_ENTRY } from '../helper-path.js';
import type { CliIo } from '../io.js';

/** Options of `tail`, as commander parses them. */
export interface TailCliOptions extends ProfileChoice {
  interface?: string;
  filter?: string;
  wait?: boolean;
  format: 'text' | 'ndjson';
  verbose?: boolean;
  local?: string[];
  denyPrefix?: string;
  finalAfter: string;
}


/** Run `tail`. */
export async function runTail(file: string | undefined, options: TailCliOptions, io: CliIo): Promise<void> {
  const device = options.interface;
  if ((file === undefined) === (device === undefined)) {
    throw new UsageError('tail reads - (a pcap or pcapng stream on stdin) or --interface IF, one of them');
  }
  if (device === undefined && (options.filter !== undefined || options.wait === true)) {
    throw new UsageError('--filter and --wait belong to --interface; filter a stream where it is captured (tcpdump … udp)');
  }
  const settleAfterUs = parseDurationUs(options.finalAfter);
  if (settleAfterUs === undefined || settleAfterUs < 1_000_000) {
    throw new UsageError(`--final-after must be a duration of at least 1s (e.g. 120s, 5m), not '${options.finalAfter}'`);
  }
  // NFLOG is Linux's netfilter: conntrack is the firewall that logged.
  const profile = resolveProfile(options, device !== undefined && device.startsWith('nflog') ? 'linux' : 'pf');
  const profileJson = { name: profile.name, timeouts: timeoutsInSeconds(profile) };
  const source = device ?? file!;
  const ndjson = options.format === 'ndjson';
  const verbose = options.verbose === true;
  const out = (line: string): void => io.stdout.write(`${line}\n`);
  const note = (line: string): void => io.stderr.write(`udptrack: ${line}\n`);

  const session = new TailSession({
    profile,
    localNetworks: options.local,
    hostAddresses: hostAddresses(device === undefined || device === 'any' || device.includes(':') ? undefined : device),
    denyPrefix: options.denyPrefix,
    settleAfterUs,
    events: {
      onLocalSide: (local) => (ndjson ? out(startRecord(source, local, profileJson, settleAfterUs)) : io.stdout.write(renderTailHeader(source, local, profileJson, settleAfterUs))),
      onVerdict: (v) => out(ndjson ? verdictRecord('verdict', v) : renderVerdictLine(v)),
      onRevision: (v, previous, atUs) => out(ndjson ? revisionRecord(v, previous, atUs) : renderRevisionLine(v, previous, atUs)),
      onSettled: (v, atUs, reason) => {
        // At the end of input the summary counts what was still open; a line each would only repeat the verdicts.
        if (reason === 'end-of-input') return;
        if (ndjson) out(settledRecord(v, atUs, reason));
        else if (verbose) out(renderSettledLine(v, atUs, reason));
      },
      onFlowStart: verbose ? (f) => out(ndjson ? flowRecord('new', f) : renderFlowStartLine(f)) : undefined,
      onFlowEnd: verbose
        ? (f) => {
            if (ndjson) out(flowRecord('end', f));
            else if (f.endReason === 'idle-timeout') out(renderFlowEndLine(f));
          }
        : undefined,
      onDamage: (d) => (ndjson ? out(damageRecord(d)) : note(renderDamageLine(source, d))),
    },
  });

  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const onBatch = (): void => {
    // A reader that went away (`udptrack tail - | head`) ends the tail as Ctrl-C would.
    if (io.stdout.closed) controller.abort();
    void io.stdout.flush();
    void io.stderr.flush();
  };
  const onInterface = (event: InterfaceEvent): void => {
    if (ndjson && event.event !== 'stderr') out(JSON.stringify({ type: 'interface', ...event }));
    switch (event.event) {
      case 'listening':
        note(`listening on ${event.device}, link-type ${event.linktype}`);
        break;
      case 'waiting':
        note(`waiting: ${event.message}`);
        break;
      case 'went-away':
        note(event.waiting ? `${event.device} went away; waiting for it to come back (--wait)` : `${event.device} went away (removed, or down); udptrack tail --interface ${event.device} --wait waits for it to come back`);
        break;
      case 'stderr':
        note(`${event.device}: ${event.line}`);
        break;
    }
  };

  let end: TailEnd;
  try {
    end =
      device === undefined
        ? await tailStream(io.stdin, file!, session, { signal: controller.signal, onBatch })
        : await tailInterface({ device, filter: options.filter ?? '', wait: options.wait === true }, { command: process.execPath, args: [CAPTURE_HELPER_ENTRY] }, session, {
            signal: controller.signal,
            onBatch,
            onInterface,
          });
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  // Stop reading standard input so the process can exit (a pipe would otherwise keep it alive).
  if (end === 'interrupted' && file === '-') (io.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  const summary = session.finish();
  if (ndjson) out(summaryRecord(summary, end));
  else io.stdout.write(renderTailSummary(summary));
  if (end === 'went-away') {
    await io.stdout.flush();
    throw new ExitError(2);
  }
}
