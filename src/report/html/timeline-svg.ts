/**
 * One timeline as inline SVG: a time axis (UTC), the packets by direction (sent above the line, received below),
 * then one lane per profile with each state lifetime as a bar shaded by timeout key that ends at its expiry, pf's
 * purge window hatched after it, the denied packets as crosses labelled with their cause, and the gap that mattered
 * (last packet → first denied packet) as a bracket labelled in seconds.
 *
 * Elements carry stable classes and data attributes (`.denied[data-frame][data-cause]`, `.lifetime-bar[data-flow]`,
 * `.gap[data-gap-us]`) so tests and people can query the drawing, and a <title> each for a hover tooltip.
 */
import { formatIsoFromUs, formatSecondsUs } from '../time.js';
import { html, type SafeHtml } from './markup.js';
import type { DeniedPacket, FlowTimeline, StateLifetime, TimelineLane } from './model.js';

const WIDTH = 1000;
const PLOT_LEFT = 150;
const PLOT_RIGHT = 984;
const AXIS_HEIGHT = 22;
const PACKETS_HEIGHT = 46;
const LANE_HEIGHT = 62;
/** Rough width of one character of the 10.5–11 px labels, to keep labels from overlapping. */
const CHAR_WIDTH = 6.1;
const US_PER_SEC = 1_000_000;
const TICK_STEPS_US = [
  1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 15e6, 3e7, 6e7, 12e7, 3e8, 6e8, 9e8, 18e8, 36e8, 72e8, 144e8, 216e8, 432e8, 864e8,
];

/** The stretch of time a timeline shows. `cutUs`: where the drawing starts when earlier, less relevant activity is cut. */
export interface TimeWindow {
  startUs: number;
  endUs: number;
  cutUs: number | undefined;
}

/** A clock time of day in UTC, to the millisecond when asked. */
export function clockText(us: number, withMillis = true): string {
  return formatIsoFromUs(us).slice(11, withMillis ? 23 : 19);
}

/**
 * The window: the whole timeline, unless long quiet activity comes before the part that explains the denials; then
 * it starts shortly before the last packet the first denial found expired, so the gap that mattered stays readable.
 */
export function chooseWindow(timeline: FlowTimeline): TimeWindow {
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = Number.NEGATIVE_INFINITY;
  const see = (us: number | undefined): void => {
    if (us === undefined || !Number.isFinite(us)) return;
    if (us < firstUs) firstUs = us;
    if (us > lastUs) lastUs = us;
  };
  for (const p of timeline.packets) see(p.tsUs);
  let focusUs = Number.POSITIVE_INFINITY;
  for (const lane of timeline.lanes) {
    for (const l of lane.lifetimes) {
      see(l.createdUs);
      see(l.endUs);
      see(l.purgeEndUs);
    }
    for (const d of lane.denied) {
      see(d.tsUs);
      const from = d.previous?.lastPacketUs ?? d.tsUs;
      if (from < focusUs) focusUs = from;
    }
  }
  if (!Number.isFinite(firstUs)) firstUs = lastUs = 0;
  let cutUs: number | undefined;
  const focusSpanUs = Math.max(lastUs - focusUs, US_PER_SEC);
  if (Number.isFinite(focusUs) && focusUs - firstUs > 2 * focusSpanUs) cutUs = focusUs - focusSpanUs / 2;
  let startUs = cutUs ?? firstUs;
  let endUs = lastUs;
  if (endUs - startUs < US_PER_SEC) {
    const middle = (startUs + endUs) / 2;
    startUs = middle - US_PER_SEC / 2;
    endUs = middle + US_PER_SEC / 2;
  }
  const padUs = (endUs - startUs) * 0.03;
  return { startUs: cutUs === undefined ? startUs - padUs : startUs, endUs: endUs + padUs, cutUs };
}

interface Scale {
  x(us: number): number;
  window: TimeWindow;
}

function scaleFor(window: TimeWindow): Scale {
  const span = window.endUs - window.startUs;
  return { window, x: (us) => PLOT_LEFT + ((us - window.startUs) / span) * (PLOT_RIGHT - PLOT_LEFT) };
}

/** What the chart says about its lanes. */
export interface ChartOptions {
  /** A stable index for the ids inside this chart (clip path). */
  index: number;
  /** simulate: several profiles stacked, each lane says whether that profile breaks the flow. */
  stacked: boolean;
}

/** A lane as drawn: profiles whose lanes are identical share one (simulate stacks thirteen profiles). */
interface DrawnLane {
  profiles: string[];
  lane: TimelineLane;
}

