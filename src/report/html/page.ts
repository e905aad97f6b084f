/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, no font or image from anywhere; a
 * Content-Security-Policy that forbids loading anything) that opens from disk. A summary on top (counts by cause,
 * the local side, the profile), then a timeline for each 5-tuple that matters, most important first, then the rest
 * as a list. Readable in light and dark colour schemes and on paper.
 */
import { formatSecondsUs } from '../time.js';
import { html, raw, type SafeHtml } from './markup.js';
import type { DeniedPacket, FlowTimeline, HtmlPage, ListedFlow, TimelineLane } from './model.js';
import { stylesheet } from './style.js';
import { chooseWindow, clockText, renderLegend, renderSharedDefs, renderTimelineChart } from './timeline-svg.js';

/** Nothing may be fetched, nothing may run: the page is data. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** Rows of a timeline's denial table before "… more". */
const DENIAL_ROWS = 12;

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The page as one string. */
export function renderHtmlPage(page: HtmlPage): string {
  const title = `udptrack ${page.command} — ${page.inputs.join(', ') || 'no input'}`;
  const stacked = page.command === 'simulate';
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="udptrack">
<title>${title}</title>
<style>${raw(stylesheet())}</style>
</head>
<body data-command="${page.command}">
${renderSharedDefs()}
<header>
<h1>udptrack ${page.command}</h1>
<p class="inputs">${page.inputs.join(' · ')}</p>
</header>
${renderSummary(page)}
${renderTimelines(page, stacked)}
${renderListed(page)}
${renderVerdictsNotDrawn(page)}
<footer>Made by udptrack from packet times (UTC). This page is self-contained: it runs no script and loads nothing.</footer>
</body>
</html>`.text}\n`;
}

function renderSummary(page: HtmlPage): SafeHtml {
  const data = page.timeline;
  const facts: Array<[string, string]> = [
    ...page.facts,
    ['Local side', `${page.local.addresses.join(', ') || '(unknown)'} — ${page.local.reason}`],
  ];
  if (page.profiles.length === 1) {
    const p = page.profiles[0]!;
    facts.push(['Profile', `${p.name}: ${p.title}; ${timeoutsText(p.timeouts)}`]);
  }
  const drawn = data.timelines.length;
  const notes: string[] = [
    drawn === 0
      ? page.verdictsNotDrawn.length > 0
        ? 'No captured packets to draw: the verdicts are listed below as text (add --capture for timelines).'
        : 'No flow had a denial or an expiry: nothing to draw.'
      : `${count(drawn, 'flow')} drawn below (${importanceCounts(data.timelines)})${data.listed.length > 0 ? `; ${count(data.listed.length, 'more flow')} listed after them` : ''}.`,
  ];
  const omitted = [
    data.listedOmittedFlows > 0 ? count(data.listedOmittedFlows, 'more flow that only expired', 'more flows that only expired') : '',
    data.listedOmittedDenials > 0 ? count(data.listedOmittedDenials, 'more denied packet') : '',
  ].filter((o) => o !== '');
  if (omitted.length > 0) notes.push(`${omitted.join(' and ')} past the list's limit of ${data.limits.listed} rows ${data.listedOmittedFlows + data.listedOmittedDenials === 1 ? 'is' : 'are'} only counted; --format json has them all.`);
  const budget = data.limits;
  const budgets = [
    `${budget.drawnLost} flows that lost traffic the host wanted`,
    `${budget.drawnUnsolicited} with unsolicited denials`,
    budget.drawnExpired > 0 ? `${budget.drawnExpired} that only expired` : '',
  ].filter((b) => b !== '');
  if (drawn > 0) notes.push(`Drawn in full: up to ${budgets.join(', ')}; each state lifetime shows its first ${budget.packetsHead} and last ${budget.packetsTail} packets.`);
  if (data.cappedTimelines > 0) notes.push(`Packet ticks were capped on ${count(data.cappedTimelines, 'timeline')}; each says how many it leaves out.`);
  const stacked = page.profiles.length > 1;
  return html`<section class="summary" aria-label="Summary">
<div>
<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
${stacked ? '' : renderCauseTable(page)}
</div>
<div>
${notes.map((n) => html`<p class="note">${n}</p>`)}
${drawn > 0 ? html`<div class="legend">${renderLegend()}</div>` : ''}
</div>
${stacked ? renderProfileTable(page) : ''}
</section>`;
}

