/**
 * `tail`: explain's pipeline fed incrementally. Records arrive one by one (from a pcap/pcapng stream on stdin, or
 * from the capture helper on an interface), go through the decoder, the flow table and the live classifier
 * (classify/live.ts), and every event is reported as it happens: verdicts on denied packets (provisional ones
 * marked), revisions, verdicts becoming final, flows gaining and losing state, damage stepped over in the input.
 *
 * Time is packet time, as everywhere in udptrack, with one addition: while the input is quiet, a wall-clock tick
 * advances the flow table and the classifier to the packet time "now" would have — the last packet's time plus the
 * wall time elapsed since it arrived, less TICK_LAG_US — so a flow's expiry and a verdict's settling are announced
 * even when nothing arrives. The lag keeps the estimate behind packets still on their way: NFLOG batches records
 * for up to 1 s (nfnetlink_log's flush timer) and they carry the kernel's earlier time.
 *
 * With a firewall log (pflog, NFLOG) the log says which packets were denied (pflog block records; NFLOG records
 * whose prefix names a drop, or `denyPrefix`); on a plain interface the model predicts the denials — as explain.
 */
import { networkInterfaces } from 'node:os';
import { CaptureError, createCaptureParser, type CaptureResync } from '../capture/index.js';
import { startCaptureHelper, type CaptureHelperCommand, type CaptureHelperSpec, type CaptureHelperStatus } from '../capture/live.js';
import type { TimeoutContext } from '../classify/explain.js';
import { LiveExplainer, type LiveVerdict, type SettleReason } from '../classify/live.js';
import type { CauseName } from '../classify/remedies.js';
import { formatAddress } from '../address.js';
import { PacketDecoder } from '../decode/packet.js';
import { countPacket, createPacketStats } from '../decode/stats.js';
import { LocalSide } from '../flow/local.js';
import { steadyStateTimeoutUs, type TimeoutProfile } from '../flow/profiles.js';
import { FlowTable, type Denial, type Flow } from '../flow/table.js';
import type { TailDamage, TailFlow, TailSummary } from '../report/tail.js';
import { copyCaptureRecord, type CaptureRecord, type DecodedPacket } from '../types.js';
import { isIcmpErrorAboutUdp, isLogRecord, isLoggedDenial, isUdp, observedIcmpError, observedUdpPacket, packetTimeUs, portService } from './observed.js';
import { inferLocalSide } from './replay.js';

/** The tick stays this far behind "now": records may reach the tail up to 1 s after their own time (NFLOG batching). */
export const TICK_LAG_US = 1_000_000;
/** How often the wall-clock tick runs. */
const TICK_MS = 250;
/**
 * Without --local, and when neither the capture's direction marks nor this host's addresses settle the local side,
 * it is inferred from the first packets (as analyze does): up to this many UDP packets, or this long.
 */
const LOOKAHEAD_UDP_PACKETS = 32;
const LOOKAHEAD_RECORDS = 1024;
const LOOKAHEAD_MS = 1000;

/** What the tail reports, as it happens. Objects are the reporter's to keep. */
export interface TailEvents {
  onLocalSide?: (local: LocalSide) => void;
  onVerdict?: (verdict: LiveVerdict) => void;
  onRevision?: (verdict: LiveVerdict, previousCause: CauseName, atUs: number) => void;
  onSettled?: (verdict: LiveVerdict, atUs: number, reason: SettleReason) => void;
  onFlowStart?: (flow: TailFlow) => void;
  onFlowEnd?: (flow: TailFlow) => void;
  onDamage?: (damage: TailDamage) => void;
}

export type { TailDamage, TailFlow, TailSummary } from '../report/tail.js';
export { parseDurationUs } from '../flow/duration.js';

/** Options of a tail session. */
export interface TailOptions {
  profile: TimeoutProfile;
  /** `--local`: the protected host(s); else the capture's direction marks, this host's addresses, or inference. */
  localNetworks?: readonly string[] | undefined;
  /** This host's addresses (`hostAddresses()`), the local side when the traffic shows them. */
  hostAddresses: readonly string[];
  /** NFLOG: records whose prefix contains this are denials (default drop, deny, block, reject). */
  denyPrefix?: string | undefined;
  /** How long after a denied packet later packets may still change its verdict (µs). */
  settleAfterUs: number;
  events: TailEvents;
}