/**
 * Stacked lanes that would look the same — same state lifetimes, same denials with the same causes — are drawn once
 * with every profile's name, so the profiles that behave differently stand out. Flow ids differ between tables and
 * do not count.
 */
export function mergeIdenticalLanes(lanes: readonly TimelineLane[]): DrawnLane[] {
  const bySignature = new Map<string, DrawnLane>();
  for (const lane of lanes) {
    const signature = JSON.stringify([
      lane.lifetimes.map((l) => [l.createdUs, l.endUs, l.expired, l.purgeEndUs ?? null, l.segments.map((g) => [g.fromUs, g.toUs, g.timeoutKey, g.timeoutUs])]),
      lane.denied.map((d) => [d.frame, d.tsUs, d.cause, d.verdict, d.previous?.lastPacketUs ?? null]),
      lane.deniedTotal,
      lane.lifetimesOmitted,
    ]);
    const same = bySignature.get(signature);
    if (same !== undefined) same.profiles.push(lane.profile);
    else bySignature.set(signature, { profiles: [lane.profile], lane });
  }
  return [...bySignature.values()];
}

/** The SVG of one timeline. */
export function renderTimelineChart(timeline: FlowTimeline, options: ChartOptions): SafeHtml {
  const window = chooseWindow(timeline);
  const scale = scaleFor(window);
  const lanesTop = AXIS_HEIGHT + PACKETS_HEIGHT;
  const lanes: DrawnLane[] = options.stacked ? mergeIdenticalLanes(timeline.lanes) : timeline.lanes.map((lane) => ({ profiles: [lane.profile], lane }));
  const height = lanesTop + lanes.length * LANE_HEIGHT + 4;
  const clipId = `udptrack-plot-${options.index}`;
  const deniedFrames = new Set(timeline.lanes.length === 1 ? timeline.lanes[0]!.denied.map((d) => d.frame) : []);
  const label = `Timeline of ${timeline.remote} and ${timeline.local}`;
  return html`<svg class="timeline-chart" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${label}" data-start-us="${Math.round(window.startUs)}" data-end-us="${Math.round(window.endUs)}">
<defs><clipPath id="${clipId}"><rect x="${PLOT_LEFT}" y="0" width="${PLOT_RIGHT - PLOT_LEFT}" height="${height}"/></clipPath></defs>
${renderAxis(scale, height)}
<g clip-path="url(#${clipId})">
${renderPackets(timeline, scale, deniedFrames)}
${lanes.map((drawn, i) => renderLaneBody(drawn, scale, lanesTop + i * LANE_HEIGHT, timeline, options.stacked))}
</g>
${renderPacketLabels()}
${lanes.map((drawn, i) => renderLaneLabel(drawn, lanesTop + i * LANE_HEIGHT, options.stacked))}
</svg>`;
}

function tickStepUs(spanUs: number): number {
  return TICK_STEPS_US.find((step) => spanUs / step <= 7) ?? TICK_STEPS_US.at(-1)!;
}

function renderAxis(scale: Scale, height: number): SafeHtml {
  const { startUs, endUs, cutUs } = scale.window;
  const step = tickStepUs(endUs - startUs);
  const ticks: SafeHtml[] = [];
  for (let us = Math.ceil(startUs / step) * step; us <= endUs; us += step) {
    const x = scale.x(us);
    ticks.push(html`<line class="grid" x1="${x}" y1="${AXIS_HEIGHT - 4}" x2="${x}" y2="${height - 2}"/><text class="axis" x="${x}" y="12" text-anchor="middle">${clockText(us, step < US_PER_SEC)}</text>`);
  }
  const cut = cutUs === undefined ? undefined : html`<text class="axis" x="${PLOT_LEFT - 8}" y="12" text-anchor="end">◂ earlier cut</text>`;
  return html`<g class="axis">${ticks}${cut}</g>`;
}

function renderPacketLabels(): SafeHtml {
  const top = AXIS_HEIGHT;
  return html`<text class="axis" x="${PLOT_LEFT - 8}" y="${top + 16}" text-anchor="end">sent by host ↑</text><text class="axis" x="${PLOT_LEFT - 8}" y="${top + 38}" text-anchor="end">received ↓</text>`;
}

