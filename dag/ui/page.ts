import { formatBytes } from '../store/size.js';
import { dashboard } from './client.js';
import type { RunRow } from '../store/listing.js';
import type { ProjectData, RunDetail } from './model.js';

/** What a static report embeds: everything the page would ask the server for. */
export interface StaticData {
  project: ProjectData;
  /** The graph's SVG by collapsed segments (sorted, comma-separated; '' = none collapsed). */
  svgs: Record<string, string>;
  runs: RunRow[];
  details: Record<string, RunDetail>;
  selected: string | null;
  written: string;
}

export type Boot = { mode: 'live'; allowRun: boolean } | { mode: 'static'; data: StaticData };

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const CSS = `
:root { --fg: #1d2330; --muted: #6b7385; --line: #d8dce5; --bg: #f6f7fa; --card: #fff; --accent: #2f6fdf;
  --ran: #74c69d; --cached: #7cc4e8; --staged: #b5a5e6; --running: #f0b429; --pending: #e3e6ec; --failed: #d64545; --skipped: #c9ccd3;
  --plan-run: #f08c3a; --plan-cached: #7cc4e8; --plan-stage: #b5a5e6; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 18px; padding: 8px 16px; background: #1d2330; color: #fff; }
header h1 { font-size: 15px; margin: 0; font-weight: 600; }
header #mode { color: #aab; font-size: 12px; }
nav a { color: #cfd6e6; text-decoration: none; margin-right: 12px; padding: 3px 6px; border-radius: 4px; }
nav a.active { background: #3a4460; color: #fff; }
main { padding: 12px 16px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin-bottom: 12px; }
.graph-layout { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 12px; align-items: start; }
#graph { overflow: auto; max-height: 78vh; }
svg.graph { max-width: 100%; height: auto; }
#details { position: sticky; top: 8px; max-height: 80vh; overflow: auto; }
svg.graph text { font: 12px system-ui, sans-serif; fill: #1d2330; pointer-events: none; }
svg.graph g.segment rect { fill: #fafbfd; stroke: #b9c0cf; stroke-dasharray: 4 3; }
svg.graph g.segment text.segment-label { font-weight: 600; fill: #4a5368; cursor: pointer; pointer-events: all; }
svg.graph g.state { cursor: pointer; }
.state rect, .state polygon { fill: var(--pending); stroke: #7d8599; stroke-width: 1; }
svg.graph g.state.collapsed rect, svg.graph g.state.collapsed polygon { stroke-width: 2; stroke-dasharray: 5 2; }
svg.graph path.edge { fill: none; stroke: #9aa2b4; stroke-width: 1.2; }
svg.graph path.edge.gate-edge { stroke-dasharray: 4 3; }
svg.graph marker path { fill: #9aa2b4; }
.st-ran rect, .st-ran polygon, .chip.st-ran { fill: var(--ran); background: var(--ran); }
.st-cached rect, .st-cached polygon, .chip.st-cached { fill: var(--cached); background: var(--cached); }
.st-staged rect, .st-staged polygon, .chip.st-staged { fill: var(--staged); background: var(--staged); }
.st-running rect, .st-running polygon, .chip.st-running { fill: var(--running); background: var(--running); }
.st-pending rect, .st-pending polygon, .chip.st-pending { fill: var(--pending); background: var(--pending); }
.st-failed rect, .st-failed polygon, .chip.st-failed { fill: var(--failed); background: var(--failed); color: #fff; }
.st-skipped rect, .st-skipped polygon, .chip.st-skipped { fill: var(--skipped); background: var(--skipped); }
.st-absent rect, .st-absent polygon, .chip.st-absent { fill: #fff; background: #fff; }
.st-plan-run rect, .st-plan-run polygon, .chip.st-plan-run { fill: var(--plan-run); background: var(--plan-run); }
.st-plan-cached rect, .st-plan-cached polygon, .chip.st-plan-cached { fill: var(--plan-cached); background: var(--plan-cached); }
.st-plan-stage rect, .st-plan-stage polygon, .chip.st-plan-stage { fill: var(--plan-stage); background: var(--plan-stage); }
svg.graph g.state.st-running rect, svg.graph g.state.st-running polygon { animation: pulse 1.2s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: .55; } }
svg.graph g.hl-selected rect, svg.graph g.hl-selected polygon { stroke: #111; stroke-width: 3; }
svg.graph g.hl-up rect, svg.graph g.hl-up polygon { stroke: #2f6fdf; stroke-width: 2.5; }
svg.graph g.hl-down rect, svg.graph g.hl-down polygon { stroke: #c2409a; stroke-width: 2.5; }
svg.graph .hl-dim { opacity: .28; }
svg.graph path.edge.hl-edge { stroke: #1d2330; stroke-width: 2; }
.chip { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11px; border: 1px solid rgba(0,0,0,.12); margin-right: 4px; background: #eef0f4; }
.run-succeeded, .v-PASS_BPLUS { background: #d7f0e1; } .run-failed, .v-HOLD_REMEDIATE, .run-interrupted { background: #f7d4d4; }
.run-running { background: #fbe6ad; } .v-PASS_B { background: #e8f2c8; } .v-PENDING { background: #e3e6ec; }
#legend { color: var(--muted); margin: 4px 0 8px; }
table.grid { border-collapse: collapse; width: 100%; }
table.grid th, table.grid td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.grid th { color: var(--muted); font-weight: 600; font-size: 12px; }
table.grid td.rows { white-space: normal; }
table.runs tr:hover td { background: #f1f4fb; }
table.kv th { text-align: left; color: var(--muted); font-weight: 500; padding-right: 10px; vertical-align: top; }
tr.g-FAIL td { background: #fbe3e3; } tr.g-WARN td { background: #fdf3d8; } tr.g-PENDING td { color: var(--muted); }
tr.total td { font-weight: 600; } td.over { color: var(--failed); font-weight: 600; }
ul.io, ul.tasks { padding-left: 16px; margin: 4px 0; } ul.tasks { list-style: none; padding: 0; columns: 2; }
.reason { color: var(--muted); white-space: pre-line; }
.empty { color: var(--muted); } .error { color: var(--failed); }
svg.gantt text { font: 11px system-ui, sans-serif; fill: #1d2330; } svg.gantt text.tick { fill: var(--muted); }
svg.gantt g.bar rect { fill: var(--ran); } svg.gantt g.bar rect.step { fill: rgba(255,255,255,.45); stroke: rgba(0,0,0,.25); stroke-width: .5; }
svg.gantt g.st-cached > rect { fill: var(--cached); } svg.gantt g.st-staged > rect { fill: var(--staged); } svg.gantt g.st-running > rect { fill: var(--running); } svg.gantt g.st-failed > rect { fill: var(--failed); }
.progress { height: 10px; background: #e3e6ec; border-radius: 5px; overflow: hidden; max-width: 520px; }
.progress div { height: 100%; background: var(--ran); transition: width .3s; }
.board, .cert { margin-bottom: 10px; } h4 small { color: var(--muted); font-weight: 400; }
code { font: 12px ui-monospace, monospace; }
`;

