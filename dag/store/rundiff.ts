// `dag diff RUN1 RUN2`: what differs between two runs, from what each run folder recorded: what it
// was asked (receipt), what it read (inputs.json), what it published (ledger), how its validation
// reports measured and graded (every numeric value, every check's status) and its gates' verdicts.
// runSideOf reads a run; diffRuns compares two and touches no disk.
import { changedPointers, valueAt } from '../fingerprint/jsondiff.js';
import { knownFromFiles } from '../plan/plan.js';
import { readRunInputs, type InputKind, type RecordedFile, type RunInputs } from './inputs.js';
import { reportFigures, reportsOfRun } from './report.js';
import { latestOutcomes, readLedger, type RunInfo, type RunReceipt } from './runs.js';
import { isPublished } from './verify.js';

/** Everything of one run the comparison reads. */
export interface RunSide {
  id: string;
  receipt: RunReceipt;
  /** undefined: the run predates inputs.json (or lost it). */
  inputs: RunInputs | undefined;
  /** Published datasets by name (`@<scenario>` for scenario-scoped states). */
  datasets: Map<string, { state: string; digest: string; rows?: number }>;
  /** Validation reports by name (see reportsOfRun). */
  reports: Map<string, unknown>;
  /** Gate states (task key) with the verdict of the bundle they sealed. */
  gates: Map<string, { segment: string; passed: boolean }>;
}

export function runSideOf(run: RunInfo): RunSide {
  const datasets: RunSide['datasets'] = new Map();
  const gates: RunSide['gates'] = new Map();
  for (const [task, e] of latestOutcomes(readLedger(run.dir))) {
    if (e.gate) gates.set(task, { segment: e.gate.segment, passed: e.gate.passed });
    if (!isPublished(e)) continue;
    const known = knownFromFiles((e.outputs ?? []).filter((o) => !o.dataset.startsWith('(')));
    for (const [ds, d] of known.datasets) datasets.set(e.scenario ? `${ds}@${e.scenario}` : ds, { state: e.state, digest: d, rows: e.rows?.[ds] });
  }
  return { id: run.id, receipt: run.receipt, inputs: readRunInputs(run.dir), datasets, reports: reportsOfRun(run), gates };
}

/** In both runs and different, or in one of them only. */
export type Change = 'differs' | 'only in run1' | 'only in run2';

export interface DatasetChange {
  dataset: string;
  state: string;
  change: Change;
  rows1: number | null;
  rows2: number | null;
  digest1: string | null;
  digest2: string | null;
}

/** A receipt field that differs. */
export interface SettingChange {
  field: string;
  run1: unknown;
  run2: unknown;
}

export interface PointerChange {
  pointer: string;
  /** undefined (absent from the JSON output): the pointer is not in that run's document. */
  run1: unknown;
  run2: unknown;
  /** States whose `keys:` cover the pointer: the change entered their cache keys. */
  keyed_by: string[];
  /** States that declare `keys:` on the input, none covering the pointer: their keys did not change. */
  outside_keys_of: string[];
}

export interface InputChange {
  path: string;
  kind: InputKind;
  change: Change;
  /** The file each run read in its place (they differ under different profiles). */
  read1: string | null;
  read2: string | null;
  sha256_1: string | null;
  sha256_2: string | null;
  /** YAML/JSON inputs and manifests of both runs: the JSON pointers whose values differ (leaves, in document order). */
  pointers?: PointerChange[];
  /** The pointers stop at POINTER_LIMIT: the document changed more than they list. */
  pointers_capped?: true;
}

export interface MetricChange {
  metric: string;
  run1: number | null;
  run2: number | null;
  /** run2 - run1, when both are numbers. */
  delta: number | null;
  /** A check's status in each run (PASS, WARN, FAIL, PENDING); null for a value that is not a check's, or a run without it. */
  status1: string | null;
  status2: string | null;
}

export interface GateChange {
  gate: string;
  segment: string;
  passed1: boolean | null;
  passed2: boolean | null;
}

/** A section's differences, and how many of its items are the same in both runs. */
export interface Section<T> {
  same: number;
  differences: T[];
}

export interface RunDiff {
  run1: string;
  run2: string;
  /** What the runs were asked to do, and the lineage hashes of what they read. */
  settings: SettingChange[];
  /** Versions they ran on: shown, but not a difference of the runs themselves (not counted). */
  versions: SettingChange[];
  inputs: Section<InputChange> & {
    /** Runs that have no inputs.json (made before dag kept one): their inputs are not compared. */
    unrecorded: string[];
  };
  datasets: Section<DatasetChange>;
  metrics: Section<MetricChange>;
  gates: Section<GateChange>;
  /** Differences counted (every section but versions). */
  count: number;
}

const SETTINGS = ['seed', 'scenarios', 'profile', 'targets', 'parameter_hash', 'manifest_fingerprint'] as const;
const VERSIONS = ['dag_version', 'duckdb_version', 'engine_version', 'git_commit'] as const;
/** The most pointers listed per input; beyond that the document changed wholesale. */
export const POINTER_LIMIT = 200;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const changeOf = <T>(a: T | undefined, b: T | undefined): Change => (a === undefined ? 'only in run2' : b === undefined ? 'only in run1' : 'differs');