function renderPackets(timeline: FlowTimeline, scale: Scale, deniedFrames: ReadonlySet<number>): SafeHtml {
  const top = AXIS_HEIGHT;
  const middle = top + 23;
  const ticks = timeline.packets
    .filter((p) => p.tsUs >= scale.window.startUs)
    .map((p) => {
      const x = scale.x(p.tsUs);
      const denied = !p.fromLocal && deniedFrames.has(p.frame);
      const cls = `packet ${p.fromLocal ? 'sent' : 'received'}${denied ? ' refused' : ''}`;
      const y1 = p.fromLocal ? middle - 16 : middle + 2;
      const y2 = p.fromLocal ? middle - 2 : middle + 16;
      const what = p.fromLocal ? `${timeline.local} → ${timeline.remote}` : `${timeline.remote} → ${timeline.local}`;
      return html`<line class="${cls}" data-frame="${p.frame}" data-dir="${p.fromLocal ? 'out' : 'in'}" data-ts-us="${p.tsUs}" x1="${x}" y1="${y1}" x2="${x}" y2="${y2}"><title>frame ${p.frame} · ${clockText(p.tsUs)} · ${what}</title></line>`;
    });
  return html`<g class="packets"><line class="baseline" x1="${PLOT_LEFT}" y1="${middle}" x2="${PLOT_RIGHT}" y2="${middle}"/>${ticks}</g>`;
}

function laneName(profiles: readonly string[]): string {
  const joined = profiles.join(', ');
  return profiles.length === 1 || joined.length <= 20 ? joined : `${profiles.length} profiles`;
}

function renderLaneLabel(drawn: DrawnLane, top: number, stacked: boolean): SafeHtml {
  const lane = drawn.lane;
  const breaks = lane.deniedTotal > 0;
  const note = stacked ? `${drawn.profiles.length > 1 ? 'each ' : ''}${breaks ? `denies ${lane.deniedTotal}` : 'denies none'}` : 'modelled state';
  return html`<text class="lane-name" x="${PLOT_LEFT - 8}" y="${top + 33}" text-anchor="end"><title>${drawn.profiles.join(', ')}</title>${laneName(drawn.profiles)}</text><text class="lane-note${stacked && breaks ? ' breaks' : ''}" x="${PLOT_LEFT - 8}" y="${top + 47}" text-anchor="end">${note}</text>`;
}

function renderLaneBody(drawn: DrawnLane, scale: Scale, top: number, timeline: FlowTimeline, stacked: boolean): SafeHtml {
  const lane = drawn.lane;
  const breaks = stacked && lane.deniedTotal > 0;
  return html`<g class="lane${breaks ? ' breaks' : ''}" data-profile="${lane.profile}" data-profiles="${drawn.profiles.join(' ')}" data-denied="${lane.deniedTotal}">
<rect class="lane-band" x="${PLOT_LEFT}" y="${top + 2}" width="${PLOT_RIGHT - PLOT_LEFT}" height="${LANE_HEIGHT - 4}"/>
<line class="lane-rule" x1="0" y1="${top}" x2="${WIDTH}" y2="${top}"/>
${lane.lifetimes.map((l) => renderLifetime(l, lane.profile, scale, top))}
${renderGaps(lane, scale, top)}
${renderDenials(lane, scale, top, timeline)}
</g>`;
}

const BAR_TOP = 22;
const BAR_HEIGHT = 14;

function renderLifetime(lifetime: StateLifetime, profile: string, scale: Scale, top: number): SafeHtml {
  const y = top + BAR_TOP;
  const x0 = scale.x(lifetime.createdUs);
  const x1 = Math.max(scale.x(lifetime.endUs), x0 + 1);
  const segments = lifetime.segments.map((s) => {
    const sx = scale.x(s.fromUs);
    const width = Math.max(scale.x(s.toUs) - sx, 0.5);
    const text = `${s.timeoutKey} ${formatSecondsUs(s.timeoutUs)}`;
    const visibleX = Math.max(sx, PLOT_LEFT);
    const fits = scale.x(s.toUs) - visibleX > text.length * CHAR_WIDTH * 0.95 + 6;
    return html`<rect class="segment rank-${Math.min(s.keyRank, 2)}" data-timeout-key="${s.timeoutKey}" x="${sx}" y="${y}" width="${width}" height="${BAR_HEIGHT}"/>${fits ? html`<text class="segment-label" x="${visibleX + 4}" y="${y + 10.5}">${text}</text>` : ''}`;
  });
  const last = lifetime.segments.at(-1);
  const title = lifetime.expired
    ? `state of flow ${lifetime.flowId}: created ${clockText(lifetime.createdUs)}, expired ${clockText(lifetime.endUs)} (${last?.timeoutKey ?? '?'} ${formatSecondsUs(last?.timeoutUs ?? 0)} after the last packet at ${clockText(lifetime.lastPacketUs)})${lifetime.purgeEndUs === undefined ? '' : `; pf may match it until the purge at ${clockText(lifetime.purgeEndUs)}`}`
    : `state of flow ${lifetime.flowId}: created ${clockText(lifetime.createdUs)}, still alive when the capture ends (would expire ${clockText(lifetime.wouldExpireUs)})`;
  const purge =
    lifetime.purgeEndUs === undefined
      ? ''
      : html`<rect class="purge-window" data-flow="${lifetime.flowId}" x="${x1}" y="${y}" width="${Math.max(scale.x(lifetime.purgeEndUs) - x1, 0.5)}" height="${BAR_HEIGHT}"/>`;
  const expiry = lifetime.expired ? html`<line class="expiry" x1="${x1}" y1="${y - 4}" x2="${x1}" y2="${y + BAR_HEIGHT + 4}"/>` : '';
  return html`<g class="lifetime ${lifetime.expired ? 'expired' : 'alive'}" data-flow="${lifetime.flowId}" data-profile="${profile}" data-created-us="${lifetime.createdUs}" data-end-us="${lifetime.endUs}"><title>${title}</title>${segments}<rect class="lifetime-bar" data-flow="${lifetime.flowId}" x="${x0}" y="${y}" width="${x1 - x0}" height="${BAR_HEIGHT}"/>${purge}${expiry}</g>`;
}