interface PendingRecord {
  record: CaptureRecord;
  arrivalMs: number;
  frame: number;
}

/**
 * One tail: records in (`record`), events out. No clock and no I/O of its own: the driver says when each record
 * arrived and calls `tick` with the same clock, so the session can be driven by hand.
 */
export class TailSession {
  private readonly options: TailOptions;
  private readonly events: TailEvents;
  private readonly decoder = new PacketDecoder();
  private readonly lookaheadDecoder = new PacketDecoder();
  private readonly stats = createPacketStats();
  private readonly explainer: LiveExplainer;
  private readonly hostSide: LocalSide | undefined;
  private table: FlowTable | undefined;
  private local: LocalSide | undefined;
  private lookahead: PendingRecord[] = [];
  private lookaheadUdp = 0;
  private lookaheadSinceMs = 0;
  private records = 0;
  private udpPackets = 0;
  private index = 0;
  private firstUs = -1;
  private lastUs = -1;
  /** Packet time the tables were last advanced to. */
  private modelNowUs = -1;
  /** The latest packet's time and when it arrived (the tick's anchor). */
  private anchorUs = -1;
  private anchorMs = 0;
  private seenDenial: Denial | undefined;
  /** Flows that gained state during the current packet, copied in the table's callback; the service comes after. */
  private readonly startedFlows: TailFlow[] = [];
  /** Services of flows with state, for their end lines (bounded by the flows alive). */
  private readonly flowServices = new Map<number, string>();
  private verdicts = 0;
  private revisions = 0;
  private readonly causes = new Map<number, CauseName>();
  private damagedPlaces = 0;
  private skippedBytes = 0;

  constructor(options: TailOptions) {
    this.options = options;
    this.events = options.events;
    const timeouts: TimeoutContext = { profileName: options.profile.name, steadyTimeoutUs: steadyStateTimeoutUs(options.profile), estimate: undefined };
    this.explainer = new LiveExplainer({
      timeouts,
      settleAfterUs: options.settleAfterUs,
      events: {
        onVerdict: (v) => {
          this.verdicts++;
          this.causes.set(v.id, v.explanation.cause);
          this.events.onVerdict?.(v);
        },
        onRevision: (v, previous, atUs) => {
          this.revisions++;
          this.causes.set(v.id, v.explanation.cause);
          this.events.onRevision?.(v, previous, atUs);
        },
        onSettled: (v, atUs, reason) => this.events.onSettled?.(v, atUs, reason),
      },
    });
    if (options.localNetworks !== undefined && options.localNetworks.length > 0) {
      this.startTable(new LocalSide('option', 'given with --local', options.localNetworks));
    }
    this.hostSide =
      options.hostAddresses.length === 0
        ? undefined
        : new LocalSide('host-addresses', "this host's own addresses (the traffic goes to and from them)", options.hostAddresses);
  }

  /**
   * One record as it arrives (valid only during the call). `arrivalMs` is the driver's clock when it arrived;
   * `frame` its number in the input (default the record's own).
   */
  record(record: CaptureRecord, arrivalMs: number, frame: number = record.frame): void {
    this.records++;
    if (this.table !== undefined) {
      this.process(record, arrivalMs, frame);
      return;
    }
    if (this.lookahead.length === 0) this.lookaheadSinceMs = arrivalMs;
    this.lookahead.push({ record: copyCaptureRecord(record), arrivalMs, frame });
    const pkt = this.lookaheadDecoder.decode(record);
    if (isUdp(pkt) || isIcmpErrorAboutUdp(pkt)) this.lookaheadUdp++;
    const side = this.localSideFrom(pkt);
    if (side !== undefined) this.startTable(side);
    else if (this.lookaheadUdp >= LOOKAHEAD_UDP_PACKETS || this.lookahead.length >= LOOKAHEAD_RECORDS) this.startTable(this.inferredSide());
  }

  /** The input was damaged and reading went on (or the input ended inside the damage). */
  damage(event: CaptureResync): void {
    this.damagedPlaces++;
    this.skippedBytes += event.skippedBytes;
    const d = event.damage;
    this.events.onDamage?.({ code: d.code, offset: d.offset, frame: d.frame, detail: d.detail, resumedAtOffset: event.resumedAtOffset, skippedBytes: event.skippedBytes });
  }

