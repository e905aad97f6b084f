/**
 * The page's one stylesheet, inline. Colours are custom properties set three times from two palettes: light (the
 * default), dark (`prefers-color-scheme: dark`) and print (always the light palette on white, with colours kept:
 * `print-color-adjust: exact`). Every mark also differs by shape or position, not by colour alone: sent packets
 * stand above the axis and received ones below, denials are crosses, the purge window is hatched.
 */

/** One palette: custom property → colour. */
type Palette = Record<string, string>;

const LIGHT: Palette = {
  '--bg': '#ffffff',
  '--fg': '#1f2328',
  '--muted': '#59636e',
  '--panel': '#f6f8fa',
  '--rule': '#d1d9e0',
  '--grid': '#e6eaef',
  '--sent': '#0969da',
  '--received': '#8250df',
  '--state-0': '#b7e4c7',
  '--state-1': '#74c69d',
  '--state-2': '#40916c',
  '--state-edge': '#1b4332',
  '--state-text': '#081c15',
  '--purge': '#9a6700',
  '--deny': '#cf222e',
  '--window': '#bc4c00',
  '--gap': '#1f2328',
  '--link': '#0969da',
};

const DARK: Palette = {
  '--bg': '#0d1117',
  '--fg': '#e6edf3',
  '--muted': '#9198a1',
  '--panel': '#151b23',
  '--rule': '#3d444d',
  '--grid': '#262c36',
  '--sent': '#4493f8',
  '--received': '#ab7df8',
  '--state-0': '#1b4332',
  '--state-1': '#2d6a4f',
  '--state-2': '#40916c',
  '--state-edge': '#95d5b2',
  '--state-text': '#d8f3dc',
  '--purge': '#d29922',
  '--deny': '#ff7b72',
  '--window': '#ffa657',
  '--gap': '#e6edf3',
  '--link': '#4493f8',
};

function declarations(palette: Palette): string {
  return Object.entries(palette)
    .map(([name, value]) => `${name}: ${value};`)
    .join(' ');
}

/** The stylesheet. */
export function stylesheet(): string {
  return `
:root { color-scheme: light dark; ${declarations(LIGHT)} }
@media (prefers-color-scheme: dark) { :root { ${declarations(DARK)} } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 28px 48px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
a { color: var(--link); }
code, .mono, td.num, .endpoints { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 13px; }
.muted, .note { color: var(--muted); }
.note { font-size: 13px; margin: 4px 0; }
header .inputs { color: var(--muted); margin: 0; word-break: break-all; }
.summary { display: grid; grid-template-columns: minmax(280px, 1fr) minmax(280px, 1fr); gap: 12px 28px; align-items: start; }
.summary > * { min-width: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
table { border-collapse: collapse; font-size: 13px; }
caption { caption-side: top; text-align: left; white-space: nowrap; color: var(--muted); padding-bottom: 2px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--grid); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; background: var(--deny); vertical-align: baseline; }
.swatch.window { background: var(--window); }
tr.breaks td:first-child { font-weight: 700; }
tr.breaks td.legit { color: var(--deny); font-weight: 700; }
.badge { font-size: 12px; padding: 0 6px; border-radius: 9px; border: 1px solid var(--rule); color: var(--muted); font-weight: 500; }
.badge.lost { color: var(--deny); border-color: var(--deny); }
.badge.expired { color: var(--state-edge); border-color: var(--state-edge); }
nav.index { columns: 2; column-gap: 28px; font-size: 13px; margin: 4px 0 0; padding: 0; list-style: none; }
nav.index li { break-inside: avoid; }
article.timeline { border: 1px solid var(--rule); border-radius: 6px; padding: 12px 14px; margin: 14px 0; background: var(--bg); break-inside: avoid; }
article.timeline p.story { margin: 2px 0 8px; }
svg.timeline-chart { display: block; width: 100%; height: auto; overflow: visible; }
svg text { fill: var(--fg); font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg text.axis, svg text.lane-note { fill: var(--muted); }
svg text.lane-name { font-weight: 600; }
svg text.lane-note.breaks { fill: var(--deny); font-weight: 600; }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .baseline { stroke: var(--rule); stroke-width: 1; }
svg .lane-rule { stroke: var(--grid); stroke-width: 1; }
svg .packet { stroke-width: 1.5; }
svg .packet.sent { stroke: var(--sent); }
svg .packet.received { stroke: var(--received); }
svg .packet.refused { stroke: var(--deny); stroke-width: 2; }
svg .segment.rank-0 { fill: var(--state-0); }
svg .segment.rank-1 { fill: var(--state-1); }
svg .segment.rank-2 { fill: var(--state-2); }
svg .lifetime-bar { fill: none; stroke: var(--state-edge); stroke-width: 1; }
svg .lifetime.alive .lifetime-bar { stroke-dasharray: 4 3; }
svg text.segment-label { fill: var(--state-text); font-size: 10px; }
svg .purge-window { fill: url(#udptrack-hatch); stroke: var(--purge); stroke-width: 1; }
svg .hatch-line { stroke: var(--purge); stroke-width: 1.5; }
svg .expiry { stroke: var(--state-edge); stroke-width: 2; }
svg .denied-mark { stroke: var(--deny); stroke-width: 2.5; fill: none; stroke-linecap: round; }
svg .denied.window .denied-mark { stroke: var(--window); stroke-dasharray: 2 2; }
svg text.cause-label { fill: var(--deny); font-weight: 600; font-size: 10.5px; }
svg .denied.window text.cause-label { fill: var(--window); }
svg .gap-line { stroke: var(--gap); stroke-width: 1; }
svg text.gap-label { font-weight: 600; }
svg .lane.breaks .lane-band { fill: var(--deny); opacity: 0.06; }
svg .lane-band { fill: transparent; }
.legend svg { width: 100%; max-width: 520px; height: auto; }
.denials { margin: 8px 0 0; }
.denials td.cause { color: var(--deny); font-weight: 600; white-space: nowrap; }
.explanation { margin: 8px 0 0; padding: 6px 10px; background: var(--panel); border-left: 3px solid var(--deny); font-size: 13px; }
.explanation p { margin: 2px 0; }
.explanation .fix { font-weight: 600; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 760px) { .summary { grid-template-columns: 1fr; } nav.index { columns: 1; } }
@media print {
  :root { ${declarations(LIGHT)} }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; background: #fff; }
  nav.index { display: none; }
  article.timeline { border-color: #999; page-break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;
}