/** The gap that mattered: from the expired state's last packet to the first packet denied because of it. */
function renderGaps(lane: TimelineLane, scale: Scale, top: number): SafeHtml[] {
  const seen = new Set<number>();
  const out: SafeHtml[] = [];
  for (const d of lane.denied) {
    let fromUs: number;
    let text: string;
    if (d.previous !== undefined && d.verdict === 'deny') {
      if (seen.has(d.previous.flowId)) continue;
      seen.add(d.previous.flowId);
      fromUs = d.previous.lastPacketUs;
      text = `idle ${formatSecondsUs(d.tsUs - fromUs)} > ${d.previous.timeoutKey} ${formatSecondsUs(d.previous.timeoutUs)}`;
    } else if (d.verdict === 'window') {
      const key = -1 - Math.round(d.tsUs - d.pastExpiryUs);
      if (seen.has(key)) continue;
      seen.add(key);
      fromUs = d.tsUs - d.pastExpiryUs;
      text = `${formatSecondsUs(d.pastExpiryUs)} past expiry, inside the purge window`;
    } else {
      continue;
    }
    const x0 = Math.max(scale.x(fromUs), PLOT_LEFT);
    const x1 = scale.x(d.tsUs);
    const y = top + 15;
    const middle = Math.min(Math.max((x0 + x1) / 2, PLOT_LEFT + (text.length * CHAR_WIDTH) / 2), PLOT_RIGHT - (text.length * CHAR_WIDTH) / 2);
    out.push(
      html`<g class="gap" data-gap-us="${Math.round(d.tsUs - fromUs)}" data-from-us="${fromUs}" data-to-us="${d.tsUs}" data-frame="${d.frame}"><line class="gap-line" x1="${x0}" y1="${y}" x2="${x1}" y2="${y}"/><line class="gap-line" x1="${x0}" y1="${y - 4}" x2="${x0}" y2="${y + 4}"/><line class="gap-line" x1="${x1}" y1="${y - 4}" x2="${x1}" y2="${y + 4}"/><text class="gap-label" x="${middle}" y="${y - 4}" text-anchor="middle">${text}</text></g>`,
    );
  }
  return out;
}

