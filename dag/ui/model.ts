// What the dashboard shows, read from the compiled project and the run folders on each call: the
// page's data, as JSON-ready values. Nothing here decides anew: the plan is plan/'s, the runs
// table is `dag runs`'s, the gateboard and certification are `dag report`'s readers.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareRun } from '../exec/prepare.js';
import type { CompiledProject } from '../graph/compile.js';
import { graphView, type GraphView } from '../graph/render.js';
import { planRun, type PlannedState } from '../plan/plan.js';
import type { Diagnostic } from '../project/diagnostics.js';
import type { Certification } from '../store/certify.js';
import { gateboardsOf, type Gateboard } from '../store/gateboard.js';
import { certifyRuns } from '../store/groupquery.js';
import { lastTimings } from '../store/history.js';
import { LabelStore } from '../store/labels.js';
import { lockHolder } from '../store/lock.js';
import { reportsOfRun } from '../store/report.js';
import { listRuns, readLedger, type LedgerEntry, type RunInfo, type RunReceipt } from '../store/runs.js';

/** One state as the details panel shows it (the facts of `dag show`). */
export interface StateDetail {
  id: string;
  segment: string;
  title: string | null;
  manifest: string;
  kernel: string;
  scope: string;
  gate: boolean;
  requires_pass: string[];
  inputs: { kind: 'dataset' | 'file'; name: string; from?: string; role?: string; schema?: string }[];
  outputs: { dataset: string; format: string; path: string; schema: string }[];
  upstream: string[];
  downstream: string[];
  budget_seconds: number | null;
}

/** The project: its graph's states and edges, and what `dag plan` (no flags) would do now. */
export interface ProjectData {
  name: string;
  root: string;
  segments: string[];
  states: StateDetail[];
  edges: GraphView['edges'];
  plan: { states: PlannedState[]; counts: Record<string, number>; estimateSeconds: number } | { error: string };
  /** Why the project does not compile (then there is no graph, only runs). */
  problems: Diagnostic[];
}

/** A line of logs/run.log the page follows: a run's start (its tasks and estimates) and each task's start, step and end. */
export interface RunEvent {
  message: 'run-start' | 'task-start' | 'task-step' | 'task-end' | 'run-end';
  timestamp: string;
  task?: string;
  step?: string;
  tasks?: number;
  estimates?: Record<string, number>;
  action?: string;
  status?: string;
}

/** reports/perf.json, as store/perf.ts writes it. */
export interface PerfReport {
  run_id: string;
  states: { state: string; scenario?: string; action: string; seconds: number; budget_seconds: number | null; over_budget: boolean; steps: { name: string; seconds: number }[] }[];
}

export interface RunDetail {
  id: string;
  receipt: RunReceipt;
  /** The receipt's status, `interrupted` when it says running but no process holds the run. */
  status: string;
  labels: string[];
  ledger: LedgerEntry[];
  events: RunEvent[];
  perf: PerfReport | null;
  gateboards: Gateboard[];
  /** The certifications of the run's --seeds group, when it has one. */
  group: { id: string; runs: { run: string; seed: number; status: string }[]; certifications: Certification[]; error?: string } | null;
}

export function projectData(cp: CompiledProject): ProjectData {
  const view = graphView(cp);
  const states: StateDetail[] = view.nodes.map((n) => {
    const s = cp.states.get(n.id)!;
    return {
      id: n.id,
      segment: s.segment,
      title: s.manifest.data.title ?? null,
      manifest: s.manifest.file,
      kernel: s.kernel,
      scope: s.scope,
      gate: n.gate,
      requires_pass: s.requiresPass,
      inputs: [...s.datasetInputs.map((d) => ({ kind: 'dataset' as const, name: d, from: cp.producers.get(d) })), ...s.fileInputs.map((f) => ({ kind: 'file' as const, name: f.file, role: f.role, ...(f.schema ? { schema: f.schema } : {}) }))],
      outputs: s.outputs.map((o) => ({ dataset: o.dataset, format: o.format, path: o.path, schema: o.schema })),
      upstream: cp.graph.inNeighbors(n.id).sort(),
      downstream: cp.graph.outNeighbors(n.id).sort(),
      budget_seconds: s.budgetSeconds ?? null,
    };
  });
  return { name: cp.project.config.name, root: cp.project.root, segments: [...new Set(states.map((s) => s.segment))], states, edges: view.edges, plan: planNow(cp), problems: [] };
}

/** What `dag plan` without flags would do now: the plan module's own function over the run's own preparation. */
function planNow(cp: CompiledProject): ProjectData['plan'] {
  try {
    const prep = prepareRun(cp, { targets: [] });
    const plan = planRun(prep.ctx, prep.tasks, lastTimings(prep.runsDir, undefined));
    return { states: plan.states, counts: plan.counts, estimateSeconds: plan.estimateSeconds };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const FOLLOWED = new Set(['run-start', 'task-start', 'task-step', 'task-end', 'run-end']);

/** The events of a run.log text worth following (complete lines only). */
export function runEventsOf(text: string): RunEvent[] {
  const out: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      if (typeof e.message !== 'string' || !FOLLOWED.has(e.message)) continue;
      out.push({ message: e.message as RunEvent['message'], timestamp: String(e.timestamp ?? ''), ...pick(e, ['task', 'step', 'tasks', 'estimates', 'action', 'status']) });
    } catch {
      /* a line being written */
    }
  }
  return out;
}

const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

export const RUN_LOG = join('logs', 'run.log');

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Everything the run view shows of one run. `certify`: compute its group's certification (DuckDB, when the reports declare group queries). */
export async function runDetail(runsDir: string, run: RunInfo, opts: { root: string; threads: number; certify: boolean }): Promise<RunDetail> {
  const perfFile = join(run.dir, 'reports', 'perf.json');
  const status = run.receipt.status === 'running' && lockHolder(run.dir) === undefined ? 'interrupted' : run.receipt.status;
  return {
    id: run.id,
    receipt: run.receipt,
    status,
    labels: new LabelStore(runsDir).of(run.id),
    ledger: readLedger(run.dir),
    events: runEventsOf(readText(join(run.dir, RUN_LOG))),
    perf: existsSync(perfFile) ? (JSON.parse(readText(perfFile)) as PerfReport) : null,
    gateboards: gateboardsOf(reportsOfRun(run)),
    group: opts.certify ? await groupOf(runsDir, run, opts.root, opts.threads) : null,
  };
}

async function groupOf(runsDir: string, run: RunInfo, root: string, threads: number): Promise<RunDetail['group']> {
  const id = run.receipt.group_id;
  if (!id) return null;
  const runs = listRuns(runsDir).filter((r) => r.receipt.group_id === id).reverse(); // in the order they ran
  const groupRuns = runs.map((r) => ({ run: r.id, seed: r.receipt.seed, status: r.receipt.status, reports: reportsOfRun(r), dir: r.dir }));
  const summary = groupRuns.map((r) => ({ run: r.run, seed: r.seed, status: r.status }));
  try {
    return { id, runs: summary, certifications: await certifyRuns(root, threads, groupRuns) };
  } catch (e) {
    return { id, runs: summary, certifications: [], error: (e as Error).message };
  }
}