const BODY = `
<header><h1>dag · <span id="project"></span></h1>
<nav><a href="#graph">Graph</a><a href="#runs">Runs</a><a href="#run">Run</a><a href="#live">Live</a></nav><span id="mode"></span>
<form id="start-run" hidden>seed <input name="seed" size="5"> <button>dag run</button> <span id="run-msg"></span></form></header>
<main><div id="problems"></div>
<div id="view-graph" class="graph-layout"><section class="card"><label>color by <select id="color-by"></select></label><div id="legend"></div><div id="graph"></div></section><section class="card" id="details"><p class="empty">click a state</p></section></div>
<section id="view-runs" class="card" hidden><div id="runs"></div></section>
<section id="view-run" class="card" hidden><div id="run"></div></section>
<section id="view-live" class="card" hidden><div id="live"></div></section>
</main>`;

/** The dashboard page: one document, its style and script inline; a static report carries its data too. */
export function pageHtml(boot: Boot): string {
  const title = boot.mode === 'static' ? `dag report — ${boot.data.project.name}` : 'dag ui';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${title.replace(/</g, '&lt;')}</title><style>${CSS}</style></head><body>${BODY}
<script type="application/json" id="boot">${scriptJson(boot)}</script>
<script>(${dashboard.toString()})({ formatBytes: ${formatBytes.toString()} });</script></body></html>\n`;
}
