/**
 * The page of each command: its summary facts, counts by cause and profiles, around the timelines the collector
 * gathered. Built from the reports the text and JSON views use, so every view states the same numbers.
 */
import type { Explanation } from '../../classify/explain.js';
import type { AnalyzeReport } from '../analyze.js';
import type { SimulateReport } from '../simulate.js';
import { formatDurationUs } from '../time.js';
import type { HtmlPage, ListedVerdict, PageProfile, TimelineData } from './model.js';

/** Verdicts listed as text at most; past this they are counted. */
const VERDICT_ROWS = 500;

function causeRows(countsPerProfile: ReadonlyArray<Readonly<Record<string, number>>>): HtmlPage['causes'] {
  const causes = new Map<string, number>();
  for (const counts of countsPerProfile) for (const [cause, n] of Object.entries(counts)) causes.set(cause, (causes.get(cause) ?? 0) + n);
  return [...causes]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([cause]) => ({ cause, counts: countsPerProfile.map((c) => c[cause] ?? 0) }));
}

function spanText(firstTs: string | null, lastTs: string | null, spanUs: number): string {
  return firstTs === null ? 'no UDP packets' : `${firstTs} → ${lastTs} (${formatDurationUs(spanUs)})`;
}

/** `analyze --html`. */
export function buildAnalyzePage(report: AnalyzeReport, timeline: TimelineData): HtmlPage {
  const s = report.stats;
  return {
    command: 'analyze',
    inputs: [report.file],
    facts: [
      ['Packets', `${s.packets.total} (${s.udp_packets} UDP, ${s.format})`],
      ['Time span', spanText(s.first_ts, s.last_ts, s.span_s * 1e6)],
      ['Flows', `${s.flows} (${Object.entries(s.flows_by_end).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'})`],
      ['Denied inbound', `${s.denied} packets${s.purge_window > 0 ? `, ${s.purge_window} more inside pf's purge window (may have passed)` : ''}`],
    ],
    local: { addresses: report.local.addresses, reason: report.local.reason },
    profiles: [{ name: report.profile.name, title: report.profile.title, timeouts: report.profile.timeouts }],
    causes: causeRows(timeline.deniedByReason.slice(0, 1)),
    causesAre: 'reasons',
    timeline,
    verdictsNotDrawn: [],
    verdictsNotDrawnOmitted: 0,
  };
}

/** What `explain --html` shows besides the timelines. */
export interface ExplainPageInput {
  inputs: string[];
  local: { addresses: string[]; reason: string };
  profile: PageProfile;
  timeoutEstimate: string | undefined;
  explanations: readonly Explanation[];
  notDrawn: ListedVerdict[];
}

/** `explain --html`. */
export function buildExplainPage(input: ExplainPageInput, timeline: TimelineData): HtmlPage {
  const counts: Record<string, number> = {};
  for (const e of input.explanations) counts[e.cause] = (counts[e.cause] ?? 0) + 1;
  const facts: Array<[string, string]> = [['Denied packets', `${input.explanations.length} explained`]];
  if (input.timeoutEstimate !== undefined) facts.push(['Timeout', input.timeoutEstimate]);
  return {
    command: 'explain',
    inputs: input.inputs,
    facts,
    local: input.local,
    profiles: [input.profile],
    causes: causeRows([counts]),
    causesAre: 'causes',
    timeline,
    verdictsNotDrawn: input.notDrawn.slice(0, VERDICT_ROWS),
    verdictsNotDrawnOmitted: Math.max(0, input.notDrawn.length - VERDICT_ROWS),
  };
}

/** `simulate --html`: the same flows under each profile, stacked. */
export function buildSimulatePage(file: string, report: SimulateReport, timeline: TimelineData): HtmlPage {
  const firstUs = report.first_ts === null ? 0 : Date.parse(report.first_ts) * 1000;
  const lastUs = report.last_ts === null ? 0 : Date.parse(report.last_ts) * 1000;
  return {
    command: 'simulate',
    inputs: [file],
    facts: [
      ['Packets', `${report.packets} (${report.udp_packets} UDP)`],
      ['Time span', spanText(report.first_ts, report.last_ts, lastUs - firstUs)],
    ],
    local: { addresses: report.local.addresses, reason: report.local.reason },
    profiles: report.profiles.map((p) => ({
      name: p.name,
      title: p.title,
      timeouts: p.timeouts,
      outcome: { denied: p.denied_total, legitimate: p.denied_legitimate, flowsBroken: p.flows_broken, purgeWindow: p.purge_window.length },
    })),
    causes: causeRows(timeline.deniedByReason),
    causesAre: 'reasons',
    timeline,
    verdictsNotDrawn: [],
    verdictsNotDrawnOmitted: 0,
  };
}
