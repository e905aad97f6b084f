/**
 * `explain` reports: for a person, the denials grouped by flow and cause, one short paragraph each with the
 * evidence and the fix; for machines, one verdict per denied packet in the order of the denial log.
 */
import type { Explanation } from '../classify/explain.js';
import { formatEndpoint } from '../address.js';
import type { PacketRefJson } from './flows.js';
import { formatIsoFromUs } from './time.js';

/** One verdict as JSON. */
export interface VerdictJson extends PacketRefJson {
  service: string;
  cause: string;
  confidence: number;
  evidence: string[];
  ruled_out: Array<{ cause: string; why: string }>;
  remedy: string[];
  text: string;
  provisional?: boolean;
  /** For an ICMP error about the flow: its type, code and sender (src/dst/ports are the flow's). */
  icmp?: { type: number; code: number; sender: string };
}

/** The JSON of one explanation. */
export function buildVerdictJson(e: Explanation): VerdictJson {
  const p = e.packet;
  const out: VerdictJson = {
    frame: p.frame,
    ts: formatIsoFromUs(p.tsUs),
    src: p.remoteAddr,
    sport: p.remotePort,
    dst: p.localAddr,
    dport: p.localPort,
    service: p.service,
    cause: e.cause,
    confidence: e.confidence,
    evidence: e.evidence,
    ruled_out: e.ruledOut,
    remedy: e.remedy,
    text: e.text,
  };
  if (e.provisional) out.provisional = true;
  if (p.icmp !== undefined) out.icmp = { ...p.icmp };
  return out;
}

/** `addr:port`; a log that does not name the local address (Little Snitch) shows "this host", an unknown port none. */
function endpoint(addr: string, port: number): string {
  if (addr === '') return port === 0 ? 'this host' : `this host:${port}`;
  return port === 0 ? (addr.includes(':') ? `[${addr}]` : addr) : formatEndpoint(addr, port);
}

/** Denials grouped by flow and cause, a paragraph each. */
export function renderExplainText(
  explanations: readonly Explanation[],
  header: { local: string; profile: string; estimate?: string | undefined; damage?: readonly string[] | undefined },
): string {
  const out: string[] = [`Local side: ${header.local}`, `Profile:    ${header.profile}`];
  if (header.estimate) out.push(`Timeout:    ${header.estimate}`);
  // Where an input stopped being readable, last, as analyze says it (report/stats.ts renderInputDamageLine).
  const damage = header.damage ?? [];
  const end = (): string => (damage.length > 0 ? [...out, '', ...damage] : out).join('\n') + '\n';
  if (explanations.length === 0) {
    out.push('', 'No denied inbound UDP packets to explain.');
    return end();
  }
  const counts = new Map<string, number>();
  for (const e of explanations) counts.set(e.cause, (counts.get(e.cause) ?? 0) + 1);
  out.push(`Denials:    ${explanations.length} (${[...counts].map(([c, n]) => `${n} ${c}`).join(', ')})`);
  const groups = new Map<string, Explanation[]>();
  for (const e of explanations) {
    const p = e.packet;
    const key = `${p.remoteAddr}|${p.remotePort}|${p.localAddr}|${p.localPort}|${e.cause}`;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [e]);
    else list.push(e);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const p = first.packet;
    const frames = group.map((e) => e.packet.frame);
    const frameText = frames.length > 6 ? `${frames.slice(0, 5).join(', ')} … ${frames.at(-1)}` : frames.join(', ');
    out.push(
      '',
      `${p.fromLocal ? `${endpoint(p.localAddr, p.localPort)} → ${endpoint(p.remoteAddr, p.remotePort)} (outbound)` : `${endpoint(p.remoteAddr, p.remotePort)} → ${endpoint(p.localAddr, p.localPort)}`}${p.service ? ` (${p.service})` : ''}: ${first.cause}, ${group.length} packet${group.length === 1 ? '' : 's'} (frame${frames.length === 1 ? '' : 's'} ${frameText}), confidence ${first.confidence}`,
    );
    out.push(...wrap(first.evidence.join(' '), '  '));
    out.push(...wrap(`Fix: ${first.remedy[0] ?? 'nothing to do.'}`, '  '));
    for (const more of first.remedy.slice(1)) {
      // Multi-line remedies are files to save (an .lsrules document): print them as they are.
      if (more.includes('\n')) out.push(...more.trimEnd().split('\n').map((line, i) => (i === 0 ? `  Also: ${line}` : `    ${line}`)));
      else out.push(...wrap(`Also: ${more}`, '  '));
    }
  }
  return end();
}

function wrap(text: string, indent: string, width = 110): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width - indent.length && line !== '') {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}