function importanceCounts(timelines: readonly FlowTimeline[]): string {
  const by = { lost: 0, unsolicited: 0, expired: 0 };
  for (const t of timelines) by[t.importance]++;
  return [
    by.lost > 0 ? `${by.lost} lost traffic the host wanted` : '',
    by.unsolicited > 0 ? `${by.unsolicited} with unsolicited denials` : '',
    by.expired > 0 ? `${by.expired} only expired` : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
}

function timeoutsText(timeouts: Record<string, number>): string {
  return Object.entries(timeouts)
    .filter(([k]) => !k.startsWith('adaptive') && k !== 'states')
    .map(([k, v]) => `${k}=${v}s`)
    .join(', ');
}

function renderCauseTable(page: HtmlPage): SafeHtml {
  const heading = page.causesAre === 'causes' ? 'Denied packets by cause' : "Denied packets by the model's reason";
  if (page.causes.length === 0) return html`<p><strong>${heading}:</strong> none.</p>`;
  const profiles = page.causes[0]!.counts.length > 1 ? page.profiles.map((p) => p.name) : ['packets'];
  const hint =
    page.causesAre === 'reasons'
      ? html`<p class="note">Reasons are the model's: <code>state-expired</code> (the state timed out before this packet), <code>never-seen</code> (no state ever), <code>purge-window</code> (pf had not purged it yet: may have passed). <code>udptrack explain --capture FILE --html F</code> names the causes.</p>`
      : '';
  return html`<table class="causes"><caption class="muted">${heading}</caption>
<thead><tr><th>${page.causesAre === 'causes' ? 'cause' : 'reason'}</th>${profiles.map((p) => html`<th class="num">${p}</th>`)}</tr></thead>
<tbody>${page.causes.map((c) => html`<tr data-cause="${c.cause}"><td><span class="swatch${c.cause === 'purge-window' ? ' window' : ''}"></span>${c.cause}</td>${c.counts.map((n) => html`<td class="num">${n}</td>`)}</tr>`)}</tbody>
</table>${hint}`;
}

/** simulate: one row per profile with its outcome and its denials by reason, the profiles that break flows first in bold. */
function renderProfileTable(page: HtmlPage): SafeHtml {
  const reasons = page.causes.map((c) => c.cause);
  return html`<div class="profiles-wrap" style="grid-column: 1 / -1"><table class="profiles"><caption class="muted">Per profile: denied packets (legitimate: replies on flows the host had opened), flows broken, and denials by the model's reason</caption>
<thead><tr><th>profile</th><th>timeouts</th><th class="num">denied</th><th class="num">legitimate</th><th class="num">flows broken</th>${reasons.map((r) => html`<th class="num" data-cause="${r}">${r}</th>`)}</tr></thead>
<tbody>${page.profiles.map((p, i) => {
    const o = p.outcome;
    return html`<tr class="${o !== undefined && o.legitimate > 0 ? 'breaks' : ''}" data-profile="${p.name}"><td>${p.name}</td><td class="mono">${timeoutsText(p.timeouts)}</td><td class="num">${o?.denied ?? ''}</td><td class="num legit">${o?.legitimate ?? ''}</td><td class="num">${o?.flowsBroken ?? ''}</td>${page.causes.map((c) => html`<td class="num">${c.counts[i] ?? 0}</td>`)}</tr>`;
  })}</tbody></table></div>`;
}

function renderTimelines(page: HtmlPage, stacked: boolean): SafeHtml {
  const timelines = page.timeline.timelines;
  if (timelines.length === 0) return html``;
  const heading = stacked ? 'Timelines: the same flow under each profile' : 'Timelines';
  return html`<section class="timelines" aria-label="Timelines">
<h2>${heading}</h2>
<nav class="index"><ul class="index">${timelines.map((t, i) => html`<li><a href="#timeline-${i + 1}">${t.remote} → ${t.local}</a>${t.service === '' ? '' : html` <span class="muted">${t.service}</span>`}</li>`)}</ul></nav>
${timelines.map((t, i) => renderTimeline(t, i, stacked))}
</section>`;
}

function renderTimeline(timeline: FlowTimeline, index: number, stacked: boolean): SafeHtml {
  const denied = timeline.lanes.reduce((sum, l) => sum + l.deniedTotal, 0);
  const badge =
    timeline.importance === 'expired'
      ? html`<span class="badge expired">expired only</span>`
      : html`<span class="badge ${timeline.importance}">${stacked ? `${timeline.lanes.filter((l) => l.deniedTotal > 0).length} of ${timeline.lanes.length} profiles deny` : `${count(denied, 'packet')} denied`}</span>`;
  const notes: string[] = [];
  if (timeline.packetsOmitted > 0) {
    notes.push(`Capped: ${count(timeline.packetsTotal - timeline.packetsOmitted, 'packet')} of ${timeline.packetsTotal.toLocaleString('en-US')} drawn (the first and last packets of each state lifetime).`);
  }
  const window = chooseWindow(timeline);
  if (window.cutUs !== undefined) notes.push(`Starts at ${clockText(window.cutUs)}: earlier activity on this flow is off the left edge.`);
  for (const lane of timeline.lanes) {
    const drawnDenied = lane.denied.length;
    if (lane.deniedTotal > drawnDenied) notes.push(`${lane.profile}: ${lane.deniedTotal - drawnDenied} more denied packets not drawn.`);
    if (lane.lifetimesOmitted > 0) notes.push(`${lane.profile}: ${lane.lifetimesOmitted} more state lifetimes not drawn.`);
  }
  return html`<article class="timeline importance-${timeline.importance}" id="timeline-${index + 1}" data-local="${timeline.local}" data-remote="${timeline.remote}" data-service="${timeline.service}">
<h3><span class="endpoints">${timeline.remote} ⇄ ${timeline.local}</span>${timeline.service === '' ? '' : html`<span class="muted">${timeline.service}</span>`}${badge}</h3>
<p class="story">${storyOf(timeline, stacked)}</p>
${renderTimelineChart(timeline, { index: index + 1, stacked })}
${notes.map((n) => html`<p class="note">${n}</p>`)}
${stacked ? '' : renderDenialTable(timeline)}
${stacked ? '' : renderExplanations(timeline)}
</article>`;
}

/** One sentence a person can take away without reading the chart. */
export function storyOf(timeline: FlowTimeline, stacked: boolean): string {
  const lane = timeline.lanes.find((l) => l.denied.some((d) => d.previous !== undefined || d.verdict === 'window')) ?? timeline.lanes.find((l) => l.denied.length > 0) ?? timeline.lanes[0];
  let story = lane === undefined ? '' : laneStory(lane, timeline);
  if (stacked) {
    const breaking = timeline.lanes.filter((l) => l.deniedTotal > 0).map((l) => l.profile);
    const keeping = timeline.lanes.filter((l) => l.deniedTotal === 0).map((l) => l.profile);
    story += breaking.length === 0 ? ' No profile denies anything on it.' : ` Denied under ${breaking.join(', ')}${keeping.length > 0 ? `; ${keeping.join(', ')} ${keeping.length === 1 ? 'keeps' : 'keep'} it alive` : ''}.`;
  }
  return story.trim();
}

function laneStory(lane: TimelineLane, timeline: FlowTimeline): string {
  const sender = (d: DeniedPacket): string => (d.fromLocal ? `the host (${timeline.local})` : timeline.remote);
  const lostFirst = lane.denied.find((d) => d.previous !== undefined && d.verdict === 'deny');
  const more = (): string => {
    const after = lane.deniedTotal - 1;
    return after > 0 ? ` ${count(after, 'more packet')} ${after === 1 ? 'was' : 'were'} denied after it.` : '';
  };
  if (lostFirst !== undefined) {
    const prev = lostFirst.previous!;
    const lifetime = lane.lifetimes.find((l) => l.flowId === prev.flowId);
    const purge = lifetime?.purgeEndUs === undefined ? '' : ` (and pf's purge at ${clockText(lifetime.purgeEndUs)})`;
    return `${lane.profile} forgot this flow at ${clockText(prev.expiredUs)}, ${formatSecondsUs(prev.timeoutUs)} (${prev.timeoutKey}) after its last packet at ${clockText(prev.lastPacketUs)}${purge}; the next packet from ${sender(lostFirst)} came at ${clockText(lostFirst.tsUs)}, ${formatSecondsUs(lostFirst.tsUs - prev.lastPacketUs)} after that one, and was denied: ${lostFirst.cause}.${more()}`;
  }
  const windowFirst = lane.denied.find((d) => d.verdict === 'window');
  if (windowFirst !== undefined) {
    return `The state expired at ${clockText(windowFirst.tsUs - windowFirst.pastExpiryUs)}; the packet from ${sender(windowFirst)} at ${clockText(windowFirst.tsUs)} came ${formatSecondsUs(windowFirst.pastExpiryUs)} later, inside pf's purge window, where it may still have matched.`;
  }
  const first = lane.denied[0];
  if (first !== undefined) {
    const causes = [...new Set(lane.denied.map((d) => d.cause))].join(', ');
    const alive = first.reason === 'state-alive';
    return alive
      ? `The firewall dropped ${count(lane.deniedTotal, 'packet')} from ${sender(first)} although the model still held state for the flow: ${causes}.`
      : `No state existed for this flow when ${count(lane.deniedTotal, 'packet')} from ${sender(first)} arrived (first at ${clockText(first.tsUs)}): ${causes}.`;
  }
  const expired = lane.lifetimes.find((l) => l.expired);
  if (expired !== undefined) {
    const last = expired.segments.at(-1);
    return `${lane.profile} held state from ${clockText(expired.createdUs)} and forgot it at ${clockText(expired.endUs)}, ${formatSecondsUs(last?.timeoutUs ?? 0)} (${last?.timeoutKey ?? '?'}) after the last packet at ${clockText(expired.lastPacketUs)}; nothing was denied on it.`;
  }
  return `${lane.profile} denied nothing on this flow.`;
}

function renderDenialTable(timeline: FlowTimeline): SafeHtml {
  const lane = timeline.lanes[0];
  if (lane === undefined || lane.denied.length === 0) return html``;
  const rows = lane.denied.slice(0, DENIAL_ROWS);
  const hasWhere = lane.denied.some((d) => d.ifName !== undefined || d.process !== undefined);
  const more = lane.deniedTotal - rows.length;
  return html`<table class="denials"><thead><tr><th class="num">frame</th><th>time</th><th>from → to</th><th>cause</th><th>gap</th>${hasWhere ? html`<th>interface</th><th>process</th>` : ''}</tr></thead>
<tbody>${rows.map((d) => {
    const from = d.fromLocal ? timeline.local : timeline.remote;
    const to = d.fromLocal ? timeline.remote : timeline.local;
    const gap =
      d.previous !== undefined
        ? `idle ${formatSecondsUs(d.tsUs - d.previous.lastPacketUs)} > ${d.previous.timeoutKey} ${formatSecondsUs(d.previous.timeoutUs)}`
        : d.verdict === 'window'
          ? `${formatSecondsUs(d.pastExpiryUs)} past expiry (purge window)`
          : d.reason === 'never-seen'
            ? 'no state ever'
            : d.reason;
    return html`<tr data-frame="${d.frame}"><td class="num">${d.frame}</td><td class="mono">${clockText(d.tsUs)}</td><td class="mono">${from} → ${to}</td><td class="cause">${d.cause}</td><td>${gap}</td>${hasWhere ? html`<td>${d.ifName ?? ''}</td><td>${d.process ?? ''}</td>` : ''}</tr>`;
  })}</tbody></table>${more > 0 ? html`<p class="note">${count(more, 'more denied packet')} on this flow.</p>` : ''}`;
}

/** explain: per cause on this flow, the first verdict's evidence and fix (as the text report groups them). */
function renderExplanations(timeline: FlowTimeline): SafeHtml {
  const lane = timeline.lanes[0];
  if (lane === undefined) return html``;
  const byCause = new Map<string, DeniedPacket[]>();
  for (const d of lane.denied) {
    if (d.explanation === undefined) continue;
    const list = byCause.get(d.cause);
    if (list === undefined) byCause.set(d.cause, [d]);
    else list.push(d);
  }
  return html`${[...byCause].map(([cause, list]) => {
    const first = list[0]!;
    const e = first.explanation!;
    return html`<div class="explanation" data-cause="${cause}"><p><strong>${cause}</strong>, ${count(list.length, 'packet')} (confidence ${e.confidence})</p><p>${e.evidence.join(' ')}</p>${e.remedy.map((r, i) => html`<p class="${i === 0 ? 'fix' : ''}">${i === 0 ? 'Fix: ' : 'Also: '}${r}</p>`)}</div>`;
  })}`;
}

function renderListed(page: HtmlPage): SafeHtml {
  const rows = page.timeline.listed;
  if (rows.length === 0) return html``;
  const profiles = page.timeline.profiles;
  return html`<section class="listed" aria-label="Other flows">
<h2>Other flows with denials or expiries</h2>
<p class="note">Not drawn, to keep the page light; ${count(rows.length, 'flow')}${page.timeline.listedOmittedFlows + page.timeline.listedOmittedDenials > 0 ? ' (more are only counted: see the summary)' : ''}.</p>
<table class="listed-flows"><thead><tr><th>remote → local</th><th>service</th><th>first</th><th>last</th><th class="num">packets</th><th class="num">denied</th><th class="num">expired</th><th>note</th></tr></thead>
<tbody>${rows.map((r) => renderListedRow(r, profiles))}</tbody></table>
</section>`;
}

function renderListedRow(row: ListedFlow, profiles: readonly string[]): SafeHtml {
  const note = [row.reasons.join(', '), row.summary].filter((s) => s !== '').join('; ');
  return html`<tr><td class="mono">${row.remote} → ${row.local}</td><td>${row.service}</td><td class="mono">${Number.isFinite(row.firstUs) ? clockText(row.firstUs) : ''}</td><td class="mono">${Number.isFinite(row.lastUs) ? clockText(row.lastUs) : ''}</td><td class="num">${row.packets > 0 ? row.packets : ''}</td><td class="num">${deniedText(row.denied, profiles)}</td><td class="num">${row.expirations > 0 ? row.expirations : ''}</td><td>${note}</td></tr>`;
}

/** Denials of a listed flow: the number, or per profile when several profiles differ. */
function deniedText(denied: readonly number[], profiles: readonly string[]): string {
  if (denied.every((n) => n === 0)) return '';
  if (denied.length === 1 || denied.every((n) => n === denied[0])) return `${denied[0]}${denied.length > 1 ? ' under each' : ''}`;
  return denied.map((n, i) => (n > 0 ? `${profiles[i]} ${n}` : '')).filter((t) => t !== '').join(', ');
}

function renderVerdictsNotDrawn(page: HtmlPage): SafeHtml {
  const verdicts = page.verdictsNotDrawn;
  if (verdicts.length === 0) return html``;
  return html`<section class="verdicts" aria-label="Verdicts without a timeline">
<h2>Verdicts without a timeline</h2>
<p class="note">No captured packets show these (a log without a capture, or past the drawing limits); their verdicts as text${page.verdictsNotDrawnOmitted > 0 ? `, ${page.verdictsNotDrawnOmitted} more not listed` : ''}.</p>
<table><thead><tr><th class="num">frame</th><th>time</th><th>from → to</th><th>cause</th><th>verdict</th></tr></thead>
<tbody>${verdicts.map((v) => html`<tr data-frame="${v.frame}" data-cause="${v.cause}"><td class="num">${v.frame}</td><td class="mono">${clockText(v.tsUs)}</td><td class="mono">${v.from} → ${v.to}</td><td class="cause">${v.cause}</td><td>${v.text}</td></tr>`)}</tbody></table>
</section>`;
}