/** Compares the fields of two receipts. */
function fieldChanges(a: RunReceipt, b: RunReceipt, fields: readonly (keyof RunReceipt)[]): SettingChange[] {
  return fields.filter((f) => !same(a[f] ?? null, b[f] ?? null)).map((f) => ({ field: f, run1: a[f] ?? null, run2: b[f] ?? null }));
}

/** Whether a changed pointer lies under a declared key, or is an ancestor of one (a whole subtree changed). */
const covers = (key: string, pointer: string) => pointer === key || pointer.startsWith(key + '/') || key.startsWith(pointer + '/') || pointer === '/';
const at = (doc: unknown, pointer: string) => (pointer === '/' ? doc : valueAt(doc, pointer));

function pointerChanges(a: RecordedFile, b: RecordedFile): PointerChange[] | undefined {
  if (a.document === undefined || b.document === undefined) return undefined;
  const keys = { ...a.keys, ...b.keys };
  return changedPointers(a.document, b.document, POINTER_LIMIT).map((pointer) => {
    const keyed = Object.entries(keys).filter(([, ks]) => ks.some((k) => covers(k, pointer))).map(([s]) => s).sort();
    const outside = Object.keys(keys).filter((s) => !keyed.includes(s)).sort();
    return { pointer, run1: at(a.document, pointer), run2: at(b.document, pointer), keyed_by: keyed, outside_keys_of: outside };
  });
}

/** Two runs' items by name, compared one by one: `row` gives a name's difference, or null when it is the same. */
function section<P, T>(x: Map<string, P>, y: Map<string, P>, row: (name: string, p: P | undefined, q: P | undefined) => T | null): Section<T> {
  const names = [...new Set([...x.keys(), ...y.keys()])].sort();
  const differences = names.flatMap((name) => {
    const r = row(name, x.get(name), y.get(name));
    return r === null ? [] : [r];
  });
  return { same: names.length - differences.length, differences };
}

function diffInputs(a: RunInputs, b: RunInputs): Section<InputChange> {
  return section(new Map(a.files.map((f) => [f.path, f])), new Map(b.files.map((f) => [f.path, f])), (path, p, q) => {
    if (p && q && p.sha256 === q.sha256 && p.read === q.read) return null;
    const pointers = p && q && p.sha256 !== q.sha256 ? pointerChanges(p, q) : undefined;
    const capped = pointers !== undefined && pointers.length >= POINTER_LIMIT;
    return { path, kind: (p ?? q)!.kind, change: changeOf(p, q), read1: p?.read ?? null, read2: q?.read ?? null, sha256_1: p?.sha256 ?? null, sha256_2: q?.sha256 ?? null, ...(pointers ? { pointers } : {}), ...(capped ? { pointers_capped: true as const } : {}) };
  });
}

function diffDatasets(a: RunSide, b: RunSide): Section<DatasetChange> {
  return section(a.datasets, b.datasets, (dataset, p, q) =>
    p && q && p.digest === q.digest ? null : { dataset, state: (p ?? q)!.state, change: changeOf(p, q), rows1: p?.rows ?? null, rows2: q?.rows ?? null, digest1: p?.digest ?? null, digest2: q?.digest ?? null },
  );
}

/** Every metric of a run's reports: its value and, for a check, its status. */
function metricsOf(side: RunSide): Map<string, { value: number | null; status: string | null }> {
  const m = new Map<string, { value: number | null; status: string | null }>();
  for (const [name, doc] of side.reports) {
    const f = reportFigures(doc, name);
    for (const k of new Set([...f.values.keys(), ...f.statuses.keys()])) m.set(k, { value: f.values.get(k) ?? null, status: f.statuses.get(k) ?? null });
  }
  return m;
}

/** Every metric of both runs' reports (values by name, checks with their status): a params/metrics diff. */
function diffMetrics(a: RunSide, b: RunSide): Section<MetricChange> {
  return section(metricsOf(a), metricsOf(b), (metric, p, q) => {
    if (p && q && p.value === q.value && p.status === q.status) return null;
    const [run1, run2] = [p?.value ?? null, q?.value ?? null];
    return { metric, run1, run2, delta: run1 !== null && run2 !== null ? run2 - run1 : null, status1: p?.status ?? null, status2: q?.status ?? null };
  });
}

function diffGates(a: RunSide, b: RunSide): Section<GateChange> {
  return section(a.gates, b.gates, (gate, p, q) => (p?.passed === q?.passed ? null : { gate, segment: (p ?? q)!.segment, passed1: p?.passed ?? null, passed2: q?.passed ?? null }));
}

export function diffRuns(a: RunSide, b: RunSide): RunDiff {
  const unrecorded = [a, b].filter((s) => !s.inputs).map((s) => s.id);
  const inputs = a.inputs && b.inputs ? diffInputs(a.inputs, b.inputs) : { same: 0, differences: [] };
  const d = {
    run1: a.id,
    run2: b.id,
    settings: fieldChanges(a.receipt, b.receipt, SETTINGS),
    versions: fieldChanges(a.receipt, b.receipt, VERSIONS),
    inputs: { ...inputs, unrecorded },
    datasets: diffDatasets(a, b),
    metrics: diffMetrics(a, b),
    gates: diffGates(a, b),
  };
  return { ...d, count: d.settings.length + d.inputs.differences.length + d.datasets.differences.length + d.metrics.differences.length + d.gates.differences.length };
}