  /**
   * The wall-clock tick (`nowMs` on the driver's clock): while the input is quiet, packet time moves on as the last
   * packet's time plus the wall time since it arrived, less TICK_LAG_US.
   */
  tick(nowMs: number): void {
    if (this.table === undefined) {
      if (this.lookahead.length > 0 && nowMs - this.lookaheadSinceMs >= LOOKAHEAD_MS) this.startTable(this.inferredSide());
      return;
    }
    if (this.anchorUs < 0) return;
    const estimateUs = this.anchorUs + Math.round((nowMs - this.anchorMs) * 1000) - TICK_LAG_US;
    if (estimateUs > this.modelNowUs) this.advanceTo(estimateUs);
  }

  /** End of input (or Ctrl-C): flows still alive end, open verdicts settle; the summary. */
  finish(): TailSummary {
    if (this.table === undefined && this.lookahead.length > 0) this.startTable(this.inferredSide());
    this.table?.finish();
    const provisionalAtEnd = this.explainer.openCount;
    this.explainer.finish();
    const causes: Partial<Record<CauseName, number>> = {};
    for (const cause of this.causes.values()) causes[cause] = (causes[cause] ?? 0) + 1;
    return {
      records: this.records,
      stats: this.stats,
      udpPackets: this.udpPackets,
      firstUs: this.firstUs,
      lastUs: this.lastUs,
      local: this.local,
      flowsCreated: this.table?.counts.flowsCreated ?? 0,
      flowsAlive: this.table?.counts.expiredByReason['end-of-input'] ?? 0,
      verdicts: this.verdicts,
      causes,
      revisions: this.revisions,
      provisionalAtEnd,
      damagedPlaces: this.damagedPlaces,
      skippedBytes: this.skippedBytes,
    };
  }

  /** Flows the classifier keeps a record of, and verdicts still open (memory checks). */
  get classifierLoad(): { flows: number; openVerdicts: number; liveFlows: number } {
    return { flows: this.explainer.flowCount, openVerdicts: this.explainer.openCount, liveFlows: this.table?.liveFlows ?? 0 };
  }

  // --- the local side ------------------------------------------------------------------------------------------

  /** The local side, if this record settles it: the capture marks directions, or it shows this host's addresses. */
  private localSideFrom(pkt: DecodedPacket): LocalSide | undefined {
    if (pkt.ipVersion === 0 || pkt.srcAddrOffset < 0) return undefined;
    if (pkt.direction !== 'unknown') return inferLocalSide(this.lookahead.map((p) => p.record));
    const host = this.hostSide;
    if (host !== undefined && (isHostAddress(host, pkt, pkt.srcAddrOffset) || isHostAddress(host, pkt, pkt.dstAddrOffset))) return host;
    return undefined;
  }

  private inferredSide(): LocalSide {
    return inferLocalSide(this.lookahead.map((p) => p.record));
  }

  private startTable(local: LocalSide): void {
    this.local = local;
    this.table = new FlowTable({
      profile: this.options.profile,
      local,
      events: {
        onDenial: (d) => {
          this.seenDenial = d;
        },
        onStateEvent: (flow, event) => {
          if (event.event === 'created') this.startedFlows.push(tailFlow(flow, event.atUs, ''));
        },
        onFlowEnd: (flow) => this.flowEnded(flow),
      },
    });
    this.events.onLocalSide?.(local);
    const pending = this.lookahead;
    this.lookahead = [];
    for (const p of pending) this.process(p.record, p.arrivalMs, p.frame);
  }

  // --- one record -------------------------------------------------------------------------------------------------

