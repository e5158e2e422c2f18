// The dashboard's page script. It runs in the browser: `dashboard` is sent as its source text
// (page.ts), so it must not use anything from outside its own body. Live mode reads the server's
// /api/* and its event stream; static mode (dag report --html) reads the data embedded in the page.
import type { RunRow } from '../store/listing.js';
import type { LedgerEntry } from '../store/runs.js';
import type { ProjectData, RunDetail, RunEvent } from './model.js';
import type { StaticData } from './page.js';

// the browser's globals, loosely typed: this file is compiled with Node's types only
declare const document: any;
declare const window: any;
declare const location: any;
declare const EventSource: any;

/** `shared`: the server's own formatters, sent as their source text beside this function's. */
export function dashboard(shared: { formatBytes: (n: number) => string }): void {
  interface Trace {
    ledger: LedgerEntry[];
    events: RunEvent[];
  }
  interface Boot {
    mode: 'live' | 'static';
    allowRun?: boolean;
    data?: StaticData;
  }
  const boot: Boot = JSON.parse(document.getElementById('boot').textContent);
  const isStatic = boot.mode === 'static';
  const S = {
    project: null as ProjectData | null,
    svgKey: null as string | null,
    runs: [] as RunRow[],
    details: {} as Record<string, RunDetail>,
    live: {} as Record<string, Trace>,
    colorBy: 'auto',
    selected: null as string | null,
    collapsed: new Set<string>(),
    vs: '' as string,
  };

  // ---- helpers
  const $ = (sel: string): any => document.querySelector(sel);
  const $$ = (sel: string, root?: any): any[] => Array.from((root ?? document).querySelectorAll(sel));
  const h = (v: unknown) => String(v ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const secs = (s: number | null | undefined) => (s === null || s === undefined ? '-' : s < 60 ? `${s.toFixed(s < 10 ? 2 : 1)}s` : `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`);
  const bytes = (n: number | null | undefined) => (n === null || n === undefined ? '-' : shared.formatBytes(n));
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : String(Number(v.toFixed(4))));
  const band = (b: [number | null, number | null]) => `[${b[0] === null ? '-' : num(b[0])}, ${b[1] === null ? '-' : num(b[1])}]`;
  const short = (id: string) => id.slice(0, 8);
  const taskOf = (e: { state: string; scenario?: string }) => (e.scenario ? `${e.state}@${e.scenario}` : e.state);
  const stateOfTask = (t: string) => t.split('@')[0]!;
  async function getJson(url: string): Promise<any> {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.json().catch(() => ({}))).error ?? ''}`);
    return r.json();
  }
  const api = {
    project: async (): Promise<ProjectData> => (isStatic ? boot.data!.project : getJson('/api/project')),
    svg: async (key: string): Promise<string | null> => (isStatic ? (boot.data!.svgs[key] ?? null) : (await fetch(`/api/graph.svg?collapsed=${encodeURIComponent(key)}`)).text()),
    runs: async (): Promise<RunRow[]> => (isStatic ? boot.data!.runs : getJson('/api/runs')),
    run: async (id: string): Promise<RunDetail | null> => (isStatic ? (boot.data!.details[id] ?? null) : getJson(`/api/runs/${encodeURIComponent(id)}`)),
  };

  // ---- what each task of a run is doing: from its ledger (outcomes) and run.log events (starts, steps)
  interface TaskState {
    task: string;
    status: string;
    reason: string;
    step?: string;
    started?: number;
    entry?: LedgerEntry;
  }
  function traceOf(id: string): Trace | null {
    if (S.live[id]) return S.live[id]!;
    const d = S.details[id];
    return d ? { ledger: d.ledger, events: d.events } : null;
  }
  const runRow = (id: string) => S.runs.find((r) => r.id === id);
  function tasksOf(id: string): Map<string, TaskState> {
    const out = new Map<string, TaskState>();
    const t = traceOf(id);
    if (!t) return out;
    const running = runRow(id)?.status === 'running';
    // a resumed run appends a second run-start: only the events since the last one are the run's present
    let from = 0;
    t.events.forEach((e, i) => {
      if (e.message === 'run-start') from = i;
    });
    for (const e of t.events.slice(from)) {
      if (!e.task) continue;
      if (e.message === 'task-start' && running) out.set(e.task, { task: e.task, status: 'running', reason: 'running', started: Date.parse(e.timestamp) });
      if (e.message === 'task-step' && out.get(e.task)?.status === 'running') out.get(e.task)!.step = e.step;
    }
    for (const e of t.ledger) out.set(taskOf(e), { task: taskOf(e), status: e.action, reason: e.reason, entry: e });
    return out;
  }
  /** The run-start event of a run's present attempt: its task count and estimates. */
  function runStartOf(id: string): RunEvent | undefined {
    return (traceOf(id)?.events ?? []).filter((e) => e.message === 'run-start').pop();
  }
  const SEVERITY = ['absent', 'staged', 'cached', 'ran', 'pending', 'skipped', 'running', 'failed'];
  /** A state's colour in a run: its task's status (the worst over its scenarios). */
  function stateStatus(tasks: Map<string, TaskState>, state: string, running: boolean): { status: string; reason: string } {
    const mine = [...tasks.values()].filter((t) => stateOfTask(t.task) === state);
    if (mine.length === 0) return running ? { status: 'pending', reason: 'pending' } : { status: 'absent', reason: 'not in this run' };
    const w = mine.reduce((a, b) => (SEVERITY.indexOf(b.status) > SEVERITY.indexOf(a.status) ? b : a));
    return { status: w.status, reason: mine.map((t) => `${t.task}: ${t.status}${t.step ? ` (${t.step})` : ''} — ${t.reason}`).join('\n') };
  }

  // ---- the graph
  function colorRun(): string | null {
    if (S.colorBy === 'plan') return null;
    if (S.colorBy !== 'auto') return S.colorBy;
    return (S.runs.find((r) => r.status === 'running') ?? S.runs[0])?.id ?? null;
  }
  function statusOfState(state: string): { status: string; reason: string } {
    const run = colorRun();
    if (run === null) {
      const plan = S.project?.plan;
      if (!plan || 'error' in plan) return { status: 'absent', reason: plan && 'error' in plan ? plan.error : 'no plan' };
      const mine = plan.states.filter((p) => p.state === state);
      if (!mine.length) return { status: 'absent', reason: 'not planned' };
      const order = ['stage', 'cached', 'run'];
      const w = mine.reduce((a, b) => (order.indexOf(b.action) > order.indexOf(a.action) ? b : a));
      return { status: `plan-${w.action}`, reason: mine.map((p) => `${p.task}: ${p.action}${p.provisional ? '?' : ''} — ${p.reason}`).join('\n') };
    }
    return stateStatus(tasksOf(run), state, runRow(run)?.status === 'running');
  }
  async function drawGraph(): Promise<void> {
    if (!S.project) return;
    const key = [...S.collapsed].sort().join(',');
    const box = $('#graph');
    if (S.svgKey !== key) {
      const svg = await api.svg(key);
      if (svg === null) {
        S.collapsed = new Set();
        return drawGraph();
      }
      box.innerHTML = svg;
      S.svgKey = key;
    }
    colorGraph();
  }
  function colorGraph(): void {
    for (const g of $$('#graph g.state')) {
      const states: string[] = g.dataset.state ? [g.dataset.state] : g.dataset.states.split(' ');
      const all = states.map(statusOfState);
      const w = all.reduce((a, b) => (SEVERITY.indexOf(b.status.replace('plan-', '')) > SEVERITY.indexOf(a.status.replace('plan-', '')) ? b : a));
      g.setAttribute('class', `state st-${w.status}${g.dataset.states ? ' collapsed' : ''}`);
      g.dataset.status = w.status;
      g.querySelector('title').textContent = `${g.dataset.state ?? g.dataset.segment}: ${w.status.replace('plan-', '')}\n${all.map((x) => x.reason).join('\n')}`;
    }
    highlight();
    const run = colorRun();
    $('#legend').innerHTML = run === null ? 'colored by <b>dag plan</b> now: <span class="chip st-plan-run">run</span><span class="chip st-plan-cached">cached</span><span class="chip st-plan-stage">stage</span>' : `colored by run <b>${short(run)}</b> (${h(runRow(run)?.status ?? '')}): ${['ran', 'cached', 'staged', 'running', 'pending', 'failed', 'skipped'].map((s) => `<span class="chip st-${s}">${s}</span>`).join('')}`;
    if (S.selected) showDetails(S.selected);
  }
  function reach(id: string, dir: 'up' | 'down'): Set<string> {
    const seen = new Set<string>();
    const todo = [id];
    const edges = S.project?.edges ?? [];
    while (todo.length) {
      const n = todo.pop()!;
      for (const e of edges) {
        const next = dir === 'up' ? (e.to === n ? e.from : null) : e.from === n ? e.to : null;
        if (next && !seen.has(next)) {
          seen.add(next);
          todo.push(next);
        }
      }
    }
    return seen;
  }
  function highlight(): void {
    const sel = S.selected;
    const up = sel ? reach(sel, 'up') : new Set<string>();
    const down = sel ? reach(sel, 'down') : new Set<string>();
    const mark = (states: string[]) => (!sel ? '' : states.includes(sel) ? 'hl-selected' : states.some((s) => up.has(s)) ? 'hl-up' : states.some((s) => down.has(s)) ? 'hl-down' : 'hl-dim');
    for (const g of $$('#graph g.state')) {
      g.classList.remove('hl-selected', 'hl-up', 'hl-down', 'hl-dim');
      const m = mark(g.dataset.state ? [g.dataset.state] : g.dataset.states.split(' '));
      if (m) g.classList.add(m);
    }
    for (const p of $$('#graph path.edge')) {
      const member = (box: string, set: Set<string>) => set.has(box) || (box.startsWith('segment:') && [...set].some((s) => s.startsWith(box.slice(8) + '.')));
      const on = sel && ((member(p.dataset.to, new Set([sel, ...down])) && (p.dataset.from === sel || member(p.dataset.from, down))) || (member(p.dataset.from, new Set([sel, ...up])) && (p.dataset.to === sel || member(p.dataset.to, up))));
      p.classList.toggle('hl-edge', Boolean(on));
      p.classList.toggle('hl-dim', Boolean(sel && !on));
    }
  }
  function showDetails(id: string): void {
    const s = S.project?.states.find((x) => x.id === id);
    const panel = $('#details');
    if (!s) return void (panel.innerHTML = '');
    const st = statusOfState(id);
    const run = colorRun();
    const tasks = run ? [...tasksOf(run).values()].filter((t) => stateOfTask(t.task) === id) : [];
    const rows = (o: Record<string, number> | undefined) => (o ? Object.entries(o).map(([k, v]) => `${h(k)} ${v}`).join(', ') : '-');
    panel.innerHTML = `<h3>${h(s.id)}${s.title ? ` — ${h(s.title)}` : ''}</h3>
      <div class="status-line"><span class="chip st-${h(st.status)}">${h(st.status.replace('plan-', run ? '' : 'plan: '))}</span> <span class="reason">${h(st.reason)}</span></div>
      <table class="kv"><tr><th>manifest</th><td>${h(s.manifest)}</td></tr><tr><th>kernel</th><td>${h(s.kernel)}</td></tr><tr><th>scope</th><td>${h(s.scope)}</td></tr>
      ${s.requires_pass.length ? `<tr><th>requires</th><td>${h(s.requires_pass.join(', '))} (HashGate)</td></tr>` : ''}
      ${s.budget_seconds !== null ? `<tr><th>budget</th><td>${secs(s.budget_seconds)}</td></tr>` : ''}
      <tr><th>upstream</th><td>${h(s.upstream.join(', ') || '(none)')}</td></tr><tr><th>downstream</th><td>${h(s.downstream.join(', ') || '(none)')}</td></tr></table>
      <h4>inputs</h4><ul class="io">${s.inputs.map((i) => `<li>${i.kind === 'dataset' ? `dataset <b>${h(i.name)}</b> ← ${h(i.from)}` : `file <b>${h(i.name)}</b> (${h(i.role ?? '')}${i.schema ? `, ${h(i.schema)}` : ''})`}</li>`).join('')}</ul>
      <h4>outputs</h4><ul class="io">${s.outputs.map((o) => `<li><b>${h(o.dataset)}</b> ${h(o.format)} <code>${h(o.path)}</code></li>`).join('')}</ul>
      ${tasks.length ? `<h4>in run ${short(run!)}</h4><table class="grid"><tr><th>task</th><th>action</th><th>seconds</th><th>rows</th><th>bytes</th></tr>${tasks.map((t) => `<tr><td>${h(t.task)}</td><td>${h(t.status)}${t.step ? ` (${h(t.step)})` : ''}</td><td>${secs(t.entry?.seconds)}</td><td class="rows">${h(rows(t.entry?.rows))}</td><td>${bytes(t.entry?.bytes)}</td></tr>`).join('')}</table>` : ''}`;
  }
  function colorOptions(): void {
    const sel = $('#color-by');
    const options = [['auto', 'the running or newest run'], ['plan', 'dag plan now'], ...S.runs.filter((r) => r.seed !== null).map((r) => [r.id, `run ${short(r.id)} (${r.status}, seed ${r.seed})`])];
    sel.innerHTML = options.map(([v, l]) => `<option value="${h(v)}"${v === S.colorBy ? ' selected' : ''}>${h(l)}</option>`).join('');
  }

  // ---- runs table
  function drawRuns(): void {
    $('#runs').innerHTML = S.runs.length === 0 ? '<p class="empty">no runs</p>' : `<table class="grid runs"><tr><th>run</th><th>created</th><th>seed</th><th>profile</th><th>status</th><th>labels</th><th>size</th><th>ran</th><th>cached</th><th>staged</th><th>failed</th><th>time</th></tr>${S.runs
      .map((r) => `<tr data-run="${h(r.id)}"><td><a href="#run/${h(r.id)}">${short(r.id)}</a></td><td>${h(r.created.replace('T', ' ').slice(0, 19))}</td><td>${r.seed ?? '-'}</td><td>${h(r.profile ?? '-')}</td><td><span class="chip run-${h(r.status)}">${h(r.status)}</span></td><td>${h(r.labels.join(', ') || '-')}</td><td>${bytes(r.bytes)}</td><td>${r.ran}</td><td>${r.cached}</td><td>${r.staged}</td><td>${r.failed}</td><td>${secs(r.seconds)}</td></tr>`)
      .join('')}</table>`;
  }

  // ---- one run: Gantt, perf, gateboards, certification
  let shownRun: string | null = null;
  async function drawRun(id: string, refetch: boolean): Promise<void> {
    if (refetch || !S.details[id]) {
      const d = await api.run(id);
      if (!d) return void ($('#run').innerHTML = `<p class="empty">run ${h(id)} is not in this report</p>`);
      S.details[d.id] = d;
      id = d.id;
    }
    shownRun = id;
    const d = S.details[id]!;
    const row = runRow(id);
    const r = d.receipt;
    const others = S.runs.filter((x) => x.id !== id && x.seed !== null);
    $('#run').innerHTML = `<h2>run <code>${h(id)}</code> <span class="chip run-${h(row?.status ?? d.status)}">${h(row?.status ?? d.status)}</span></h2>
      <table class="kv"><tr><th>created</th><td>${h(r.created_utc)}</td></tr><tr><th>seed</th><td>${r.seed}</td></tr><tr><th>profile</th><td>${h(r.profile ?? '-')}</td></tr><tr><th>labels</th><td>${h(d.labels.join(', ') || '-')}</td></tr>
      ${r.from_state ? `<tr><th>from</th><td>${h(r.from_state)} (base ${h(r.staged_from_run_id)})</td></tr>` : ''}${r.group_id ? `<tr><th>group</th><td>${h(r.group_id)}</td></tr>` : ''}</table>
      <h3>timeline</h3><div id="gantt"></div>
      <h3>perf</h3><label>against <select id="vs"><option value="">(no other run)</option>${others.map((o) => `<option value="${h(o.id)}"${o.id === S.vs ? ' selected' : ''}>${short(o.id)} (seed ${o.seed}, ${h(o.status)})</option>`).join('')}</select></label><div id="perf"></div>
      <h3>gateboard</h3><div id="gateboard">${gateboards(d)}</div>
      ${d.group ? `<h3>certification of group ${h(d.group.id)}</h3><div id="certification">${certification(d)}</div>` : ''}`;
    drawGantt(id);
    await drawPerf(id);
  }
  function drawGantt(id: string): void {
    const d = S.details[id];
    if (!d || !$('#gantt')) return;
    const t0 = Date.parse(d.receipt.created_utc);
    const tasks = [...tasksOf(id).values()];
    const bars = tasks.map((t) => {
      const end = t.entry ? Date.parse(t.entry.ts) : Date.now();
      const start = t.entry ? end - t.entry.seconds * 1000 : (t.started ?? end);
      return { t, start: Math.max(0, start - t0) / 1000, end: Math.max(0, end - t0) / 1000 };
    });
    if (!bars.length) return void ($('#gantt').innerHTML = '<p class="empty">no state has finished yet</p>');
    bars.sort((a, b) => a.start - b.start);
    const total = Math.max(0.001, ...bars.map((b) => b.end));
    const W = 860;
    const L = 190;
    const rowH = 20;
    const x = (s: number) => L + (s / total) * (W - L - 10);
    const rows = bars.map((b, i) => {
      const y = 6 + i * rowH;
      let steps = '';
      let at = b.start;
      for (const s of b.t.entry?.steps ?? []) {
        steps += `<rect class="step" x="${x(at)}" y="${y + 3}" width="${Math.max(1, x(at + s.seconds) - x(at))}" height="${rowH - 10}"><title>${h(s.name)} ${secs(s.seconds)}</title></rect>`;
        at += s.seconds;
      }
      return `<g class="bar st-${h(b.t.status)}" data-task="${h(b.t.task)}"><text x="4" y="${y + 13}">${h(b.t.task)}</text><rect x="${x(b.start)}" y="${y}" width="${Math.max(2, x(b.end) - x(b.start))}" height="${rowH - 4}"><title>${h(b.t.task)}: ${h(b.t.status)} ${secs(b.end - b.start)}</title></rect>${steps}</g>`;
    });
    const H = 26 + bars.length * rowH;
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text class="tick" x="${x(total * f)}" y="${H - 4}" text-anchor="${f === 1 ? 'end' : 'middle'}">${secs(total * f)}</text>`).join('');
    $('#gantt').innerHTML = `<svg class="gantt" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${rows.join('')}${ticks}</svg>`;
  }
  async function drawPerf(id: string): Promise<void> {
    const d = S.details[id]!;
    const vs = S.vs ? (S.details[S.vs] ?? (await api.run(S.vs))) : null;
    if (vs) S.details[vs.id] = vs;
    type Row = { task: string; seconds: number; budget: number | null; over: boolean; steps: { name: string; seconds: number }[] };
    const perfRows = (x: RunDetail): Row[] => (x.perf ? x.perf.states.filter((s) => s.action === 'ran').map((s) => ({ task: taskOf(s), seconds: s.seconds, budget: s.budget_seconds, over: s.over_budget, steps: s.steps })) : [...tasksOf(x.id).values()].filter((t) => t.entry?.action === 'ran').map((t) => ({ task: t.task, seconds: t.entry!.seconds, budget: S.project?.states.find((s) => s.id === stateOfTask(t.task))?.budget_seconds ?? null, over: false, steps: t.entry!.steps ?? [] })));
    const mine = perfRows(d);
    const theirs = new Map((vs ? perfRows(vs) : []).map((r) => [r.task, r]));
    if (!mine.length) return void ($('#perf').innerHTML = '<p class="empty">no state ran in this run (its outputs came from the cache or a base run)</p>');
    const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}x` : '-');
    $('#perf').innerHTML = `<table class="grid perf"><tr><th>state</th><th>step</th><th>seconds</th>${vs ? `<th>vs ${short(vs.id)}</th><th>ratio</th>` : ''}<th>budget</th></tr>${mine
      .map((r) => {
        const o = theirs.get(r.task);
        const head = `<tr class="total"><td>${h(r.task)}</td><td>(total)</td><td>${secs(r.seconds)}</td>${vs ? `<td>${secs(o?.seconds)}</td><td>${ratio(r.seconds, o?.seconds)}</td>` : ''}<td class="${r.over ? 'over' : ''}">${r.budget === null ? '' : secs(r.budget) + (r.over ? ' OVER' : '')}</td></tr>`;
        return head + r.steps.map((s) => { const os = o?.steps.find((x) => x.name === s.name); return `<tr><td></td><td>${h(s.name)}</td><td>${secs(s.seconds)}</td>${vs ? `<td>${secs(os?.seconds)}</td><td>${ratio(s.seconds, os?.seconds)}</td>` : ''}<td></td></tr>`; }).join('');
      })
      .join('')}</table>`;
  }
  function gateboards(d: RunDetail): string {
    if (!d.gateboards.length) return '<p class="empty">no validation report published in this run</p>';
    return d.gateboards
      .map((b) => `<div class="board" data-report="${h(b.report)}"><h4>${h(b.segment ?? b.report)} <small>${h(b.report)}</small> ${b.verdict ? `<span class="chip v-${h(b.verdict)}">${h(b.verdict)}</span>` : b.passed !== null ? `<span class="chip v-${b.passed ? 'PASS_B' : 'HOLD_REMEDIATE'}">${b.passed ? 'passed' : 'failed'}</span>` : ''}</h4>
        <table class="grid gates"><tr><th>gate</th><th>kind</th><th>value</th><th>B</th><th>B+</th><th>status</th><th>pass</th></tr>${b.gates.map((g) => `<tr data-gate="${h(g.gate)}" class="g-${h(g.status)}"><td>${h(g.gate)}</td><td>${h(g.kind)}</td><td class="value">${num(g.value)}</td><td>${band(g.band_b)}</td><td>${band(g.band_bplus)}</td><td>${h(g.status)}</td><td>${g.pass === null ? '…' : g.pass ? '✓' : '✗'}</td></tr>`).join('')}</table></div>`)
      .join('');
  }
  function certification(d: RunDetail): string {
    const g = d.group!;
    const runs = `<p>${g.runs.map((r) => `seed ${r.seed}: <a href="#run/${h(r.run)}">${short(r.run)}</a> (${h(r.status)})`).join(', ')}</p>`;
    if (g.error) return runs + `<p class="error">${h(g.error)}</p>`;
    if (!g.certifications.length) return runs + '<p class="empty">no report of the group declares cross_seed</p>';
    return runs + g.certifications
      .map((c) => `<div class="cert"><h4>${h(c.report)} (segment ${h(c.segment)}) <span class="chip v-${h(c.verdict)}">${h(c.verdict)}</span></h4>
        <table class="grid"><tr><th>gate</th><th>B</th><th>B+</th>${c.seeds.map((s) => `<th>seed ${s}</th>`).join('')}<th>certified</th><th>status</th></tr>${c.gates.map((x) => `<tr><td>${h(x.id)}</td><td>${band(x.band_b)}</td><td>${band(x.band_bplus)}</td>${x.seeds.map((s) => `<td>${s.status === 'PASS' ? num(s.value) : s.status === 'PENDING' || s.status === 'MISSING' ? s.status : `${num(s.value)} ${s.status}`}</td>`).join('')}<td>${x.cross_seed ? num(x.value) : '-'}</td><td>${h(x.status)}</td></tr>`).join('')}</table>
        ${c.reasons.length ? `<ul class="reasons">${c.reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul>` : ''}</div>`)
      .join('');
  }

  // ---- live: progress and ETA of running runs (else the newest run)
  function drawLive(): void {
    const running = S.runs.filter((r) => r.status === 'running');
    const shown = running.length ? running : S.runs.slice(0, 1);
    if (!shown.length) return void ($('#live').innerHTML = '<p class="empty">no runs yet: start one with <code>dag run</code> in any terminal</p>');
    $('#live').innerHTML = shown
      .map((r) => {
        const tasks = tasksOf(r.id);
        const start = runStartOf(r.id);
        const plannedTasks = start?.tasks ?? tasks.size;
        const done = [...tasks.values()].filter((t) => t.status !== 'running').length;
        const est = start?.estimates ?? {};
        const now = Date.now();
        // ETA: the estimates of the tasks not started, and what is left of the running ones' (never timed: not counted)
        let eta = 0;
        for (const [task, s] of Object.entries(est)) {
          const t = tasks.get(task);
          if (!t) eta += s;
          else if (t.status === 'running') eta += Math.max(0, s - (now - (t.started ?? now)) / 1000);
        }
        const timedLeft = Object.keys(est).filter((k) => !tasks.has(k) || tasks.get(k)!.status === 'running').length;
        const untimed = Math.max(0, plannedTasks - done - timedLeft);
        const elapsed = (now - Date.parse(r.created)) / 1000;
        const pct = plannedTasks ? Math.round((100 * done) / plannedTasks) : 0;
        // states not started yet (by state: a scenario's tasks are known once they start)
        const seen = new Set([...tasks.keys()].map(stateOfTask));
        const waiting = r.status === 'running' ? (S.project?.states ?? []).filter((s) => !seen.has(s.id)).map((s) => `<li data-task="${h(s.id)}" data-status="pending"><span class="chip st-pending">pending</span> ${h(s.id)}</li>`) : [];
        const list = [...tasks.values()].map((t) => `<li data-task="${h(t.task)}" data-status="${h(t.status)}"><span class="chip st-${h(t.status)}">${h(t.status)}</span> ${h(t.task)}${t.step ? ` <small>step ${h(t.step)}</small>` : ''} <small>${t.entry ? secs(t.entry.seconds) : t.started ? secs((now - t.started) / 1000) : ''}</small></li>`);
        return `<div class="live-run" data-run="${h(r.id)}" data-status="${h(r.status)}"><h3>run <a href="#run/${h(r.id)}">${short(r.id)}</a> <span class="chip run-${h(r.status)}">${h(r.status)}</span></h3>
          <div class="progress"><div style="width:${pct}%"></div></div>
          <p class="counts">${done}/${plannedTasks} states done, elapsed ${secs(r.status === 'running' ? elapsed : r.seconds)}${r.status === 'running' ? `, ETA <span class="eta">${secs(eta)}</span>${untimed ? ` (+${untimed} never timed)` : ''}` : ''}</p><ul class="tasks">${list.join('')}${waiting.join('')}</ul></div>`;
      })
      .join('');
  }

  // ---- navigation and the live feed
  function route(): string[] {
    return (location.hash || '#graph').slice(1).split('/');
  }
  async function render(refetch: boolean): Promise<void> {
    const [view, arg] = route();
    for (const v of ['graph', 'runs', 'run', 'live']) $(`#view-${v}`).hidden = v !== view;
    for (const a of $$('nav a')) a.classList.toggle('active', a.getAttribute('href') === `#${view}`);
    if (view === 'graph') {
      colorOptions();
      await drawGraph();
    } else if (view === 'runs') drawRuns();
    else if (view === 'run') {
      const id = arg ?? boot.data?.selected ?? S.runs[0]?.id;
      if (id) await drawRun(id, refetch || shownRun !== id);
      else $('#run').innerHTML = '<p class="empty">no runs</p>';
    } else if (view === 'live') drawLive();
  }
  function onFeed(m: any): void {
    if (m.type === 'snapshot') {
      S.runs = m.runs;
      S.live = m.live;
    } else if (m.type === 'runs') {
      const ended = S.runs.filter((r) => r.status === 'running' && m.runs.find((x: RunRow) => x.id === r.id)?.status !== 'running').map((r) => r.id);
      S.runs = m.runs;
      // a run that ended: its detail (gateboards, perf) and the plan changed
      for (const id of ended) delete S.details[id];
      if (ended.length) void api.project().then((p) => ((S.project = p), colorGraph()));
    } else {
      const t = (S.live[m.run] ??= { ledger: [], events: [] });
      if (m.type === 'ledger') t.ledger.push(...m.entries);
      else t.events.push(...m.events);
    }
    void refresh();
  }
  /** Re-renders what the feed changed, without fetching the graph again. */
  async function refresh(): Promise<void> {
    const [view, arg] = route();
    if (view === 'graph') {
      colorOptions();
      colorGraph();
    } else if (view === 'runs') drawRuns();
    else if (view === 'live') drawLive();
    else if (view === 'run') {
      const id = arg ?? S.runs[0]?.id;
      if (id && !S.details[id]) await drawRun(id, true);
      else if (id) drawGantt(id);
    }
  }

  document.addEventListener('click', (ev: any) => {
    const label = ev.target.closest('g.segment text.segment-label');
    const box = ev.target.closest('#graph g.state');
    if (label) {
      S.collapsed.add(label.closest('g.segment').dataset.segment);
      return void drawGraph();
    }
    if (box && box.dataset.states) {
      S.collapsed.delete(box.dataset.segment);
      return void drawGraph();
    }
    if (box) {
      S.selected = box.dataset.state === S.selected ? null : box.dataset.state;
      highlight();
      return S.selected ? showDetails(S.selected) : void ($('#details').innerHTML = '<p class="empty">click a state</p>');
    }
  });
  document.addEventListener('change', (ev: any) => {
    if (ev.target.id === 'color-by') {
      S.colorBy = ev.target.value;
      const run = colorRun();
      if (run && !traceOf(run)) void api.run(run).then((d) => (d && (S.details[d.id] = d), colorGraph()));
      else colorGraph();
    }
    if (ev.target.id === 'vs') {
      S.vs = ev.target.value;
      if (shownRun) void drawPerf(shownRun);
    }
  });
  document.addEventListener('submit', (ev: any) => {
    if (ev.target.id !== 'start-run') return;
    ev.preventDefault();
    const seed = ev.target.elements.seed.value;
    void fetch('/api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seed === '' ? {} : { seed: Number(seed) }) }).then(async (r) => ($('#run-msg').textContent = r.ok ? `started (pid ${(await r.json()).pid})` : (await r.json()).error));
  });
  window.addEventListener('hashchange', () => void render(false));

  async function start(): Promise<void> {
    if (isStatic) $('#mode').textContent = `static report, written ${boot.data!.written}`;
    else if (boot.allowRun) $('#start-run').hidden = false;
    S.project = await api.project();
    $('#project').textContent = S.project.name;
    if (S.project.problems.length) $('#problems').innerHTML = `<p class="error">the project does not compile:</p><ul>${S.project.problems.map((p) => `<li>${h(p.file)}${p.line ? `:${p.line}` : ''}: ${h(p.message)}</li>`).join('')}</ul>`;
    S.runs = await api.runs();
    if (isStatic) {
      S.details = { ...boot.data!.details };
      if (boot.data!.selected) S.colorBy = boot.data!.selected;
    } else {
      // details of the run the graph is colored by (the running one comes with the feed)
      const first = colorRun();
      if (first) {
        const d = await api.run(first).catch(() => null);
        if (d) S.details[d.id] = d;
      }
      const feed = new EventSource('/api/events');
      feed.onmessage = (e: any) => onFeed(JSON.parse(e.data));
    }
    await render(false);
    document.body.dataset.ready = 'true';
    // the ETA and running times move with the clock
    if (!isStatic) setInterval(() => route()[0] === 'live' && drawLive(), 1000);
  }
  void start().catch((e: Error) => ($('#problems').innerHTML = `<p class="error">${h(e.message)}</p>`));
}