/** Crosses at the denied packets; one label per run of same-cause crosses too close to label each. */
function renderDenials(lane: TimelineLane, scale: Scale, top: number, timeline: FlowTimeline): SafeHtml[] {
  const visible = lane.denied.filter((d) => d.tsUs >= scale.window.startUs).sort((a, b) => a.tsUs - b.tsUs || a.frame - b.frame);
  const labels = new Map<DeniedPacket, string>();
  let labelEnd = Number.NEGATIVE_INFINITY;
  let previousX = Number.NEGATIVE_INFINITY;
  let run: { first: DeniedPacket; count: number; cause: string } | undefined;
  const closeRun = (): void => {
    if (run !== undefined) labels.set(run.first, run.count > 1 ? `${run.cause} ×${run.count}` : run.cause);
  };
  for (const d of visible) {
    const x = scale.x(d.tsUs);
    const closeToPrevious = x - previousX < 90;
    previousX = x;
    if (run !== undefined && run.cause === d.cause && closeToPrevious) {
      run.count++;
      labelEnd = Math.max(labelEnd, x);
      continue;
    }
    if (x - 4 < labelEnd + 6) continue; // a different cause too close: its cross and tooltip say it
    closeRun();
    run = { first: d, count: 1, cause: d.cause };
    labelEnd = x - 4 + (d.cause.length + 3) * CHAR_WIDTH;
  }
  closeRun();
  const y = top + BAR_TOP + BAR_HEIGHT / 2;
  return visible.map((d) => {
    const x = scale.x(d.tsUs);
    const from = d.fromLocal ? timeline.local : timeline.remote;
    const to = d.fromLocal ? timeline.remote : timeline.local;
    const where = [d.ifName === undefined ? '' : `interface ${d.ifName}`, d.process === undefined ? '' : `process ${d.process}`].filter((s) => s !== '').join(', ');
    const title = `frame ${d.frame} · ${clockText(d.tsUs)} · ${from} → ${to} · ${d.cause}${d.cause === d.reason ? '' : ` (model: ${d.reason})`}${d.verdict === 'window' ? ' · inside pf\'s purge window: may have passed' : ''}${where === '' ? '' : ` · ${where}`}`;
    const label = labels.get(d);
    const labelX = Math.min(Math.max(x - 4, PLOT_LEFT + 2), PLOT_RIGHT - (label?.length ?? 0) * CHAR_WIDTH);
    return html`<g class="denied ${d.verdict}" data-frame="${d.frame}" data-cause="${d.cause}" data-reason="${d.reason}" data-profile="${lane.profile}" data-ts-us="${d.tsUs}"${d.previous === undefined ? '' : html` data-previous-flow="${d.previous.flowId}"`}><title>${title}</title><path class="denied-mark" d="M${x - 5} ${y - 5}L${x + 5} ${y + 5}M${x + 5} ${y - 5}L${x - 5} ${y + 5}"/>${label === undefined ? '' : html`<text class="cause-label" x="${labelX}" y="${top + 53}">${label}</text>`}</g>`;
  });
}

/** The legend: one small chart of every mark, with words. */
export function renderLegend(): SafeHtml {
  const row = 17;
  const y = (i: number): number => i * row;
  return html`<svg class="legend-chart" viewBox="0 0 420 ${row * 6 + 2}" role="img" aria-label="Legend">
<line class="packet sent" x1="12" y1="${y(0) + 3}" x2="12" y2="${y(0) + 14}"/><line class="packet received" x1="20" y1="${y(0) + 3}" x2="20" y2="${y(0) + 14}"/><text x="56" y="${y(0) + 12}">packets sent by the host (above the line), received (below)</text>
<rect class="segment rank-0" x="2" y="${y(1) + 3}" width="14" height="11"/><rect class="segment rank-1" x="16" y="${y(1) + 3}" width="14" height="11"/><rect class="segment rank-2" x="30" y="${y(1) + 3}" width="14" height="11"/><line class="expiry" x1="44" y1="${y(1) + 1}" x2="44" y2="${y(1) + 16}"/><text x="56" y="${y(1) + 12}">the modelled state, shaded by timeout key, ending at its expiry</text>
<rect class="segment rank-1" x="2" y="${y(2) + 3}" width="42" height="11" stroke-dasharray="4 3" style="stroke: var(--state-edge)"/><text x="56" y="${y(2) + 12}">a state still alive when the capture ends</text>
<rect class="purge-window" x="2" y="${y(3) + 3}" width="42" height="11"/><text x="56" y="${y(3) + 12}">pf's purge window: expired, but may still match</text>
<path class="denied-mark" d="M18 ${y(4) + 4}L28 ${y(4) + 14}M28 ${y(4) + 4}L18 ${y(4) + 14}"/><text x="56" y="${y(4) + 12}">a denied packet, labelled with its cause</text>
<line class="gap-line" x1="4" y1="${y(5) + 9}" x2="42" y2="${y(5) + 9}"/><line class="gap-line" x1="4" y1="${y(5) + 5}" x2="4" y2="${y(5) + 13}"/><line class="gap-line" x1="42" y1="${y(5) + 5}" x2="42" y2="${y(5) + 13}"/><text x="56" y="${y(5) + 12}">the gap that mattered, in seconds</text>
</svg>`;
}

/** The pattern the purge window is hatched with, defined once per page. */
export function renderSharedDefs(): SafeHtml {
  return html`<svg width="0" height="0" aria-hidden="true" style="position:absolute"><defs><pattern id="udptrack-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs></svg>`;
}