  private process(record: CaptureRecord, arrivalMs: number, frame: number): void {
    const table = this.table!;
    const pkt = this.decoder.decode(record);
    countPacket(this.stats, pkt);
    const icmpError = isIcmpErrorAboutUdp(pkt);
    if (!isUdp(pkt) && !icmpError) return;
    this.udpPackets++;
    const tsUs = packetTimeUs(pkt, record);
    if (this.firstUs < 0) this.firstUs = tsUs;
    if (tsUs > this.lastUs) this.lastUs = tsUs;
    if (tsUs >= this.anchorUs) {
      this.anchorUs = tsUs;
      this.anchorMs = arrivalMs;
    }
    if (tsUs > this.modelNowUs) this.advanceTo(tsUs);
    const fromLog = isLogRecord(pkt);
    const loggedDenied = fromLog && isLoggedDenial(pkt, this.options.denyPrefix);
    const place = { index: this.index++, frame, source: fromLog ? ('log' as const) : ('capture' as const), tsUs };
    this.seenDenial = undefined;
    this.startedFlows.length = 0;
    const verdict = icmpError ? table.observeIcmpError(pkt, tsUs, loggedDenied) : table.observe(pkt, tsUs, loggedDenied);
    const denied = fromLog ? loggedDenied : verdict === 'deny';
    const observed = icmpError
      ? observedIcmpError(pkt, table.last.role, place, denied, this.seenDenial)
      : observedUdpPacket(pkt, table.last.role, place, denied, this.seenDenial);
    const guess = portService(observed.remotePort, observed.localPort);
    for (const flow of this.startedFlows) {
      flow.service = observed.service || guess;
      this.flowServices.set(flow.id, flow.service);
      this.events.onFlowStart?.(flow);
    }
    this.startedFlows.length = 0;
    this.explainer.add(observed, guess);
  }

  private advanceTo(nowUs: number): void {
    this.modelNowUs = nowUs;
    this.table?.advance(nowUs);
    this.explainer.advance(nowUs);
  }

  private flowEnded(flow: Flow): void {
    const service = this.flowServices.get(flow.id) ?? '';
    this.flowServices.delete(flow.id);
    this.events.onFlowEnd?.(tailFlow(flow, flow.endUs, service));
  }
}

/** A copy of what the report needs from a flow (flows are valid only during the table's callback). */
function tailFlow(flow: Flow, atUs: number, service: string): TailFlow {
  const aFirst = flow.localSide === 'a' || (flow.localSide === undefined && flow.opener === 'a');
  const a = { addr: formatAddress(flow.addrA, 0, flow.ipVersion), port: flow.portA };
  const b = { addr: formatAddress(flow.addrB, 0, flow.ipVersion), port: flow.portB };
  return {
    id: flow.id,
    atUs,
    ipVersion: flow.ipVersion,
    local: aFirst ? a : b,
    remote: aFirst ? b : a,
    transit: flow.localSide === undefined,
    service,
    timeoutKey: flow.timeoutKey,
    timeoutUs: flow.timeoutUs,
    endReason: flow.endReason,
    lastUs: flow.lastUs,
    packets: flow.fromA.packets + flow.fromB.packets,
    deniedPackets: flow.deniedPackets,
  };
}

function isHostAddress(host: LocalSide, pkt: DecodedPacket, offset: number): boolean {
  const d = pkt.data;
  const word = (at: number): number => ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  if (pkt.ipVersion === 4) return host.hasIpv4(word(offset));
  return host.hasIpv6(word(offset), word(offset + 4), word(offset + 8), word(offset + 12));
}

/**
 * This host's addresses: those of `device` when it has any (a capture on en0 protects en0's addresses), else every
 * interface's (`any`, nflog, pflog, stdin).
 */
export function hostAddresses(device?: string): string[] {
  const all = networkInterfaces();
  const own = device === undefined ? undefined : all[device];
  const chosen = own !== undefined && own.length > 0 ? own : Object.values(all).flat();
  return [...new Set(chosen.filter((a) => a !== undefined).map((a) => a!.address))];
}

// --- drivers -------------------------------------------------------------------------------------------------------

/** How a tail ended. */
export type TailEnd = 'end-of-input' | 'interrupted' | 'went-away';

/** What drives a tail besides its input. */
export interface TailControl {
  /** Aborting ends the tail (Ctrl-C). */
  signal: AbortSignal;
  /** After each batch of events (a chunk read, a tick): the place to flush output. */
  onBatch?: () => void;
  /** The clock for arrivals and ticks (ms, monotonic); default performance.now. */
  now?: () => number;
}

/** Read a pcap or pcapng stream as it arrives, stepping over damage, until it ends or the tail is interrupted. */
export async function tailStream(stream: NodeJS.ReadableStream, path: string, session: TailSession, control: TailControl): Promise<TailEnd> {
  const now = control.now ?? (() => performance.now());
  let arrivalMs = 0;
  const parser = createCaptureParser((record) => session.record(record, arrivalMs), {
    path,
    resync: true,
    onResync: (event) => session.damage(event),
  });
  const timer = setInterval(() => {
    session.tick(now());
    control.onBatch?.();
  }, TICK_MS);
  try {
    const end = await pump(
      stream,
      path,
      (chunk) => {
        arrivalMs = now();
        parser.push(chunk);
        control.onBatch?.();
      },
      control.signal,
    );
    // At the end of input a record cut short is damage; an interrupt leaves whatever was on its way.
    if (end === 'end') parser.end();
    return end === 'end' ? 'end-of-input' : 'interrupted';
  } finally {
    clearInterval(timer);
  }
}

/** A live interface's story, for the user: listening, waiting for it, gone. */
export type InterfaceEvent =
  | { event: 'listening'; device: string; linktype: number }
  | { event: 'waiting'; device: string; message: string }
  | { event: 'went-away'; device: string; waiting: boolean }
  | { event: 'stderr'; device: string; line: string };

/**
 * Capture on an interface through the capture helper (capture/live.ts). When the interface goes away the helper
 * ends: with `spec.wait` a new helper waits for it to come back and the tail goes on (flows keep expiring on the
 * tick meanwhile); without, the tail ends with 'went-away'. Errors before listening (no cap, no permission, no
 * such device) reject with LiveCaptureError.
 */
export async function tailInterface(
  spec: CaptureHelperSpec,
  helper: CaptureHelperCommand,
  session: TailSession,
  control: TailControl & { onInterface?: (event: InterfaceEvent) => void },
): Promise<TailEnd> {
  const now = control.now ?? (() => performance.now());
  const timer = setInterval(() => {
    session.tick(now());
    control.onBatch?.();
  }, TICK_MS);
  let frames = 0;
  try {
    for (;;) {
      if (control.signal.aborted) return 'interrupted';
      const onStatus = (status: CaptureHelperStatus): void => {
        if (status.event === 'listening') control.onInterface?.({ event: 'listening', device: status.device, linktype: status.linktype });
        else if (status.event === 'waiting') control.onInterface?.({ event: 'waiting', device: status.device, message: status.message });
        control.onBatch?.();
      };
      const running = startCaptureHelper(spec, helper, onStatus, (line) => control.onInterface?.({ event: 'stderr', device: spec.device, line }));
      let arrivalMs = 0;
      const parser = createCaptureParser(
        (record) => {
          frames++;
          session.record(record, arrivalMs, frames);
        },
        { path: spec.device, resync: true, onResync: (event) => session.damage(event) },
      );
      const stop = (): void => running.stop();
      control.signal.addEventListener('abort', stop, { once: true });
      try {
        await pump(
          running.stream,
          spec.device,
          (chunk) => {
            arrivalMs = now();
            parser.push(chunk);
            control.onBatch?.();
          },
          control.signal,
        );
      } finally {
        control.signal.removeEventListener('abort', stop);
      }
      if (control.signal.aborted) {
        running.stop();
        await running.ended;
        return 'interrupted';
      }
      const ended = await running.ended;
      if (ended.kind === 'error') throw ended.error;
      if (ended.kind === 'stopped') return 'interrupted';
      control.onInterface?.({ event: 'went-away', device: spec.device, waiting: spec.wait });
      control.onBatch?.();
      if (!spec.wait) return 'went-away';
    }
  } finally {
    clearInterval(timer);
  }
}

/**
 * Feed a stream's chunks to `onChunk` as they arrive (flowing mode, no read-ahead queue) until it ends ('end') or
 * `signal` aborts ('aborted'). A throw from `onChunk` (an unreadable file header) rejects.
 */
function pump(stream: NodeJS.ReadableStream, path: string, onChunk: (chunk: Uint8Array) => void, signal: AbortSignal): Promise<'end' | 'aborted'> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      resolve('aborted');
      return;
    }
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      stream.pause();
    };
    const onData = (chunk: string | Uint8Array): void => {
      if (typeof chunk === 'string') {
        cleanup();
        reject(new CaptureError(path, 'read-failed', 'stream delivers text, not bytes (remove its encoding)'));
        return;
      }
      try {
        onChunk(chunk);
      } catch (error) {
        cleanup();
        reject(error);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve('end');
    };
    const onError = (error: Error): void => {
      cleanup();
      // A read error is the input's, said in one line like every unreadable input (never a stack trace).
      reject(new CaptureError(path, 'read-failed', `cannot read: ${error.message.split('\n')[0] ?? error.message}`));
    };
    const onAbort = (): void => {
      cleanup();
      resolve('aborted');
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
